/*
 * System calls. Each handler decodes and checks every argument (selector,
 * type, rights, range, alignment, CPU) before it changes anything, then
 * commits and leaves through kernel_exit() with a status in RAX.
 */
#include "kernel.h"
#include "irq.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>

#define ARG1(ec) ((ec)->regs.rdi)
#define ARG2(ec) ((ec)->regs.rsi)
#define ARG3(ec) ((ec)->regs.rdx)
#define ARG4(ec) ((ec)->regs.r10)
#define ARG5(ec) ((ec)->regs.r8)
#define ARG6(ec) ((ec)->regs.r9)

static NORETURN void finish(struct ec *ec, hv_status_t st)
{
	ec_set_status(ec, st);
	kernel_exit(ec);
}

#define CHECK(expr)                                                          \
	do {                                                                 \
		hv_status_t st_ = (expr);                                    \
		if (st_ != HV_OK)                                            \
			finish(ec, st_);                                     \
	} while (0)

#define LOOKUP(sel, type, rights, var, member)                               \
	struct kobj *var##_o;                                                \
	CHECK(cap_lookup(ec->pd, sel, type, rights, &var##_o));             \
	var = container_of(var##_o, __typeof__(*var), member)

static hv_status_t check_dst(struct ec *ec, hv_sel_t sel)
{
	if (sel >= HV_SEL_MAX)
		return HV_EPARAM;
	return mdb_check_free(&ec->pd->spaces[HV_KIND_OBJ], sel, 0);
}

/* Installs a capability to a new object at sel, or destroys the object. */
static NORETURN void install(struct ec *ec, hv_sel_t sel, struct kobj *o)
{
	hv_status_t st = mdb_insert_root(&ec->pd->spaces[HV_KIND_OBJ], sel, 0, (u64)o, HV_R_ALL, 0);
	if (st != HV_OK) {
		obj_get(o);
		obj_put(o); /* becomes a zombie and is reaped */
	}
	finish(ec, st);
}

static NORETURN void sys_call(struct ec *ec)
{
	struct mdb_node *n = cap_node(ec->pd, ARG1(ec));
	if (unlikely(!n || ((struct kobj *)n->target)->type != HV_OBJ_PT))
		finish(ec, HV_ECAP);
	if (unlikely(!(n->rights & HV_R_PT_CALL)))
		finish(ec, HV_EPERM);
	ipc_call(ec, container_of((struct kobj *)n->target, struct pt, obj), ARG2(ec));
}

static NORETURN void sys_reply(struct ec *ec)
{
	if (ec->global)
		finish(ec, HV_EPARAM); /* only portal handlers reply */
	ipc_reply(ec, ARG1(ec));
}

static NORETURN void sys_create_pd(struct ec *ec)
{
	struct pd *parent, *pd;
	CHECK(check_dst(ec, ARG1(ec)));
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_CREATE, parent, obj);
	if (ARG4(ec) & ~(u64)HV_PD_VM)
		finish(ec, HV_EPARAM);
	CHECK(pd_create(parent, ARG3(ec), ARG4(ec) & HV_PD_VM, &pd));
	install(ec, ARG1(ec), &pd->obj);
}

static NORETURN void sys_create_ec(struct ec *ec)
{
	struct pd *pd;
	struct ec *n;
	u64 f = ARG3(ec);
	CHECK(check_dst(ec, ARG1(ec)));
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_CREATE, pd, obj);
	if (f & ~(0xffffull | HV_EC_GLOBAL | HV_EC_VCPU | (0xffffffffull << 32)))
		finish(ec, HV_EPARAM);
	if (f & HV_EC_VCPU) {
		if (ARG4(ec) || !(f & HV_EC_GLOBAL))
			finish(ec, HV_EPARAM); /* a vCPU has no UTCB and is scheduled by its own SC */
		CHECK(ec_create_vcpu(pd, HV_EC_CPU(f), HV_EC_EVT(f), &n));
		install(ec, ARG1(ec), &n->obj);
	}
	if (pd->vm)
		finish(ec, HV_EPARAM); /* a VM PD runs vCPUs only */
	CHECK(ec_create(pd, pd, HV_EC_CPU(f), f & HV_EC_GLOBAL, ARG4(ec), ARG5(ec), ARG6(ec), HV_EC_EVT(f), &n));
	install(ec, ARG1(ec), &n->obj);
}

static NORETURN void sys_create_sc(struct ec *ec)
{
	struct pd *pd;
	struct ec *target;
	struct sc *sc;
	u64 qos = ARG4(ec);
	CHECK(check_dst(ec, ARG1(ec)));
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_CREATE, pd, obj);
	LOOKUP(ARG3(ec), HV_OBJ_EC, HV_R_EC_BIND_SC, target, obj);
	if ((qos & 0xffffff00ull) || HV_QOS_PRIO(qos) > HV_PRIO_MAX)
		finish(ec, HV_EPARAM);
	CHECK(sc_create(pd, target, HV_QOS_PRIO(qos), HV_QOS_QUANTUM(qos), &sc));
	install(ec, ARG1(ec), &sc->obj);
}

