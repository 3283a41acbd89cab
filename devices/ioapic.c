/*
 * I/O APIC model: the indirect register window (IOREGSEL/IOWIN), ID,
 * version, arbitration and redirection table registers, the version 0x20
 * EOI register, and the pin logic: edge pins send on an asserting edge,
 * level pins send while asserted and their remote IRR is clear. Every
 * interrupt leaves as a message through platform_apic_send() (src -1).
 */
#include "ioapic.h"

#include <stddef.h>
#include <string.h>

#define REDIR_LO_MASK 0x1afffull          /* vector, mode, dest mode, polarity, trigger, mask */
#define REDIR_HI_MASK 0xff00000000000000ull /* destination */
#define REDIR_MASK (REDIR_LO_MASK | REDIR_HI_MASK)
#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REG_REDIR 0x10

void ioapic_init(struct ioapic *io, const struct platform *pf, unsigned id)
{
	memset(io, 0, sizeof(*io));
	io->pf = pf;
	io->id = id & 0xf;
	for (unsigned i = 0; i < PC_IOAPIC_PINS; i++)
		io->redir[i] = IOAPIC_MASKED;
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool wire = io->wire >> pin & 1;
	return wire != !!(io->redir[pin] & IOAPIC_POLARITY_LOW);
}

static void send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	struct apic_msg msg = {
		.dest = (uint32_t)(e >> 56),
		.vector = e & 0xff,
		.mode = e >> 8 & 7,
		.logical = e & (1u << 11),
		.level_trig = e & IOAPIC_LEVEL,
		.assert = true,
		.src = -1,
	};
	if (msg.mode == 3 || msg.mode == APIC_DM_SIPI)
		return; /* reserved delivery modes */
	/* Remote IRR waits for the EOI of a level interrupt a LAPIC accepted
	 * (fixed and lowest priority only: the other modes get no EOI). */
	if ((e & IOAPIC_LEVEL) && (msg.mode == APIC_DM_FIXED || msg.mode == APIC_DM_LOWEST))
		io->redir[pin] |= IOAPIC_REMOTE_IRR;
	platform_apic_send(io->pf, &msg);
}

/* Level pins: send while asserted, unmasked and not awaiting an EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	if ((e & IOAPIC_LEVEL) && !(e & (IOAPIC_MASKED | IOAPIC_REMOTE_IRR)) && asserted(io, pin))
		send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	if (pin >= PC_IOAPIC_PINS)
		return;
	bool was = asserted(io, pin);
	if (level)
		io->wire |= 1u << pin;
	else
		io->wire &= ~(1u << pin);
	uint64_t e = io->redir[pin];
	if (e & IOAPIC_LEVEL)
		service_level(io, pin);
	else if (!was && asserted(io, pin) && !(e & IOAPIC_MASKED))
		send(io, pin); /* a masked edge is lost */
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < PC_IOAPIC_PINS; pin++) {
		if ((io->redir[pin] & 0xff) != vector || !(io->redir[pin] & IOAPIC_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~IOAPIC_REMOTE_IRR;
		service_level(io, pin);
	}
}

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
	switch (reg) {
	case REG_ID:
		return io->id << 24;
	case REG_VERSION:
		return IOAPIC_VERSION | (PC_IOAPIC_PINS - 1) << 16;
	case REG_ARB:
		return io->id << 24;
	}
	if (reg >= REG_REDIR && reg < REG_REDIR + 2 * PC_IOAPIC_PINS) {
		uint64_t e = io->redir[(reg - REG_REDIR) / 2];
		return reg & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
	if (reg == REG_ID) {
		io->id = val >> 24 & 0xf;
		return;
	}
	if (reg < REG_REDIR || reg >= REG_REDIR + 2 * PC_IOAPIC_PINS)
		return; /* version, arbitration: read-only */
	unsigned pin = (reg - REG_REDIR) / 2;
	uint64_t e = io->redir[pin];
	if (reg & 1)
		e = (e & 0xffffffffull) | (uint64_t)val << 32;
	else
		e = (e & ~0xffffffffull) | val;
	e = (e & REDIR_MASK) | (io->redir[pin] & IOAPIC_REMOTE_IRR);
	if (!(e & IOAPIC_LEVEL))
		e &= ~IOAPIC_REMOTE_IRR; /* switching to edge clears a stuck remote IRR */
	io->redir[pin] = e;
	service_level(io, pin); /* unmasking an asserted level pin sends */
}

uint64_t ioapic_mmio_read(void *ctx, uint64_t off, unsigned size)
{
	const struct ioapic *io = ctx;
	(void)size;
	switch (off) {
	case IOAPIC_IOREGSEL:
		return io->ioregsel;
	case IOAPIC_IOWIN:
		return reg_read(io, io->ioregsel);
	}
	return 0;
}

void ioapic_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct ioapic *io = ctx;
	(void)size;
	switch (off) {
	case IOAPIC_IOREGSEL:
		io->ioregsel = val & 0xff;
		break;
	case IOAPIC_IOWIN:
		reg_write(io, io->ioregsel, (uint32_t)val);
		break;
	case IOAPIC_EOI:
		ioapic_eoi(io, val & 0xff);
		break;
	}
}
