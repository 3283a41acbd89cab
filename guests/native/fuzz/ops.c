/*
 * The fuzzer's operations: one random system call each (or a short
 * sequence: storms, cyclic delegations), with arguments from gen.c.
 *
 * The rules that keep the fuzzer itself alive (fuzz.h): capabilities are
 * only ever created, delegated to or received in the playground
 * [FZ_SEL_PLAY, HV_SEL_MAX) of any PD (a PD capability may be the fuzzer's
 * own), only playground selectors are revoked with HV_REVOKE_SELF, memory
 * is only mapped into the playground window and only taken from pools
 * whose contents do not matter, and workers and handlers never wait
 * without a deadline.
 */
#include "fuzz.h"
#include <string.h>

uint64_t fz_stats[HV_SYS_COUNT + 1][HV_STATUS_COUNT + 1];
uint64_t fz_events[FZ_EV_COUNT];
uint64_t fz_ticks[HV_SYS_COUNT + 1];

hv_status_t fz_sys(struct fz_ctx *c, hv_word_t nr, hv_word_t a0, hv_word_t a1, hv_word_t a2, hv_word_t a3,
		   hv_word_t a4, hv_word_t a5, hv_word_t out[3])
{
	hv_word_t rax = nr, rdi = a0, rsi = a1, rdx = a2;
	register hv_word_t r10 __asm__("r10") = a3;
	register hv_word_t r8 __asm__("r8") = a4;
	register hv_word_t r9 __asm__("r9") = a5;
	hv_word_t t0 = hv_rdtsc();
	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 :
			 : "rcx", "r11", "memory");
	if (out) {
		out[0] = rsi;
		out[1] = rdx;
		out[2] = r8;
	}
	unsigned row = nr < HV_SYS_COUNT ? (unsigned)nr : HV_SYS_COUNT;
	unsigned col = rax < HV_STATUS_COUNT ? (unsigned)rax : FZ_ST_OTHER;
	__atomic_fetch_add(&fz_ticks[row], hv_rdtsc() - t0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fz_stats[row][col], 1, __ATOMIC_RELAXED);
	c->calls++;
	/* a victim's result may have been changed by its recall handler's reply */
	if (c->role != FZ_VICTIM && (col == FZ_ST_OTHER || (row == HV_SYS_COUNT && rax != HV_ESYS) || (nr == HV_SYS_NULL && rax != HV_OK)))
		fz_event(FZ_EV_ANOMALY);
	return (hv_status_t)rax;
}

#define SYS(c, nr, ...) fz_sys(c, nr, __VA_ARGS__)

/* Receive windows in the playground only (or closed, or unusable). */
static void windows(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	struct hv_rcv_window *w = c->utcb->rcv;
	for (unsigned k = 0; k < 3; k++) {
		unsigned o = (unsigned)fz_below(r, k == HV_KIND_MEM ? 15 : 13);
		switch (fz_below(r, 6)) {
		case 0:
			w[k] = (struct hv_rcv_window){ 0, 0 };
			break;
		case 1: /* beyond every space: nothing can land */
			w[k] = (struct hv_rcv_window){ k == HV_KIND_MEM ? HV_USER_END : HV_SEL_MAX + fz_below(r, 64),
						       fz_below(r, 64) };
			break;
		default:
			if (k == HV_KIND_OBJ)
				w[k] = (struct hv_rcv_window){ FZ_SEL_PLAY + (fz_below(r, FZ_SEL_PLAY_N) & ~((1ul << o) - 1)),
							       o };
			else if (k == HV_KIND_MEM)
				w[k] = (struct hv_rcv_window){ fz_addr_play(r, o), o };
			else
				w[k] = (struct hv_rcv_window){ 0x80, fz_below(r, 4) };
		}
	}
}

/* An item of `kind` naming a range of the own space, and its base. */
static hv_word_t item_base(struct fz_ctx *c, unsigned kind, unsigned order)
{
	switch (kind) {
	case HV_KIND_OBJ:
		return fz_sel_src(c) & ~((order < 40 ? 1ul << order : 0) - 1);
	case HV_KIND_MEM:
		return fz_addr_src(&c->rng, order);
	case HV_KIND_IO:
		return fz_port(&c->rng);
	default:
		return fz_word(&c->rng);
	}
}

/* A random message in the own UTCB: untyped words, typed items, windows.
 * Workers' calls never allow a stop (fuzz.h) and never wait. */
