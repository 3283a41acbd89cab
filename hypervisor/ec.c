/*
 * Execution contexts: threads (global ECs, run by their own SC) and portal
 * handlers (local ECs, run on the SC their caller donates). Creation maps
 * the UTCB into the PD; killing detaches the EC from every queue and call.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/virt.h>
#include <arch/entry.h>

static u32 next_ec_id;

/*
 * A thread (global) or portal handler (local) in pd; its arguments are
 * checked by the caller (decode_create_ec, or the kernel's own for the
 * roottask): only kernel memory can run out here.
 */
hv_status_t ec_create(struct pd *pd, struct pd *charged, unsigned cpu, bool global, u64 utcb_va,
		      u64 sp, u64 ip, hv_sel_t evt, struct ec **out)
{
	struct space *mem = &pd->spaces[HV_KIND_MEM];
	struct ec *ec = obj_alloc(charged, sizeof(*ec));
	if (!ec)
		return HV_EMEM;
	ec->utcb = kmem_alloc(&charged->quota, PAGE_SIZE);
	if (!ec->utcb) {
		kmem_free(&charged->quota, ec, sizeof(*ec));
		return HV_EMEM;
	}
	hv_status_t st = mdb_insert_root(mem, utcb_va >> PAGE_SHIFT, 0, virt_to_phys(ec->utcb) >> PAGE_SHIFT,
					 HV_R_MEM_R | HV_R_MEM_W, MDB_KERNEL);
	if (st != HV_OK) {
		kmem_free(&charged->quota, ec->utcb, PAGE_SIZE);
		kmem_free(&charged->quota, ec, sizeof(*ec));
		return st;
	}
	obj_init(&ec->obj, HV_OBJ_EC, charged);
	ec->pd = pd;
	pd->users++;
	ec->pd_next = pd->ecs;
	pd->ecs = ec;
	ec->cpu = cpu;
	ec->global = global;
	ec->evt_base = evt;
	ec->stack_top = sp;
	ec->id = next_ec_id++;
	ec->regs.cs = SEL_UCODE;
	ec->regs.ss = SEL_UDATA;
	ec->regs.rflags = RFLAGS_IF | 2;
	ec->regs.vec = VEC_SYSCALL;
	if (global) {
		ec->regs.rip = ip;
		ec->regs.rsp = sp;
		ec->state = EC_RUNNABLE;
	} else {
		ec->state = EC_HANDLER_IDLE;
	}
	*out = ec;
	return HV_OK;
}

/*
 * A virtual CPU of VM PD `pd`: a global EC without UTCB whose user state is
 * a guest, run by VT-x or AMD-V. Its first event is HV_VMEVT_STARTUP;
 * decode_create_ec checked the arguments.
 */
hv_status_t ec_create_vcpu(struct pd *pd, unsigned cpu, hv_sel_t evt, struct ec **out)
{
	struct ec *ec = obj_alloc(pd, sizeof(*ec));
	if (!ec)
		return HV_EMEM;
	ec->pd = pd;
	if (!vcpu_create(ec)) {
		kmem_free(&pd->quota, ec, sizeof(*ec));
		return HV_EMEM;
	}
	obj_init(&ec->obj, HV_OBJ_EC, pd);
	pd->users++;
	ec->pd_next = pd->ecs;
	pd->ecs = ec;
	ec->cpu = cpu;
	ec->global = true;
	ec->evt_base = evt;
	ec->id = next_ec_id++;
	ec->state = EC_RUNNABLE;
	*out = ec;
	return HV_OK;
}

/* The SC a chain of calls runs on: the own SC of its root, a global EC. */
struct sc *ec_chain_sc(struct ec *ec)
{
	while (ec->caller)
		ec = ec->caller;
	return ec->sc;
}

/* Makes ec runnable and the SC of its chain ready (none: it waits for one). */
void ec_wake(struct ec *ec)
{
	ec->state = EC_RUNNABLE;
	struct sc *sc = ec_chain_sc(ec);
	if (sc)
		sched_ready(sc);
}

static void unqueue_from_handler(struct ec *ec)
{
	for (struct ec **pp = &ec->wait.handler->waiters; *pp; pp = &(*pp)->qnext)
		if (*pp == ec) {
			*pp = ec->qnext;
			break;
		}
}

/* Takes ec out of the queue it waits in; false if it does not wait. */
static bool unqueue(struct ec *ec)
{
	if (ec->state == EC_WAIT_SM)
		sm_unqueue(ec);
	else if (ec->state == EC_WAIT_HANDLER)
		unqueue_from_handler(ec);
	else
		return false;
	ec->wait.sm = NULL;
	ec->qnext = NULL;
	return true;
}

/*
 * Ends the wait ec is in, whatever it waits on, and makes it runnable. An
 * SM wait returns `st`; a wait for a busy handler retries its call.
 */
