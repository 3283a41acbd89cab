/*
 * Unit tests of the I/O APIC model (devices/ioapic.c): the register window,
 * edge and level pins, remote IRR and EOI (broadcast and the EOI register),
 * masking and polarity. Its platform records the messages it sends.
 */
#include "unit.h"

#include "../../devices/ioapic.h"

static struct apic_msg sent[64];
static unsigned nsent;

static void apic_send(void *vm, const struct apic_msg *msg)
{
	(void)vm;
	assert_true(nsent < 64);
	sent[nsent++] = *msg;
}

static const struct platform pf = { .apic_send = apic_send };

static int setup(void **state)
{
	(void)state;
	nsent = 0;
	memset(sent, 0, sizeof(sent));
	return 0;
}

static uint32_t rd(struct ioapic *io, uint32_t reg)
{
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, reg);
	return (uint32_t)ioapic_mmio_read(io, IOAPIC_IOWIN, 4);
}

static void wr(struct ioapic *io, uint32_t reg, uint32_t val)
{
	ioapic_mmio_write(io, IOAPIC_IOREGSEL, 4, reg);
	ioapic_mmio_write(io, IOAPIC_IOWIN, 4, val);
}

/* Programs pin's redirection entry: high half first, as Linux does. */
static void route(struct ioapic *io, unsigned pin, uint64_t entry)
{
	wr(io, 0x11 + 2 * pin, (uint32_t)(entry >> 32));
	wr(io, 0x10 + 2 * pin, (uint32_t)entry);
}

static void test_registers(void **state)
{
	(void)state;
	struct ioapic io;
	ioapic_init(&io, &pf, 2);
	assert_int_equal(rd(&io, 0), 2u << 24);
	assert_int_equal(rd(&io, 1), 0x170020); /* 24 entries, version 0x20 */
	assert_int_equal(rd(&io, 2), 2u << 24);
	for (unsigned pin = 0; pin < PC_IOAPIC_PINS; pin++) {
		assert_int_equal(rd(&io, 0x10 + 2 * pin), 0x10000); /* masked */
		assert_int_equal(rd(&io, 0x11 + 2 * pin), 0);
	}
	assert_int_equal(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), 0x11 + 2 * 23);
	/* ID: 4 bits; version and arbitration are read-only */
	wr(&io, 0, 0xff000000);
	assert_int_equal(rd(&io, 0), 0x0f000000);
	wr(&io, 1, 0);
	assert_int_equal(rd(&io, 1), 0x170020);
	/* reserved bits, delivery status and remote IRR do not stick */
	wr(&io, 0x10, 0xffffffff);
	assert_int_equal(rd(&io, 0x10), 0x1afff);
	wr(&io, 0x11, 0xffffffff);
	assert_int_equal(rd(&io, 0x11), 0xff000000);
	/* beyond the table and other offsets */
	assert_int_equal(rd(&io, 0x10 + 2 * PC_IOAPIC_PINS), 0);
	assert_int_equal(rd(&io, 0x03), 0);
	wr(&io, 0xff, 0x1234);
	assert_int_equal(ioapic_mmio_read(&io, 0x20, 4), 0);
	ioapic_mmio_write(&io, 0x20, 4, 0x1234);
	assert_int_equal(nsent, 0);
}

static void test_edge(void **state)
{
	(void)state;
	struct ioapic io;
	ioapic_init(&io, &pf, 0);
	route(&io, 4, 1ull << 56 | 0x34);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].vector, 0x34);
	assert_int_equal(sent[0].dest, 1);
	assert_int_equal(sent[0].mode, APIC_DM_FIXED);
	assert_false(sent[0].logical);
	assert_false(sent[0].level_trig);
	assert_true(sent[0].assert);
	assert_int_equal(sent[0].src, -1);
	/* held high: no more; a new edge: one more */
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nsent, 1);
	ioapic_set_irq(&io, 4, false);
	assert_int_equal(nsent, 1);
	ioapic_set_irq(&io, 4, true);
	assert_int_equal(nsent, 2);
	ioapic_set_irq(&io, 4, false);
	/* no remote IRR for edge pins; EOI does nothing */
	assert_int_equal(rd(&io, 0x18) & IOAPIC_REMOTE_IRR, 0);
	ioapic_eoi(&io, 0x34);
	assert_int_equal(nsent, 2);
	/* a masked edge is lost, also after unmasking */
	route(&io, 4, 1ull << 56 | IOAPIC_MASKED | 0x34);
	ioapic_set_irq(&io, 4, true);
	route(&io, 4, 1ull << 56 | 0x34);
	assert_int_equal(nsent, 2);
	/* other fields go into the message */
	route(&io, 5, 0x0full << 56 | 1u << 11 | APIC_DM_LOWEST << 8 | 0x35);
	ioapic_set_irq(&io, 5, true);
	assert_int_equal(nsent, 3);
	assert_true(sent[2].logical);
	assert_int_equal(sent[2].mode, APIC_DM_LOWEST);
	assert_int_equal(sent[2].dest, 0x0f);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	struct ioapic io;
	ioapic_init(&io, &pf, 0);
	route(&io, 9, IOAPIC_LEVEL | 0x39);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 1);
	assert_true(sent[0].level_trig);
	assert_true(rd(&io, 0x10 + 18) & IOAPIC_REMOTE_IRR);
	/* asserted again or still: remote IRR holds it back */
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 1);
	/* an EOI of another vector changes nothing */
	ioapic_eoi(&io, 0x40);
	assert_int_equal(nsent, 1);
	/* EOI while still asserted: again */
	ioapic_eoi(&io, 0x39);
	assert_int_equal(nsent, 2);
	assert_true(rd(&io, 0x10 + 18) & IOAPIC_REMOTE_IRR);
	/* de-asserted, then EOI: quiet, remote IRR clear */
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x39);
	assert_int_equal(nsent, 2);
	assert_int_equal(rd(&io, 0x10 + 18) & IOAPIC_REMOTE_IRR, 0);
	/* the guest cannot write remote IRR */
	wr(&io, 0x10 + 18, IOAPIC_LEVEL | IOAPIC_REMOTE_IRR | 0x39);
	assert_int_equal(rd(&io, 0x10 + 18) & IOAPIC_REMOTE_IRR, 0);
	/* the version 0x20 EOI register */
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 3);
	ioapic_mmio_write(&io, IOAPIC_EOI, 4, 0x39);
	assert_int_equal(nsent, 4);
	/* switching to edge clears a stuck remote IRR (Linux's pre-0x20 EOI) */
	wr(&io, 0x10 + 18, 0x39);
	assert_int_equal(rd(&io, 0x10 + 18) & IOAPIC_REMOTE_IRR, 0);
	wr(&io, 0x10 + 18, IOAPIC_LEVEL | 0x39); /* still asserted: sends */
	assert_int_equal(nsent, 5);
}

