/* MC146818 RTC/CMOS: BCD and binary time, 12/24 h, the UIP window and
 * Linux's read loop, setting the time, update/periodic/alarm interrupts on
 * IRQ 8 with register C, CMOS memory bytes and checksum. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/rtc_cmos.h"

#define S 1000000000ull
#define T0 1709251198ull /* 2024-02-29 23:59:58 UTC, a Thursday */

static struct rtc rtc;

static uint8_t cmos(uint8_t idx)
{
	rtc_write(&rtc, 0, 1, idx);
	return (uint8_t)rtc_read(&rtc, 1, 1);
}

static void cmos_set(uint8_t idx, uint8_t v)
{
	rtc_write(&rtc, 0, 1, idx);
	rtc_write(&rtc, 1, 1, v);
}

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	fake_now = 3 * S + 250000000; /* the VM has run a while */
	rtc_init(&rtc, &fake_pf, T0, 1ull << 30, 2ull << 30);
	return 0;
}

static void test_bcd_time_and_rollover(void **state)
{
	(void)state;
	assert_int_equal(cmos(0x0a), 0x26);
	assert_int_equal(cmos(0x0b), 0x02);
	assert_int_equal(cmos(0x0d), 0x80);
	assert_int_equal(cmos(0x00), 0x58);
	assert_int_equal(cmos(0x02), 0x59);
	assert_int_equal(cmos(0x04), 0x23);
	assert_int_equal(cmos(0x06), 0x05);
	assert_int_equal(cmos(0x07), 0x29);
	assert_int_equal(cmos(0x08), 0x02);
	assert_int_equal(cmos(0x09), 0x24);
	assert_int_equal(cmos(0x32), 0x20);
	fake_now += 2 * S; /* leap day rolls into March */
	assert_int_equal(cmos(0x00), 0x00);
	assert_int_equal(cmos(0x02), 0x00);
	assert_int_equal(cmos(0x04), 0x00);
	assert_int_equal(cmos(0x06), 0x06);
	assert_int_equal(cmos(0x07), 0x01);
	assert_int_equal(cmos(0x08), 0x03);
	fake_now += S - 1;
	assert_int_equal(cmos(0x00), 0x00);
	fake_now += 1;
	assert_int_equal(cmos(0x00), 0x01);
	assert_int_equal(rtc_time(&rtc, fake_now), (int64_t)T0 + 3);
}

static void test_binary_and_12h(void **state)
{
	(void)state;
	cmos_set(0x0b, 0x06); /* binary, 24 h */
	assert_int_equal(cmos(0x00), 58);
	assert_int_equal(cmos(0x04), 23);
	assert_int_equal(cmos(0x09), 24);
	assert_int_equal(cmos(0x32), 20);
	cmos_set(0x0b, 0x00); /* BCD, 12 h: 11 PM */
	assert_int_equal(cmos(0x04), 0x91);
	fake_now += 2 * S; /* midnight is 12 AM */
	assert_int_equal(cmos(0x04), 0x12);
	cmos_set(0x0b, 0x04); /* binary 12 h */
	assert_int_equal(cmos(0x04), 12);
}

static void test_uip_window(void **state)
{
	(void)state;
	/* the clock started at fake_now (second boundary) */
	uint64_t base = fake_now;
	fake_now = base + 500000000;
	assert_int_equal(cmos(0x0a) & 0x80, 0);
	fake_now = base + S - 100000;
	assert_int_equal(cmos(0x0a) & 0x80, 0x80);
	assert_int_equal(cmos(0x00), 0x58); /* time still valid during UIP */
	fake_now = base + S;
	assert_int_equal(cmos(0x0a) & 0x80, 0);
	assert_int_equal(cmos(0x00), 0x59);
}

/* mc146818_get_time(): wait for !UIP, read, re-check UIP and seconds. */
static void test_linux_read_loop(void **state)
{
	(void)state;
	uint64_t base = fake_now;
	fake_now = base + S - 200000; /* inside the UIP window */
	unsigned tries = 0;
	uint8_t sec;
	for (;;) {
		tries++;
		if (cmos(0x0a) & 0x80) {
			fake_now += 1000000; /* mdelay(1) */
			continue;
		}
		sec = cmos(0x00);
		if (cmos(0x0a) & 0x80)
			continue;
		if (cmos(0x00) == sec)
			break;
	}
	assert_int_equal(tries, 2);
	assert_int_equal(sec, 0x59);
}

