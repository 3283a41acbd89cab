/*
 * IPC: synchronous calls through portals with SC donation, replies, typed
 * items (delegation during IPC) and events (exceptions delivered as calls
 * to the portal at evt_base + vector, with the state the portal's MTD
 * selects). Portal calls stay on one CPU: the handler must live there.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/virt.h>

/* The object behind `sel` in pd's capability space, checked for type and rights. */
hv_status_t cap_lookup(struct pd *pd, hv_sel_t sel, unsigned type, unsigned rights, struct kobj **out)
{
	struct mdb_node *n = cap_node(pd, sel);
	if (!n)
		return HV_ECAP;
	struct kobj *o = (struct kobj *)n->target;
	if (o->type != type)
		return HV_ECAP;
	if ((n->rights & rights) != rights)
		return HV_EPERM;
	*out = o;
	return HV_OK;
}

/* Transfers the typed items of a message; refused items arrive as 0. */
static __attribute__((noinline, cold)) void transfer_items(struct ec *src, struct ec *dst, unsigned u, unsigned t)
{
	for (unsigned i = 0; i < t; i++) {
		hv_word_t desc = src->utcb->mr[u + 2 * i], base = src->utcb->mr[u + 2 * i + 1];
		unsigned kind = HV_ITEM_KIND(desc), order = HV_ITEM_ORDER(desc);
		hv_word_t *out = &dst->utcb->mr[u + 2 * i];
		out[0] = out[1] = 0;
		if (kind > HV_KIND_IO)
			continue;
		struct hv_rcv_window w = dst->utcb->rcv[kind];
		u64 shift = kind == HV_KIND_MEM ? PAGE_SHIFT : 0;
		u64 wbase = w.base >> shift, sbase = base >> shift;
		if ((!w.base && !w.order) || order > w.order || w.order > 47 || (w.base & ((1ull << shift) - 1)))
			continue;
		u64 dbase = wbase + (sbase & ((1ull << w.order) - 1) & ~((1ull << order) - 1));
		if (mdb_delegate(&src->pd->spaces[kind], sbase, order, &dst->pd->spaces[kind], dbase,
				 HV_ITEM_RIGHTS(desc), 0) != HV_OK)
			continue;
		struct mdb_node *n = mdb_find(&dst->pd->spaces[kind], dbase);
		out[0] = HV_ITEM(kind, n ? n->rights : 0, order);
		out[1] = dbase << shift;
	}
}

/* Copies a message (untyped words, then typed items) from src to dst. */
static inline __attribute__((always_inline)) bool transfer(struct ec *src, struct ec *dst, u64 tag)
{
	unsigned u = HV_TAG_UNTYPED(tag), t = HV_TAG_TYPED(tag);
	if (u + 2 * t > HV_UTCB_MR)
		return false;
	hv_word_t *d = dst->utcb->mr;
	const hv_word_t *s = src->utcb->mr;
	for (unsigned i = 0; i < u; i++) /* word moves: short messages dominate */
		d[i] = s[i];
	if (t)
		transfer_items(src, dst, u, t);
	return true;
}

/* Starts handler h at the portal's entry, as the callee of `caller`. */
static NORETURN void enter_handler(struct ec *h, struct pt *pt, struct ec *caller, u64 tag, bool event)
{
	h->caller = caller;
	caller->callee = h;
	caller->state = EC_WAIT_REPLY;
	caller->in_event = event;
	h->state = EC_RUNNABLE;
	/* fresh registers: nothing of the handler's last call leaks into this one */
	struct regs *r = &h->regs;
	r->r15 = r->r14 = r->r13 = r->r12 = r->r11 = r->r10 = r->r9 = r->r8 = 0;
	r->rbp = r->rdx = r->rcx = r->rbx = r->rax = 0;
	h->regs.vec = VEC_SYSCALL;
	h->regs.rip = pt->ip;
	h->regs.rsp = h->stack_top;
	h->regs.rflags = RFLAGS_IF | 2;
	h->regs.rdi = pt->id;
	h->regs.rsi = tag;
	ec_resume(h);
}