void fz_message(struct fz_ctx *c, hv_word_t *tag, bool reply)
{
	struct fz_rng *r = &c->rng;
	unsigned u, t;
	switch (fz_below(r, 10)) {
	case 0:
		u = 0;
		break;
	case 1:
		u = (unsigned)fz_below(r, 256);
		break;
	default:
		u = 1 + (unsigned)fz_below(r, 8);
	}
	t = fz_chance(r, 3) ? (unsigned)fz_below(r, 4) : 0;
	if (fz_chance(r, 40))
		t = (unsigned)fz_below(r, 256);
	hv_word_t *mr = c->utcb->mr;
	for (unsigned i = 0; i < u && i < HV_UTCB_MR; i++)
		mr[i] = fz_word(r);
	for (unsigned i = 0; i < t && u + 2 * i + 1 < HV_UTCB_MR; i++) {
		unsigned kind = (unsigned)fz_below(r, 4), order = fz_order(r);
		mr[u + 2 * i] = HV_ITEM(kind, fz_rights(r), order);
		mr[u + 2 * i + 1] = item_base(c, kind, order);
	}
	windows(c);
	*tag = HV_TAG(u, t);
	if (fz_chance(r, 4))
		*tag |= HV_TAG_NONBLOCK;
	if (fz_chance(r, 16))
		*tag |= HV_TAG_STOP;
	if (fz_chance(r, 32))
		*tag |= fz_word(r) << 18;
	if (c->role == FZ_VICTIM || reply) {
		if (!reply && u && fz_chance(r, 4))
			mr[0] = FZ_STOP_OK | (mr[0] & ~FZ_STOP_MASK);
		return;
	}
	if (!u) {
		*tag |= 1; /* a tag of 0 looks like an event to the handler */
		u = 1;
	}
	mr[0] &= ~FZ_STOP_MASK;
	*tag |= HV_TAG_NONBLOCK;
}

static hv_word_t pd_arg(struct fz_ctx *c)
{
	return fz_chance(&c->rng, 2) ? HV_SI_SEL_PD : fz_sel_obj(c, HV_OBJ_PD);
}

static void created(struct fz_ctx *c, hv_status_t st, hv_sel_t dst, unsigned type)
{
	if (st == HV_OK)
		fz_remember(c, dst, type);
}

static hv_word_t quota(struct fz_rng *r)
{
	switch (fz_below(r, 6)) {
	case 0:
		return fz_word(r);
	case 1:
		return 0;
	case 2:
		return 4096;
	default:
		return 16384 + fz_below(r, 128 << 10);
	}
}

static void op_create_pd(struct fz_ctx *c)
{
	hv_sel_t dst = fz_sel_dst(c);
	hv_word_t flags = fz_chance(&c->rng, 4) ? HV_PD_VM : 0;
	if (fz_chance(&c->rng, 16))
		flags = fz_word(&c->rng);
	/* mostly the own limits (its ECs can run), sometimes anything */
	bool any = fz_chance(&c->rng, 8);
	created(c, SYS(c, HV_SYS_CREATE_PD, dst, pd_arg(c), quota(&c->rng), flags,
		       any ? fz_word(&c->rng) : fz_max_prio, any ? fz_word(&c->rng) : fz_cpus, NULL),
		dst, HV_OBJ_PD);
}

static unsigned cpu_arg(struct fz_rng *r)
{
	static const unsigned bad[] = { FZ_MAX_CPUS, 0xffff, 255 };
	if (fz_chance(r, 10))
		return bad[fz_below(r, 3)];
	return (unsigned)fz_below(r, fz_ncpus);
}

/* An instruction pointer for an EC or portal the fuzzer knows nothing
 * about: never code that would run with an unknown stack. */
static hv_word_t ip_arg(struct fz_rng *r)
{
	switch (fz_below(r, 4)) {
	case 0:
		return (hv_word_t)fz_pad;
	case 1:
		return 0x1000;
	default:
		return fz_hostile(r);
	}
}