static void test_set_time(void **state)
{
	(void)state;
	/* as mc146818_set_time(): SET, write fields, clear SET */
	uint8_t b = cmos(0x0b);
	cmos_set(0x0b, b | 0x80);
	fake_now += 5 * S; /* frozen while SET */
	assert_int_equal(cmos(0x00), 0x58);
	assert_int_equal(cmos(0x0a) & 0x80, 0);
	cmos_set(0x00, 0x00);
	cmos_set(0x02, 0x30);
	cmos_set(0x04, 0x12);
	cmos_set(0x07, 0x04);
	cmos_set(0x08, 0x07);
	cmos_set(0x09, 0x01);
	cmos_set(0x32, 0x20);
	assert_int_equal(cmos(0x02), 0x30);
	cmos_set(0x0b, b);
	assert_int_equal(rtc_time(&rtc, fake_now), 994249800);
	fake_now += 61 * S;
	assert_int_equal(cmos(0x00), 0x01);
	assert_int_equal(cmos(0x02), 0x31);
	assert_int_equal(cmos(0x06), 0x04); /* 2001-07-04 was a Wednesday */
	/* garbage fields are clamped, never crash */
	cmos_set(0x0b, b | 0x80);
	cmos_set(0x08, 0xff);
	cmos_set(0x07, 0x00);
	cmos_set(0x04, 0xff);
	cmos_set(0x0b, b);
	assert_int_equal(cmos(0x08), 0x12);
	assert_int_equal(cmos(0x07), 0x01);
}

static void test_update_interrupt(void **state)
{
	(void)state;
	uint64_t base = fake_now;
	(void)cmos(0x0c);
	assert_int_equal(rtc_deadline(&rtc), UINT64_MAX);
	cmos_set(0x0b, 0x12); /* UIE */
	assert_int_equal(rtc_deadline(&rtc), base + S);
	rtc_update(&rtc, base + S - 1);
	assert_int_equal(fake_raises[8], 0);
	fake_now = base + S;
	rtc_update(&rtc, fake_now);
	assert_int_equal(fake_raises[8], 1);
	assert_true(fake_level[8]);
	assert_int_equal(rtc_deadline(&rtc), base + 2 * S);
	assert_int_equal(cmos(0x0c), 0xd0); /* PF runs (1024 Hz) even without PIE */
	assert_false(fake_level[8]);
	assert_int_equal(cmos(0x0c), 0x00);
	cmos_set(0x0a, 0x20); /* no periodic flag from here on */
	/* a long pause: one update, flags coalesce */
	fake_now = base + 100 * S + 5;
	rtc_update(&rtc, fake_now);
	assert_int_equal(fake_raises[8], 2);
	assert_int_equal(rtc_deadline(&rtc), base + 101 * S);
	/* SET clears UIE */
	cmos_set(0x0b, 0x92);
	assert_int_equal(cmos(0x0b), 0x82);
}

static void test_periodic_interrupt(void **state)
{
	(void)state;
	(void)cmos(0x0c);
	cmos_set(0x0a, 0x26); /* 1024 Hz */
	cmos_set(0x0b, 0x42); /* PIE */
	uint64_t d = rtc_deadline(&rtc);
	assert_true(d > fake_now && d - fake_now <= 976563);
	fake_now = d;
	rtc_update(&rtc, d);
	assert_int_equal(fake_raises[8], 1);
	assert_int_equal(cmos(0x0c), 0xc0);
	uint64_t d2 = rtc_deadline(&rtc);
	assert_true(d2 - d >= 976562 && d2 - d <= 976563);
	/* 8 periods per 1/128 s at rate 15 = 2 Hz */
	cmos_set(0x0a, 0x2f);
	d = rtc_deadline(&rtc);
	assert_true(d > fake_now && d - fake_now <= S / 2);
	/* rate 0 stops it */
	cmos_set(0x0a, 0x20);
	assert_int_equal(rtc_deadline(&rtc), UINT64_MAX);
	/* rate 1 and 2 are 3.90625 ms and 7.8125 ms */
	cmos_set(0x0a, 0x21);
	d = rtc_deadline(&rtc);
	rtc_update(&rtc, d);
	assert_int_equal(rtc_deadline(&rtc) - d, 3906250);
}

