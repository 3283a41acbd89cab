/* 8259A pair: Linux's init sequence, masking, priority, EOI, cascade,
 * edge/level (ELCR), auto-EOI, rotation, poll, special mask, spurious. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/pic8259.h"

static struct pic pic;

static void outb(uint16_t port, uint8_t v)
{
	switch (port) {
	case 0x20: case 0x21: pic_master_write(&pic, port - 0x20u, 1, v); break;
	case 0xa0: case 0xa1: pic_slave_write(&pic, port - 0xa0u, 1, v); break;
	case 0x4d0: case 0x4d1: pic_elcr_write(&pic, port - 0x4d0u, 1, v); break;
	default: fail();
	}
}

static uint8_t inb(uint16_t port)
{
	switch (port) {
	case 0x20: case 0x21: return (uint8_t)pic_master_read(&pic, port - 0x20u, 1);
	case 0xa0: case 0xa1: return (uint8_t)pic_slave_read(&pic, port - 0xa0u, 1);
	case 0x4d0: case 0x4d1: return (uint8_t)pic_elcr_read(&pic, port - 0x4d0u, 1);
	}
	fail();
	return 0;
}

/* What arch/x86/kernel/i8259.c init_8259A() writes (vectors 0x30/0x38). */
static void linux_init(bool aeoi)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x11);
	outb(0x21, 0x30);
	outb(0x21, 1u << 2);
	outb(0x21, aeoi ? 0x03 : 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x38);
	outb(0xa1, 2);
	outb(0xa1, 0x01);
	outb(0x21, 0xfb); /* all masked but the cascade */
	outb(0xa1, 0xff);
}

static void pulse(unsigned irq)
{
	pic_set_irq(&pic, irq, true);
	pic_set_irq(&pic, irq, false);
}

static uint8_t read_isr(uint16_t cmd)
{
	outb(cmd, 0x0b);
	uint8_t v = inb(cmd);
	outb(cmd, 0x0a);
	return v;
}

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	pic_init(&pic, &fake_pf);
	linux_init(false);
	return 0;
}

static void test_probe_and_imr(void **state)
{
	(void)state;
	outb(0x21, 0xff);
	assert_int_equal(inb(0x21), 0xff); /* Linux's probe_8259A */
	outb(0x21, 0xa5);
	assert_int_equal(inb(0x21), 0xa5);
	outb(0xa1, 0x5a);
	assert_int_equal(inb(0xa1), 0x5a);
}

static void test_irq0_ack_eoi(void **state)
{
	(void)state;
	outb(0x21, 0xfa); /* unmask IRQ 0 */
	assert_false(pic_intr(&pic));
	pulse(0);
	assert_true(pic_intr(&pic));
	assert_true(fake_intr);
	assert_int_equal(pic_ack(&pic), 0x30);
	assert_false(pic_intr(&pic));
	assert_false(fake_intr);
	assert_int_equal(read_isr(0x20), 0x01);
	outb(0x20, 0x20); /* non-specific EOI */
	assert_int_equal(read_isr(0x20), 0x00);
	assert_false(pic_intr(&pic));
}

static void test_masked_irq_waits_in_irr(void **state)
{
	(void)state;
	pulse(4);
	assert_false(pic_intr(&pic));
	assert_int_equal(inb(0x20) & 0x10, 0x10); /* IRR (OCW3 0x0a) */
	outb(0x21, 0xeb);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x34);
}

static void test_priority_and_nesting(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	pulse(3);
	pulse(1);
	assert_int_equal(pic_ack(&pic), 0x31);
	/* IRQ 3 has lower priority than the one in service */
	assert_false(pic_intr(&pic));
	pulse(0); /* higher priority nests */
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x30);
	assert_int_equal(read_isr(0x20), 0x03);
	outb(0x20, 0x20); /* ends IRQ 0, the highest in service */
	assert_int_equal(read_isr(0x20), 0x02);
	assert_false(pic_intr(&pic));
	outb(0x20, 0x61); /* specific EOI for IRQ 1 */
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x33);
}

static void test_cascade(void **state)
{
	(void)state;
	outb(0xa1, 0xfe); /* unmask IRQ 8 */
	pulse(8);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x38);
	assert_int_equal(read_isr(0x20), 0x04);
	assert_int_equal(read_isr(0xa0), 0x01);
	pulse(8); /* blocked by its own ISR bit */
	assert_false(pic_intr(&pic));
	/* Linux: specific EOI to the slave, then to the master's IRQ 2 */
	outb(0xa0, 0x60);
	outb(0x20, 0x62);
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x38);
	/* master IRQ 2 is the cascade: external sets are ignored */
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	pic_set_irq(&pic, 2, true);
	assert_false(pic_intr(&pic));
}

