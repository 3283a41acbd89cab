/* 8254: modes 0/2/3/4 counts and IRQ 0 timing on a fake clock, latch and
 * read-back, status byte, channel 2 through port 0x61 as Linux's PIT
 * calibration uses it, no drift, coalescing after a pause. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/pit8254.h"

static struct pit pit;

/* First ns at which `clocks` input clocks have elapsed. */
static uint64_t ns_at(uint64_t clocks)
{
	return (uint64_t)(((unsigned __int128)clocks * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static void outb(uint16_t port, uint8_t v)
{
	if (port == 0x61)
		pit_port61_write(&pit, 0, 1, v);
	else
		pit_write(&pit, port - 0x40u, 1, v);
}

static uint8_t inb(uint16_t port)
{
	if (port == 0x61)
		return (uint8_t)pit_port61_read(&pit, 0, 1);
	return (uint8_t)pit_read(&pit, port - 0x40u, 1);
}

static unsigned read_word(uint16_t port)
{
	unsigned lo = inb(port);
	return lo | (unsigned)inb(port) << 8;
}

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	fake_now = 5000; /* not zero: loads are relative to their time */
	pit_init(&pit, &fake_pf);
	return 0;
}

static void test_idle_no_deadline(void **state)
{
	(void)state;
	assert_int_equal(pit_deadline(&pit), UINT64_MAX);
	pit_update(&pit, UINT64_MAX - 1);
	assert_int_equal(fake_raises[0], 0);
}

/* Linux's periodic PIT clockevent: 0x34 and LATCH for HZ=250. */
static void test_mode2_periodic_no_drift(void **state)
{
	(void)state;
	const unsigned latch = (PIT_HZ + 125) / 250;
	uint64_t t0 = fake_now;
	outb(0x43, 0x34);
	outb(0x40, latch & 0xff);
	outb(0x40, latch >> 8);
	assert_int_equal(pit_deadline(&pit), t0 + ns_at(latch));
	for (uint64_t k = 1; k <= 1000; k++) {
		uint64_t d = pit_deadline(&pit);
		assert_int_equal(d, t0 + ns_at(k * latch)); /* on the grid: no drift */
		fake_now = d;
		pit_update(&pit, d);
		assert_int_equal(fake_raises[0], k);
		assert_int_equal(fake_lowers[0], k);
		assert_false(fake_level[0]);
	}
	/* early update does nothing */
	pit_update(&pit, pit_deadline(&pit) - 1);
	assert_int_equal(fake_raises[0], 1000);
	/* a 10 s pause: one interrupt, then back on the grid */
	fake_now = pit_deadline(&pit) + 10000000000ull;
	pit_update(&pit, fake_now);
	assert_int_equal(fake_raises[0], 1001);
	uint64_t d = pit_deadline(&pit);
	assert_true(d > fake_now && d - fake_now <= ns_at(latch));
	uint64_t k = ((uint64_t)((unsigned __int128)(d - t0) * PIT_HZ / 1000000000u) + latch - 1) / latch;
	assert_int_equal(d, t0 + ns_at(k * latch));
}

static void test_mode2_counter_and_out(void **state)
{
	(void)state;
	uint64_t t0 = fake_now;
	outb(0x43, 0x34);
	outb(0x40, 100);
	outb(0x40, 0);
	fake_now = t0 + ns_at(30);
	assert_int_equal(read_word(0x40), 70);
	fake_now = t0 + ns_at(99); /* counter at 1: OUT low */
	outb(0x43, 0xe2);          /* read-back status of channel 0 */
	assert_int_equal(inb(0x40), 0x34);
	fake_now = t0 + ns_at(100);
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40), 0xb4);
	assert_int_equal(read_word(0x40), 100);
}

static void test_mode0_one_shot(void **state)
{
	(void)state;
	outb(0x43, 0x30);
	outb(0x40, 0xe8);
	assert_int_equal(pit_deadline(&pit), UINT64_MAX); /* count not complete */
	uint64_t t0 = fake_now;
	outb(0x40, 0x03); /* 1000 */
	fake_now = t0 + ns_at(500);
	assert_int_equal(read_word(0x40), 500);
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40) & 0xc0, 0x00); /* OUT low, count loaded */
	assert_int_equal(pit_deadline(&pit), t0 + ns_at(1000));
	fake_now = t0 + ns_at(1000);
	pit_update(&pit, fake_now);
	assert_int_equal(fake_raises[0], 1);
	assert_int_equal(pit_deadline(&pit), UINT64_MAX);
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40) & 0x80, 0x80);
	/* it keeps counting down through 0xffff */
	fake_now = t0 + ns_at(1001);
	assert_int_equal(read_word(0x40), 0xffff);
	/* a new control word: OUT low, null count, waiting */
	outb(0x43, 0x30);
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40), 0x70);
}