static void op_create_ec(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned cpu = cpu_arg(r);
	hv_sel_t dst = fz_sel_dst(c);
	bool global = fz_chance(r, 2);
	/* Event bases: below the playground only the victims' exception portals
	 * (never the start info's: a fault there would be reported as the main
	 * thread's). A handler's faults go nowhere: it may be serving a worker,
	 * which must not wait for an exception handler. */
	hv_word_t evt = FZ_SEL_EMPTY;
	if (fz_chance(r, 8))
		evt = HV_SEL_MAX - fz_below(r, 40);
	else if (global && fz_chance(r, 2))
		evt = cpu < fz_ncpus && fz_chance(r, 2) ? FZ_SEL_EXC + 64 * cpu : FZ_SEL_PLAY + fz_below(r, FZ_SEL_PLAY_N);
	hv_word_t flags = HV_EC_CPU(cpu) | (global ? HV_EC_GLOBAL : 0) | ((evt & 0xffffffff) << 32);
	hv_word_t utcb = fz_addr_dst(r, 0);
	if (fz_chance(r, 16)) {
		flags |= HV_EC_VCPU;
		utcb = fz_chance(r, 2) ? 0 : utcb;
	}
	if (fz_chance(r, 32))
		flags |= fz_word(r) & 0xfffc0000ul;
	hv_word_t sp = fz_chance(r, 2) ? fz_hostile(r) : fz_addr_play(r, 0);
	created(c, SYS(c, HV_SYS_CREATE_EC, dst, pd_arg(c), flags, utcb, sp, ip_arg(r), NULL), dst, HV_OBJ_EC);
}

/* Priorities never above the worker's own (a fuzzer thread at a higher one
 * that spins would starve its CPU: the victims that may, fz_victim_spawn,
 * never spin), time slices of at most 10 ms. */
static hv_word_t qos_arg(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	if (fz_chance(r, 16))
		return fz_word(r) & ~0xff00000000ul;
	if (fz_chance(r, 16))
		return HV_QOS(64 + fz_below(r, 192), 0); /* out of range */
	unsigned us = fz_chance(r, 2) ? 0 : (unsigned)fz_below(r, 10001);
	return HV_QOS(fz_below(r, c->prio + 1), us);
}

static void op_create_sc(struct fz_ctx *c)
{
	hv_sel_t dst = fz_sel_dst(c);
	created(c, SYS(c, HV_SYS_CREATE_SC, dst, pd_arg(c), fz_sel_obj(c, HV_OBJ_EC), qos_arg(c), 0, 0, NULL), dst,
		HV_OBJ_SC);
}

static hv_word_t mtd_arg(struct fz_rng *r)
{
	return fz_chance(r, 2) ? HV_MTD_ALL : fz_word(r);
}

static void op_create_pt(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	hv_sel_t dst = fz_sel_dst(c), ec = fz_sel_obj(c, HV_OBJ_EC);
	hv_word_t ip = ip_arg(r);
	struct fz_handler *h = fz_chance(r, 2) ? fz_handler_pick(c, (unsigned)fz_below(r, 3) + 1) : NULL;
	if (h) { /* one of the fuzzer's handlers, at its own entry */
		ec = h->ec;
		ip = h->ip;
	}
	created(c, SYS(c, HV_SYS_CREATE_PT, dst, pd_arg(c), ec, mtd_arg(r), ip, fz_word(r), NULL), dst, HV_OBJ_PT);
}

static void op_create_sm(struct fz_ctx *c)
{
	hv_sel_t dst = fz_sel_dst(c);
	created(c, SYS(c, HV_SYS_CREATE_SM, dst, pd_arg(c), fz_word(&c->rng), 0, 0, 0, NULL), dst, HV_OBJ_SM);
}

/* A destination in any PD's space: the playground (the PD may be the own
 * one), or somewhere no delegation can land. */
static hv_word_t dst_base(struct fz_ctx *c, unsigned kind, unsigned order, hv_word_t src)
{
	struct fz_rng *r = &c->rng;
	switch (kind) {
	case HV_KIND_OBJ:
		if (order > 12 || fz_chance(r, 10))
			return HV_SEL_MAX + fz_below(r, 1u << 20);
		return FZ_SEL_PLAY + (fz_below(r, FZ_SEL_PLAY_N) & ~((1ul << order) - 1));
	case HV_KIND_MEM:
		return order > 14 ? fz_addr_beyond(r) : fz_addr_dst(r, order);
	case HV_KIND_IO:
		return fz_chance(r, 8) ? fz_port(r) : src;
	default:
		return fz_gpa(r, order);
	}
}

