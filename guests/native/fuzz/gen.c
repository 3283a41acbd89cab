/*
 * Random values for the fuzzer: a seeded generator per EC, and arguments
 * that are mostly plausible (objects the fuzzer made, addresses in its
 * playground) and sometimes hostile (bad selectors, kernel, non-canonical
 * and unaligned addresses, huge orders, deadlines near 2^64).
 */
#include "fuzz.h"

extern char __image_start[];

/* xorshift64*: small and good enough; never returns to state 0. */
uint64_t fz_rand(struct fz_rng *r)
{
	uint64_t x = r->s ? r->s : 0x9e3779b97f4a7c15ul;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dul;
}

/* splitmix64 of (seed, stream): independent streams from one seed. */
uint64_t fz_seed_of(uint64_t seed, uint64_t stream)
{
	uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ul;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
	z ^= z >> 31;
	return z ? z : 1;
}

uint64_t fz_word(struct fz_rng *r)
{
	switch (fz_below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return fz_below(r, 16);
	case 2:
		return 1ul << fz_below(r, 64);
	case 3:
		return (1ul << fz_below(r, 64)) - 1;
	case 4:
		return ~0ul - fz_below(r, 4);
	case 5:
		return fz_below(r, 0x10000);
	default:
		return fz_rand(r);
	}
}

/* Never an address the fuzzer has mapped (for registers a handler hands
 * back to an EC that may keep running with them). */
uint64_t fz_hostile(struct fz_rng *r)
{
	static const uint64_t v[] = { 0, ~0ul, 1ul << 63, 0x0000800000000000ul, 0xffff800000000000ul,
				      0xffffffff80100000ul, 0xdead0000dead0000ul, 0x7ffffffffff0ul };
	if (fz_chance(r, 2))
		return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
	return fz_rand(r) | (1ul << 47); /* above the user half or non-canonical */
}

unsigned fz_order(struct fz_rng *r)
{
	switch (fz_below(r, 16)) {
	case 0:
		return (unsigned)fz_below(r, 64); /* anything the field holds */
	case 1:
	case 2:
		return (unsigned)fz_below(r, 13);
	case 3:
	case 4:
	case 5:
		return 1 + (unsigned)fz_below(r, 4);
	default:
		return 0;
	}
}

unsigned fz_rights(struct fz_rng *r)
{
	if (fz_chance(r, 4))
		return 0x1f;
	return (unsigned)fz_below(r, 32);
}

void fz_remember(struct fz_ctx *c, hv_sel_t s, unsigned type)
{
	c->recent[0][c->nrecent[0]++ % FZ_RECENT] = s;
	if (type && type < FZ_TYPES)
		c->recent[type][c->nrecent[type]++ % FZ_RECENT] = s;
}

static hv_sel_t sel_bad(struct fz_rng *r)
{
	static const hv_sel_t v[] = { HV_SEL_MAX, HV_SEL_MAX + 1, 0x10000, ~0ul, 1ul << 63, 0xffffffff };
	if (fz_chance(r, 4))
		return fz_rand(r);
	return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
}

static hv_sel_t sel_partition(struct fz_ctx *c)
{
	hv_word_t n = fz_chance(&c->rng, 4) ? fz_part_size : FZ_DENSE;
	if (n > fz_part_size)
		n = fz_part_size;
	return c->part + fz_below(&c->rng, n);
}

hv_sel_t fz_sel_play(struct fz_ctx *c, unsigned type)
{
	struct fz_rng *r = &c->rng;
	switch (fz_below(r, 20)) {
	case 0:
	case 1:
		return sel_bad(r);
	case 2:
	case 3:
	case 4:
		return FZ_SEL_PLAY + fz_below(r, FZ_SEL_PLAY_N);
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
	case 10:
	case 11:
	case 12:
		if (type >= FZ_TYPES || !c->nrecent[type] || fz_chance(r, 4))
			type = 0;
		if (c->nrecent[type])
			return c->recent[type][fz_below(r, c->nrecent[type] < FZ_RECENT ? c->nrecent[type] : FZ_RECENT)];
		/* fall through */
	default:
		return sel_partition(c);
	}
}

hv_sel_t fz_sel_obj(struct fz_ctx *c, unsigned type)
{
	return fz_chance(&c->rng, 12) ? HV_SI_SEL_PD : fz_sel_play(c, type);
}

hv_sel_t fz_sel_dst(struct fz_ctx *c)
{
	switch (fz_below(&c->rng, 20)) {
	case 0:
		return fz_below(&c->rng, 5); /* taken: start-info capabilities */
	case 1:
	case 2:
		return sel_bad(&c->rng);
	case 3:
	case 4:
	case 5:
		return FZ_SEL_PLAY + fz_below(&c->rng, FZ_SEL_PLAY_N);
	default:
		return sel_partition(c);
	}
}

hv_sel_t fz_sel_src(struct fz_ctx *c)
{
	if (fz_chance(&c->rng, 10))
		return HV_SI_SEL_PD;
	return fz_sel_play(c, (unsigned)fz_below(&c->rng, FZ_TYPES));
}