/* Whether a call from ec to handler h could never be answered. */
static bool would_deadlock(struct ec *ec, struct ec *h)
{
	for (struct ec *x = ec; x; x = x->caller)
		if (x == h)
			return true;
	return false;
}

/* Queues ec until h is idle; the call is retried then (restart at rip). */
static NORETURN void wait_for_handler(struct ec *ec, struct ec *h, u64 restart_len)
{
	ec->regs.rip -= restart_len;
	ec->state = EC_WAIT_HANDLER;
	ec->wait.handler = h;
	ec->qnext = NULL;
	struct ec **pp = &h->waiters;
	while (*pp)
		pp = &(*pp)->qnext;
	*pp = ec;
	sched_schedule();
}

/* A call that cannot be made: blames the portal (its handler's CPU) or the tag. */
static __attribute__((cold, noinline)) NORETURN void call_failed(struct ec *ec, hv_status_t st)
{
	ec_set_result(ec, st, st == HV_ECPU ? HV_ARG_RDI : st == HV_EPARAM ? HV_ARG_RSI : HV_ARG_NONE);
	kernel_exit(ec);
}

NORETURN void ipc_call(struct ec *ec, struct pt *pt, u64 tag)
{
	struct ec *h = pt->ec;
	hv_status_t st = HV_OK;
	if (h->cpu != ec->cpu)
		st = HV_ECPU;
	else if (h->state == EC_HANDLER_IDLE) /* the common case: an idle handler */
		st = transfer(ec, h, tag) ? HV_OK : HV_EPARAM;
	else if (h->state == EC_DEAD || would_deadlock(ec, h))
		st = HV_EABORT;
	else if (tag & HV_TAG_NONBLOCK)
		st = HV_ETIMEOUT;
	else
		wait_for_handler(ec, h, 2 /* length of SYSCALL */);
	if (st != HV_OK)
		call_failed(ec, st);
	enter_handler(h, pt, ec, HV_TAG_MSG(tag), false);
}

static bool user_addr(u64 a) { return a < HV_USER_END; }

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

/*
 * Writes back the parts of an event message the handler's MTD names. The
 * UTCB stays writable by the handler's other threads, so every word is
 * read from it once: what is checked is what is used.
 */
static bool write_back_state(struct ec *c, const struct hv_cpu_state *u)
{
	u64 m = READ_ONCE(u->mtd);
	struct regs *r = &c->regs;
	if (m & HV_MTD_GPR_ACDB)
		r->rax = u->rax, r->rcx = u->rcx, r->rdx = u->rdx, r->rbx = u->rbx;
	if (m & HV_MTD_GPR_BSD)
		r->rbp = u->rbp, r->rsi = u->rsi, r->rdi = u->rdi;
	if (m & HV_MTD_GPR_R8_R15) {
		r->r8 = u->r8, r->r9 = u->r9, r->r10 = u->r10, r->r11 = u->r11;
		r->r12 = u->r12, r->r13 = u->r13, r->r14 = u->r14, r->r15 = u->r15;
	}
	if (c->vcpu) /* the backend reads each field it uses once, too (no copy on the exit path) */
		return vcpu_set_state(c, u);
	u64 rsp = READ_ONCE(u->rsp), rip = READ_ONCE(u->rip), rflags = READ_ONCE(u->rflags);
	if (((m & HV_MTD_RIP_LEN) && !user_addr(rip)) || ((m & HV_MTD_RSP) && !user_addr(rsp)))
		return false;
	if (m & HV_MTD_RSP)
		r->rsp = rsp;
	if (m & HV_MTD_RIP_LEN)
		r->rip = rip;
	if (m & HV_MTD_RFLAGS)
		r->rflags = (rflags & RFLAGS_USER_MASK) | RFLAGS_IF | 2;
	r->cs = SEL_UCODE;
	r->ss = SEL_UDATA;
	return true;
}

/*
 * The handler's reply: the caller goes on with the reply message, or, after
 * an event, with the state the reply writes back. HV_TAG_STOP in the reply
 * to an event stops the caller (an exception handler ending a faulting
 * thread); in other replies it means nothing, so a server cannot stop the
 * threads that call it.
 */