static void op_delegate(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned kind = (unsigned)fz_below(r, 4), order = fz_order(r);
	hv_word_t item = HV_ITEM(kind, fz_rights(r), order);
	if (fz_chance(r, 32))
		item |= fz_word(r) << 14;
	hv_word_t spd = fz_chance(r, 4) ? fz_sel_obj(c, HV_OBJ_PD) : HV_SI_SEL_PD;
	hv_word_t dpd = fz_chance(r, 3) ? HV_SI_SEL_PD : fz_sel_obj(c, HV_OBJ_PD);
	hv_word_t src = item_base(c, kind == HV_KIND_GMEM ? HV_KIND_MEM : kind, order);
	if (fz_chance(r, 8) && order < 40)
		src += 1ul << (order + (kind == HV_KIND_OBJ || kind == HV_KIND_IO ? 0 : 12)) >> 1; /* misaligned */
	SYS(c, HV_SYS_DELEGATE, spd, dpd, item, src, dst_base(c, kind, order, src), 0, NULL);
}

static void op_revoke(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned kind = (unsigned)fz_below(r, 4), order = fz_order(r);
	bool self = fz_chance(r, 2);
	hv_word_t base;
	switch (kind) {
	case HV_KIND_OBJ:
		if (!self)
			base = fz_sel_obj(c, 0) & ~((order < 40 ? 1ul << order : 0) - 1);
		else if (order > 12 || fz_chance(r, 8))
			base = HV_SEL_MAX + fz_below(r, 1u << 20);
		else
			base = fz_chance(r, 2) ? fz_sel_play(c, 0) : FZ_SEL_PLAY + fz_below(r, FZ_SEL_PLAY_N);
		if (self && base >= FZ_SEL_PLAY && base < HV_SEL_MAX)
			base &= ~((1ul << order) - 1);
		if (self && base < FZ_SEL_PLAY)
			base = HV_SEL_MAX; /* a bad selector from the generator: never below the playground */
		break;
	case HV_KIND_MEM:
		if (self) /* the playground window, or where nothing is */
			base = order > 14 || fz_chance(r, 5) ? fz_addr_beyond(r) : fz_addr_play(r, order);
		else
			base = fz_addr_src(r, order);
		break;
	case HV_KIND_IO:
		base = fz_port(r);
		break;
	default:
		base = fz_gpa(r, order);
	}
	hv_word_t item = HV_ITEM(kind, fz_rights(r), order) | (self ? HV_REVOKE_SELF : 0);
	if (fz_chance(r, 32) && !self)
		item |= fz_word(r) << 25;
	SYS(c, HV_SYS_REVOKE, item, base, 0, 0, 0, 0, NULL);
}

static void op_lookup(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned kind = (unsigned)fz_below(r, 5);
	hv_word_t base = kind == HV_KIND_OBJ ? fz_sel_obj(c, 0) : kind == HV_KIND_MEM ? fz_addr_src(r, 0) : fz_word(r);
	hv_word_t out[3];
	if (fz_chance(r, 16))
		kind = (unsigned)fz_word(r);
	if (SYS(c, HV_SYS_LOOKUP, kind, base, 0, 0, 0, 0, out) == HV_OK && kind == HV_KIND_OBJ &&
	    (HV_ITEM_TYPE(out[0]) < HV_OBJ_PD || HV_ITEM_TYPE(out[0]) > HV_OBJ_SM))
		fz_event(FZ_EV_ANOMALY);
}

static void op_sm(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	bool block;
	hv_word_t op = HV_SM_UP, deadline = 0;
	switch (fz_below(r, 8)) {
	case 0:
		op = 3 + fz_below(r, 8);
		break;
	case 1:
	case 2:
	case 3:
		deadline = fz_deadline(c, &block);
		op = block ? HV_SM_DOWN : HV_SM_TRYDOWN;
		break;
	case 4:
		op = HV_SM_TRYDOWN;
		deadline = fz_word(r);
		break;
	}
	SYS(c, HV_SYS_SM_CTRL, fz_sel_obj(c, HV_OBJ_SM), op, deadline, 0, 0, 0, NULL);
}