void ec_cancel_wait(struct ec *ec, hv_status_t st)
{
	enum ec_state was = ec->state;
	if (!unqueue(ec))
		return;
	if (was == EC_WAIT_SM)
		ec_set_status(ec, st);
	ec_wake(ec);
}

/* Lets the ECs queued for a busy handler retry their calls. */
void ec_wake_waiters(struct ec *h)
{
	while (h->waiters)
		ec_cancel_wait(h->waiters, HV_OK);
}

/*
 * Stops an EC for good. A caller that waits for it gets HV_EABORT, or is
 * stopped as well if its call was an exception message or it was killed
 * itself meanwhile; that goes up the chain of callers as a loop. An EC in a
 * call dies when its callee replies (the callee runs on the SC this call
 * lent it and may hold a lock of its server). `why` is logged if given.
 */
void ec_kill(struct ec *ec, const char *why)
{
	if (why && ec->state != EC_DEAD)
		printk("hypervisor: EC %u of PD %u stopped: %s\n", ec->id, ec->pd->id, why);
	while (ec && ec->state != EC_DEAD) {
		if (ec->state == EC_WAIT_REPLY) {
			ec->dying = true;
			return;
		}
		unqueue(ec);
		ec->dying = false;
		ec->state = EC_DEAD;
		ec_wake_waiters(ec);
		if (ec->sc)
			sched_unready(ec->sc);
		for (unsigned i = 0; i < num_cpus; i++)
			if (percpu_area[i].cur_ec == ec)
				ipi_resched(i);
		struct ec *c = ec->caller;
		ec->caller = NULL;
		if (!c)
			return;
		c->callee = NULL;
		c->state = EC_RUNNABLE;
		ec = NULL;
		if (c->dying) {
			ec = c; /* killed during the call: now it can go */
		} else if (c->in_event) {
			c->in_event = false;
			printk("hypervisor: EC %u of PD %u stopped: its exception handler was stopped\n", c->id,
			       c->pd->id);
			ec = c;
		} else {
			ec_set_status(c, HV_EABORT);
			ec_wake(c); /* the chain ran on its root's SC, not ready while ec waited */
		}
	}
}

void ec_destroy(struct ec *ec)
{
	ec_kill(ec, NULL);
	struct pd *pd = ec->pd;
	for (struct ec **pp = &pd->ecs; *pp; pp = &(*pp)->pd_next)
		if (*pp == ec) {
			*pp = ec->pd_next;
			break;
		}
	if (ec->vcpu) {
		vcpu_destroy(ec);
	} else if (!pd->killed) {
		struct mdb_node *n;
		for (n = mdb_ceil(&pd->spaces[HV_KIND_MEM], 0); n; n = mdb_next(n))
			if ((n->flags & MDB_KERNEL) && n->target == virt_to_phys(ec->utcb) >> PAGE_SHIFT)
				break;
		if (n)
			mdb_remove(n);
	}
	if (ec->utcb)
		kmem_free(ec->obj.charged ? &ec->obj.charged->quota : NULL, ec->utcb, PAGE_SIZE);
	pd_put_user(pd);
	obj_free(&ec->obj, ec, sizeof(*ec));
}

/* Leaves the kernel into ec's user state. */
NORETURN void ec_resume(struct ec *ec)
{
	struct percpu *c = this_cpu();
	if (c->last_pd != ec->pd) { /* another domain's code runs next: no branch predictions from this one */
		cpu_ibpb();
		c->last_pd = ec->pd;
	}
	if (ec->vcpu)
		vcpu_run(ec);
	c->cur_ec = ec;
	cpu_set_frame(c, &ec->regs);
	struct pd *pd = ec->pd;
	c->cr3_pd = pd; /* TLB shootdowns of pd reach this CPU (smp.c) */
	if (read_cr3() != pd->cr3)
		write_cr3(pd->cr3);
	if (pd->io_bitmap[0]) {
		if (c->io_pd != pd || c->io_gen != pd->io_gen) {
			cpu_set_iobitmap(c, pd->io_bitmap);
			c->io_pd = pd;
			c->io_gen = pd->io_gen;
		}
	} else if (c->io_pd) {
		cpu_set_iobitmap(c, NULL);
		c->io_pd = NULL;
	}
	bkl_unlock();
	if (ec->regs.vec == VEC_SYSCALL && ec->regs.rip < HV_USER_END)
		ret_user_sysret(&ec->regs);
	ret_user_iret(&ec->regs);
}

/* Return path of every kernel entry: preemption and recall, then ec. */
NORETURN void kernel_exit(struct ec *ec)
{
	if (this_cpu()->resched)
		sched_preempt_check();
	if (ec->state != EC_RUNNABLE)
		sched_schedule();
	if (ec->recall) {
		ec->recall = false;
		ipc_event(ec, ec->vcpu ? HV_VMEVT_RECALL : HV_EVT_RECALL);
	}
	ec_resume(ec);
}
