/* Test-and-test-and-set spinlock (atomic xchg). Only for short sections
 * between ECs on different CPUs: a holder preempted on its CPU by a spinner
 * of higher priority on the same CPU would never be released. */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

typedef struct {
	volatile unsigned int locked;
} hv_spinlock_t;

#define HV_SPINLOCK_INIT { 0 }

static inline void hv_spin_lock(hv_spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__asm__ volatile("pause");
}

static inline int hv_spin_trylock(hv_spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE);
}

static inline void hv_spin_unlock(hv_spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

#endif