static void op_misc(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	hv_word_t out[3];
	switch (fz_below(r, 7)) {
	case 5: /* assign_dev: no PD capability of a domain has HV_R_PD_DEV */
		if (SYS(c, HV_SYS_ASSIGN_DEV, pd_arg(c), pd_arg(c), fz_chance(r, 2) ? fz_below(r, 0x10000) : fz_word(r),
			fz_chance(r, 2) ? fz_below(r, 2) : fz_word(r), 0, 0, NULL) == HV_OK)
			fz_event(FZ_EV_ANOMALY);
		break;
	case 0: /* consumed time, also of the main SC */
		SYS(c, HV_SYS_SC_CTRL, fz_chance(r, 4) ? HV_SI_SEL_SC : fz_sel_obj(c, HV_OBJ_SC), 0, 0, 0, 0, 0, NULL);
		break;
	case 1:
	case 2: /* recall: victims, vCPUs and other ECs of the playground only */
		SYS(c, HV_SYS_EC_CTRL, fz_sel_play(c, HV_OBJ_EC), fz_chance(r, 8) ? fz_word(r) : HV_EC_RECALL, 0, 0, 0, 0,
		    NULL);
		break;
	case 3:
		SYS(c, HV_SYS_IRQ_CTRL, fz_sel_obj(c, HV_OBJ_SM), cpu_arg(r), fz_chance(r, 2) ? fz_below(r, 8) : fz_word(r), 0, 0,
		    0, NULL);
		break;
	case 4: {
		hv_word_t op = fz_chance(r, 8) ? fz_word(r) : HV_PD_KMEM;
		if (SYS(c, HV_SYS_PD_CTRL, pd_arg(c), op, 0, 0, 0, 0, out) == HV_OK && out[0] > out[1])
			fz_event(FZ_EV_ANOMALY); /* more of a quota in use than its limit */
		break;
	}
	default: { /* numbers outside the ABI; a reply from a thread */
		static const hv_word_t nr[] = { HV_SYS_COUNT, 255, ~0ul, 1ul << 63, 0x10000000e };
		hv_word_t n = fz_chance(r, 3) && c->role != FZ_HANDLER ? HV_SYS_REPLY : nr[fz_below(r, 5)];
		SYS(c, n, fz_word(r), fz_word(r), fz_word(r), fz_word(r), fz_word(r), fz_word(r), NULL);
	}
	}
}

static void op_call(struct fz_ctx *c)
{
	hv_word_t tag, out[3];
	fz_message(c, &tag, false);
	hv_sel_t pt = fz_sel_obj(c, HV_OBJ_PT);
	unsigned n = c->nrecent[HV_OBJ_PT] < FZ_RECENT ? c->nrecent[HV_OBJ_PT] : FZ_RECENT;
	if (n && fz_chance(&c->rng, 2))
		pt = c->recent[HV_OBJ_PT][fz_below(&c->rng, n)];
	SYS(c, HV_SYS_CALL, pt, tag, 0, 0, 0, 0, out);
}

/* Objects of one kind created at consecutive selectors until the quota
 * (or anything else) runs out, then all revoked at once. */
static void op_storm(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	if (fz_part_size < FZ_DENSE + 64)
		return;
	hv_sel_t base = c->part + FZ_DENSE;
	unsigned kind = (unsigned)fz_below(r, 4), fails = 0;
	struct fz_handler *h = fz_handler_pick(c, FZ_H_RAND);
	fz_event(FZ_EV_STORMS);
	for (unsigned i = 0; i < 64 && fails < 3; i++) {
		hv_status_t st;
		if (kind == 0)
			st = SYS(c, HV_SYS_CREATE_SM, base + i, HV_SI_SEL_PD, i, 0, 0, 0, NULL);
		else if (kind == 1)
			st = SYS(c, HV_SYS_CREATE_PT, base + i, HV_SI_SEL_PD, h->ec, HV_MTD_ALL, h->ip, i, NULL);
		else if (kind == 2)
			st = SYS(c, HV_SYS_CREATE_PD, base + i, HV_SI_SEL_PD, 4096 << fz_below(r, 5), 0, fz_max_prio,
				 fz_cpus, NULL);
		else
			st = SYS(c, HV_SYS_CREATE_EC, base + i, HV_SI_SEL_PD, HV_EC_FLAGS(c->cpu, 0, FZ_SEL_EMPTY),
				 fz_addr_play(r, 0), fz_hostile(r), 0, NULL);
		if (st == HV_EMEM)
			break;
		fails += st != HV_OK;
	}
	if (fz_chance(r, 4)) {
		for (unsigned i = 0; i < 64; i++)
			SYS(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, base + i, 0, 0, 0, 0, NULL);
	} else {
		SYS(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 6) | HV_REVOKE_SELF, base, 0, 0, 0, 0, NULL);
	}
}

