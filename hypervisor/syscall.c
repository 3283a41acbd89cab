/*
 * System calls, each in two halves (seL4's decode and invoke). A decoder
 * reads the argument registers (into a struct with named fields, for the
 * calls with many) and checks every one - selector, type, rights, range,
 * alignment, CPU, scheduling limits - before anything changes; then the
 * handler acts, and only the allocation of kernel memory can still fail.
 * A failure leaves with the status in RAX and the argument it blames in
 * RSI (enum hv_arg). Register layouts: <hv/abi.h> and docs/abi.md.
 */
#include "kernel.h"
#include "irq.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/vtd.h>
#include <arch/virt.h>
#include <arch/entry.h>

/* A decoder's answer: HV_OK, or a status and the argument it blames. */
struct verdict {
	hv_status_t st;
	enum hv_arg arg;
};

#define ACCEPT ((struct verdict){HV_OK, HV_ARG_NONE})
static struct verdict bad(hv_status_t st, enum hv_arg arg) { return (struct verdict){st, arg}; }

/* Leaves the call with status st, blaming `arg` if it is a failure. */
static NORETURN void leave(struct ec *ec, hv_status_t st, enum hv_arg arg)
{
	ec_set_result(ec, st, arg);
	kernel_exit(ec);
}

static NORETURN void finish(struct ec *ec, hv_status_t st) { leave(ec, st, HV_ARG_NONE); }

/* Leaves with HV_OK and the call's results (in RSI, RDX, R8) as they are. */
static inline __attribute__((always_inline)) NORETURN void done(struct ec *ec)
{
	ec->regs.rax = HV_OK;
	kernel_exit(ec);
}

/* Goes on if the decoder accepted the call, else leaves with its verdict. */
static void decoded(struct ec *ec, struct verdict v)
{
	if (v.st != HV_OK)
		leave(ec, v.st, v.arg);
}

/*
 * lookup_pd(), lookup_ec(), lookup_sc(), lookup_sm(): the object behind
 * the caller's selector `sel`, of that type and with all of `rights`;
 * HV_ECAP (empty, wrong type) or HV_EPERM (a right missing) otherwise.
 */
#define DEFINE_LOOKUP(name, obj_type)                                                                 \
	static hv_status_t lookup_##name(struct ec *ec, hv_sel_t sel, unsigned rights, struct name **out) \
	{                                                                                             \
		struct kobj *o;                                                                       \
		hv_status_t st = cap_lookup(ec->pd, sel, obj_type, rights, &o);                      \
		if (st == HV_OK)                                                                      \
			*out = container_of(o, struct name, obj);                                     \
		return st;                                                                            \
	}
DEFINE_LOOKUP(pd, HV_OBJ_PD)
DEFINE_LOOKUP(ec, HV_OBJ_EC)
DEFINE_LOOKUP(sc, HV_OBJ_SC)
DEFINE_LOOKUP(sm, HV_OBJ_SM)

/* Arguments 1 and 2 of every creation: a free destination selector, the PD charged. */
static struct verdict decode_create(struct ec *ec, struct pd **charged)
{
	if (ec->regs.rdi >= HV_SEL_MAX)
		return bad(HV_EPARAM, HV_ARG_RDI);
	if (mdb_check_free(&ec->pd->spaces[HV_KIND_OBJ], ec->regs.rdi, 0) != HV_OK)
		return bad(HV_EBUSY, HV_ARG_RDI);
	hv_status_t st = lookup_pd(ec, ec->regs.rsi, HV_R_PD_CREATE, charged);
	return st == HV_OK ? ACCEPT : bad(st, HV_ARG_RSI);
}

/*
 * The end of a creation call: `created` is what the object's creation said
 * (after the checks only lack of memory); if it succeeded, a capability to
 * o (all rights but HV_R_PD_DEV) goes to the checked destination RDI, or o
 * is destroyed again.
 */
static NORETURN void install(struct ec *ec, hv_status_t created, struct kobj *o)
{
	hv_status_t st = created;
	if (st == HV_OK && (st = mdb_insert_root(&ec->pd->spaces[HV_KIND_OBJ], ec->regs.rdi, 0, (u64)o,
						 o->type == HV_OBJ_PD ? HV_R_ALL & ~HV_R_PD_DEV : HV_R_ALL, 0)) != HV_OK) {
		obj_get(o);
		obj_put(o); /* becomes a zombie and is reaped */
	}
	finish(ec, st);
}

