/*
 * Scheduling: per-CPU run queues of SCs, strict priority between levels,
 * round robin within one. The running SC is not in its queue. The EC an SC
 * runs is the end of its call chain (donation: a portal call lends the
 * caller's SC to the handler). One big kernel lock serialises the kernel.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "objects.h"

#include <arch/spinlock.h>

extern spinlock_t bkl;
void bkl_lock_slow(void);

static inline void bkl_lock(void)
{
	if (unlikely(!spin_trylock(&bkl)))
		bkl_lock_slow();
}

static inline void bkl_unlock(void) { spin_unlock(&bkl); }

void sched_ready(struct sc *sc);
void sched_unready(struct sc *sc);
struct ec *sched_chain_end(struct sc *sc);
NORETURN void sched_schedule(void);
NORETURN void sched_start_cpu(void);
void sched_tick(void);
void sched_preempt_check(void);
void sched_account(void);
NORETURN void idle_loop(void);
NORETURN void cpu_idle_on_kstack(void);

#endif
