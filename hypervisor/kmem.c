/*
 * Kernel memory allocator. Pages come from a free list; objects come from
 * power-of-two size classes (32 .. 2048 bytes) carved out of pages. Objects
 * are never returned to the page pool, only to their class, which keeps
 * this allocator a few dozen lines and fragmentation bounded by the peak.
 */
#include "kernel.h"
#include "kmem.h"

struct free_block {
	struct free_block *next;
};

static struct free_block *free_pages;
static size_t nfree_pages;

#define NCLASSES 7 /* 32 64 128 256 512 1024 2048 */
static struct free_block *class_free[NCLASSES];

/* Adds [base, base+size) (page aligned, kernel virtual) to the page pool. */
void kmem_add_range(void *base, size_t size)
{
	char *p = base;
	for (size_t off = 0; off + PAGE_SIZE <= size; off += PAGE_SIZE) {
		struct free_block *b = (struct free_block *)(p + off);
		b->next = free_pages;
		free_pages = b;
		nfree_pages++;
	}
}

size_t kmem_free_pages(void) { return nfree_pages; }

/* A zeroed page, or NULL when the pool is empty. */
void *page_alloc(void)
{
	struct free_block *b = free_pages;
	if (!b)
		return NULL;
	free_pages = b->next;
	nfree_pages--;
	memset(b, 0, PAGE_SIZE);
	return b;
}

void page_free(void *p)
{
	struct free_block *b = p;
	b->next = free_pages;
	free_pages = b;
	nfree_pages++;
}

static unsigned size_class(size_t size)
{
	unsigned c = 0;
	while ((32ul << c) < size)
		c++;
	return c;
}

/* Charges `bytes` to q if they fit under its limit (written so that it cannot wrap). */
bool kmem_charge(struct kmem_quota *q, size_t bytes)
{
	if (!q)
		return true;
	if (bytes > q->limit || q->used > q->limit - bytes)
		return false;
	q->used += bytes;
	return true;
}

void kmem_uncharge(struct kmem_quota *q, size_t bytes)
{
	if (q)
		q->used -= bytes < q->used ? bytes : q->used;
}

static size_t charged_size(size_t size)
{
	return size > 2048 ? PAGE_SIZE : 32ul << size_class(size);
}

void *kmem_alloc(struct kmem_quota *q, size_t size)
{
	if (size == 0 || size > PAGE_SIZE || !kmem_charge(q, charged_size(size)))
		return NULL;
	if (size > 2048) {
		void *p = page_alloc();
		if (!p)
			kmem_uncharge(q, PAGE_SIZE);
		return p;
	}
	unsigned c = size_class(size);
	if (!class_free[c]) {
		char *pg = page_alloc();
		if (!pg) {
			kmem_uncharge(q, charged_size(size));
			return NULL;
		}
		size_t osz = 32ul << c;
		for (size_t off = 0; off + osz <= PAGE_SIZE; off += osz) {
			struct free_block *b = (struct free_block *)(pg + off);
			b->next = class_free[c];
			class_free[c] = b;
		}
	}
	struct free_block *b = class_free[c];
	class_free[c] = b->next;
	memset(b, 0, 32ul << c);
	return b;
}

void kmem_free(struct kmem_quota *q, void *p, size_t size)
{
	if (!p)
		return;
	kmem_uncharge(q, charged_size(size));
	if (size > 2048) {
		page_free(p);
		return;
	}
	unsigned c = size_class(size);
	struct free_block *b = p;
	b->next = class_free[c];
	class_free[c] = b;
}
