/*
 * Kernel memory: a pool of pages (free list) and, per quota, slabs of
 * power-of-two blocks for objects. Every page a PD keeps out of the pool
 * is charged to its quota, so one domain cannot exhaust the kernel memory
 * others depend on. kmem.c says why the accounting is by page.
 */
#ifndef HV_KMEM_H
#define HV_KMEM_H

#include "types.h"

#define KMEM_CLASSES 6   /* slab blocks of 32 .. 1024 bytes */
#define KMEM_POISON 0xf0 /* fills freed memory */

struct slab;

struct kmem_quota {
	u64 limit; /* bytes */
	u64 used;  /* bytes: its pages (slabs, page-sized objects, page tables) and its children's quotas */
	struct slab *partial[KMEM_CLASSES]; /* its slabs with free blocks, by class */
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
