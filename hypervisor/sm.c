/*
 * Counting semaphores, and interrupts as semaphores: GSI n signals the SM
 * the roottask holds at HV_SEL_GSI_BASE + n. A level-triggered line is
 * masked when it fires and unmasked when a driver next waits on it.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/cpu.h>
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

static struct ec *timeouts[MAX_CPUS]; /* per CPU, earliest first */

static void timeout_remove(struct ec *ec)
{
	if (!ec->timeout)
		return;
	for (struct ec **pp = &timeouts[ec->cpu]; *pp; pp = &(*pp)->tnext)
		if (*pp == ec) {
			*pp = ec->tnext;
			break;
		}
	ec->timeout = 0;
	ec->tnext = NULL;
}

static void timeout_insert(struct ec *ec, u64 deadline)
{
	struct ec **pp = &timeouts[ec->cpu];
	while (*pp && (*pp)->timeout <= deadline)
		pp = &(*pp)->tnext;
	ec->timeout = deadline;
	ec->tnext = *pp;
	*pp = ec;
}

/* The earliest deadline of an EC blocked on this CPU, 0 if none. */
u64 sm_next_timeout(unsigned cpu) { return timeouts[cpu] ? timeouts[cpu]->timeout : 0; }

/* Every waiter gets HV_EABORT: the semaphore is going. */
void sm_destroy(struct sm *sm)
{
	while (sm->waiters)
		ec_cancel_wait(sm->waiters, HV_EABORT);
	obj_free(&sm->obj, sm, sizeof(*sm));
}

hv_status_t sm_up(struct sm *sm)
{
	if (sm->waiters) {
		ec_cancel_wait(sm->waiters, HV_OK);
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
hv_status_t sm_down(struct sm *sm, bool block, u64 deadline)
{
	if (sm->gsi >= 0 && sm->irq_level_masked) {
		sm->irq_level_masked = false;
		ioapic_mask((unsigned)sm->gsi, false);
	}
	if (sm->count) {
		sm->count--;
		return HV_OK;
	}
	if (!block || (deadline && deadline <= rdtsc()))
		return HV_ETIMEOUT;
	struct ec *ec = this_cpu()->cur_ec;
	ec->state = EC_WAIT_SM;
	ec->wait.sm = sm;
	ec->qnext = NULL;
	struct ec **pp = &sm->waiters;
	while (*pp)
		pp = &(*pp)->qnext;
	*pp = ec;
	if (deadline)
		timeout_insert(ec, deadline);
	return HV_EBUSY;
}

/* Wakes, with HV_ETIMEOUT, every EC of this CPU whose deadline has passed. */
void sm_timeouts(unsigned cpu, u64 now)
{
	while (timeouts[cpu] && timeouts[cpu]->timeout <= now)
		ec_cancel_wait(timeouts[cpu], HV_ETIMEOUT);
}

/* Takes a waiting EC out of its semaphore's queue and the timeout list (ec_cancel_wait). */
void sm_unqueue(struct ec *ec)
{
	timeout_remove(ec);
	for (struct ec **pp = &ec->wait.sm->waiters; *pp; pp = &(*pp)->qnext)
		if (*pp == ec) {
			*pp = ec->qnext;
			break;
		}
}