/* Addresses outside the user half (or non-canonical): nothing can be
 * there, whatever the order of a range starting at them. */
hv_word_t fz_addr_beyond(struct fz_rng *r)
{
	static const hv_word_t v[] = { HV_USER_END, 0xffffffff80100000ul, 0xffff800000000000ul, 0x8000000000000000ul,
				       ~0ul & ~0xffful, 0x0000fffffffff000ul };
	if (fz_chance(r, 4))
		return (fz_rand(r) | HV_USER_END) & ~0xffful;
	return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
}

/* Bad in other ways too: unaligned, the first pages, the last user page. */
hv_word_t fz_addr_bad(struct fz_rng *r)
{
	static const hv_word_t v[] = { 0, 0x1000, 0x123, HV_USER_END - HV_PAGE_SIZE, HV_SI_HEAP + 0x10 };
	if (fz_chance(r, 2))
		return fz_addr_beyond(r);
	return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
}

hv_word_t fz_addr_play(struct fz_rng *r, unsigned order)
{
	hv_word_t page = fz_below(r, FZ_VA_PLAY_PAGES);
	if (order < 40)
		page &= ~((1ul << order) - 1);
	return FZ_VA_PLAY + (page << 12);
}

/* Where a mapping may go: the playground window, or nowhere (taken or bad).
 * Nothing ever lands on memory the fuzzer uses: delegation needs a free
 * destination range. */
hv_word_t fz_addr_dst(struct fz_rng *r, unsigned order)
{
	if (fz_chance(r, 40))
		return (hv_word_t)__image_start; /* taken */
	return fz_chance(r, 5) ? fz_addr_bad(r) : fz_addr_play(r, order);
}

/* A range of the own memory that may be passed on (and written through by
 * whoever gets it): the scratch and guest pools, whose contents never
 * matter, code (read-only, one page), aliases in the playground, or
 * nothing. A range never reaches beyond its pool (each is aligned to its
 * size), so a stack or the fuzzer's data is never handed out. */
hv_word_t fz_addr_src(struct fz_rng *r, unsigned order)
{
	hv_word_t page;
	switch (fz_below(r, 10)) {
	case 0:
		return fz_addr_beyond(r);
	case 1:
		return order ? fz_addr_beyond(r) : (hv_word_t)__image_start + (fz_below(r, 2) << 12);
	case 2:
	case 3:
		return order > 14 ? fz_addr_beyond(r) : fz_addr_play(r, order);
	case 4:
	case 5:
		if ((1ul << order) > FZ_GUEST_PAGES)
			return fz_addr_beyond(r);
		page = fz_below(r, FZ_GUEST_PAGES) & ~((1ul << order) - 1);
		return fz_guest + (page << 12);
	default:
		if ((1ul << order) > FZ_SCRATCH_PAGES)
			return fz_addr_beyond(r);
		page = fz_below(r, FZ_SCRATCH_PAGES) & ~((1ul << order) - 1);
		return fz_scratch + (page << 12);
	}
}

hv_word_t fz_gpa(struct fz_rng *r, unsigned order)
{
	hv_word_t mask = order < 40 ? ~((HV_PAGE_SIZE << order) - 1) : 0;
	switch (fz_below(r, 8)) {
	case 0:
		return fz_addr_bad(r);
	case 1:
		return (0xfee00000ul + (fz_below(r, 0x200) << 12)) & mask; /* APIC, BIOS area */
	case 2:
		return (fz_rand(r) & ((1ul << 52) - 1)) & mask;
	case 3:
		return ((1ul << 39) - HV_PAGE_SIZE) & mask; /* the end of the guest-physical space */
	default:
		return (fz_below(r, 4096) << 12) & mask; /* the first 16 MiB */
	}
}

hv_word_t fz_port(struct fz_rng *r)
{
	switch (fz_below(r, 6)) {
	case 0:
		return fz_below(r, 0x10000);
	case 1:
		return 0x10000 + fz_below(r, 16);
	default:
		return 0x80 + fz_below(r, 8); /* the ports the configuration grants */
	}
}

/* A deadline for sm down. Workers only ever wait a little (or not at all);
 * victims get anything, including none and ones near 2^64. */
hv_word_t fz_deadline(struct fz_ctx *c, bool *blocking)
{
	hv_word_t now = hv_rdtsc(), ms = fz_tsc_khz;
	*blocking = true;
	switch (fz_below(&c->rng, c->role == FZ_VICTIM ? 10 : 6)) {
	case 0:
		return now - fz_below(&c->rng, 1000); /* already past */
	case 1:
		return 1;
	case 2:
	case 3:
		return now + fz_below(&c->rng, ms / 4 + 1);
	case 4:
	case 5:
		*blocking = false; /* try-down */
		return 0;
	case 6:
		return 0; /* no deadline */
	case 7:
		return ~0ul - fz_below(&c->rng, 1u << 20);
	case 8:
		return (1ul << 63) + fz_below(&c->rng, 1000);
	default:
		return now + fz_below(&c->rng, 20 * ms);
	}
}