/*
 * call: RDI portal, RSI tag. The fast path decodes in place: ipc_call()
 * checks the handler's CPU (blaming RDI) and the tag (RSI) on its way.
 */
static NORETURN void sys_call(struct ec *ec)
{
	struct mdb_node *n = cap_node(ec->pd, ec->regs.rdi);
	if (unlikely(!n || ((struct kobj *)n->target)->type != HV_OBJ_PT))
		leave(ec, HV_ECAP, HV_ARG_RDI);
	if (unlikely(!(n->rights & HV_R_PT_CALL)))
		leave(ec, HV_EPERM, HV_ARG_RDI);
	ipc_call(ec, container_of((struct kobj *)n->target, struct pt, obj), ec->regs.rsi);
}

/* reply: RDI tag; only portal handlers (local ECs) reply. */
static NORETURN void sys_reply(struct ec *ec)
{
	if (ec->global)
		finish(ec, HV_EPARAM);
	ipc_reply(ec, ec->regs.rdi);
}

/* create_pd: RDI dst, RSI parent PD, RDX quota, R10 flags, R8 max priority, R9 CPU mask */
struct create_pd {
	struct pd *parent;
	u64 quota, cpus;
	unsigned max_prio;
	bool vm;
};

static struct verdict decode_create_pd(struct ec *ec, struct create_pd *a)
{
	const struct regs *r = &ec->regs;
	struct verdict v = decode_create(ec, &a->parent);
	if (v.st != HV_OK)
		return v;
	if (r->r10 & ~(u64)HV_PD_FLAGS_VALID)
		return bad(HV_EPARAM, HV_ARG_R10);
	if (r->r8 > HV_PRIO_MAX || r->r8 > ec->pd->max_prio) /* never more than its creator has */
		return bad(r->r8 > HV_PRIO_MAX ? HV_EPARAM : HV_EPERM, HV_ARG_R8);
	if (r->r9 & ~ec->pd->cpus)
		return bad(HV_EPERM, HV_ARG_R9);
	*a = (struct create_pd){a->parent, r->rdx, r->r9, (unsigned)r->r8, r->r10 & HV_PD_VM};
	return ACCEPT;
}

static NORETURN void sys_create_pd(struct ec *ec)
{
	struct create_pd a;
	struct pd *pd;
	decoded(ec, decode_create_pd(ec, &a));
	hv_status_t st = pd_create(a.parent, a.quota, a.vm, a.max_prio, a.cpus, &pd);
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDX); /* the quota does not fit, or cannot hold the PD's page table */
	install(ec, HV_OK, &pd->obj);
}

/* create_ec: RDI dst, RSI PD, RDX flags (CPU, global, vCPU, event base), R10 UTCB, R8 SP, R9 IP */
struct create_ec {
	struct pd *pd;
	unsigned cpu;
	bool global, vcpu;
	hv_sel_t evt;
	u64 utcb, sp, ip;
};

