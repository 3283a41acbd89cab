/*
 * Counting semaphores, and interrupts as semaphores: GSI n signals the SM
 * the roottask holds at HV_SEL_GSI_BASE + n. A level-triggered line is
 * masked when it fires and unmasked when a driver next waits on it.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/percpu.h>
#include <arch/smp.h>

#define SM_MAX_COUNT 0xffffffffull

hv_status_t sm_create(struct pd *charged, u64 count, struct sm **out)
{
	if (count > SM_MAX_COUNT)
		return HV_EOVERFLOW;
	struct sm *sm = obj_alloc(charged, sizeof(*sm));
	if (!sm)
		return HV_EMEM;
	obj_init(&sm->obj, HV_OBJ_SM, charged);
	sm->count = count;
	sm->gsi = -1;
	*out = sm;
	return HV_OK;
}

static void wake(struct ec *ec, hv_status_t st)
{
	ec->waiting_sm = NULL;
	ec->qnext = NULL;
	ec->state = EC_RUNNABLE;
	ec_set_status(ec, st);
	if (ec->blocked_sc)
		sched_ready(ec->blocked_sc);
}

void sm_destroy(struct sm *sm)
{
	while (sm->waiters) {
		struct ec *ec = sm->waiters;
		sm->waiters = ec->qnext;
		wake(ec, HV_EABORT);
	}
	obj_free(&sm->obj, sm, sizeof(*sm));
}

hv_status_t sm_up(struct sm *sm)
{
	struct ec *ec = sm->waiters;
	if (ec) {
		sm->waiters = ec->qnext;
		wake(ec, HV_OK);
		return HV_OK;
	}
	if (sm->count >= SM_MAX_COUNT)
		return HV_EOVERFLOW;
	sm->count++;
	return HV_OK;
}

/*
 * Takes one unit; if there is none and `block`, queues the current EC and
 * returns HV_EBUSY to tell the caller to schedule (the EC's status is set
 * when it is woken).
 */
hv_status_t sm_down(struct sm *sm, bool block)
{
	if (sm->gsi >= 0 && sm->irq_level_masked) {
		sm->irq_level_masked = false;
		ioapic_mask((unsigned)sm->gsi, false);
	}
	if (sm->count) {
		sm->count--;
		return HV_OK;
	}
	if (!block)
		return HV_ETIMEOUT;
	struct percpu *c = this_cpu();
	struct ec *ec = c->cur_ec;
	ec->state = EC_BLOCKED;
	ec->waiting_sm = sm;
	ec->blocked_sc = c->cur_sc;
	ec->qnext = NULL;
	struct ec **pp = &sm->waiters;
	while (*pp)
		pp = &(*pp)->qnext;
	*pp = ec;
	return HV_EBUSY;
}

/* Takes an EC that is being killed out of the SM queue it waits in. */
void sm_remove_waiter(struct ec *ec)
{
	struct sm *sm = ec->waiting_sm;
	if (!sm)
		return;
	for (struct ec **pp = &sm->waiters; *pp; pp = &(*pp)->qnext)
		if (*pp == ec) {
			*pp = ec->qnext;
			break;
		}
	ec->waiting_sm = NULL;
	ec->qnext = NULL;
}