static void test_level_vs_edge(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	outb(0xa1, 0x00);
	outb(0x4d1, 0x02); /* IRQ 9 level (the SCI) */
	assert_int_equal(inb(0x4d1), 0x02);
	pic_set_irq(&pic, 9, true);
	assert_int_equal(pic_ack(&pic), 0x39);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	assert_true(pic_intr(&pic)); /* still asserted: requests again */
	pic_set_irq(&pic, 9, false);
	assert_false(pic_intr(&pic));

	pulse(5); /* edge: one request per rising edge */
	assert_int_equal(pic_ack(&pic), 0x35);
	outb(0x20, 0x20);
	assert_false(pic_intr(&pic));
	pic_set_irq(&pic, 5, true);
	pic_set_irq(&pic, 5, true); /* no new edge */
	assert_int_equal(pic_ack(&pic), 0x35);
	outb(0x20, 0x20);
	assert_false(pic_intr(&pic));

	/* IRQ 0, 1, 2, 8, 13 cannot be level */
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	assert_int_equal(inb(0x4d0), 0xf8);
	assert_int_equal(inb(0x4d1), 0xde);
	/* a dword access covers both (and reads ones beyond) */
	assert_int_equal(pic_elcr_read(&pic, 0, 2), 0xdef8);
}

static void test_spurious(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	outb(0xa1, 0x00);
	outb(0x4d0, 0x08); /* IRQ 3 level */
	pic_set_irq(&pic, 3, true);
	assert_true(pic_intr(&pic));
	pic_set_irq(&pic, 3, false); /* gone before INTA */
	assert_int_equal(pic_ack(&pic), 0x37);
	assert_int_equal(read_isr(0x20), 0);
	/* the slave's request vanished after the master saw it */
	outb(0x4d1, 0x08); /* IRQ 11 level */
	pic_set_irq(&pic, 11, true);
	assert_true(pic_intr(&pic));
	outb(0xa1, 0x08); /* masked at the slave between INTR and INTA */
	assert_int_equal(pic_ack(&pic), 0x37); /* master no longer sees IRQ 2 */
}

static void test_auto_eoi(void **state)
{
	(void)state;
	linux_init(true);
	outb(0x21, 0xf8);
	pulse(1);
	assert_int_equal(pic_ack(&pic), 0x31);
	assert_int_equal(read_isr(0x20), 0);
	pulse(1);
	assert_true(pic_intr(&pic)); /* nothing in service blocks it */
}

static void test_rotate(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	pulse(1);
	assert_int_equal(pic_ack(&pic), 0x31);
	outb(0x20, 0xa0); /* rotate on non-specific EOI: IRQ 1 becomes lowest */
	pulse(1);
	pulse(3);
	assert_int_equal(pic_ack(&pic), 0x33);
	outb(0x20, 0xc7); /* set priority: IRQ 7 lowest, back to normal */
	outb(0x20, 0x63);
	pulse(0);
	assert_int_equal(pic_ack(&pic), 0x30);
	assert_int_equal(pic_ack(&pic), 0x37); /* IRQ 1 is below IRQ 0 in service */
}

static void test_poll(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	outb(0x20, 0x0c);
	assert_int_equal(inb(0x20), 0x00); /* nothing pending */
	pulse(6);
	outb(0x20, 0x0c);
	assert_int_equal(inb(0x20), 0x86);
	assert_int_equal(read_isr(0x20), 0x40);
	assert_int_equal(inb(0x20) & 0x40, 0); /* poll is one-shot: back to IRR */
}

static void test_special_mask(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	pulse(1);
	assert_int_equal(pic_ack(&pic), 0x31);
	pulse(4);
	assert_false(pic_intr(&pic));
	outb(0x20, 0x68); /* special mask mode on */
	outb(0x21, 0x02); /* mask the IRQ in service */
	assert_true(pic_intr(&pic));
	assert_int_equal(pic_ack(&pic), 0x34);
	outb(0x20, 0x48); /* off */
	outb(0x20, 0x64);
	outb(0x20, 0x61);
	assert_int_equal(read_isr(0x20), 0);
}

static void test_intr_reported_on_change_only(void **state)
{
	(void)state;
	outb(0x21, 0x00);
	unsigned n = fake_intr_calls;
	pulse(3);
	pulse(4);
	assert_int_equal(fake_intr_calls, n + 1);
	assert_true(fake_intr);
}

static void test_fuzz(void **state)
{
	(void)state;
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	struct unit_rng r;
	unit_rng_seed(&r, 8259);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t x = unit_rng_next(&r);
		uint16_t port = ports[x % 6];
		switch ((x >> 8) % 5) {
		case 0:
			outb(port, (uint8_t)(x >> 16));
			break;
		case 1:
			(void)inb(port);
			break;
		case 2:
			pic_set_irq(&pic, (unsigned)(x >> 16) % 20, (x >> 24) & 1);
			break;
		case 3: {
			int v = pic_ack(&pic);
			assert_true(v >= 0 && v <= 0xff);
			break;
		}
		default:
			pic_elcr_write(&pic, (x >> 16) % 4, 1 + (x >> 20) % 4, x >> 24);
			break;
		}
		assert_int_equal(pic_intr(&pic), fake_intr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_probe_and_imr, setup),
		cmocka_unit_test_setup(test_irq0_ack_eoi, setup),
		cmocka_unit_test_setup(test_masked_irq_waits_in_irr, setup),
		cmocka_unit_test_setup(test_priority_and_nesting, setup),
		cmocka_unit_test_setup(test_cascade, setup),
		cmocka_unit_test_setup(test_level_vs_edge, setup),
		cmocka_unit_test_setup(test_spurious, setup),
		cmocka_unit_test_setup(test_auto_eoi, setup),
		cmocka_unit_test_setup(test_rotate, setup),
		cmocka_unit_test_setup(test_poll, setup),
		cmocka_unit_test_setup(test_special_mask, setup),
		cmocka_unit_test_setup(test_intr_reported_on_change_only, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
