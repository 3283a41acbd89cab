#ifndef DEVICES_PIT8254_H
#define DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * The PC's 8254 interval timer, clocked at 1.193182 MHz from platform_clock_ns().
 * Bus mapping (ctx = struct pit *):
 *   0x40-0x43  pit_read/write          (channels 0-2, control word)
 *   0x61       pit_port61_read/write   (gate 2, speaker, OUT2, refresh)
 * Channel 0's OUT drives ISA IRQ 0 (a pulse per rising edge); the VMM calls
 * pit_update() when pit_deadline() passes.
 */
#define PIT_HZ 1193182u

struct pit_chan {
	uint32_t count;        /* reload value in input clocks (1..65536) */
	uint64_t load_ns;      /* when counting (re)started */
	uint64_t frozen;       /* clocks counted before the gate went low */
	uint16_t latch;        /* latched count */
	uint8_t mode, rw, bcd;
	uint8_t status;        /* latched status byte */
	uint8_t latch_bytes;   /* latched count bytes still to read (0-2) */
	bool status_latched;
	bool read_hi, write_hi; /* word access flip-flops: next byte is the MSB */
	uint8_t write_lo;
	bool counting;         /* a count was loaded */
	bool null_count;
	bool gate;
	bool armed;            /* modes 1 and 5: triggered by a gate edge */
};

struct pit {
	const struct platform *pf;
	struct pit_chan ch[3];
	uint8_t port61;        /* bits 0-3 as written */
	uint64_t next_irq;     /* next rising edge of OUT0, UINT64_MAX if none */
};

void pit_init(struct pit *p, const struct platform *pf);
uint64_t pit_read(void *ctx, uint64_t off, unsigned size);
void pit_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pit_port61_read(void *ctx, uint64_t off, unsigned size);
void pit_port61_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pit_deadline(const struct pit *p);
void pit_update(struct pit *p, uint64_t now);

#endif
