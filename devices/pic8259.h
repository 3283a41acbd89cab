#ifndef DEVICES_PIC8259_H
#define DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * The PC's cascaded 8259A pair. Bus mapping (ctx = struct pic *):
 *   0x20-0x21  pic_master_read/write    (off 0 command, 1 data)
 *   0xa0-0xa1  pic_slave_read/write
 *   0x4d0-0x4d1 pic_elcr_read/write     (off 0 master, 1 slave)
 * INTR changes are reported through platform_pic_intr().
 */
struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t elcr, elcr_mask;  /* level-triggered inputs, which may be level */
	uint8_t lines;            /* current input levels */
	uint8_t base;             /* ICW2 vector base */
	uint8_t prio;             /* the IRQ with the highest priority (rotation) */
	uint8_t init;             /* next init word expected: 0 none, 2..4 ICWn */
	bool icw4, single, aeoi, rotate_aeoi, sfnm, special_mask, poll, read_isr;
};

struct pic {
	const struct platform *pf;
	struct pic_chip c[2];     /* master, slave */
	bool intr;
};

void pic_init(struct pic *p, const struct platform *pf);
void pic_set_irq(struct pic *p, unsigned irq, bool level);
int pic_ack(struct pic *p);
bool pic_intr(const struct pic *p);

uint64_t pic_master_read(void *ctx, uint64_t off, unsigned size);
void pic_master_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pic_slave_read(void *ctx, uint64_t off, unsigned size);
void pic_slave_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pic_elcr_read(void *ctx, uint64_t off, unsigned size);
void pic_elcr_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

#endif