static struct verdict decode_create_ec(struct ec *ec, struct create_ec *a)
{
	const struct regs *r = &ec->regs;
	struct verdict v = decode_create(ec, &a->pd);
	if (v.st != HV_OK)
		return v;
	*a = (struct create_ec){a->pd,	    HV_EC_CPU(r->rdx), r->rdx & HV_EC_GLOBAL, r->rdx & HV_EC_VCPU,
				HV_EC_EVT(r->rdx), r->r10, r->r8, r->r9};
	if ((r->rdx & ~HV_EC_FLAGS_VALID) || (a->vcpu && !a->global))
		return bad(HV_EPARAM, HV_ARG_RDX); /* a vCPU is scheduled by its own SC */
	if (a->vcpu && a->utcb)
		return bad(HV_EPARAM, HV_ARG_R10); /* and has no UTCB */
	if (a->vcpu != a->pd->vm)
		return bad(HV_EPARAM, HV_ARG_RSI); /* a VM PD runs vCPUs, and only it */
	if (a->cpu >= num_cpus || !percpu_area[a->cpu].online)
		return bad(HV_ECPU, HV_ARG_RDX);
	if (!(a->pd->cpus & ec->pd->cpus & (1ull << a->cpu)))
		return bad(HV_EPERM, HV_ARG_RDX); /* outside the CPU mask of its PD or the caller's */
	if (a->vcpu && (!virt_available() || !percpu_area[a->cpu].virt_on))
		return bad(HV_ECPU, HV_ARG_RDX);
	if (a->vcpu ? a->evt + HV_VMEVT_COUNT > HV_SEL_MAX : a->evt >= HV_SEL_MAX)
		return bad(HV_EPARAM, HV_ARG_RDX);
	if (!a->vcpu && (!a->utcb || (a->utcb & (PAGE_SIZE - 1)) || a->utcb >= HV_USER_END))
		return bad(HV_EPARAM, HV_ARG_R10);
	if (!a->vcpu && (a->sp >= HV_USER_END || a->ip >= HV_USER_END))
		return bad(HV_EPARAM, a->sp >= HV_USER_END ? HV_ARG_R8 : HV_ARG_R9);
	if (a->pd->killed)
		return bad(HV_EABORT, HV_ARG_RSI);
	if (!a->vcpu && mdb_check_free(&a->pd->spaces[HV_KIND_MEM], a->utcb >> PAGE_SHIFT, 0) != HV_OK)
		return bad(HV_EBUSY, HV_ARG_R10);
	return ACCEPT;
}

static NORETURN void sys_create_ec(struct ec *ec)
{
	struct create_ec a;
	struct ec *n;
	decoded(ec, decode_create_ec(ec, &a));
	hv_status_t st = a.vcpu ? ec_create_vcpu(a.pd, a.cpu, a.evt, &n)
				: ec_create(a.pd, a.pd, a.cpu, a.global, a.utcb, a.sp, a.ip, a.evt, &n);
	install(ec, st, st == HV_OK ? &n->obj : NULL);
}

/* create_sc: RDI dst, RSI PD charged, RDX EC, R10 QoS (priority, time slice) */
struct create_sc {
	struct pd *pd;
	struct ec *ec;
	unsigned prio, quantum_us;
};

static struct verdict decode_create_sc(struct ec *ec, struct create_sc *a)
{
	u64 qos = ec->regs.r10;
	struct verdict v = decode_create(ec, &a->pd);
	hv_status_t st;
	if (v.st != HV_OK)
		return v;
	if ((st = lookup_ec(ec, ec->regs.rdx, HV_R_EC_BIND_SC, &a->ec)) != HV_OK)
		return bad(st, HV_ARG_RDX);
	a->prio = HV_QOS_PRIO(qos);
	a->quantum_us = HV_QOS_QUANTUM(qos);
	if ((qos & ~HV_QOS_VALID) || a->prio > HV_PRIO_MAX || a->quantum_us > HV_QUANTUM_MAX_US)
		return bad(HV_EPARAM, HV_ARG_R10);
	if (!a->ec->global || a->ec->sc || a->ec->state == EC_DEAD)
		return bad(HV_EBUSY, HV_ARG_RDX); /* one SC per global EC */
	if (a->prio > ec->pd->max_prio || a->prio > a->ec->pd->max_prio)
		return bad(HV_EPERM, HV_ARG_R10); /* above the limit of the caller's PD or the EC's */
	return ACCEPT;
}

static NORETURN void sys_create_sc(struct ec *ec)
{
	struct create_sc a;
	struct sc *sc;
	decoded(ec, decode_create_sc(ec, &a));
	hv_status_t st = sc_create(a.pd, a.ec, a.prio, a.quantum_us, &sc);
	install(ec, st, st == HV_OK ? &sc->obj : NULL);
}

/* create_pt: RDI dst, RSI PD charged, RDX handler EC, R10 MTD, R8 IP, R9 id */
struct create_pt {
	struct pd *pd;
	struct ec *handler;
};