static void test_alarm(void **state)
{
	(void)state;
	uint64_t base = fake_now;
	(void)cmos(0x0c);
	cmos_set(0x01, 0x00); /* 00:00:00 */
	cmos_set(0x03, 0x00);
	cmos_set(0x05, 0x00);
	cmos_set(0x0a, 0x20); /* periodic rate 0: no PF */
	cmos_set(0x0b, 0x22); /* AIE */
	fake_now = base + S;
	rtc_update(&rtc, fake_now);
	assert_int_equal(fake_raises[8], 0);
	assert_int_equal(cmos(0x0c), 0x10); /* UF without UIE: no IRQ */
	fake_now = base + 2 * S;
	rtc_update(&rtc, fake_now);
	assert_int_equal(fake_raises[8], 1);
	assert_int_equal(cmos(0x0c), 0xb0);
	/* don't-care hours and minutes: every minute at second 5 */
	cmos_set(0x01, 0x05);
	cmos_set(0x03, 0xc0);
	cmos_set(0x05, 0xff);
	fake_now = base + 7 * S;
	rtc_update(&rtc, fake_now);
	assert_int_equal(cmos(0x0c), 0xb0);
}

static void test_cmos_memory(void **state)
{
	(void)state;
	assert_int_equal(cmos(0x15) | cmos(0x16) << 8, 640);
	assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 0xfc00);
	assert_int_equal(cmos(0x30) | cmos(0x31) << 8, 0xfc00);
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, ((1u << 30) - (16u << 20)) >> 16);
	assert_int_equal(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, (2u << 30) >> 16);
	unsigned sum = 0;
	for (uint8_t i = 0x10; i <= 0x2d; i++)
		sum += cmos(i);
	assert_int_equal(cmos(0x2e) << 8 | cmos(0x2f), sum);
	/* small guest */
	rtc_init(&rtc, &fake_pf, T0, 8u << 20, 0);
	assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 7 * 1024);
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, 0);
	/* RAM bytes are read/write; C and D are read-only; index bit 7 is NMI */
	cmos_set(0x50, 0xab);
	assert_int_equal(cmos(0x50), 0xab);
	rtc_write(&rtc, 0, 1, 0x8d);
	assert_true(rtc.nmi_masked);
	rtc_write(&rtc, 1, 1, 0x00);
	assert_int_equal(rtc_read(&rtc, 1, 1), 0x80);
	assert_int_equal(rtc_read(&rtc, 0, 1), 0xff);
}

/* Far-future VM times and start epochs neither overflow nor crash. */
static void test_far_future(void **state)
{
	(void)state;
	fake_now = UINT64_MAX - 5;
	assert_int_equal(cmos(0x32), 0x26); /* 2024 + 584 years */
	cmos_set(0x0b, 0x72);
	(void)rtc_deadline(&rtc);
	rtc_update(&rtc, UINT64_MAX);
	(void)cmos(0x0c);
	rtc_init(&rtc, &fake_pf, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	assert_int_equal(cmos(0x09), 0x99);
	assert_int_equal(cmos(0x32), 0x99);
	assert_int_equal(cmos(0x5d), 0xff);
}

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 146818);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t x = unit_rng_next(&r);
		fake_now += (x >> 32) % (S / 4);
		switch (x % 4) {
		case 0:
			rtc_write(&rtc, (x >> 8) % 3, 1 + (x >> 12) % 2, x >> 16);
			break;
		case 1:
			(void)rtc_read(&rtc, (x >> 8) % 3, 1);
			break;
		case 2:
			rtc_write(&rtc, 0, 1, (x >> 8) & 0x0f); /* time and control registers */
			rtc_write(&rtc, 1, 1, x >> 16);
			break;
		default: {
			uint64_t d = rtc_deadline(&rtc);
			if (d != UINT64_MAX && d > fake_now)
				fake_now = d;
			rtc_update(&rtc, fake_now);
			d = rtc_deadline(&rtc);
			assert_true(d == UINT64_MAX || d > fake_now);
			break;
		}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bcd_time_and_rollover, setup),
		cmocka_unit_test_setup(test_binary_and_12h, setup),
		cmocka_unit_test_setup(test_uip_window, setup),
		cmocka_unit_test_setup(test_linux_read_loop, setup),
		cmocka_unit_test_setup(test_set_time, setup),
		cmocka_unit_test_setup(test_update_interrupt, setup),
		cmocka_unit_test_setup(test_periodic_interrupt, setup),
		cmocka_unit_test_setup(test_alarm, setup),
		cmocka_unit_test_setup(test_cmos_memory, setup),
		cmocka_unit_test_setup(test_far_future, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
