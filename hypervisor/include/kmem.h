/*
 * Kernel memory: a pool of pages (free list) and size-class caches for
 * objects. Every allocation is charged to a PD's quota, so one domain
 * cannot exhaust the kernel memory others depend on.
 */
#ifndef HV_KMEM_H
#define HV_KMEM_H

#include "types.h"

struct pd;

struct kmem_quota {
	u64 limit; /* bytes */
	u64 used;
};

void kmem_add_range(void *base, size_t size);
void *page_alloc(void);
void page_free(void *p);
size_t kmem_free_pages(void);

/* Zeroed object of `size` bytes (<= PAGE_SIZE) charged to `q` (may be NULL). */
void *kmem_alloc(struct kmem_quota *q, size_t size);
void kmem_free(struct kmem_quota *q, void *p, size_t size);
bool kmem_charge(struct kmem_quota *q, size_t bytes);
void kmem_uncharge(struct kmem_quota *q, size_t bytes);

#endif