static void test_level_masking(void **state)
{
	(void)state;
	struct ioapic io;
	ioapic_init(&io, &pf, 0);
	route(&io, 11, IOAPIC_MASKED | IOAPIC_LEVEL | 0x3b);
	ioapic_set_irq(&io, 11, true);
	assert_int_equal(nsent, 0);
	/* unmasking an asserted level pin sends */
	route(&io, 11, IOAPIC_LEVEL | 0x3b);
	assert_int_equal(nsent, 1);
	/* masked while awaiting EOI: the EOI clears remote IRR, no send */
	route(&io, 11, IOAPIC_MASKED | IOAPIC_LEVEL | 0x3b);
	ioapic_eoi(&io, 0x3b);
	assert_int_equal(nsent, 1);
	assert_int_equal(rd(&io, 0x10 + 22) & IOAPIC_REMOTE_IRR, 0);
	/* de-asserted before unmasking: nothing */
	ioapic_set_irq(&io, 11, false);
	route(&io, 11, IOAPIC_LEVEL | 0x3b);
	assert_int_equal(nsent, 1);
	/* a level NMI does not wait for an EOI it will never get */
	route(&io, 12, IOAPIC_LEVEL | APIC_DM_NMI << 8);
	ioapic_set_irq(&io, 12, true);
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].mode, APIC_DM_NMI);
	assert_int_equal(rd(&io, 0x10 + 24) & IOAPIC_REMOTE_IRR, 0);
	/* reserved delivery modes send nothing */
	route(&io, 13, 3u << 8 | 0x3d);
	ioapic_set_irq(&io, 13, true);
	route(&io, 14, 6u << 8 | 0x3e);
	ioapic_set_irq(&io, 14, true);
	assert_int_equal(nsent, 2);
}

static void test_polarity(void **state)
{
	(void)state;
	struct ioapic io;
	ioapic_init(&io, &pf, 0);
	/* active-low edge: the falling wire edge is the assertion */
	ioapic_set_irq(&io, 3, true);
	route(&io, 3, IOAPIC_POLARITY_LOW | 0x33);
	assert_int_equal(nsent, 0);
	ioapic_set_irq(&io, 3, false);
	assert_int_equal(nsent, 1);
	ioapic_set_irq(&io, 3, true);
	assert_int_equal(nsent, 1);
	/* active-low level: a low wire is asserted */
	ioapic_set_irq(&io, 10, true);
	route(&io, 10, IOAPIC_POLARITY_LOW | IOAPIC_LEVEL | 0x3a);
	assert_int_equal(nsent, 1);
	ioapic_set_irq(&io, 10, false);
	assert_int_equal(nsent, 2);
	ioapic_set_irq(&io, 10, true);
	ioapic_eoi(&io, 0x3a);
	assert_int_equal(nsent, 2);
	/* active-high level pin with the wire low is quiet */
	route(&io, 15, IOAPIC_LEVEL | 0x3f);
	ioapic_eoi(&io, 0x3f);
	assert_int_equal(nsent, 2);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct ioapic io;
	struct unit_rng r;
	ioapic_init(&io, &pf, 0);
	ioapic_set_irq(&io, PC_IOAPIC_PINS, true);
	ioapic_set_irq(&io, 1000, true);
	assert_int_equal(nsent, 0);
	unit_rng_seed(&r, 0x10a61c);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t v = unit_rng_next(&r);
		switch (v & 3) {
		case 0:
			ioapic_mmio_write(&io, unit_rng_below(&r, 0x50), 4, unit_rng_next(&r));
			break;
		case 1:
			ioapic_mmio_read(&io, unit_rng_below(&r, 0x50), 4);
			break;
		case 2:
			ioapic_set_irq(&io, (unsigned)unit_rng_below(&r, 40), v >> 8 & 1);
			break;
		default:
			ioapic_eoi(&io, (uint8_t)(v >> 8));
			break;
		}
		for (unsigned k = 0; k < nsent; k++)
			assert_int_equal(sent[k].src, -1);
		nsent = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registers, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level_remote_irr, setup),
		cmocka_unit_test_setup(test_level_masking, setup),
		cmocka_unit_test_setup(test_polarity, setup),
		cmocka_unit_test_setup(test_bad_input, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
