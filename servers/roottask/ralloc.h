/*
 * Physical-range allocator of the roottask: hands out page-granular pieces
 * of the RAM the kernel gave it (struct hv_hip_mem ranges in the HIP).
 *
 * The free ranges are kept in a fixed array, sorted by address, with
 * touching ranges merged. Operations that would need more entries than
 * RALLOC_MAX fail cleanly and leave the allocator unchanged.
 *
 * Pure logic: no allocation, no global state; the struct is the whole state.
 */
#ifndef ROOTTASK_RALLOC_H
#define ROOTTASK_RALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define RALLOC_MAX 128       /* free ranges the allocator can track */
#define RALLOC_PAGE 4096ull  /* granularity of everything */

struct ralloc_range {
	uint64_t base; /* bytes, multiple of RALLOC_PAGE */
	uint64_t size; /* bytes, multiple of RALLOC_PAGE, > 0 */
};

struct ralloc {
	struct ralloc_range r[RALLOC_MAX]; /* sorted, disjoint, not touching */
	unsigned n;
};

/*
 * Empties ra, then adds the n ranges with ralloc_add. Returns false if any
 * of them was refused (the others are still added).
 */
bool ralloc_init(struct ralloc *ra, const struct ralloc_range *ranges,
		 unsigned n);

/*
 * Adds RAM [base, base+size) to the free ranges, shrunk to whole pages
 * (a range holding no whole page is accepted and adds nothing). Fails,
 * changing nothing, if the range wraps around the address space, overlaps
 * free memory, or the array is full.
 */
bool ralloc_add(struct ralloc *ra, uint64_t base, uint64_t size);

/*
 * Allocates size bytes (rounded up to whole pages) at an address that is a
 * multiple of align (a power of two or 0; values below 4 KiB mean 4 KiB).
 * Takes the lowest fitting address. Returns false if size is 0, align is
 * not a power of two, no free range fits, or the only fitting ranges would
 * have to be split while the array is full.
 */
bool ralloc_alloc(struct ralloc *ra, uint64_t size, uint64_t align,
		  uint64_t *out_phys);

/*
 * Gives back [phys, phys + size rounded up to pages), merging it with
 * neighbouring free ranges. Returns false (and changes nothing) if phys is
 * not page aligned, size is 0, the range wraps, any part of it is already
 * free (double free), or the array is full.
 */
bool ralloc_free(struct ralloc *ra, uint64_t phys, uint64_t size);

/*
 * Removes [phys, phys + size rounded up to pages) from the free ranges,
 * e.g. memory that holds boot modules. Returns false (and changes nothing)
 * unless all of it is free and page aligned, or if the array is full.
 */
bool ralloc_reserve(struct ralloc *ra, uint64_t phys, uint64_t size);

/* Total free bytes. */
uint64_t ralloc_free_bytes(const struct ralloc *ra);

/* Checks the internal invariants (sorted, aligned, disjoint, merged). */
bool ralloc_check(const struct ralloc *ra);

#endif
