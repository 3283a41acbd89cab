/*
 * 8254 programmable interval timer. Counters are not ticked: each channel
 * remembers when its count was loaded and derives the counter value and OUT
 * from the clocks elapsed since, so reads are exact and cost nothing while
 * the guest is idle. IRQ 0 edges are scheduled on the absolute clock grid of
 * the load time, so periodic interrupts do not drift; after a long pause the
 * missed edges collapse into one.
 */
#include "pit8254.h"
#include "platform.h"

#define NS_PER_S 1000000000ull

/* Input clocks in ns, without overflow for any 64-bit ns. */
static uint64_t ns_to_clocks(uint64_t ns)
{
	return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

/* The first ns at which ns_to_clocks() reaches c. */
static uint64_t clocks_to_ns(uint64_t c)
{
	if (c / PIT_HZ >= UINT64_MAX / NS_PER_S - 1)
		return UINT64_MAX;
	return c / PIT_HZ * NS_PER_S + (c % PIT_HZ * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static uint16_t bcd_to_bin(uint16_t v)
{
	return (uint16_t)((v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf));
}

static uint16_t bin_to_bcd(uint32_t v)
{
	v %= 10000;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Gate 2 comes from port 0x61; gates 0 and 1 are tied high. */
static bool gate_counts(const struct pit_chan *c)
{
	return c->gate || c->mode == 1 || c->mode == 5;
}

/* Clocks counted since the count was loaded (or the trigger). */
static uint64_t elapsed(const struct pit_chan *c, uint64_t now)
{
	if (!gate_counts(c))
		return c->frozen;
	return now > c->load_ns ? ns_to_clocks(now - c->load_ns) + c->frozen : c->frozen;
}

/* Current counting element (binary, 0 means 65536/10000 wrapped). */
static uint32_t counter(const struct pit_chan *c, uint64_t now)
{
	if (!c->counting || ((c->mode == 1 || c->mode == 5) && !c->armed))
		return c->count;
	uint64_t d = elapsed(c, now);
	uint32_t wrap = c->bcd ? 10000 : 65536;
	switch (c->mode) {
	case 2:
		return c->count - (uint32_t)(d % c->count);
	case 3: { /* decrements by two; each half period reloads */
		uint32_t half = (c->count + 1) / 2;
		uint32_t in = (uint32_t)(d % c->count);
		uint32_t left = in < half ? half - in : c->count - in;
		return (left * 2) % wrap;
	}
	default: /* 0, 1, 4, 5: count down once, then keep wrapping */
		return (uint32_t)((c->count + wrap - d % wrap) % wrap);
	}
}

static bool out(const struct pit_chan *c, uint64_t now)
{
	if (!c->counting)
		return c->mode != 0;
	if ((c->mode == 1 || c->mode == 5) && !c->armed)
		return true;
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true;
	uint64_t d = elapsed(c, now);
	switch (c->mode) {
	case 0:
		return d >= c->count;
	case 1:
		return d >= c->count;
	case 2:
		return d % c->count != c->count - 1u;
	case 3:
		return d % c->count < (c->count + 1) / 2;
	default: /* 4, 5: low for one clock at terminal count */
		return d != c->count;
	}
}

/* Clocks (since load) of the first rising edge of OUT after d clocks. */
static uint64_t next_edge(const struct pit_chan *c, uint64_t d)
{
	switch (c->mode) {
	case 0:
	case 1:
		return d < c->count ? c->count : UINT64_MAX;
	case 2:
	case 3:
		return (d / c->count + 1) * c->count;
	default:
		return d < c->count + 1u ? c->count + 1u : UINT64_MAX;
	}
}

/* Reschedules channel 0's interrupt after time now. */
static void schedule(struct pit *p, uint64_t now)
{
	struct pit_chan *c = &p->ch[0];
	p->next_irq = UINT64_MAX;
	if (!c->counting || ((c->mode == 1 || c->mode == 5) && !c->armed))
		return;
	uint64_t d = now > c->load_ns ? ns_to_clocks(now - c->load_ns) + c->frozen : c->frozen;
	uint64_t e = next_edge(c, d);
	if (e == UINT64_MAX || e < c->frozen)
		return;
	uint64_t ns = clocks_to_ns(e - c->frozen);
	if (ns != UINT64_MAX && ns <= UINT64_MAX - c->load_ns)
		p->next_irq = c->load_ns + ns;
}

static void start(struct pit *p, unsigned i, uint64_t now)
{
	struct pit_chan *c = &p->ch[i];
	c->load_ns = now;
	c->frozen = 0;
	if (i == 0)
		schedule(p, now);
}

static void load_count(struct pit *p, unsigned i, uint16_t raw)
{
	struct pit_chan *c = &p->ch[i];
	uint32_t n = c->bcd ? bcd_to_bin(raw) : raw;
	if (n == 0)
		n = c->bcd ? 10000 : 65536;
	if (n == 1 && (c->mode == 2 || c->mode == 3))
		n = 2; /* a count of 1 is illegal in these modes */
	c->count = n;
	c->null_count = false;
	/* modes 2/3 reload at the end of the period; restarting is close enough */
	c->counting = true;
	c->armed = !(c->mode == 1 || c->mode == 5);
	start(p, i, platform_clock_ns(p->pf));
}

void pit_init(struct pit *p, const struct platform *pf)
{
	*p = (struct pit){ .pf = pf, .next_irq = UINT64_MAX };
	for (unsigned i = 0; i < 3; i++) {
		p->ch[i] = (struct pit_chan){ .count = 65536, .rw = 3, .gate = i < 2, .null_count = true };
	}
}

static uint8_t status_byte(const struct pit_chan *c, uint64_t now)
{
	return (uint8_t)((out(c, now) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | c->rw << 4 | c->mode << 1 | c->bcd);
}

static void latch_count(struct pit_chan *c, uint64_t now)
{
	if (c->latch_bytes)
		return; /* the first latch holds until read */
	uint32_t v = counter(c, now);
	c->latch = (uint16_t)(c->bcd ? bin_to_bcd(v) : v);
	c->latch_bytes = c->rw == 3 ? 2 : 1;
}

static void control(struct pit *p, uint8_t v)
{
	uint64_t now = platform_clock_ns(p->pf);
	unsigned sc = v >> 6;
	if (sc == 3) { /* read-back */
		for (unsigned i = 0; i < 3; i++) {
			struct pit_chan *c = &p->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_byte(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	struct pit_chan *c = &p->ch[sc];
	unsigned rw = (v >> 4) & 3;
	if (rw == 0) {
		latch_count(c, now);
		return;
	}
	c->rw = (uint8_t)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
	c->bcd = v & 1;
	c->counting = false; /* waits for a new count; OUT goes to its initial level */
	c->null_count = true;
	c->read_hi = c->write_hi = false;
	c->latch_bytes = 0;
	c->status_latched = false;
	if (sc == 0)
		p->next_irq = UINT64_MAX;
}

static void write_count(struct pit *p, unsigned i, uint8_t b)
{
	struct pit_chan *c = &p->ch[i];
	switch (c->rw) {
	case 1:
		load_count(p, i, b);
		break;
	case 2:
		load_count(p, i, (uint16_t)(b << 8));
		break;
	default:
		if (!c->write_hi) {
			c->write_lo = b;
			c->write_hi = true;
			if (c->mode == 0)
				c->counting = false; /* mode 0 stops at the first byte */
		} else {
			c->write_hi = false;
			load_count(p, i, (uint16_t)(b << 8 | c->write_lo));
		}
		break;
	}
	if (i == 0 && !c->counting)
		p->next_irq = UINT64_MAX;
}

static uint8_t read_count(struct pit_chan *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v;
	if (c->latch_bytes) {
		v = c->latch;
		c->latch_bytes--;
	} else {
		uint32_t n = counter(c, now);
		v = (uint16_t)(c->bcd ? bin_to_bcd(n) : n);
	}
	bool hi = c->rw == 2 || (c->rw == 3 && c->read_hi);
	if (c->rw == 3)
		c->read_hi = !c->read_hi;
	return (uint8_t)(hi ? v >> 8 : v);
}

uint64_t pit_read(void *ctx, uint64_t off, unsigned size)
{
	struct pit *p = ctx;
	(void)size;
	if (off < 3)
		return read_count(&p->ch[off], platform_clock_ns(p->pf));
	return 0xff; /* the control word is write-only */
}

void pit_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pit *p = ctx;
	(void)size;
	if (off < 3)
		write_count(p, (unsigned)off, (uint8_t)val);
	else if (off == 3)
		control(p, (uint8_t)val);
}

static void set_gate(struct pit *p, unsigned i, bool gate)
{
	struct pit_chan *c = &p->ch[i];
	uint64_t now = platform_clock_ns(p->pf);
	if (gate == c->gate)
		return;
	if (!gate) {
		if (c->mode != 1 && c->mode != 5)
			c->frozen = elapsed(c, now); /* modes 0/4 hold, 2/3 stop */
		c->gate = false;
		return;
	}
	c->gate = true;
	switch (c->mode) {
	case 1:
	case 2:
	case 3:
	case 5: /* the rising edge (re)triggers */
		c->armed = true;
		start(p, i, now);
		break;
	default: /* 0, 4: counting resumes where it stopped */
		c->load_ns = now;
		break;
	}
}

/* Port 0x61 (system control port B). */
uint64_t pit_port61_read(void *ctx, uint64_t off, unsigned size)
{
	struct pit *p = ctx;
	(void)size;
	if (off)
		return 0xff;
	uint64_t now = platform_clock_ns(p->pf);
	uint8_t v = p->port61 & 0x0f;
	if ((now / 15085) & 1) /* DRAM refresh toggles every 15.085 us */
		v |= 0x10;
	if (out(&p->ch[2], now))
		v |= 0x20;
	return v;
}

void pit_port61_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pit *p = ctx;
	(void)size;
	if (off)
		return;
	p->port61 = val & 0x0f;
	set_gate(p, 2, val & 1);
}

uint64_t pit_deadline(const struct pit *p)
{
	return p->next_irq;
}

void pit_update(struct pit *p, uint64_t now)
{
	if (now < p->next_irq)
		return;
	platform_irq(p->pf, 0, true);
	platform_irq(p->pf, 0, false);
	schedule(p, now);
}