static NORETURN void sys_create_pt(struct ec *ec)
{
	struct pd *pd;
	struct ec *h;
	struct pt *pt;
	CHECK(check_dst(ec, ARG1(ec)));
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_CREATE, pd, obj);
	LOOKUP(ARG3(ec), HV_OBJ_EC, HV_R_EC_BIND_PT, h, obj);
	if (h->state == EC_DEAD)
		finish(ec, HV_EABORT);
	CHECK(pt_create(pd, h, ARG4(ec), ARG5(ec), ARG6(ec), &pt));
	install(ec, ARG1(ec), &pt->obj);
}

static NORETURN void sys_create_sm(struct ec *ec)
{
	struct pd *pd;
	struct sm *sm;
	CHECK(check_dst(ec, ARG1(ec)));
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_CREATE, pd, obj);
	CHECK(sm_create(pd, ARG3(ec), &sm));
	install(ec, ARG1(ec), &sm->obj);
}

/* Converts an item's base to units of its space, checking alignment. */
static bool item_base(unsigned kind, u64 addr, u64 *out)
{
	if (kind == HV_KIND_MEM || kind == HV_KIND_GMEM) {
		if (addr & (PAGE_SIZE - 1))
			return false;
		addr >>= PAGE_SHIFT;
	}
	*out = addr;
	return kind <= HV_KIND_GMEM;
}

static NORETURN void sys_delegate(struct ec *ec)
{
	struct pd *src, *dst;
	u64 item = ARG3(ec), s, d;
	LOOKUP(ARG1(ec), HV_OBJ_PD, HV_R_PD_MAP, src, obj);
	LOOKUP(ARG2(ec), HV_OBJ_PD, HV_R_PD_MAP, dst, obj);
	unsigned kind = HV_ITEM_KIND(item);
	if ((item >> 14) || !item_base(kind, ARG4(ec), &s) || !item_base(kind, ARG5(ec), &d))
		finish(ec, HV_EPARAM);
	if (src->killed || dst->killed)
		finish(ec, HV_EABORT);
	/* HV_KIND_GMEM: from the source's memory into the destination's guest-physical space */
	unsigned skind = kind == HV_KIND_GMEM ? HV_KIND_MEM : kind;
	if (kind == HV_KIND_GMEM && !dst->vm)
		finish(ec, HV_EPARAM);
	finish(ec, mdb_delegate(&src->spaces[skind], s, HV_ITEM_ORDER(item), &dst->spaces[kind], d,
				HV_ITEM_RIGHTS(item)));
}

/*
 * A long revoke stops after MDB_BUDGET units of work and restarts: the EC
 * executes its SYSCALL again (RIP back by 2) with the progress in RDX,
 * after pending interrupts and higher priorities. An expired timer is
 * served here: its interrupt may miss the SYSRET-SYSCALL gap (QEMU).
 */
static NORETURN void sys_revoke(struct ec *ec)
{
	u64 item = ARG1(ec), b, done = ARG3(ec);
	unsigned kind = HV_ITEM_KIND(item), order = HV_ITEM_ORDER(item);
	if ((item & ~(0x3fffull | HV_REVOKE_SELF)) || !item_base(kind, ARG2(ec), &b) || done >> order)
		finish(ec, HV_EPARAM);
	u64 from = b + done;
	hv_status_t st = mdb_revoke(&ec->pd->spaces[kind], b, order, item & HV_REVOKE_SELF, &from, MDB_BUDGET);
	if (st != HV_OK || from == b + (1ull << order))
		finish(ec, st);
	ec->regs.rdx = from - b;
	ec->regs.rip -= 2;
	if (this_cpu()->timer_when && rdtsc() >= this_cpu()->timer_when)
		sched_tick();
	kernel_exit(ec);
}