static struct verdict decode_create_pt(struct ec *ec, struct create_pt *a)
{
	const struct regs *r = &ec->regs;
	struct verdict v = decode_create(ec, &a->pd);
	hv_status_t st;
	if (v.st != HV_OK)
		return v;
	if ((st = lookup_ec(ec, r->rdx, HV_R_EC_BIND_PT, &a->handler)) != HV_OK)
		return bad(st, HV_ARG_RDX);
	if (a->handler->state == EC_DEAD || a->handler->global) /* handlers are local ECs */
		return bad(a->handler->global ? HV_EPARAM : HV_EABORT, HV_ARG_RDX);
	if (r->r10 & ~(u64)HV_MTD_ALL)
		return bad(HV_EPARAM, HV_ARG_R10);
	if (r->r8 >= HV_USER_END)
		return bad(HV_EPARAM, HV_ARG_R8);
	return ACCEPT;
}

static NORETURN void sys_create_pt(struct ec *ec)
{
	struct create_pt a;
	struct pt *pt;
	decoded(ec, decode_create_pt(ec, &a));
	hv_status_t st = pt_create(a.pd, a.handler, ec->regs.r10, ec->regs.r8, ec->regs.r9, &pt);
	install(ec, st, st == HV_OK ? &pt->obj : NULL);
}

/* create_sm: RDI dst, RSI PD charged, RDX initial count */
static NORETURN void sys_create_sm(struct ec *ec)
{
	struct pd *pd;
	struct sm *sm;
	decoded(ec, decode_create(ec, &pd));
	if (ec->regs.rdx > HV_SM_COUNT_MAX)
		leave(ec, HV_EOVERFLOW, HV_ARG_RDX);
	hv_status_t st = sm_create(pd, ec->regs.rdx, &sm);
	install(ec, st, st == HV_OK ? &sm->obj : NULL);
}

/* An item's range: its kind, order and base in units of its space. */
struct range {
	unsigned kind, order;
	u64 base;
};

/* Reads an item's range at byte or unit address addr into *out; HV_ARG_NONE if it
 * is valid, else whom to blame: item_arg for the order, base_arg for the base. */
static enum hv_arg decode_range(unsigned kind, unsigned order, u64 addr, enum hv_arg item_arg,
				enum hv_arg base_arg, struct range *out)
{
	bool pages = kind == HV_KIND_MEM || kind == HV_KIND_GMEM;
	*out = (struct range){kind, order, pages ? addr >> PAGE_SHIFT : addr};
	if (order > MDB_MAX_ORDER(kind))
		return item_arg;
	if ((pages && (addr & (PAGE_SIZE - 1))) || !mdb_range_ok(kind, out->base, order))
		return base_arg;
	return HV_ARG_NONE;
}

/* delegate: RDI source PD, RSI destination PD, RDX item (+ HV_ITEM_WC, HV_ITEM_DMA), R10 source base,
 * R8 destination base */
struct delegate {
	struct pd *src, *dst;
	struct range from, to; /* GMEM: from the source's memory space */
	unsigned rights, flags; /* flags: MDB_WC, MDB_DMA */
};

static struct verdict decode_delegate(struct ec *ec, struct delegate *a)
{
	const struct regs *r = &ec->regs;
	hv_status_t st = lookup_pd(ec, r->rdi, HV_R_PD_MAP, &a->src);
	if (st != HV_OK)
		return bad(st, HV_ARG_RDI);
	if ((st = lookup_pd(ec, r->rsi, HV_R_PD_MAP, &a->dst)) != HV_OK)
		return bad(st, HV_ARG_RSI);
	unsigned kind = HV_ITEM_KIND(r->rdx), order = HV_ITEM_ORDER(r->rdx);
	if ((r->rdx & ~HV_ITEM_DELEGATE_MASK) || (kind != HV_KIND_MEM && (r->rdx & ~HV_ITEM_ARG_MASK)))
		return bad(HV_EPARAM, HV_ARG_RDX); /* WC and DMA: host memory only */
	enum hv_arg arg = decode_range(kind == HV_KIND_GMEM ? HV_KIND_MEM : kind, order, r->r10, HV_ARG_RDX,
				       HV_ARG_R10, &a->from);
	if (arg || (arg = decode_range(kind, order, r->r8, HV_ARG_RDX, HV_ARG_R8, &a->to)))
		return bad(HV_EPARAM, arg);
	if (a->src->killed || a->dst->killed)
		return bad(HV_EABORT, a->src->killed ? HV_ARG_RDI : HV_ARG_RSI);
	if (kind == HV_KIND_GMEM && !a->dst->vm)
		return bad(HV_EPARAM, HV_ARG_RSI);
	if (kind == HV_KIND_IO && a->from.base != a->to.base)
		return bad(HV_EPARAM, HV_ARG_R8); /* the I/O bitmap follows the port: numbers stay */
	if (mdb_check_free(&a->dst->spaces[kind], a->to.base, order) != HV_OK)
		return bad(HV_EBUSY, HV_ARG_R8);
	a->rights = HV_ITEM_RIGHTS(r->rdx);
	a->flags = (r->rdx & HV_ITEM_WC ? MDB_WC : 0) | (r->rdx & HV_ITEM_DMA ? MDB_DMA : 0);
	return ACCEPT;
}

