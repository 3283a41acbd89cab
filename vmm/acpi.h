/*
 * ACPI tables the VMM builds for a PC guest (Linux): RSDP, XSDT, RSDT,
 * FADT, FACS, MADT and a DSDT with \_S5, the PCI host bridge (_CRS, _PRT),
 * processor devices and optionally COM1 and the CMOS RTC. The layout
 * follows devices/platform.h.
 */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 16

/* Where the VMM is expected to put the tables: the BIOS area, where Linux's
 * legacy RSDP scan looks too (the region must be 16-byte aligned). */
#define ACPI_REGION_GPA 0xe0000ull
#define ACPI_REGION_SIZE 0x10000ull

struct acpi_config {
	unsigned ncpus;       /* 1..ACPI_MAX_CPUS; vCPU i has processor UID i and APIC id i */
	uint64_t low_ram_end; /* end of guest RAM below 4 GiB (>= 1 MiB): the PCI memory window
				 runs from here, rounded up to 1 MiB, to just below PC_IOAPIC_BASE */
	bool com1;            /* describe a 16550 at 0x3f8, IRQ 4 (PNP0501) */
	bool cmos_rtc;        /* there is an MC146818 RTC at 0x70, IRQ 8 (PNP0B00); if not,
				 the FADT says so and Linux does not touch the CMOS */
	bool pvpanic;         /* a QEMU0001 panic-notification device at PC_PVPANIC_PORT */
};

/* The IOAPIC id the MADT announces: the IOAPIC model should report it. */
static inline unsigned acpi_ioapic_id(const struct acpi_config *cfg)
{
	return cfg->ncpus;
}

/*
 * Builds the tables into buf, which the guest sees at guest-physical gpa
 * (buf[0] is at gpa; every table must end below 4 GiB). Returns the
 * guest-physical address of the RSDP (16-byte aligned), or 0 if buf is too
 * small or cfg is invalid; then buf[0..size) is all zeroes. Never writes
 * outside buf[0..size).
 */
uint64_t acpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg);

#endif
