#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * ACPI fixed hardware: PM1a event block (status, enable), PM1a control and
 * the PM timer. Bus mapping (ctx = struct acpi_pm *):
 *   PC_ACPI_PM_BASE .. PC_ACPI_PM_BASE + 11   acpi_pm_read/write
 * The SCI (PC_ACPI_SCI_IRQ) is a level line: any enabled status bit set.
 */
#define ACPI_PM_TMR_HZ 3579545u
#define ACPI_PM_LEN 12

#define ACPI_PM1_TMR_STS 0x0001
#define ACPI_PM1_GBL_STS 0x0020
#define ACPI_PM1_PWRBTN_STS 0x0100
#define ACPI_PM1_SLPBTN_STS 0x0200
#define ACPI_PM1_RTC_STS 0x0400
#define ACPI_PM1_WAK_STS 0x8000

struct acpi_pm {
	const struct platform *pf;
	uint16_t sts, en, cnt;
	uint64_t tmr_half;   /* timer bit-31 periods seen (TMR_STS edges) */
	bool sci;
};

void acpi_pm_init(struct acpi_pm *pm, const struct platform *pf);
uint64_t acpi_pm_read(void *ctx, uint64_t off, unsigned size);
void acpi_pm_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t acpi_pm_deadline(const struct acpi_pm *pm);
void acpi_pm_update(struct acpi_pm *pm, uint64_t now);
/* Presses the power button (PWRBTN_STS); returns whether the guest enabled
 * the event, i.e. whether an SCI tells it (else the VMM may power off). */
bool acpi_pm_power_button(struct acpi_pm *pm);
/* The PM timer value at VM time now. */
uint32_t acpi_pm_timer(uint64_t now);

#endif
