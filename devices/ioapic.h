#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * I/O APIC model (82093AA register set, version 0x20 with the EOI register
 * at 0x40), PC_IOAPIC_PINS redirection entries; see devices/README.md.
 */
#define IOAPIC_VERSION 0x20

/* MMIO offsets */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Redirection entry bits */
#define IOAPIC_POLARITY_LOW (1ull << 13)
#define IOAPIC_REMOTE_IRR (1ull << 14)
#define IOAPIC_LEVEL (1ull << 15)
#define IOAPIC_MASKED (1ull << 16)

struct ioapic {
	const struct platform *pf;
	uint32_t id;                      /* 4 bits */
	uint32_t ioregsel;
	uint32_t wire;                    /* input line levels, one bit per pin */
	uint64_t redir[PC_IOAPIC_PINS];
};

void ioapic_init(struct ioapic *io, const struct platform *pf, unsigned id);

/* MMIO bus callbacks (ctx = struct ioapic *, off within the 4 KiB page) */
uint64_t ioapic_mmio_read(void *ctx, uint64_t off, unsigned size);
void ioapic_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

/* Input pin's wire level (high = 1); the entry's polarity says which level
 * is asserted. Pins beyond PC_IOAPIC_PINS are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* A LAPIC's EOI of a level-triggered vector (passed on by the VMM's apic_eoi). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
