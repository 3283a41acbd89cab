/*
 * 8259A programmable interrupt controller pair: master (IRQ 0-7) with the
 * slave's INT on its IRQ 2, edge or level triggering per ELCR, fully nested
 * priority with rotation, specific and non-specific EOI, auto-EOI, special
 * mask, poll mode, and spurious IRQ 7/15 when nothing is pending at INTA.
 */
#include "pic8259.h"
#include "platform.h"

#define CASCADE 2

static void chip_reset(struct pic_chip *c, uint8_t elcr_mask)
{
	uint8_t lines = c->lines;
	*c = (struct pic_chip){ .elcr_mask = elcr_mask, .lines = lines };
}

/* Position of the highest-priority bit of mask, 8 if none. */
static unsigned prio_of(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned i = 0; i < 8; i++)
		if (mask & (1u << ((c->prio + i) & 7)))
			return i;
	return 8;
}

/* The IRQ (0-7) this chip would signal now, -1 if none. */
static int chip_pending(const struct pic_chip *c, bool master)
{
	unsigned p = prio_of(c, c->irr & ~c->imr);
	if (p == 8)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (master && c->sfnm)
		in_service &= ~(1u << CASCADE); /* let the slave nest further */
	if (p < prio_of(c, in_service))
		return (int)((c->prio + p) & 7);
	return -1;
}

/* Propagates the slave's output to master IRQ 2 and reports INTR changes. */
static void pic_update(struct pic *p)
{
	struct pic_chip *m = &p->c[0];
	if (chip_pending(&p->c[1], false) >= 0)
		m->irr |= 1u << CASCADE;
	else
		m->irr &= ~(1u << CASCADE);
	bool intr = chip_pending(m, true) >= 0;
	if (intr != p->intr) {
		p->intr = intr;
		platform_pic_intr(p->pf, intr);
	}
}

void pic_init(struct pic *p, const struct platform *pf)
{
	*p = (struct pic){ .pf = pf };
	chip_reset(&p->c[0], 0xf8); /* IRQ 0, 1, 2 are always edge */
	chip_reset(&p->c[1], 0xde); /* IRQ 8, 13 are always edge */
	platform_pic_intr(pf, false);
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq > 15 || irq == CASCADE)
		return;
	struct pic_chip *c = &p->c[irq >> 3];
	uint8_t bit = 1u << (irq & 7);
	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit; /* latched on the rising edge */
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
	pic_update(p);
}

bool pic_intr(const struct pic *p)
{
	return p->intr;
}

/* INTA on one chip for irq: IRR -> ISR (or straight through with AEOI). */
static void chip_ack(struct pic_chip *c, int irq)
{
	uint8_t bit = 1u << irq;
	if (c->aeoi) {
		if (c->rotate_aeoi)
			c->prio = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= bit;
	}
	if (!(c->elcr & bit))
		c->irr &= ~bit; /* edge latch consumed; a level input stays */
}

int pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->c[0], *s = &p->c[1];
	int irq = chip_pending(m, true);
	int vec;
	if (irq < 0) {
		vec = m->base + 7; /* spurious IRQ 7: ISR untouched */
	} else if (irq == CASCADE) {
		int sirq = chip_pending(s, false);
		chip_ack(m, irq);
		if (sirq < 0) {
			vec = s->base + 7; /* spurious IRQ 15 */
		} else {
			chip_ack(s, sirq);
			vec = s->base + sirq;
		}
	} else {
		chip_ack(m, irq);
		vec = m->base + irq;
	}
	pic_update(p);
	return vec;
}

/* Poll command: the next read returns 0x80 | irq and acknowledges it. */
static uint8_t chip_poll(struct pic *p, struct pic_chip *c)
{
	int irq = chip_pending(c, c == &p->c[0]);
	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, irq);
	pic_update(p);
	return (uint8_t)(0x80 | irq);
}

