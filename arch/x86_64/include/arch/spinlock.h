/* Spinlocks; the kernel runs with interrupts off, so no irqsave variant. */
#ifndef ARCH_SPINLOCK_H
#define ARCH_SPINLOCK_H

#include "types.h"

typedef struct {
	volatile u32 locked;
} spinlock_t;

static inline bool spin_trylock(spinlock_t *l)
{
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(spinlock_t *l)
{
	while (!spin_trylock(l))
		while (l->locked)
			__asm__ volatile("pause");
}

static inline void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }

#endif
