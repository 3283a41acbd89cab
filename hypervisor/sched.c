/*
 * The scheduler and the big kernel lock. Kernel code runs with interrupts
 * off and never blocks; "blocking" an EC means saving nothing more (its
 * user state is already in struct regs) and picking another SC.
 */
#include "kernel.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/spinlock.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/entry.h>

#define NPRIO (HV_PRIO_MAX + 1)

struct runqueue {
	u64 bitmap;
	struct sc *head[NPRIO], *tail[NPRIO];
};

static struct runqueue rq[MAX_CPUS];
spinlock_t bkl;

/* Waits for the big lock, serving TLB shootdowns meanwhile: the holder
 * may be waiting for this CPU to flush. */
void bkl_lock_slow(void)
{
	while (!spin_trylock(&bkl)) {
		tlb_poll();
		cpu_relax();
	}
}

static void rq_push(struct sc *sc, bool front)
{
	struct runqueue *q = &rq[sc->cpu];
	unsigned p = sc->prio;
	if (front) {
		sc->next = q->head[p];
		q->head[p] = sc;
		if (!q->tail[p])
			q->tail[p] = sc;
	} else {
		sc->next = NULL;
		if (q->tail[p])
			q->tail[p]->next = sc;
		else
			q->head[p] = sc;
		q->tail[p] = sc;
	}
	q->bitmap |= 1ull << p;
	sc->ready = true;
}

/* Makes sc runnable on its CPU; preempts a lower-priority SC there. */
void sched_ready(struct sc *sc)
{
	if (sc->ready || percpu_area[sc->cpu].cur_sc == sc)
		return;
	rq_push(sc, false);
	struct percpu *c = &percpu_area[sc->cpu];
	if (!c->cur_sc || c->cur_sc->prio < sc->prio) {
		c->resched = true;
		ipi_resched(sc->cpu);
	}
}

void sched_unready(struct sc *sc)
{
	if (!sc->ready)
		return;
	struct runqueue *q = &rq[sc->cpu];
	unsigned p = sc->prio;
	struct sc **pp = &q->head[p], *prev = NULL;
	while (*pp && *pp != sc)
		prev = *pp, pp = &(*pp)->next;
	if (*pp) {
		*pp = sc->next;
		if (q->tail[p] == sc)
			q->tail[p] = prev;
		if (!q->head[p])
			q->bitmap &= ~(1ull << p);
	}
	sc->ready = false;
	sc->next = NULL;
}

static struct sc *rq_pop(unsigned cpu)
{
	struct runqueue *q = &rq[cpu];
	if (!q->bitmap)
		return NULL;
	unsigned p = 63u - (unsigned)__builtin_clzll(q->bitmap);
	struct sc *sc = q->head[p];
	sched_unready(sc);
	return sc;
}

/* The EC that runs when sc runs: follow the chain of portal calls. */
struct ec *sched_chain_end(struct sc *sc)
{
	struct ec *ec = sc->ec;
	while (ec && ec->state == EC_WAIT_REPLY && ec->callee)
		ec = ec->callee;
	return ec;
}

/* Charges the running SC for the time since it was last charged. */
void sched_account(void)
{
	struct percpu *c = this_cpu();
	u64 now = rdtsc();
	if (c->cur_sc) {
		u64 d = now - c->sc_start;
		c->cur_sc->consumed += d;
		c->cur_sc->left = d >= c->cur_sc->left ? 0 : c->cur_sc->left - d;
	}
	c->sc_start = now;
}

/* Programs this CPU's timer: end of the running SC's slice or the next timeout. */
static void timer_arm(struct percpu *c)
{
	u64 now = rdtsc(), when = 0;
	if (c->cur_sc)
		when = now + (c->cur_sc->left ? c->cur_sc->left : 1);
	u64 t = sm_next_timeout(c->id);
	if (t && (!when || t < when))
		when = t;
	c->timer_when = when;
	lapic_timer_oneshot(when ? (when > now ? when - now : 1) : 0);
}

static NORETURN void exit_to(void *ec) { kernel_exit(ec); }

/*
 * Picks the next SC and resumes the end of its chain; idles if there is
 * none. The current SC, if still runnable, competes like any other.
 */
NORETURN void sched_schedule(void)
{
	struct percpu *c = this_cpu();
	sched_account();
	c->resched = false;
	struct sc *cur = c->cur_sc;
	if (cur) {
		struct ec *e = sched_chain_end(cur);
		c->cur_sc = NULL;
		if (e && e->state == EC_RUNNABLE && cur->ec->state != EC_DEAD) {
			if (!cur->left) {
				cur->left = cur->quantum;
				rq_push(cur, false);
			} else {
				rq_push(cur, true);
			}
		}
	}
	obj_reap();
	for (;;) {
		struct sc *sc = rq_pop(c->id);
		if (!sc)
			break;
		struct ec *e = sched_chain_end(sc);
		if (!e || e->state != EC_RUNNABLE || sc->ec->state == EC_DEAD)
			continue; /* blocked or dead: it is made ready again on wake-up */
		c->cur_sc = sc;
		c->sc_start = rdtsc();
		timer_arm(c);
		/* a recall is delivered before e returns to user mode; on a fresh
		 * stack, since that path may come back here */
		cpu_continue(exit_to, e);
	}
	timer_arm(c);
	c->cur_ec = NULL;
	if (read_cr3() != kernel_cr3) /* hold no PD's page tables while idle */
		write_cr3(kernel_cr3);
	bkl_unlock();
	cpu_idle_on_kstack();
}

/* Timer interrupt: semaphore timeouts, and the end of the running SC's slice. */
void sched_tick(void)
{
	sched_account();
	struct percpu *c = this_cpu();
	sm_timeouts(c->id, rdtsc());
	if (c->cur_sc && !c->cur_sc->left)
		c->resched = true;
	timer_arm(c); /* early, or for the next deadline */
}

/* Called before returning to user: give way to a higher-priority SC. */
void sched_preempt_check(void)
{
	struct percpu *c = this_cpu();
	if (!c->resched)
		return;
	struct runqueue *q = &rq[c->id];
	if (c->cur_sc && c->cur_sc->left &&
	    (!q->bitmap || 63u - (unsigned)__builtin_clzll(q->bitmap) <= c->cur_sc->prio)) {
		c->resched = false;
		return;
	}
	sched_schedule();
}

NORETURN void idle_loop(void)
{
	for (;;)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

NORETURN void sched_start_cpu(void)
{
	bkl_lock();
	sched_schedule();
}
