/*
 * Physical-range allocator of the roottask; see ralloc.h.
 *
 * All ranges are half-open [base, base+size) with base+size computed only
 * after checking it cannot wrap, so the last page of the 64-bit space is
 * never usable (physical addresses are far below it anyway).
 */
#include "ralloc.h"

#include <string.h>

#define RALLOC_MASK (RALLOC_PAGE - 1)

/* Rounds size up to whole pages into *out; false if 0 or it would wrap. */
static bool ralloc_round(uint64_t size, uint64_t *out)
{
	if (size == 0 || size > UINT64_MAX - RALLOC_MASK)
		return false;
	*out = (size + RALLOC_MASK) & ~RALLOC_MASK;
	return true;
}

/* Removes entry i, closing the gap. */
static void ralloc_remove(struct ralloc *ra, unsigned i)
{
	for (unsigned j = i; j + 1 < ra->n; j++)
		ra->r[j] = ra->r[j + 1];
	ra->n--;
}

/* Opens a gap at entry i (caller checked there is room). The runtime has
 * no memmove, hence the loop. */
static void ralloc_open(struct ralloc *ra, unsigned i)
{
	for (unsigned j = ra->n; j > i; j--)
		ra->r[j] = ra->r[j - 1];
	ra->n++;
}

/*
 * Adds free [base, end) (page aligned, base < end): merges with touching
 * neighbours or inserts a new entry. Fails without change if any part is
 * already free or a new entry is needed and the array is full.
 */
static bool ralloc_insert(struct ralloc *ra, uint64_t base, uint64_t end)
{
	unsigned i = 0;
	bool mprev, mnext;

	while (i < ra->n && ra->r[i].base < base)
		i++;
	/* r[i-1] starts below base, r[i] at or above it */
	if (i > 0 && ra->r[i - 1].base + ra->r[i - 1].size > base)
		return false;
	if (i < ra->n && ra->r[i].base < end)
		return false;
	mprev = i > 0 && ra->r[i - 1].base + ra->r[i - 1].size == base;
	mnext = i < ra->n && ra->r[i].base == end;
	if (mprev && mnext) {
		ra->r[i - 1].size += (end - base) + ra->r[i].size;
		ralloc_remove(ra, i);
	} else if (mprev) {
		ra->r[i - 1].size += end - base;
	} else if (mnext) {
		ra->r[i].base = base;
		ra->r[i].size += end - base;
	} else {
		if (ra->n == RALLOC_MAX)
			return false;
		ralloc_open(ra, i);
		ra->r[i].base = base;
		ra->r[i].size = end - base;
	}
	return true;
}

/*
 * Takes [a, a+size) out of entry i, which contains it. Fails without
 * change if that splits the entry in two and the array is full.
 */
static bool ralloc_carve(struct ralloc *ra, unsigned i, uint64_t a,
			 uint64_t size)
{
	struct ralloc_range *r = &ra->r[i];
	uint64_t rend = r->base + r->size, end = a + size;
	bool left = a > r->base, right = end < rend;

	if (left && right) {
		if (ra->n == RALLOC_MAX)
			return false;
		ralloc_open(ra, i + 1);
		r->size = a - r->base;
		ra->r[i + 1].base = end;
		ra->r[i + 1].size = rend - end;
	} else if (left) {
		r->size = a - r->base;
	} else if (right) {
		r->base = end;
		r->size = rend - end;
	} else {
		ralloc_remove(ra, i);
	}
	return true;
}

/* Empties ra and adds the n given RAM ranges; false if any was refused. */
bool ralloc_init(struct ralloc *ra, const struct ralloc_range *ranges,
		 unsigned n)
{
	bool ok = true;

	memset(ra, 0, sizeof *ra);
	for (unsigned i = 0; ranges && i < n; i++)
		if (!ralloc_add(ra, ranges[i].base, ranges[i].size))
			ok = false;
	return ok;
}

/* Adds RAM [base, base+size), trimmed to whole pages, as free memory. */
bool ralloc_add(struct ralloc *ra, uint64_t base, uint64_t size)
{
	uint64_t b, e;

	if (size > UINT64_MAX - base)
		return false;
	e = (base + size) & ~RALLOC_MASK;
	if (base > UINT64_MAX - RALLOC_MASK)
		return true; /* no whole page above base */
	b = (base + RALLOC_MASK) & ~RALLOC_MASK;
	if (e <= b)
		return true;
	return ralloc_insert(ra, b, e);
}

/* Allocates size bytes (whole pages) aligned to align, lowest address
 * first. */
bool ralloc_alloc(struct ralloc *ra, uint64_t size, uint64_t align,
		  uint64_t *out_phys)
{
	uint64_t sz;

	if (!ralloc_round(size, &sz))
		return false;
	if (align & (align - 1))
		return false; /* not a power of two */
	if (align < RALLOC_PAGE)
		align = RALLOC_PAGE;
	for (unsigned i = 0; i < ra->n; i++) {
		uint64_t base = ra->r[i].base, end = base + ra->r[i].size, a;
		if (base > UINT64_MAX - (align - 1))
			continue;
		a = (base + align - 1) & ~(align - 1);
		if (a >= end || end - a < sz)
			continue;
		if (!ralloc_carve(ra, i, a, sz))
			continue; /* would need a new entry; try the others */
		*out_phys = a;
		return true;
	}
	return false;
}

/* Returns an allocated range, merging it with its free neighbours. */
bool ralloc_free(struct ralloc *ra, uint64_t phys, uint64_t size)
{
	uint64_t sz;

	if ((phys & RALLOC_MASK) || !ralloc_round(size, &sz) ||
	    sz > UINT64_MAX - phys)
		return false;
	return ralloc_insert(ra, phys, phys + sz);
}

/* Takes a specific, entirely free range out of the free memory. */
bool ralloc_reserve(struct ralloc *ra, uint64_t phys, uint64_t size)
{
	uint64_t sz;

	if ((phys & RALLOC_MASK) || !ralloc_round(size, &sz) ||
	    sz > UINT64_MAX - phys)
		return false;
	for (unsigned i = 0; i < ra->n; i++) {
		const struct ralloc_range *r = &ra->r[i];
		if (r->base <= phys && phys - r->base <= r->size &&
		    sz <= r->size - (phys - r->base))
			return ralloc_carve(ra, i, phys, sz);
	}
	return false;
}

/* Total free bytes. */
uint64_t ralloc_free_bytes(const struct ralloc *ra)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < ra->n && i < RALLOC_MAX; i++)
		sum += ra->r[i].size;
	return sum;
}

/* Checks the free list is sorted, page aligned, disjoint and merged. */
bool ralloc_check(const struct ralloc *ra)
{
	if (ra->n > RALLOC_MAX)
		return false;
	for (unsigned i = 0; i < ra->n; i++) {
		const struct ralloc_range *r = &ra->r[i];
		if (r->size == 0 || (r->base & RALLOC_MASK) ||
		    (r->size & RALLOC_MASK) || r->size > UINT64_MAX - r->base)
			return false;
		if (i > 0 && ra->r[i - 1].base + ra->r[i - 1].size >= r->base)
			return false;
	}
	return true;
}
