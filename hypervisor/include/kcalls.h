/*
 * The generic kernel as an architecture backend sees it: every call arch/
 * makes into hypervisor/ besides memory (kmem.h) and logging (kernel.h).
 * A VM exit or trap ends in one of the NORETURN continuations below; the
 * big kernel lock is held from bkl_lock() to the return to user or guest.
 */
#ifndef HV_KCALLS_H
#define HV_KCALLS_H

#include "types.h"
#include <arch/spinlock.h>

struct ec;

/* the big kernel lock */
extern spinlock_t bkl;
void bkl_lock_slow(void);
static inline void bkl_lock(void)
{
	if (unlikely(!spin_trylock(&bkl)))
		bkl_lock_slow();
}
static inline void bkl_unlock(void) { spin_unlock(&bkl); }

/* events and continuations (ipc.c, ec.c, sched.c) */
NORETURN void ipc_event(struct ec *ec, unsigned event); /* exception or VM exit as a portal call */
NORETURN void kernel_exit(struct ec *ec);               /* preemption and recall, then back to ec */
NORETURN void ec_resume(struct ec *ec);                 /* straight back to ec's user or guest state */
NORETURN void sched_schedule(void);                     /* the next SC of this CPU, or idle */
NORETURN void sched_start_cpu(void);                    /* a CPU's first schedule */
void ec_kill(struct ec *ec, const char *why);           /* stops ec for good (why: logged) */

/* interrupts and time (trap.c, sched.c) */
void trap_interrupt(unsigned vec); /* a host interrupt, taken in any context (lock held) */
void sched_tick(void);             /* the host timer's deadline passed */

#endif