static void test_mode3_square_wave(void **state)
{
	(void)state;
	uint64_t t0 = fake_now;
	outb(0x43, 0x36);
	outb(0x40, 10);
	outb(0x40, 0);
	fake_now = t0 + ns_at(1);
	assert_int_equal(read_word(0x40), 8); /* counts by two */
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40) & 0x80, 0x80); /* first half high */
	fake_now = t0 + ns_at(6);
	outb(0x43, 0xe2);
	assert_int_equal(inb(0x40) & 0x80, 0x00); /* second half low */
	assert_int_equal(pit_deadline(&pit), t0 + ns_at(10));
}

static void test_mode4_oneshot_linux(void **state)
{
	(void)state;
	/* Linux's oneshot clockevent: mode 4, count per event */
	outb(0x43, 0x38);
	uint64_t t0 = fake_now;
	outb(0x40, 50);
	outb(0x40, 0);
	assert_int_equal(pit_deadline(&pit), t0 + ns_at(51));
	fake_now = t0 + ns_at(51);
	pit_update(&pit, fake_now);
	assert_int_equal(fake_raises[0], 1);
	assert_int_equal(pit_deadline(&pit), UINT64_MAX);
}

static void test_latch_and_readback(void **state)
{
	(void)state;
	uint64_t t0 = fake_now;
	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x10); /* 4096 */
	fake_now = t0 + ns_at(96);
	outb(0x43, 0x00); /* counter latch */
	fake_now = t0 + ns_at(1000);
	outb(0x43, 0x00); /* ignored: the first latch holds */
	assert_int_equal(read_word(0x40), 4000);
	assert_int_equal(read_word(0x40), 3096); /* live again */
	/* read-back: status and count of channel 0 at once */
	outb(0x43, 0xc2);
	fake_now = t0 + ns_at(2000);
	assert_int_equal(inb(0x40), 0xb4); /* OUT high, rw=3, mode 2, binary */
	assert_int_equal(read_word(0x40), 3096);
	/* lobyte-only access */
	outb(0x43, 0x90); /* channel 2, LSB, mode 0 */
	outb(0x42, 0x80);
	assert_int_equal(inb(0x42), 0x80);
	outb(0x43, 0xe8); /* status of channel 2 */
	assert_int_equal(inb(0x42), 0x10);
	/* msb-only */
	outb(0x43, 0xa0);
	outb(0x42, 0x02); /* 512 */
	assert_int_equal(inb(0x42), 0x02);
}

static void test_bcd(void **state)
{
	(void)state;
	uint64_t t0 = fake_now;
	outb(0x43, 0x35); /* mode 2, BCD */
	outb(0x40, 0x00);
	outb(0x40, 0x10); /* 1000 decimal */
	fake_now = t0 + ns_at(1);
	assert_int_equal(read_word(0x40), 0x0999);
	assert_int_equal(pit_deadline(&pit), t0 + ns_at(1000));
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): mode 0 on channel 2, gate via
 * port 0x61, wait for OUT2 (bit 5). */
static void test_channel2_calibration(void **state)
{
	(void)state;
	const unsigned latch = PIT_HZ / 20;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	uint64_t t0 = fake_now;
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	assert_int_equal(inb(0x61) & 0x23, 0x01);
	fake_now = t0 + ns_at(latch) - 1;
	assert_int_equal(inb(0x61) & 0x20, 0);
	fake_now = t0 + ns_at(latch);
	assert_int_equal(inb(0x61) & 0x20, 0x20);
	assert_int_equal(pit_deadline(&pit), UINT64_MAX); /* no IRQ from channel 2 */
	/* refresh toggles over time */
	unsigned seen = 0;
	for (unsigned i = 0; i < 4; i++) {
		fake_now += 15085;
		seen |= 1u << ((inb(0x61) >> 4) & 1);
	}
	assert_int_equal(seen, 3);
}

/* quick_pit_calibrate(): 0xb0, 0xff 0xff, then MSB reads that decrease. */
static void test_channel2_quick_calibrate(void **state)
{
	(void)state;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	uint64_t t0 = fake_now;
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	unsigned last = 0x100;
	for (unsigned i = 1; i < 200; i++) {
		fake_now = t0 + ns_at(i * 256);
		(void)inb(0x42);
		unsigned msb = inb(0x42);
		assert_int_equal(msb, 0xff - i);
		assert_true(msb < last);
		last = msb;
	}
}

