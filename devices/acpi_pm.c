/*
 * ACPI fixed-feature hardware (PM1a event and control blocks, PM timer).
 * Registers are byte-addressable so any access width at any offset works;
 * status bits are write-1-to-clear byte by byte as in real chipsets.
 */
#include "acpi_pm.h"
#include "platform.h"

#define NS_PER_S 1000000000ull

#define PM1_STS 0
#define PM1_EN 2
#define PM1_CNT 4
#define PM_TMR 8

#define CNT_SCI_EN 0x0001
#define CNT_SLP_EN 0x2000
#define CNT_SLP_TYP_SHIFT 10

#define STS_EVENTS (ACPI_PM1_TMR_STS | ACPI_PM1_GBL_STS | ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS | ACPI_PM1_RTC_STS)

static uint64_t ticks(uint64_t ns)
{
	return ns / NS_PER_S * ACPI_PM_TMR_HZ + ns % NS_PER_S * ACPI_PM_TMR_HZ / NS_PER_S;
}

uint32_t acpi_pm_timer(uint64_t now)
{
	return (uint32_t)ticks(now);
}

static void update_sci(struct acpi_pm *pm)
{
	bool sci = (pm->sts & pm->en & STS_EVENTS) != 0;
	if (sci != pm->sci) {
		pm->sci = sci;
		platform_irq(pm->pf, PC_ACPI_SCI_IRQ, sci);
	}
}

void acpi_pm_init(struct acpi_pm *pm, const struct platform *pf)
{
	*pm = (struct acpi_pm){ .pf = pf, .cnt = CNT_SCI_EN, .tmr_half = ticks(platform_clock_ns(pf)) >> 31 };
	platform_irq(pf, PC_ACPI_SCI_IRQ, false);
}

void acpi_pm_update(struct acpi_pm *pm, uint64_t now)
{
	uint64_t half = ticks(now) >> 31;
	if (half > pm->tmr_half) { /* bit 31 flipped (once or many times) */
		pm->tmr_half = half;
		pm->sts |= ACPI_PM1_TMR_STS;
	}
	update_sci(pm);
}

uint64_t acpi_pm_deadline(const struct acpi_pm *pm)
{
	if (!(pm->en & ACPI_PM1_TMR_STS) || (pm->sts & ACPI_PM1_TMR_STS))
		return UINT64_MAX;
	uint64_t t = (pm->tmr_half + 1) << 31; /* the next flip, in timer ticks */
	return t / ACPI_PM_TMR_HZ * NS_PER_S + (t % ACPI_PM_TMR_HZ * NS_PER_S + ACPI_PM_TMR_HZ - 1) / ACPI_PM_TMR_HZ;
}

bool acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->sts |= ACPI_PM1_PWRBTN_STS;
	update_sci(pm);
	return pm->en & ACPI_PM1_PWRBTN_STS;
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
	switch (off) {
	case PM1_STS:
	case PM1_STS + 1:
		return (uint8_t)(pm->sts >> (8 * (off - PM1_STS)));
	case PM1_EN:
	case PM1_EN + 1:
		return (uint8_t)(pm->en >> (8 * (off - PM1_EN)));
	case PM1_CNT:
	case PM1_CNT + 1:
		return (uint8_t)((pm->cnt | CNT_SCI_EN) >> (8 * (off - PM1_CNT)));
	case PM_TMR:
	case PM_TMR + 1:
	case PM_TMR + 2:
	case PM_TMR + 3:
		return (uint8_t)(tmr >> (8 * (off - PM_TMR)));
	default:
		return 0xff;
	}
}

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t b)
{
	unsigned shift;
	switch (off) {
	case PM1_STS:
	case PM1_STS + 1:
		shift = 8 * (off - PM1_STS);
		pm->sts &= (uint16_t)~((unsigned)b << shift);
		break;
	case PM1_EN:
	case PM1_EN + 1:
		shift = 8 * (off - PM1_EN);
		pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | ((unsigned)b << shift));
		pm->en &= STS_EVENTS & ~ACPI_PM1_WAK_STS;
		break;
	case PM1_CNT:
		pm->cnt = (uint16_t)((pm->cnt & 0xff00) | b | CNT_SCI_EN);
		break;
	case PM1_CNT + 1: {
		unsigned slp_typ = (b >> 2) & 7;
		pm->cnt = (uint16_t)((pm->cnt & 0x00ff) | ((unsigned)(b & 0x1c) << 8)); /* SLP_EN reads 0 */
		if ((b << 8) & CNT_SLP_EN) {
			if (slp_typ == PC_ACPI_S5_SLP_TYP)
				platform_poweroff(pm->pf);
			/* other sleep states are not supported: the guest keeps running */
		}
		break;
	}
	default:
		break; /* the timer is read-only */
	}
}

uint64_t acpi_pm_read(void *ctx, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = ctx;
	uint64_t now = platform_clock_ns(pm->pf);
	acpi_pm_update(pm, now);
	uint32_t tmr = acpi_pm_timer(now);
	uint64_t v = 0;
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)(off + i < ACPI_PM_LEN ? read_byte(pm, (unsigned)(off + i), tmr) : 0xff) << (8 * i);
	return v;
}

void acpi_pm_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct acpi_pm *pm = ctx;
	acpi_pm_update(pm, platform_clock_ns(pm->pf));
	for (unsigned i = 0; i < size && i < 8 && off + i < ACPI_PM_LEN; i++)
		write_byte(pm, (unsigned)(off + i), (uint8_t)(val >> (8 * i)));
	update_sci(pm);
}