static NORETURN void sys_delegate(struct ec *ec)
{
	struct delegate a;
	decoded(ec, decode_delegate(ec, &a));
	hv_status_t st = mdb_delegate(&a.src->spaces[a.from.kind], a.from.base, a.from.order,
				      &a.dst->spaces[a.to.kind], a.to.base, a.rights, a.flags);
	/* what the source holds is known only to the mapping database: nothing
	 * there (HV_ECAP), nothing to give with these rights (HV_EPERM), or not
	 * with these flags (HV_EPARAM: WC of RAM, DMA or a guest of device memory) */
	leave(ec, st, st == HV_ECAP ? HV_ARG_R10 : st == HV_EPERM || st == HV_EPARAM ? HV_ARG_RDX : HV_ARG_NONE);
}

/*
 * revoke: RDI item (kind, order, HV_REVOKE_SELF), RSI base, RDX progress
 * (0). A long revoke stops after MDB_BUDGET units of work and restarts: the
 * EC executes its SYSCALL again (RIP back by 2) with the progress in RDX,
 * after pending interrupts and higher priorities. An expired timer is
 * served here: its interrupt may miss the SYSRET-SYSCALL gap (QEMU).
 */
static NORETURN void sys_revoke(struct ec *ec)
{
	u64 item = ec->regs.rdi, done = ec->regs.rdx;
	struct range a;
	if (item & ~(HV_ITEM_ARG_MASK | HV_REVOKE_SELF))
		leave(ec, HV_EPARAM, HV_ARG_RDI);
	enum hv_arg arg = decode_range(HV_ITEM_KIND(item), HV_ITEM_ORDER(item), ec->regs.rsi, HV_ARG_RDI,
				       HV_ARG_RSI, &a);
	if (arg)
		leave(ec, HV_EPARAM, arg);
	if (done >> a.order)
		leave(ec, HV_EPARAM, HV_ARG_RDX);
	u64 from = a.base + done;
	hv_status_t st = mdb_revoke(&ec->pd->spaces[a.kind], a.base, a.order, item & HV_REVOKE_SELF, &from, MDB_BUDGET);
	obj_reap(); /* what lost its last capability goes now: a revoked domain stops at once */
	if (st != HV_OK || from == a.base + (1ull << a.order))
		finish(ec, st);
	ec->regs.rdx = from - a.base;
	ec->regs.rip -= 2;
	if (this_cpu()->timer_when && rdtsc() >= this_cpu()->timer_when)
		sched_tick();
	kernel_exit(ec);
}

/* lookup: RDI kind, RSI base (any address in the page for memory) -> RSI item, RDX node base */
static NORETURN void sys_lookup(struct ec *ec)
{
	u64 kind = ec->regs.rdi;
	if (kind > HV_KIND_GMEM)
		leave(ec, HV_EPARAM, HV_ARG_RDI);
	unsigned shift = kind == HV_KIND_MEM || kind == HV_KIND_GMEM ? PAGE_SHIFT : 0;
	struct mdb_node *n = mdb_find(&ec->pd->spaces[kind], ec->regs.rsi >> shift);
	if (!n)
		leave(ec, HV_ECAP, HV_ARG_RSI);
	unsigned type = kind == HV_KIND_OBJ ? ((struct kobj *)n->target)->type : 0;
	ec->regs.rsi = HV_ITEM(kind, n->rights, n->order) | ((hv_word_t)type << 16);
	ec->regs.rdx = n->base << shift;
	done(ec);
}

