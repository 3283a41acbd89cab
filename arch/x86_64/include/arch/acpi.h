/* What the kernel needs from ACPI: CPUs, IOAPICs, ISA interrupt overrides. */
#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H

#include "types.h"

#define MAX_IOAPICS 4

struct acpi_info {
	unsigned ncpus;
	u32 cpu_apic_id[16];
	unsigned nioapics;
	struct {
		paddr_t base;
		u32 gsi_base;
	} ioapic[MAX_IOAPICS];
	u32 isa_gsi[16];    /* ISA IRQ -> GSI */
	u16 isa_flags[16];  /* MPS INTI flags of the override */
	const void *mcfg;   /* PCI ECAM table (checked header), or NULL */
	const void *dmar;   /* VT-d DMA remapping table (checked header), or NULL */
};

extern struct acpi_info acpi;
bool acpi_init(paddr_t rsdp_hint);

void ioapic_init(void);
unsigned ioapic_num_gsi(void);
bool ioapic_route(unsigned gsi, u8 vector, u32 apic_id, bool level, bool active_low, bool masked);
void ioapic_mask(unsigned gsi, bool masked);
bool ioapic_gsi_is_level(unsigned gsi);

#endif
