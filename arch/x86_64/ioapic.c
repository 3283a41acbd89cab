/* IOAPIC redirection: GSI n is delivered as vector VEC_IRQ_BASE + n
 * (through interrupt remapping table entry n where remapping is on). */
#include "kernel.h"
#include <arch/acpi.h>
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/layout.h>
#include <arch/vtd.h>

static unsigned ioapic_pins[MAX_IOAPICS];

static u32 io_read(unsigned i, u32 reg)
{
	volatile u32 *b = phys_to_virt(acpi.ioapic[i].base);
	b[0] = reg;
	return b[4];
}

static void io_write(unsigned i, u32 reg, u32 v)
{
	volatile u32 *b = phys_to_virt(acpi.ioapic[i].base);
	b[0] = reg;
	b[4] = v;
}

static bool locate(unsigned gsi, unsigned *io, unsigned *pin)
{
	for (unsigned i = 0; i < acpi.nioapics; i++)
		if (gsi >= acpi.ioapic[i].gsi_base && gsi < acpi.ioapic[i].gsi_base + ioapic_pins[i]) {
			*io = i;
			*pin = gsi - acpi.ioapic[i].gsi_base;
			return true;
		}
	return false;
}

/* Masks every pin and the legacy 8259 PICs. */
void ioapic_init(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	for (unsigned i = 0; i < acpi.nioapics; i++) {
		ioapic_pins[i] = ((io_read(i, 1) >> 16) & 0xff) + 1;
		for (unsigned p = 0; p < ioapic_pins[i]; p++) {
			io_write(i, 0x10 + 2 * p, 1u << 16);
			io_write(i, 0x11 + 2 * p, 0);
		}
	}
}

unsigned ioapic_num_gsi(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < acpi.nioapics; i++)
		n = MAX(n, acpi.ioapic[i].gsi_base + ioapic_pins[i]);
	return MIN(n, 0xe0u - VEC_IRQ_BASE);
}

bool ioapic_route(unsigned gsi, u8 vector, u32 apic_id, bool level, bool active_low, bool masked)
{
	unsigned io, pin;
	if (!locate(gsi, &io, &pin))
		return false;
	u32 lo = vector | (level ? 1u << 15 : 0) | (active_low ? 1u << 13 : 0) | (masked ? 1u << 16 : 0);
	bool remapped = iommu_irte(gsi, vector, apic_id, level, IOMMU_SID_IOAPIC); /* the vector stays in lo: EOIs */
	io_write(io, 0x11 + 2 * pin, remapped ? vtd_rte_high(gsi) : apic_id << 24);
	io_write(io, 0x10 + 2 * pin, lo);
	return true;
}

void ioapic_mask(unsigned gsi, bool masked)
{
	unsigned io, pin;
	if (!locate(gsi, &io, &pin))
		return;
	u32 lo = io_read(io, 0x10 + 2 * pin);
	io_write(io, 0x10 + 2 * pin, masked ? lo | (1u << 16) : lo & ~(1u << 16));
}

bool ioapic_gsi_is_level(unsigned gsi)
{
	unsigned io, pin;
	return locate(gsi, &io, &pin) && (io_read(io, 0x10 + 2 * pin) & (1u << 15));
}