/* sm_ctrl: RDI SM, RSI op, RDX deadline (down; absolute TSC, 0 = none) */
static NORETURN void sys_sm_ctrl(struct ec *ec)
{
	struct sm *sm;
	u64 op = ec->regs.rsi;
	if (op > HV_SM_TRYDOWN)
		leave(ec, HV_EPARAM, HV_ARG_RSI);
	hv_status_t st = lookup_sm(ec, ec->regs.rdi, op == HV_SM_UP ? HV_R_SM_UP : HV_R_SM_DOWN, &sm);
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	if (op == HV_SM_UP)
		leave(ec, sm_up(sm), HV_ARG_RDI); /* HV_EOVERFLOW: the SM's count */
	st = sm_down(sm, op == HV_SM_DOWN, op == HV_SM_DOWN ? ec->regs.rdx : 0);
	if (st == HV_EBUSY)
		sched_schedule(); /* blocked; woken with its status set */
	finish(ec, st);
}

/* sc_ctrl: RDI SC -> RSI consumed TSC ticks */
static NORETURN void sys_sc_ctrl(struct ec *ec)
{
	struct sc *sc;
	hv_status_t st = lookup_sc(ec, ec->regs.rdi, HV_R_SC_CTRL, &sc);
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	sched_account();
	ec->regs.rsi = sc->consumed;
	done(ec);
}

/* ec_ctrl: RDI EC, RSI op (HV_EC_RECALL) */
static NORETURN void sys_ec_ctrl(struct ec *ec)
{
	struct ec *target;
	if (ec->regs.rsi != HV_EC_RECALL)
		leave(ec, HV_EPARAM, HV_ARG_RSI);
	hv_status_t st = lookup_ec(ec, ec->regs.rdi, HV_R_EC_CTRL, &target);
	if (st == HV_OK && target->state == EC_DEAD)
		st = HV_EABORT;
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	target->recall = true;
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_ec == target && i != this_cpu()->id) {
			percpu_area[i].resched = true;
			ipi_resched(i);
		}
	done(ec);
}

/* irq_ctrl: RDI interrupt SM, RSI CPU, RDX flags (an MSI's: and its source);
 * an MSI's -> RSI MSI address, RDX MSI data */
static NORETURN void sys_irq_ctrl(struct ec *ec)
{
	struct sm *sm;
	hv_status_t st = lookup_sm(ec, ec->regs.rdi, HV_R_SM_DOWN, &sm);
	if (st == HV_OK && sm->gsi < 0)
		st = HV_EPARAM; /* not an interrupt semaphore */
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	bool msi = sm->gsi >= IRQ_MAX_GSI;
	if (ec->regs.rsi >= num_cpus || (msi && percpu_area[ec->regs.rsi].apic_id > 0xff))
		leave(ec, HV_ECPU, HV_ARG_RSI); /* an MSI address holds an 8-bit APIC id */
	u64 rdx = ec->regs.rdx;
	if (msi ? rdx & ~(u64)(HV_IRQ_MASK | HV_IRQ_SOURCE | HV_IRQ_SOURCE_BDF(0xffff)) ||
		      (!(rdx & HV_IRQ_SOURCE) && rdx >> 16)
		: rdx & ~(u64)HV_IRQ_FLAGS_VALID)
		leave(ec, HV_EPARAM, HV_ARG_RDX);
	if (msi) { /* fixed delivery, edge, physical destination; remapped where the IOMMU can */
		u32 apic_id = percpu_area[ec->regs.rsi].apic_id;
		u8 vector = (u8)(VEC_IRQ_BASE + sm->gsi);
		sm->msi_masked = rdx & HV_IRQ_MASK;
		bool remapped = iommu_irte((unsigned)sm->gsi, vector, apic_id, false,
					   rdx & HV_IRQ_SOURCE ? (int)(rdx >> 16) : -1);
		ec->regs.rsi = remapped ? vtd_msi_address((unsigned)sm->gsi) : 0xfee00000 | apic_id << 12;
		ec->regs.rdx = remapped ? 0 : vector;
		done(ec);
	}
	st = irq_configure(sm, (unsigned)ec->regs.rsi, (unsigned)ec->regs.rdx);
	leave(ec, st, st == HV_OK ? HV_ARG_NONE : HV_ARG_RDI); /* a GSI no IOAPIC has */
}