static void test_gate_pauses_mode0(void **state)
{
	(void)state;
	outb(0x61, 0x01);
	outb(0x43, 0xb0);
	uint64_t t0 = fake_now;
	outb(0x42, 0x00);
	outb(0x42, 0x01); /* 256 */
	fake_now = t0 + ns_at(100);
	outb(0x61, 0x00); /* gate low: holds */
	fake_now = t0 + ns_at(10000);
	assert_int_equal(read_word(0x42), 156);
	outb(0x61, 0x01);
	fake_now += ns_at(56);
	assert_int_equal(read_word(0x42), 100);
	assert_int_equal(inb(0x61) & 0x20, 0);
}

/* Mode 1 on channel 2: the gate's rising edge starts the one-shot. */
static void test_mode1_gate_trigger(void **state)
{
	(void)state;
	outb(0x61, 0x00);
	outb(0x43, 0xb2);
	outb(0x42, 100);
	outb(0x42, 0);
	fake_now += ns_at(500);
	assert_int_equal(inb(0x61) & 0x20, 0x20); /* not triggered: OUT high */
	assert_int_equal(read_word(0x42), 100);
	outb(0x61, 0x01);
	uint64_t t0 = fake_now;
	assert_int_equal(inb(0x61) & 0x20, 0);
	fake_now = t0 + ns_at(40);
	outb(0x61, 0x00); /* the gate falling does not stop mode 1 */
	fake_now = t0 + ns_at(60);
	assert_int_equal(read_word(0x42), 40);
	fake_now = t0 + ns_at(100);
	assert_int_equal(inb(0x61) & 0x20, 0x20);
	outb(0x61, 0x01); /* retrigger */
	assert_int_equal(inb(0x61) & 0x20, 0);
	assert_int_equal(read_word(0x42), 100);
}

static void test_reprogram_stops_irq(void **state)
{
	(void)state;
	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x10);
	assert_true(pit_deadline(&pit) != UINT64_MAX);
	outb(0x43, 0x30); /* Linux's shutdown: mode 0 and ... */
	assert_int_equal(pit_deadline(&pit), UINT64_MAX);
	outb(0x40, 0);
	outb(0x40, 0); /* ... a count of 0 = 65536: one last edge */
	assert_int_equal(pit_deadline(&pit), fake_now + ns_at(65536));
}

/* Near the end of 64-bit time nothing overflows (UBSan watches). */
static void test_far_future(void **state)
{
	(void)state;
	fake_now = UINT64_MAX - 1000000;
	outb(0x43, 0x34);
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	assert_int_equal(pit_deadline(&pit), UINT64_MAX); /* beyond representable time */
	pit_update(&pit, UINT64_MAX);
	(void)read_word(0x40);
	(void)inb(0x61);
	fake_now = UINT64_MAX / 2;
	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x10);
	assert_int_equal(pit_deadline(&pit), fake_now + ns_at(4096));
}

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 8254);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t x = unit_rng_next(&r);
		fake_now += (x >> 40) % 100000;
		switch (x % 5) {
		case 0:
			pit_write(&pit, (x >> 8) % 6, 1, x >> 16);
			break;
		case 1:
			(void)pit_read(&pit, (x >> 8) % 6, 1);
			break;
		case 2:
			pit_port61_write(&pit, (x >> 8) % 2, 1, x >> 16);
			break;
		case 3:
			(void)pit_port61_read(&pit, (x >> 8) % 2, 1);
			break;
		default: {
			uint64_t d = pit_deadline(&pit);
			if (d != UINT64_MAX && d > fake_now)
				fake_now = d;
			pit_update(&pit, fake_now);
			d = pit_deadline(&pit);
			assert_true(d == UINT64_MAX || d > fake_now);
			break;
		}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idle_no_deadline, setup),
		cmocka_unit_test_setup(test_mode2_periodic_no_drift, setup),
		cmocka_unit_test_setup(test_mode2_counter_and_out, setup),
		cmocka_unit_test_setup(test_mode0_one_shot, setup),
		cmocka_unit_test_setup(test_mode3_square_wave, setup),
		cmocka_unit_test_setup(test_mode4_oneshot_linux, setup),
		cmocka_unit_test_setup(test_latch_and_readback, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_channel2_calibration, setup),
		cmocka_unit_test_setup(test_channel2_quick_calibrate, setup),
		cmocka_unit_test_setup(test_gate_pauses_mode0, setup),
		cmocka_unit_test_setup(test_mode1_gate_trigger, setup),
		cmocka_unit_test_setup(test_reprogram_stops_irq, setup),
		cmocka_unit_test_setup(test_far_future, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
