/*
 * Kernel memory: a pool of pages (free list) and, for objects up to 1 KiB,
 * slabs (a page of naturally aligned power-of-two blocks, header at its
 * end). Slabs are per quota (per PD; the kernel's own without one) and a
 * quota is charged by page: when its slab takes one and, as in NOVA's
 * Slab_cache::free, back when the slab empties and the page returns. So a
 * quota bounds exactly the pages a PD pins. (Shared slabs charged per
 * object let a PD keep one cheap block per page alive and pin about a
 * quota per size class; per-PD slabs cost at most a part-used page per
 * class.) Freed memory is poisoned with KMEM_POISON (no present page-table
 * entry, no canonical pointer) and checked when handed out again: a write
 * after free panics. Always on: a write pass on free and a read pass on
 * allocation, beside the zeroing; no allocation is on IPC or VM-exit paths.
 */
#include "kernel.h"
#include "kmem.h"

#define SLAB_MAX (32ul << (KMEM_CLASSES - 1)) /* larger objects take a page */
#define POISON64 (0x0101010101010101ull * KMEM_POISON)
#define POISON_MAGIC 0x6b6d656d706f6973ull /* a free page whose contents are poisoned */

struct free_block {
	struct free_block *next;
	u64 magic; /* pages only: POISON_MAGIC once poisoned */
};

struct slab { /* at the end of its page */
	struct slab *prev, *next;  /* the owner's slabs of this class with free blocks */
	struct free_block *free;
	struct kmem_quota *owner;
	u16 inuse, cls;
};

static struct free_block *free_pages;
static size_t nfree_pages;
static struct kmem_quota kernel_slabs; /* owner of the slabs of allocations without a quota */

/* Adds [base, base+size) (page aligned, kernel virtual) to the page pool. */
void kmem_add_range(void *base, size_t size)
{
	char *p = base;
	for (size_t off = 0; off + PAGE_SIZE <= size; off += PAGE_SIZE) {
		struct free_block *b = (struct free_block *)(p + off);
		b->next = free_pages;
		b->magic = 0; /* never used: contents unknown */
		free_pages = b;
		nfree_pages++;
	}
}

size_t kmem_free_pages(void) { return nfree_pages; }

/* Panics unless [p + from, p + size) still holds the poison it got when freed. */
static void poison_check(const void *p, size_t from, size_t size)
{
	const u64 *w = p;
	for (size_t i = from / 8; i < size / 8; i++)
		if (unlikely(w[i] != POISON64))
			panic("kmem: %p (%zu bytes) was written after it was freed (offset %zu)", p, size, i * 8);
}

/* A zeroed page, or NULL when the pool is empty. */
void *page_alloc(void)
{
	struct free_block *b = free_pages;
	if (!b)
		return NULL;
	if (b->magic == POISON_MAGIC)
		poison_check(b, sizeof(*b), PAGE_SIZE);
	free_pages = b->next;
	nfree_pages--;
	memset(b, 0, PAGE_SIZE);
	return b;
}

void page_free(void *p)
{
	struct free_block *b = p;
	memset(b, KMEM_POISON, PAGE_SIZE);
	b->magic = POISON_MAGIC;
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

static size_t block_size(unsigned c) { return 32ul << c; }
static unsigned slab_capacity(unsigned c) { return (PAGE_SIZE - sizeof(struct slab)) / block_size(c); }

/* The header at the end of p's page. */
static struct slab *slab_of(const void *p)
{
	return (struct slab *)(ALIGN_DOWN((u64)p, PAGE_SIZE) + PAGE_SIZE) - 1;
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

static void slab_link(struct kmem_quota *o, struct slab *s)
{
	s->prev = NULL;
	s->next = o->partial[s->cls];
	if (s->next)
		s->next->prev = s;
	o->partial[s->cls] = s;
}

static void slab_unlink(struct kmem_quota *o, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		o->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* A zeroed page charged to q, or NULL. */
static void *page_charged(struct kmem_quota *q)
{
	if (!kmem_charge(q, PAGE_SIZE))
		return NULL;
	void *p = page_alloc();
	if (!p)
		kmem_uncharge(q, PAGE_SIZE);
	return p;
}

/* A new slab of class c for owner o, its page charged to q. */
static struct slab *slab_create(struct kmem_quota *q, struct kmem_quota *o, unsigned c)
{
	char *pg = page_charged(q);
	if (!pg)
		return NULL;
	struct slab *s = slab_of(pg);
	size_t bsz = block_size(c);
	memset(pg, KMEM_POISON, slab_capacity(c) * bsz);
	for (unsigned i = slab_capacity(c); i--;) {
		struct free_block *b = (struct free_block *)(pg + i * bsz);
		b->next = s->free;
		s->free = b;
	}
	s->owner = o;
	s->cls = (u16)c;
	slab_link(o, s);
	return s;
}

/* Zeroed object of `size` bytes, naturally aligned up to 1 KiB (page aligned above). */
void *kmem_alloc(struct kmem_quota *q, size_t size)
{
	if (size == 0 || size > PAGE_SIZE)
		return NULL;
	if (size > SLAB_MAX)
		return page_charged(q);
	unsigned c = size_class(size);
	struct kmem_quota *o = q ? q : &kernel_slabs;
	struct slab *s = o->partial[c];
	if (!s && !(s = slab_create(q, o, c)))
		return NULL;
	struct free_block *b = s->free;
	s->free = b->next;
	if (++s->inuse == slab_capacity(c))
		slab_unlink(o, s); /* full */
	poison_check(b, sizeof(b->next), block_size(c));
	memset(b, 0, block_size(c));
	return b;
}

/* Frees what kmem_alloc(q, size) returned; an empty slab's page goes back to the pool. */
void kmem_free(struct kmem_quota *q, void *p, size_t size)
{
	if (!p)
		return;
	if (size > SLAB_MAX) {
		page_free(p);
		kmem_uncharge(q, PAGE_SIZE);
		return;
	}
	unsigned c = size_class(size);
	struct slab *s = slab_of(p);
	struct kmem_quota *o = q ? q : &kernel_slabs;
	u64 off = (u64)p & (PAGE_SIZE - 1);
	if (s->owner != o || s->cls != c || !s->inuse || off % block_size(c) ||
	    off / block_size(c) >= slab_capacity(c))
		panic("kmem: bad free of %p (%zu bytes)", p, size);
	struct free_block *b = p;
	memset(b, KMEM_POISON, block_size(c));
	b->next = s->free;
	s->free = b;
	if (s->inuse-- == slab_capacity(c))
		slab_link(o, s); /* was full */
	if (!s->inuse) {
		slab_unlink(o, s);
		page_free((void *)ALIGN_DOWN((u64)p, PAGE_SIZE));
		kmem_uncharge(q, PAGE_SIZE);
	}
}