static void chip_eoi(struct pic_chip *c, int irq, bool rotate)
{
	if (irq < 0) {
		unsigned pr = prio_of(c, c->isr);
		if (pr == 8)
			return;
		irq = (int)((c->prio + pr) & 7);
	}
	c->isr &= ~(1u << irq);
	if (rotate)
		c->prio = (uint8_t)((irq + 1) & 7);
}

static void chip_cmd(struct pic *p, struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) { /* ICW1 */
		/* clears IMR, ISR and the edge latches; ELCR is a chipset register */
		uint8_t elcr = c->elcr;
		chip_reset(c, c->elcr_mask);
		c->elcr = elcr;
		c->irr = c->lines & elcr;
		c->icw4 = v & 1;
		c->single = v & 2;
		c->init = 2;
	} else if (v & 0x08) { /* OCW3 */
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 1;
		if (v & 0x40)
			c->special_mask = v & 0x20;
	} else { /* OCW2 */
		switch (v >> 5) {
		case 0: /* rotate in AEOI mode: clear */
		case 4: /* set */
			c->rotate_aeoi = v >> 7;
			break;
		case 1:
			chip_eoi(c, -1, false);
			break;
		case 5:
			chip_eoi(c, -1, true);
			break;
		case 3:
			chip_eoi(c, v & 7, false);
			break;
		case 7:
			chip_eoi(c, v & 7, true);
			break;
		case 6: /* set priority: v & 7 becomes the lowest */
			c->prio = (uint8_t)((v + 1) & 7);
			break;
		default: /* 2: no operation */
			break;
		}
	}
	pic_update(p);
}

static void chip_data(struct pic *p, struct pic_chip *c, uint8_t v)
{
	switch (c->init) {
	case 2:
		c->base = v & 0xf8;
		c->init = c->single ? (c->icw4 ? 4 : 0) : 3;
		break;
	case 3: /* ICW3: cascade wiring is fixed on a PC */
		c->init = c->icw4 ? 4 : 0;
		break;
	case 4:
		c->aeoi = v & 2;
		c->sfnm = v & 0x10;
		c->init = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
	pic_update(p);
}

static uint8_t chip_read(struct pic *p, struct pic_chip *c, uint64_t off)
{
	if (off == 1)
		return c->imr;
	if (c->poll)
		return chip_poll(p, c);
	return c->read_isr ? c->isr : c->irr;
}

static void chip_write(struct pic *p, struct pic_chip *c, uint64_t off, uint8_t v)
{
	if (off == 0)
		chip_cmd(p, c, v);
	else if (off == 1)
		chip_data(p, c, v);
}

uint64_t pic_master_read(void *ctx, uint64_t off, unsigned size)
{
	struct pic *p = ctx;
	(void)size;
	return off < 2 ? chip_read(p, &p->c[0], off) : 0xff;
}

void pic_master_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pic *p = ctx;
	(void)size;
	chip_write(p, &p->c[0], off, (uint8_t)val);
}

uint64_t pic_slave_read(void *ctx, uint64_t off, unsigned size)
{
	struct pic *p = ctx;
	(void)size;
	return off < 2 ? chip_read(p, &p->c[1], off) : 0xff;
}

void pic_slave_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pic *p = ctx;
	(void)size;
	chip_write(p, &p->c[1], off, (uint8_t)val);
}

uint64_t pic_elcr_read(void *ctx, uint64_t off, unsigned size)
{
	struct pic *p = ctx;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)(off + i < 2 ? p->c[off + i].elcr : 0xff) << (8 * i);
	return v;
}

void pic_elcr_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pic *p = ctx;
	for (unsigned i = 0; i < size && i < 8; i++) {
		if (off + i >= 2)
			break;
		struct pic_chip *c = &p->c[off + i];
		uint8_t elcr = (uint8_t)(val >> (8 * i)) & c->elcr_mask;
		/* an input switched to level: its IRR follows the line now */
		c->irr = (uint8_t)((c->irr & ~elcr) | (c->lines & elcr));
		c->elcr = elcr;
	}
	pic_update(p);
}
