/* ACPI PM1a/PM timer: timer rate and wrap, TMR_STS on bit 31, SCI level,
 * write-1-to-clear, power button, S5 poweroff, odd access widths. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/acpi_pm.h"

#define S 1000000000ull
#define STS (PC_ACPI_PM_BASE - PC_ACPI_PM_BASE)
#define EN 2
#define CNT (PC_ACPI_PM1_CNT - PC_ACPI_PM_BASE)
#define TMR (PC_ACPI_PM_TMR - PC_ACPI_PM_BASE)

static struct acpi_pm pm;

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	acpi_pm_init(&pm, &fake_pf);
	return 0;
}

static void test_timer_rate(void **state)
{
	(void)state;
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), 0);
	fake_now = S;
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), ACPI_PM_TMR_HZ);
	fake_now = 1000;
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), 3); /* 3.58 ticks */
	/* 24 bits of it by byte, and the 32-bit wrap after ~1200 s */
	fake_now = S;
	assert_int_equal(acpi_pm_read(&pm, TMR + 1, 1), (ACPI_PM_TMR_HZ >> 8) & 0xff);
	uint64_t wrap = (uint64_t)((((unsigned __int128)1 << 32) * S + ACPI_PM_TMR_HZ - 1) / ACPI_PM_TMR_HZ);
	fake_now = wrap - 1;
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), 0xffffffffu);
	fake_now = wrap;
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), 0);
	/* monotonic over a long run */
	fake_now = 3600 * S;
	uint32_t a = (uint32_t)acpi_pm_read(&pm, TMR, 4);
	fake_now += 1000000;
	uint32_t b = (uint32_t)acpi_pm_read(&pm, TMR, 4);
	assert_int_equal(b - a, 3579);
	acpi_pm_write(&pm, TMR, 4, 0); /* read-only */
	assert_int_equal(acpi_pm_read(&pm, TMR, 4), b);
}

static void test_tmr_sts_and_sci(void **state)
{
	(void)state;
	assert_int_equal(acpi_pm_deadline(&pm), UINT64_MAX);
	acpi_pm_write(&pm, EN, 2, ACPI_PM1_TMR_STS);
	assert_int_equal(acpi_pm_read(&pm, EN, 2), ACPI_PM1_TMR_STS);
	uint64_t flip = (uint64_t)((((unsigned __int128)1 << 31) * S + ACPI_PM_TMR_HZ - 1) / ACPI_PM_TMR_HZ);
	assert_int_equal(acpi_pm_deadline(&pm), flip);
	acpi_pm_update(&pm, flip - 1);
	assert_int_equal(acpi_pm_read(&pm, STS, 2) & ACPI_PM1_TMR_STS, 0);
	fake_now = flip;
	acpi_pm_update(&pm, flip);
	assert_int_equal(acpi_pm_read(&pm, STS, 2) & ACPI_PM1_TMR_STS, ACPI_PM1_TMR_STS);
	assert_true(fake_level[PC_ACPI_SCI_IRQ]);
	assert_int_equal(fake_raises[PC_ACPI_SCI_IRQ], 1);
	acpi_pm_write(&pm, STS, 2, 0xfffe); /* other bits: no effect */
	assert_true(fake_level[PC_ACPI_SCI_IRQ]);
	acpi_pm_write(&pm, STS, 2, ACPI_PM1_TMR_STS);
	assert_false(fake_level[PC_ACPI_SCI_IRQ]);
	/* next flip: bit 31 falls at the 32-bit wrap */
	assert_int_equal(acpi_pm_deadline(&pm),
			 (uint64_t)((((unsigned __int128)1 << 32) * S + ACPI_PM_TMR_HZ - 1) / ACPI_PM_TMR_HZ));
	/* flag without enable: no SCI */
	acpi_pm_write(&pm, EN, 2, 0);
	fake_now = 10 * flip;
	acpi_pm_update(&pm, fake_now);
	assert_int_equal(acpi_pm_read(&pm, STS, 2) & ACPI_PM1_TMR_STS, ACPI_PM1_TMR_STS);
	assert_false(fake_level[PC_ACPI_SCI_IRQ]);
	/* enabling it afterwards raises the level line */
	acpi_pm_write(&pm, EN, 2, ACPI_PM1_TMR_STS);
	assert_true(fake_level[PC_ACPI_SCI_IRQ]);
}

