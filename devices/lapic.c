/*
 * Local APIC model: the xAPIC register page, the x2APIC MSRs, interrupt
 * acceptance and priority (IRR/ISR/TMR, TPR/PPR), EOI, IPIs through the ICR,
 * and the timer (one-shot, periodic, TSC-deadline) on the VMM's clock.
 *
 * Messages leave through platform_apic_send(); the VMM delivers them with
 * lapic_match() and lapic_accept(), possibly to this very LAPIC from inside
 * platform_apic_send() (self IPIs, broadcasts), so every register update is
 * complete before the call.
 */
#include "lapic.h"

#include <stddef.h>
#include <string.h>

#define APIC_VERSION 0x14 /* integrated APIC */
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define APIC_BASE_RESET (PC_LAPIC_BASE | APIC_BASE_EN)

#define SVR_ENABLE (1u << 8)
#define SVR_MASK 0x3ffu        /* vector, enable, focus checking */
#define DFR_FLAT 0xf
#define DFR_CLUSTER 0x0

/* ESR bits */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)

/* ICR low: vector, delivery mode, destination mode, level, trigger,
 * shorthand (bit 12, delivery status, always reads idle). */
#define ICR_LO_MASK 0xccfffu
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)

#define LVT_MODE_SHIFT 17
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

/* Writable bits of each LVT entry (the rest is reserved or read-only). */
static const uint32_t lvt_mask[LVT_COUNT] = {
	[LVT_TIMER] = 0x700ff,   /* vector, mask, timer mode */
	[LVT_THERMAL] = 0x107ff, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,   /* + polarity, trigger mode */
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,   /* vector, mask */
};

/* ---- 256-bit vector registers ---------------------------------------------- */

static bool vec_test(const uint32_t *r, unsigned v)
{
	return r[v >> 5] >> (v & 31) & 1;
}