/* pd_ctrl: RDI PD, RSI op -> HV_PD_KMEM: RSI used, RDX limit, R8 free pages;
 * HV_PD_LIMITS: RSI max priority, RDX CPU mask */
static NORETURN void sys_pd_ctrl(struct ec *ec)
{
	struct pd *pd;
	if (ec->regs.rsi > HV_PD_LIMITS)
		leave(ec, HV_EPARAM, HV_ARG_RSI);
	hv_status_t st = lookup_pd(ec, ec->regs.rdi, HV_R_PD_CREATE, &pd);
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	if (ec->regs.rsi == HV_PD_LIMITS) {
		ec->regs.rsi = pd->max_prio;
		ec->regs.rdx = pd->cpus;
		done(ec);
	}
	ec->regs.rsi = pd->quota.used;
	ec->regs.rdx = pd->quota.limit;
	ec->regs.r8 = kmem_free_pages();
	done(ec);
}

static NORETURN void sys_null(struct ec *ec) { done(ec); }

/* assign_dev: RDI authority PD (HV_R_PD_DEV), RSI PD (HV_R_PD_MAP), RDX PCI BDF, R10 op */
static NORETURN void sys_assign_dev(struct ec *ec)
{
	struct pd *auth, *pd;
	const struct regs *r = &ec->regs;
	hv_status_t st = lookup_pd(ec, r->rdi, HV_R_PD_DEV, &auth);
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RDI);
	if ((st = lookup_pd(ec, r->rsi, HV_R_PD_MAP, &pd)) == HV_OK && pd->killed)
		st = HV_EABORT;
	if (st != HV_OK)
		leave(ec, st, HV_ARG_RSI);
	if (r->rdx > 0xffff)
		leave(ec, HV_EPARAM, HV_ARG_RDX);
	if (r->r10 > HV_DEV_RELEASE)
		leave(ec, HV_EPARAM, HV_ARG_R10);
	if (r->r10 == HV_DEV_RELEASE) {
		iommu_release(pd, (u16)r->rdx);
		done(ec);
	}
	st = iommu_assign(pd, (u16)r->rdx);
	leave(ec, st, st == HV_EBUSY ? HV_ARG_RDX : HV_ARG_NONE); /* another PD's, or out of quota */
}

typedef NORETURN void (*syscall_fn)(struct ec *);

static const syscall_fn syscalls[HV_SYS_COUNT] = {
	[HV_SYS_CALL] = sys_call,           [HV_SYS_REPLY] = sys_reply,
	[HV_SYS_CREATE_PD] = sys_create_pd, [HV_SYS_CREATE_EC] = sys_create_ec,
	[HV_SYS_CREATE_SC] = sys_create_sc, [HV_SYS_CREATE_PT] = sys_create_pt,
	[HV_SYS_CREATE_SM] = sys_create_sm, [HV_SYS_DELEGATE] = sys_delegate,
	[HV_SYS_REVOKE] = sys_revoke,       [HV_SYS_LOOKUP] = sys_lookup,
	[HV_SYS_SM_CTRL] = sys_sm_ctrl,     [HV_SYS_SC_CTRL] = sys_sc_ctrl,
	[HV_SYS_EC_CTRL] = sys_ec_ctrl,     [HV_SYS_IRQ_CTRL] = sys_irq_ctrl,
	[HV_SYS_NULL] = sys_null,           [HV_SYS_PD_CTRL] = sys_pd_ctrl,
	[HV_SYS_ASSIGN_DEV] = sys_assign_dev,
};

/* Entered from syscall_entry with the caller's state in its struct regs. */
NORETURN void syscall_handler(void)
{
	bkl_lock();
	struct ec *ec = this_cpu()->cur_ec;
	u64 nr = ec->regs.rax;
	if (nr >= HV_SYS_COUNT)
		finish(ec, HV_ESYS);
	syscalls[nr](ec);
}