static void test_power_button(void **state)
{
	(void)state;
	assert_false(acpi_pm_power_button(&pm)); /* guest did not enable it */
	assert_false(fake_level[PC_ACPI_SCI_IRQ]);
	acpi_pm_write(&pm, STS + 1, 1, 0x01); /* byte-wide W1C */
	assert_int_equal(acpi_pm_read(&pm, STS, 2), 0);
	acpi_pm_write(&pm, EN + 1, 1, 0x01); /* PWRBTN_EN */
	assert_true(acpi_pm_power_button(&pm));
	assert_true(fake_level[PC_ACPI_SCI_IRQ]);
	assert_int_equal(acpi_pm_read(&pm, STS, 4), ACPI_PM1_PWRBTN_STS | (uint32_t)ACPI_PM1_PWRBTN_STS << 16);
	acpi_pm_write(&pm, STS, 4, ACPI_PM1_PWRBTN_STS); /* dword: status + enable */
	assert_false(fake_level[PC_ACPI_SCI_IRQ]);
	assert_int_equal(acpi_pm_read(&pm, EN, 2), 0);
}

static void test_sleep(void **state)
{
	(void)state;
	assert_int_equal(acpi_pm_read(&pm, CNT, 2) & 1, 1); /* SCI_EN */
	acpi_pm_write(&pm, CNT, 2, 0);
	assert_int_equal(acpi_pm_read(&pm, CNT, 2) & 1, 1);
	/* SLP_TYP without SLP_EN, then other sleep types: ignored */
	acpi_pm_write(&pm, CNT, 2, PC_ACPI_S5_SLP_TYP << 10);
	acpi_pm_write(&pm, CNT, 2, 3 << 10 | 0x2000);
	acpi_pm_write(&pm, CNT, 2, 1 << 10 | 0x2000);
	assert_int_equal(fake_poweroffs, 0);
	assert_int_equal(acpi_pm_read(&pm, CNT, 2) & 0x2000, 0); /* SLP_EN reads 0 */
	/* Linux's acpi_hw_legacy_sleep(): type first, then type | SLP_EN */
	acpi_pm_write(&pm, CNT, 2, PC_ACPI_S5_SLP_TYP << 10 | 1);
	assert_int_equal(acpi_pm_read(&pm, CNT, 2), PC_ACPI_S5_SLP_TYP << 10 | 1);
	acpi_pm_write(&pm, CNT, 2, PC_ACPI_S5_SLP_TYP << 10 | 0x2000 | 1);
	assert_int_equal(fake_poweroffs, 1);
	assert_int_equal(fake_resets, 0);
}

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 3579545);
	for (unsigned i = 0; i < 100000; i++) {
		uint64_t x = unit_rng_next(&r);
		fake_now += (x >> 32);
		unsigned size = 1u << ((x >> 4) % 3);
		if (x & 1)
			acpi_pm_write(&pm, (x >> 8) % 16, size, x >> 16);
		else
			(void)acpi_pm_read(&pm, (x >> 8) % 16, size);
		if ((x >> 6) % 7 == 0)
			(void)acpi_pm_power_button(&pm);
		acpi_pm_update(&pm, fake_now);
		assert_int_equal(fake_level[PC_ACPI_SCI_IRQ], (pm.sts & pm.en) != 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_timer_rate, setup),
		cmocka_unit_test_setup(test_tmr_sts_and_sci, setup),
		cmocka_unit_test_setup(test_power_button, setup),
		cmocka_unit_test_setup(test_sleep, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