static void vec_set(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

/* Highest set vector, -1 if none. */
static int vec_highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

/* ---- state helpers ----------------------------------------------------------- */

bool lapic_hw_enabled(const struct lapic *l)
{
	return l->apic_base & APIC_BASE_EN;
}

bool lapic_x2apic(const struct lapic *l)
{
	return (l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

bool lapic_enabled(const struct lapic *l)
{
	return lapic_hw_enabled(l) && (l->svr & SVR_ENABLE);
}

/* x2APIC logical id: cluster (id / 16) in bits 31:16, one bit of 16 below. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return (id >> 4) << 16 | 1u << (id & 0xf);
}

static unsigned ppr(const struct lapic *l)
{
	int isrv = vec_highest(l->isr);
	unsigned v = isrv < 0 ? 0 : (unsigned)isrv;
	if ((l->tpr & 0xf0) >= (v & 0xf0))
		return l->tpr & 0xff;
	return v & 0xf0;
}

static unsigned timer_mode(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] >> LVT_MODE_SHIFT & 3;
}

/* Errors are latched internally until the next ESR write; a new one raises
 * the error LVT interrupt. */
static void lapic_error(struct lapic *l, uint32_t bits)
{
	uint32_t fresh = bits & ~l->esr_pending;
	uint32_t lvt = l->lvt[LVT_ERROR];
	l->esr_pending |= bits;
	if (fresh && !(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) {
		vec_set(l->irr, lvt & 0xff);
		vec_clear(l->tmr, lvt & 0xff);
	}
}

/* ---- timer ----------------------------------------------------------------- */

/* Nanoseconds per timer tick after the divider (DCR bits 0, 1 and 3). */
static uint64_t tick_ns(const struct lapic *l)
{
	unsigned v = (l->dcr & 3) | (l->dcr >> 1 & 4);
	return LAPIC_NS_PER_TICK * (v == 7 ? 1 : 2u << v);
}

static void timer_stop(struct lapic *l)
{
	l->timer_period = 0;
	l->timer_next = UINT64_MAX;
}

static void timer_fire(struct lapic *l)
{
	uint32_t lvt = l->lvt[LVT_TIMER];
	if (!(lvt & LVT_MASKED))
		lapic_accept(l, lvt & 0xff, false);
}

static uint32_t timer_current(const struct lapic *l)
{
	if (timer_mode(l) == TIMER_TSC_DEADLINE || !l->timer_period)
		return 0;
	uint64_t now = platform_clock_ns(l->pf), rem, tick = tick_ns(l);
	if (now < l->timer_next)
		rem = l->timer_next - now;
	else if (timer_mode(l) == TIMER_PERIODIC) /* overdue: lapic_update() comes */
		rem = l->timer_period - (now - l->timer_next) % l->timer_period;
	else
		return 0;
	uint64_t count = (rem + tick - 1) / tick;
	return count > l->initial_count ? l->initial_count : (uint32_t)count;
}

static void timer_load(struct lapic *l, uint32_t count)
{
	l->initial_count = count;
	if (timer_mode(l) == TIMER_TSC_DEADLINE)
		return; /* the initial count is ignored in TSC-deadline mode */
	if (!count) {
		timer_stop(l);
		return;
	}
	l->timer_period = (uint64_t)count * tick_ns(l);
	l->timer_next = platform_clock_ns(l->pf) + l->timer_period;
}

/* A new divider applies to the remaining count. */
static void timer_set_dcr(struct lapic *l, uint32_t dcr)
{
	uint32_t cur = timer_current(l);
	l->dcr = dcr & 0xb;
	if (!l->timer_period || timer_mode(l) == TIMER_TSC_DEADLINE)
		return;
	l->timer_period = (uint64_t)l->initial_count * tick_ns(l);
	if (cur)
		l->timer_next = platform_clock_ns(l->pf) + cur * tick_ns(l);
}

static void timer_set_lvt(struct lapic *l, uint32_t val)
{
	bool was_tsc = timer_mode(l) == TIMER_TSC_DEADLINE;
	l->lvt[LVT_TIMER] = val;
	if (was_tsc != (timer_mode(l) == TIMER_TSC_DEADLINE)) {
		/* entering or leaving TSC-deadline mode disarms the timer */
		l->initial_count = 0;
		l->tsc_deadline = 0;
		timer_stop(l);
	}
}

static void timer_set_tsc_deadline(struct lapic *l, uint64_t tsc)
{
	if (timer_mode(l) != TIMER_TSC_DEADLINE)
		return; /* writes are ignored in the other modes */
	l->tsc_deadline = tsc;
	l->timer_period = 0;
	l->timer_next = tsc ? platform_tsc_to_ns(l->pf, tsc) : UINT64_MAX;
}

uint64_t lapic_deadline(const struct lapic *l)
{
	return l->timer_next;
}

void lapic_update(struct lapic *l, uint64_t now)
{
	if (now < l->timer_next)
		return;
	if (timer_mode(l) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0;
		timer_stop(l);
	} else if (timer_mode(l) == TIMER_PERIODIC && l->timer_period) {
		/* next period from the previous expiry, not from now: no drift;
		 * periods missed meanwhile are one interrupt */
		uint64_t missed = (now - l->timer_next) / l->timer_period;
		l->timer_next += (missed + 1) * l->timer_period;
	} else {
		timer_stop(l);
	}
	timer_fire(l);
}

/* ---- reset ----------------------------------------------------------------- */

void lapic_reset(struct lapic *l, bool power_on)
{
	uint64_t base = power_on ? APIC_BASE_RESET | (l->bsp ? APIC_BASE_BSP : 0) : l->apic_base;
	const struct platform *pf = l->pf;
	uint32_t id = l->id;
	int index = l->index;
	bool bsp = l->bsp;

	memset(l, 0, sizeof(*l));
	l->pf = pf;
	l->id = id;
	l->index = index;
	l->bsp = bsp;
	l->apic_base = base;
	l->svr = 0xff;
	l->dfr = 0xffffffff;
	l->ldr = lapic_x2apic(l) ? x2apic_ldr(id) : 0;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	timer_stop(l);
}

void lapic_init(struct lapic *l, const struct platform *pf, unsigned apic_id, bool bsp)
{
	memset(l, 0, sizeof(*l));
	l->pf = pf;
	l->id = apic_id;
	l->index = (int)apic_id;
	l->bsp = bsp;
	lapic_reset(l, true);
}

/* ---- interrupts ------------------------------------------------------------ */

bool lapic_accept(struct lapic *l, uint8_t vector, bool level_trig)
{
	if (!lapic_enabled(l))
		return false; /* a disabled APIC takes only INIT, SIPI, NMI, SMI */
	if (vector < 16) {
		lapic_error(l, ESR_RECV_ILLEGAL);
		return false;
	}
	vec_set(l->irr, vector);
	if (level_trig)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	return true;
}

/* MOV from/to CR8 (SDM Vol. 3, "Task Priority Register"): CR8[3:0] is
 * TPR[7:4], and a write clears TPR[3:0]. */
uint64_t lapic_cr8_read(const struct lapic *l) { return (l->tpr >> 4) & 0xf; }

bool lapic_cr8_write(struct lapic *l, uint64_t cr8)
{
	if (cr8 & ~0xfull)
		return false;
	l->tpr = (uint32_t)cr8 << 4;
	return true;
}

int lapic_pending(const struct lapic *l)
{
	if (!lapic_hw_enabled(l))
		return -1;
	int v = vec_highest(l->irr);
	if (v < 0 || ((unsigned)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void lapic_ack(struct lapic *l, uint8_t vector)
{
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
}

static void lapic_eoi(struct lapic *l)
{
	int v = vec_highest(l->isr);
	if (v < 0)
		return;
	vec_clear(l->isr, (unsigned)v);
	if (vec_test(l->tmr, (unsigned)v))
		platform_apic_eoi(l->pf, (uint8_t)v);
}

bool lapic_extint_allowed(const struct lapic *l)
{
	uint32_t lint0 = l->lvt[LVT_LINT0];
	if (!lapic_hw_enabled(l))
		return true;
	return !(lint0 & LVT_MASKED) && (lint0 >> 8 & 7) == APIC_DM_EXTINT;
}

bool lapic_match(const struct lapic *l, const struct apic_msg *msg)
{
	if (!lapic_hw_enabled(l))
		return false;
	switch (msg->shorthand) {
	case APIC_SH_SELF:
		return msg->src == l->index;
	case APIC_SH_ALL:
		return true;
	case APIC_SH_OTHERS:
		return msg->src != l->index;
	}
	uint32_t dest = msg->dest;
	if (lapic_x2apic(l)) {
		/* the IOAPIC's 8-bit broadcast id reaches x2APICs too */
		if (dest == 0xffffffff || (msg->src < 0 && dest == 0xff))
			return true;
		if (!msg->logical)
			return dest == l->id;
		return dest >> 16 == l->ldr >> 16 && (dest & l->ldr & 0xffff);
	}
	if (dest == 0xff || dest == 0xffffffff)
		return true;
	if (!msg->logical)
		return dest == l->id;
	if (dest > 0xff)
		return false;
	uint32_t ldr = l->ldr >> 24;
	switch (l->dfr >> 28) {
	case DFR_FLAT:
		return dest & ldr;
	case DFR_CLUSTER:
		return dest >> 4 == ldr >> 4 && (dest & ldr & 0xf);
	}
	return false;
}

static void lapic_send_icr(struct lapic *l)
{
	uint32_t lo = l->icr_lo;
	struct apic_msg msg = {
		.vector = lo & 0xff,
		.mode = lo >> 8 & 7,
		.shorthand = lo >> 18 & 3,
		.logical = lo & ICR_LOGICAL,
		.level_trig = lo & ICR_LEVEL,
		.assert = true,
		.src = l->index,
	};
	msg.dest = lapic_x2apic(l) ? l->icr_hi : l->icr_hi >> 24;
	switch (msg.mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (msg.vector < 16) {
			lapic_error(l, ESR_SEND_ILLEGAL);
			return;
		}
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert: level-triggered with the level bit clear */
		msg.assert = !(lo & ICR_LEVEL) || (lo & ICR_ASSERT);
		break;
	case APIC_DM_SMI:
	case APIC_DM_NMI:
	case APIC_DM_SIPI:
		break;
	default:
		return; /* reserved, or ExtINT (not an IPI) */
	}
	platform_apic_send(l->pf, &msg);
}

/* ---- registers (xAPIC offsets; x2APIC MSR = 0x800 + off / 16) ---------------- */

/* Reads register reg; false if there is none (x2APIC: #GP). */
static bool reg_read(struct lapic *l, unsigned reg, bool x2, uint64_t *val)
{
	*val = 0;
	if (reg >= 0x100 && reg < 0x280) {
		const uint32_t *r = reg < 0x180 ? l->isr : reg < 0x200 ? l->tmr : l->irr;
		*val = r[(reg >> 4) & 7];
		return true;
	}
	if (reg >= 0x320 && reg <= 0x370) {
		*val = l->lvt[(reg - 0x320) >> 4];
		return true;
	}
	switch (reg) {
	case 0x20:
		*val = x2 ? l->id : l->id << 24;
		return true;
	case 0x30:
		*val = APIC_VERSION | (LVT_COUNT - 1) << 16;
		return true;
	case 0x80:
		*val = l->tpr;
		return true;
	case 0xa0:
		*val = ppr(l);
		return true;
	case 0xd0:
		*val = l->ldr;
		return true;
	case 0xf0:
		*val = l->svr;
		return true;
	case 0x280:
		*val = l->esr;
		return true;
	case 0x300:
		*val = l->icr_lo;
		if (x2)
			*val |= (uint64_t)l->icr_hi << 32;
		return true;
	case 0x380:
		*val = l->initial_count;
		return true;
	case 0x390:
		*val = timer_current(l);
		return true;
	case 0x3e0:
		*val = l->dcr;
		return true;
	case 0x90: /* APR, EOI, remote read, DFR, ICR high: xAPIC only */
	case 0xb0:
	case 0xc0:
		return !x2;
	case 0xe0:
		*val = l->dfr | 0x0fffffff;
		return !x2;
	case 0x310:
		*val = l->icr_hi;
		return !x2;
	}
	return false;
}

/* Checks reserved bits: x2APIC #GP, xAPIC drops them. */
static bool rsvd_ok(bool x2, uint64_t val, uint64_t mask)
{
	return !x2 || !(val & ~mask);
}

/* Writes register reg; false for #GP (x2APIC: no such register, read-only,
 * reserved bits set). */
static bool reg_write(struct lapic *l, unsigned reg, bool x2, uint64_t val)
{
	if (x2 && reg != 0x300 && val >> 32)
		return false;
	uint32_t v = (uint32_t)val;

	if (reg >= 0x320 && reg <= 0x370) {
		unsigned i = (reg - 0x320) >> 4;
		/* delivery status (12) and remote IRR (14) are read-only: writes ignore
		 * them (Linux's disconnect_bsp_APIC() sets both) */
		if (!rsvd_ok(x2, v, lvt_mask[i] | (1u << 12) | (1u << 14)))
			return false;
		v &= lvt_mask[i];
		if (!(l->svr & SVR_ENABLE))
			v |= LVT_MASKED; /* software-disabled: masks stay set */
		if (i == LVT_TIMER)
			timer_set_lvt(l, v);
		else
			l->lvt[i] = v;
		return true;
	}
	switch (reg) {
	case 0x80:
		if (!rsvd_ok(x2, v, 0xff))
			return false;
		l->tpr = v & 0xff;
		return true;
	case 0xb0:
		if (x2 && v)
			return false;
		lapic_eoi(l);
		return true;
	case 0xd0:
		if (x2)
			return false; /* derived from the id */
		l->ldr = v & 0xff000000;
		return true;
	case 0xe0:
		if (x2)
			return false;
		l->dfr = v | 0x0fffffff;
		return true;
	case 0xf0:
		if (!rsvd_ok(x2, v, SVR_MASK))
			return false;
		l->svr = v & SVR_MASK;
		if (!(l->svr & SVR_ENABLE))
			for (unsigned i = 0; i < LVT_COUNT; i++)
				l->lvt[i] |= LVT_MASKED;
		return true;
	case 0x280:
		if (x2 && v)
			return false;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case 0x300:
		if (!rsvd_ok(x2, val & 0xffffffff, ICR_LO_MASK))
			return false;
		l->icr_lo = v & ICR_LO_MASK;
		if (x2)
			l->icr_hi = (uint32_t)(val >> 32);
		lapic_send_icr(l);
		return true;
	case 0x310:
		if (x2)
			return false;
		l->icr_hi = v & 0xff000000;
		return true;
	case 0x380:
		timer_load(l, v);
		return true;
	case 0x3e0:
		if (!rsvd_ok(x2, v, 0xb))
			return false;
		timer_set_dcr(l, v);
		return true;
	case 0x3f0:
		if (!x2)
			return true; /* no self-IPI register in xAPIC mode */
		if (v & ~0xffu)
			return false;
		lapic_accept(l, v & 0xff, false); /* never leaves this LAPIC */
		return true;
	}
	/* read-only or absent: xAPIC ignores the write, x2APIC faults */
	return !x2;
}

/* ---- xAPIC MMIO ---------------------------------------------------------------- */

uint64_t lapic_mmio_read(void *ctx, uint64_t off, unsigned size)
{
	struct lapic *l = ctx;
	uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1, val;
	unsigned byte = off & 0xf;

	if (!lapic_hw_enabled(l) || lapic_x2apic(l))
		return ones; /* the page is gone: nothing answers */
	if (off >= 0x1000 || size == 0 || byte + size > 4)
		return 0; /* only the 32-bit registers at 16-byte steps exist */
	if (!reg_read(l, (unsigned)off & 0xff0, false, &val))
		return 0;
	return val >> (8 * byte) & ones;
}

void lapic_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct lapic *l = ctx;
	if (!lapic_hw_enabled(l) || lapic_x2apic(l))
		return;
	if (off >= 0x1000 || (off & 0xf) || size != 4)
		return;
	reg_write(l, (unsigned)off, false, val & 0xffffffff);
}

/* ---- MSRs -------------------------------------------------------------------- */

bool lapic_msr_handles(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

static bool apic_base_write(struct lapic *l, uint64_t val)
{
	const uint64_t valid = APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN | APIC_BASE_ADDR_MASK;
	if (val & ~valid)
		return false;
	if ((val & (APIC_BASE_EN | APIC_BASE_EXTD)) == APIC_BASE_EXTD)
		return false; /* x2APIC without the global enable is invalid */
	bool was_en = lapic_hw_enabled(l), was_x2 = lapic_x2apic(l);
	bool en = val & APIC_BASE_EN, x2 = en && (val & APIC_BASE_EXTD);
	if (was_x2 && en && !x2)
		return false; /* x2APIC -> xAPIC only through disabled */
	if (!was_en && x2)
		return false; /* disabled -> x2APIC only through xAPIC */

	/* the BSP flag is the platform's, not the guest's */
	l->apic_base = (val & ~APIC_BASE_BSP) | (l->bsp ? APIC_BASE_BSP : 0);
	if (was_en && !en)
		lapic_reset(l, false); /* state lost, as after INIT */
	else if (!was_x2 && x2)
		l->ldr = x2apic_ldr(l->id);
	return true;
}

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val)
{
	*val = 0;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = l->apic_base;
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
		return true;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic(l))
		return false;
	unsigned reg = (msr - MSR_X2APIC_FIRST) << 4;
	if (reg == 0xb0 || reg == 0x3f0)
		return false; /* write-only */
	return reg_read(l, reg, true, val);
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val)
{
	if (msr == MSR_IA32_APIC_BASE)
		return apic_base_write(l, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		timer_set_tsc_deadline(l, val);
		return true;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic(l))
		return false;
	return reg_write(l, (msr - MSR_X2APIC_FIRST) << 4, true, val);
}