NORETURN void ipc_reply(struct ec *h, u64 tag)
{
	struct ec *c = h->caller;
	h->caller = NULL;
	h->state = EC_HANDLER_IDLE;
	if (h->waiters)
		ec_wake_waiters(h);
	if (!c)
		sched_schedule(); /* the caller went away meanwhile */
	c->callee = NULL;
	c->state = EC_RUNNABLE;
	if (c->dying) { /* killed during the call: now it can go */
		ec_kill(c, NULL);
		sched_schedule();
	}
	if (c->in_event) {
		c->in_event = false;
		if (tag & HV_TAG_STOP)
			ec_kill(c, NULL);
		else if (!write_back_state(c, &h->utcb->st))
			ec_kill(c, "exception handler set an invalid RIP or RSP");
	} else if (!transfer(h, c, tag)) {
		ec_set_status(c, HV_EPARAM);
	} else {
		ec_set_status(c, HV_OK);
		c->regs.rsi = HV_TAG_MSG(tag);
	}
	kernel_exit(c);
}

static void fill_state(struct ec *ec, u64 mtd, unsigned event, struct hv_cpu_state *st)
{
	const struct regs *r = &ec->regs;
	st->mtd = mtd;
	st->event = event;
	st->qual[0] = (mtd & HV_MTD_QUAL) ? r->err : 0;
	st->qual[1] = (mtd & HV_MTD_QUAL) && event == 14 ? ec->fault_addr : 0;
	st->inst_len = 0;
	if (mtd & HV_MTD_GPR_ACDB)
		st->rax = r->rax, st->rcx = r->rcx, st->rdx = r->rdx, st->rbx = r->rbx;
	if (mtd & HV_MTD_GPR_BSD)
		st->rbp = r->rbp, st->rsi = r->rsi, st->rdi = r->rdi;
	if (mtd & HV_MTD_GPR_R8_R15) {
		st->r8 = r->r8, st->r9 = r->r9, st->r10 = r->r10, st->r11 = r->r11;
		st->r12 = r->r12, st->r13 = r->r13, st->r14 = r->r14, st->r15 = r->r15;
	}
	if (mtd & HV_MTD_RSP)
		st->rsp = r->rsp;
	if (mtd & HV_MTD_RIP_LEN)
		st->rip = r->rip;
	if (mtd & HV_MTD_RFLAGS)
		st->rflags = r->rflags;
	if (ec->vcpu)
		vcpu_get_state(ec, mtd, st);
}

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
	"#UD invalid opcode", "#NM device not available", "#DF double fault", "exception 9",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "exception 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
};

/*
 * Delivers event `event` of ec as a call to its portal evt_base + event.
 * Without a usable portal the EC is stopped and the kernel says why.
 */
NORETURN void ipc_event(struct ec *ec, unsigned event)
{
	struct kobj *o;
	char why[128];
	const char *name = ec->vcpu ? "VM exit" : event < 32 && exc_names[event] ? exc_names[event] : "event";
	if (cap_lookup(ec->pd, ec->evt_base + event, HV_OBJ_PT, HV_R_PT_CALL, &o) != HV_OK) {
		snprintk(why, sizeof(why), "%s %u at rip %lx (addr %lx), no handler portal", name, event,
			 ec->vcpu ? 0ul : ec->regs.rip, event == 14 ? ec->fault_addr : 0ul);
		ec_kill(ec, why);
		sched_schedule();
	}
	struct pt *pt = container_of(o, struct pt, obj);
	struct ec *h = pt->ec;
	if (h->cpu != ec->cpu || h->state == EC_DEAD || would_deadlock(ec, h)) {
		snprintk(why, sizeof(why), "%s at rip %lx, handler unusable", name, ec->regs.rip);
		ec_kill(ec, why);
		sched_schedule();
	}
	if (h->state != EC_HANDLER_IDLE) {
		if (event == HV_EVT_RECALL)
			ec->recall = true; /* delivered once the handler is idle */
		wait_for_handler(ec, h, 0); /* an exception recurs and is retried */
	}
	fill_state(ec, pt->mtd, event, &h->utcb->st);
	enter_handler(h, pt, ec, HV_TAG_EVENT, true);
}