/* A child PD and the own PD holding capabilities to each other and to
 * themselves, passed back and forth; sometimes left for later revokes. */
static void op_cycle(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	hv_sel_t b = fz_sel_dst(c);
	fz_event(FZ_EV_CYCLES);
	if (SYS(c, HV_SYS_CREATE_PD, b, HV_SI_SEL_PD, 16384 + fz_below(r, 65536), 0, fz_max_prio, fz_cpus, NULL) !=
	    HV_OK)
		return;
	fz_remember(c, b, HV_OBJ_PD);
	hv_sel_t x = dst_base(c, HV_KIND_OBJ, 0, 0), y = dst_base(c, HV_KIND_OBJ, 0, 0);
	hv_sel_t back = dst_base(c, HV_KIND_OBJ, 0, 0), self = dst_base(c, HV_KIND_OBJ, 0, 0);
	hv_word_t item = HV_ITEM(HV_KIND_OBJ, fz_rights(r), 0);
	SYS(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, b, item, HV_SI_SEL_PD, x, 0, NULL); /* the own PD into B */
	SYS(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, b, item, b, y, 0, NULL);            /* B into B */
	SYS(c, HV_SYS_DELEGATE, b, HV_SI_SEL_PD, item, x, back, 0, NULL);         /* the own PD back, via B */
	SYS(c, HV_SYS_DELEGATE, b, b, item, y, self, 0, NULL);                    /* B to B, through B */
	SYS(c, HV_SYS_DELEGATE, x, HV_SI_SEL_PD, item, y, dst_base(c, HV_KIND_OBJ, 0, 0), 0, NULL);
	fz_remember(c, back, HV_OBJ_PD);
	switch (fz_below(r, 4)) {
	case 0: /* left for later */
		break;
	case 1: /* every copy of the own PD capability */
		SYS(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0), HV_SI_SEL_PD, 0, 0, 0, 0, NULL);
		/* fall through */
	default:
		SYS(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, b, 0, 0, 0, 0, NULL);
	}
}

/* Everything in the worker's partition at once: victims, its VM, what it
 * made (the playground would otherwise fill up to the quota for good). */
static void op_sweep(struct fz_ctx *c)
{
	unsigned order = 0;
	while ((2ul << order) <= fz_part_size)
		order++;
	SYS(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, order) | HV_REVOKE_SELF, c->part, 0, 0, 0, 0, NULL);
	memset(c->nrecent, 0, sizeof(c->nrecent));
}

/* One operation; the weights favour calls, delegation and revocation. */
void fz_op(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned n = (unsigned)fz_below(r, 100);
	if (c->role == FZ_WORKER) {
		if (n < 4) {
			if (fz_ops & FZ_OP_VICTIM)
				fz_victim_spawn(c);
			return;
		}
		if (n < 5 && fz_vm_ok && fz_chance(r, 4)) {
			if (fz_ops & FZ_OP_VM)
				fz_vm_spawn(c);
			return;
		}
		if (n < 6 && fz_chance(r, 4)) {
			if (fz_ops & FZ_OP_STORM)
				op_storm(c);
			return;
		}
		if (n < 7) {
			if (fz_chance(r, 4)) {
				if (fz_ops & FZ_OP_SWEEP)
					op_sweep(c);
			} else if (fz_ops & FZ_OP_CYCLE) {
				op_cycle(c);
			}
			return;
		}
	} else if (c->role == FZ_VICTIM && n < 2) {
		fz_fault(c);
	}
	if (!(fz_ops & FZ_OP_SYSCALL)) {
		SYS(c, HV_SYS_NULL, 0, 0, 0, 0, 0, 0, NULL); /* counts towards the budget */
		return;
	}
	n = (unsigned)fz_below(r, 100);
	if (n < 5)
		op_create_pd(c);
	else if (n < 13)
		op_create_ec(c);
	else if (n < 19)
		op_create_sc(c);
	else if (n < 26)
		op_create_pt(c);
	else if (n < 32)
		op_create_sm(c);
	else if (n < 46)
		op_delegate(c);
	else if (n < 58)
		op_revoke(c);
	else if (n < 63)
		op_lookup(c);
	else if (n < 74)
		op_sm(c);
	else if (n < 84)
		op_misc(c);
	else
		op_call(c);
}
