/* Small PC ports: reset through 0x92, 0xcf9 (Linux's and the FADT's way)
 * and the i8042; A20; i8042 self-test and command byte; POST sink. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/pc_misc.h"

static struct pc_misc m;

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	pc_misc_init(&m, &fake_pf);
	return 0;
}

static void test_post(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 256; v++)
		pc_misc_post_write(&m, 0, 1, v);
	assert_int_equal(pc_misc_post_read(&m, 0, 1), 0xff);
	assert_int_equal(fake_resets, 0);
}

static void test_port92(void **state)
{
	(void)state;
	assert_int_equal(pc_misc_port92_read(&m, 0, 1), 0x02); /* A20 on */
	pc_misc_port92_write(&m, 0, 1, 0x00);
	assert_int_equal(pc_misc_port92_read(&m, 0, 1), 0x00);
	assert_int_equal(fake_resets, 0);
	pc_misc_port92_write(&m, 0, 1, 0x03);
	assert_int_equal(fake_resets, 1);
	pc_misc_port92_write(&m, 0, 1, 0x03); /* no new edge */
	assert_int_equal(fake_resets, 1);
}

static void test_cf9(void **state)
{
	(void)state;
	/* Linux's reboot=pci: cf9 | 2, then cf9 | 6 */
	uint8_t v = (uint8_t)pc_misc_cf9_read(&m, 0, 1) & ~0x06;
	pc_misc_cf9_write(&m, 0, 1, v | 0x02);
	assert_int_equal(fake_resets, 0);
	assert_int_equal(pc_misc_cf9_read(&m, 0, 1), 0x02);
	pc_misc_cf9_write(&m, 0, 1, v | 0x06);
	assert_int_equal(fake_resets, 1);
	/* the FADT reset register: one write of PC_RESET_VALUE */
	pc_misc_init(&m, &fake_pf);
	pc_misc_cf9_write(&m, 0, 1, PC_RESET_VALUE);
	assert_int_equal(fake_resets, 2);
	assert_int_equal(pc_misc_cf9_read(&m, 0, 1) & 0x04, 0);
	pc_misc_cf9_write(&m, 0, 1, 0x08);
	assert_int_equal(fake_resets, 2);
}

static void test_i8042_selftest(void **state)
{
	(void)state;
	assert_int_equal(pc_misc_kbd_ctl_read(&m, 0, 1) & 0x01, 0);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xaa);
	assert_int_equal(pc_misc_kbd_ctl_read(&m, 0, 1) & 0x0d, 0x0d); /* OBF, SYS, CMD */
	assert_int_equal(pc_misc_kbd_data_read(&m, 0, 1), 0x55);
	assert_int_equal(pc_misc_kbd_ctl_read(&m, 0, 1) & 0x01, 0);
	/* command byte round trip (Linux's i8042_controller_init) */
	pc_misc_kbd_ctl_write(&m, 0, 1, 0x20);
	uint8_t cb = (uint8_t)pc_misc_kbd_data_read(&m, 0, 1);
	assert_int_equal(cb, 0x45);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0x60);
	pc_misc_kbd_data_write(&m, 0, 1, 0x30); /* interrupts off, both disabled */
	pc_misc_kbd_ctl_write(&m, 0, 1, 0x20);
	assert_int_equal(pc_misc_kbd_data_read(&m, 0, 1), 0x30);
	assert_int_equal(fake_raises[1], 2); /* 0xaa and the first 0x20 with INT on */
	/* keyboard interface test */
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xab);
	assert_int_equal(pc_misc_kbd_data_read(&m, 0, 1), 0x00);
	/* bytes for the absent keyboard get no reply */
	pc_misc_kbd_data_write(&m, 0, 1, 0xff);
	assert_int_equal(pc_misc_kbd_ctl_read(&m, 0, 1) & 0x01, 0);
	assert_int_equal(fake_resets, 0);
}

static void test_i8042_reset(void **state)
{
	(void)state;
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xfe); /* pulse reset */
	assert_int_equal(fake_resets, 1);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xff); /* pulse nothing */
	assert_int_equal(fake_resets, 1);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xd1); /* output port: A20 on, reset high */
	pc_misc_kbd_data_write(&m, 0, 1, 0xdf);
	assert_int_equal(fake_resets, 1);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xd0);
	assert_int_equal(pc_misc_kbd_data_read(&m, 0, 1) & 0x03, 0x03);
	pc_misc_kbd_ctl_write(&m, 0, 1, 0xd1);
	pc_misc_kbd_data_write(&m, 0, 1, 0xde); /* reset line low */
	assert_int_equal(fake_resets, 2);
}

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 0x8042);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t x = unit_rng_next(&r);
		uint64_t off = (x >> 8) % 2, v = x >> 16;
		unsigned size = 1u << ((x >> 4) % 3);
		switch (x % 10) {
		case 0: pc_misc_post_write(&m, off, size, v); break;
		case 1: pc_misc_port92_write(&m, off, size, v); break;
		case 2: pc_misc_cf9_write(&m, off, size, v); break;
		case 3: pc_misc_kbd_data_write(&m, off, size, v); break;
		case 4: pc_misc_kbd_ctl_write(&m, off, size, v); break;
		case 5: (void)pc_misc_port92_read(&m, off, size); break;
		case 6: (void)pc_misc_cf9_read(&m, off, size); break;
		case 7: (void)pc_misc_kbd_data_read(&m, off, size); break;
		case 8: (void)pc_misc_kbd_ctl_read(&m, off, size); break;
		default: (void)pc_misc_post_read(&m, off, size); break;
		}
	}
	assert_int_equal(fake_poweroffs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_post, setup),
		cmocka_unit_test_setup(test_port92, setup),
		cmocka_unit_test_setup(test_cf9, setup),
		cmocka_unit_test_setup(test_i8042_selftest, setup),
		cmocka_unit_test_setup(test_i8042_reset, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
