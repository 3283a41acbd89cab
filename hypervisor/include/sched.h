/*
 * Scheduling: per-CPU run queues of SCs, strict priority between levels,
 * round robin within one. The running SC is not in its queue. The EC an SC
 * runs is the end of its call chain (donation: a portal call lends the
 * caller's SC to the handler). One big kernel lock serialises the kernel.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "kcalls.h"
#include "objects.h"

void sched_ready(struct sc *sc);
void sched_unready(struct sc *sc);
struct ec *sched_chain_end(struct sc *sc);
void sched_preempt_check(void);
void sched_account(void);

#endif