static NORETURN void sys_lookup(struct ec *ec)
{
	u64 kind = ARG1(ec), b;
	bool pages = kind == HV_KIND_MEM || kind == HV_KIND_GMEM;
	if (kind > HV_KIND_GMEM || !item_base((unsigned)kind, ARG2(ec) & ~(pages ? PAGE_SIZE - 1 : 0), &b))
		finish(ec, HV_EPARAM);
	struct mdb_node *n = mdb_find(&ec->pd->spaces[kind], b);
	ec->regs.rsi = 0;
	if (n) {
		unsigned type = kind == HV_KIND_OBJ ? ((struct kobj *)n->target)->type : 0;
		ec->regs.rsi = HV_ITEM(kind, n->rights, n->order) | ((hv_word_t)type << 16);
		ec->regs.rdx = n->base << (pages ? PAGE_SHIFT : 0);
	}
	finish(ec, n ? HV_OK : HV_ECAP);
}

static NORETURN void sys_sm_ctrl(struct ec *ec)
{
	struct sm *sm;
	u64 op = ARG2(ec);
	if (op > HV_SM_TRYDOWN)
		finish(ec, HV_EPARAM);
	LOOKUP(ARG1(ec), HV_OBJ_SM, op == HV_SM_UP ? HV_R_SM_UP : HV_R_SM_DOWN, sm, obj);
	if (op == HV_SM_UP)
		finish(ec, sm_up(sm));
	hv_status_t st = sm_down(sm, op == HV_SM_DOWN, op == HV_SM_DOWN ? ARG3(ec) : 0);
	if (st == HV_EBUSY)
		sched_schedule(); /* blocked; woken with its status set */
	finish(ec, st);
}

static NORETURN void sys_sc_ctrl(struct ec *ec)
{
	struct sc *sc;
	LOOKUP(ARG1(ec), HV_OBJ_SC, HV_R_SC_CTRL, sc, obj);
	sched_account();
	ec->regs.rsi = sc->consumed;
	finish(ec, HV_OK);
}

static NORETURN void sys_ec_ctrl(struct ec *ec)
{
	struct ec *target;
	if (ARG2(ec) != HV_EC_RECALL)
		finish(ec, HV_EPARAM);
	LOOKUP(ARG1(ec), HV_OBJ_EC, HV_R_EC_CTRL, target, obj);
	if (target->state == EC_DEAD)
		finish(ec, HV_EABORT);
	target->recall = true;
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_ec == target && i != this_cpu()->id) {
			percpu_area[i].resched = true;
			ipi_resched(i);
		}
	finish(ec, HV_OK);
}

static NORETURN void sys_irq_ctrl(struct ec *ec)
{
	struct sm *sm;
	LOOKUP(ARG1(ec), HV_OBJ_SM, HV_R_SM_DOWN, sm, obj);
	if (ARG2(ec) >= MAX_CPUS || ARG3(ec) > 0xff)
		finish(ec, ARG2(ec) >= MAX_CPUS ? HV_ECPU : HV_EPARAM);
	finish(ec, irq_configure(sm, (unsigned)ARG2(ec), (unsigned)ARG3(ec)));
}

static NORETURN void sys_pd_ctrl(struct ec *ec)
{
	struct pd *pd;
	if (ARG2(ec) != HV_PD_KMEM)
		finish(ec, HV_EPARAM);
	LOOKUP(ARG1(ec), HV_OBJ_PD, HV_R_PD_CREATE, pd, obj);
	ec->regs.rsi = pd->quota.used;
	ec->regs.rdx = pd->quota.limit;
	ec->regs.r8 = kmem_free_pages();
	finish(ec, HV_OK);
}

static NORETURN void sys_null(struct ec *ec) { finish(ec, HV_OK); }

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
};

/* Entered from syscall_entry with the caller's state in its struct regs. */
NORETURN void syscall_handler(void);
NORETURN void syscall_handler(void)
{
	bkl_lock();
	struct ec *ec = this_cpu()->cur_ec;
	u64 nr = ec->regs.rax;
	if (nr >= HV_SYS_COUNT)
		finish(ec, HV_ESYS);
	syscalls[nr](ec);
}
