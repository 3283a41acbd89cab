/*
 * Common includes and helpers of the host unit tests (cmocka).
 */
#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deterministic pseudo-random numbers (xorshift64*), so that every run of a
 * fuzz test sees the same inputs and failures are reproducible. */
struct unit_rng {
	uint64_t s;
};

/* Seeds r; the seed must not be 0. */
static inline void unit_rng_seed(struct unit_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

/* Next 64 random bits. */
static inline uint64_t unit_rng_next(struct unit_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform-ish value in 0..n-1 (n > 0). */
static inline uint64_t unit_rng_below(struct unit_rng *r, uint64_t n)
{
	return unit_rng_next(r) % n;
}

/* Copies n bytes into a fresh heap block of exactly n bytes (1 if n is 0),
 * so AddressSanitizer catches any read past the end. Free with free(). */
static inline void *unit_exact_copy(const void *src, size_t n)
{
	void *p = calloc(n ? n : 1, 1);
	if (!p)
		abort();
	if (n)
		memcpy(p, src, n);
	return p;
}

#endif
