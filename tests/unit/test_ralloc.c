/*
 * Unit tests of the roottask physical-range allocator
 * (servers/roottask/ralloc.c).
 */
#include "unit.h"

#include "ralloc.h"

#define K 1024ull
#define M (1024ull * 1024)

static struct ralloc ra;

/* Asserts that the free list is exactly the n given (base, size) pairs. */
static void expect_free(unsigned n, const struct ralloc_range *want)
{
	assert_true(ralloc_check(&ra));
	if (ra.n != n) {
		for (unsigned i = 0; i < ra.n; i++)
			print_message("  free: 0x%llx + 0x%llx\n",
				      (unsigned long long)ra.r[i].base,
				      (unsigned long long)ra.r[i].size);
		fail_msg("%u free ranges, expected %u", ra.n, n);
	}
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ra.r[i].base, want[i].base);
		assert_int_equal(ra.r[i].size, want[i].size);
	}
}

#define EXPECT_FREE(...)                                                     \
	do {                                                                 \
		const struct ralloc_range w_[] = { __VA_ARGS__ };            \
		expect_free(sizeof w_ / sizeof w_[0], w_);                   \
	} while (0)

static void test_init(void **state)
{
	static const struct ralloc_range hip[] = {
		{ 0x200000, 0x100000 },
		{ 0x100000, 0x100000 }, /* touches the first: merged */
		{ 0x800123, 0x3000 },   /* trimmed to 0x801000..0x803000 */
		{ 0x900001, 0xfff },    /* no whole page: ignored */
		{ 0, 0 },               /* empty: ignored */
	};
	(void)state;

	assert_true(ralloc_init(&ra, hip, 5));
	EXPECT_FREE({ 0x100000, 0x200000 }, { 0x801000, 0x2000 });
	assert_int_equal(ralloc_free_bytes(&ra), 0x202000);

	/* overlapping and wrapping ranges are refused, the rest added */
	static const struct ralloc_range bad[] = {
		{ 0x100000, 0x10000 },
		{ 0x108000, 0x10000 },            /* overlaps */
		{ 0xfffffffffffff000ull, 0x2000 }, /* wraps */
		{ 0x300000, 0x1000 },
	};
	assert_false(ralloc_init(&ra, bad, 4));
	EXPECT_FREE({ 0x100000, 0x10000 }, { 0x300000, 0x1000 });

	assert_true(ralloc_init(&ra, NULL, 3));
	assert_int_equal(ra.n, 0);
	assert_int_equal(ralloc_free_bytes(&ra), 0);
	/* the last page of the address space cannot be represented */
	assert_true(ralloc_add(&ra, 0xfffffffffffff000ull, 0xfff));
	assert_true(ralloc_add(&ra, 0xfffffffffffff001ull, 0x10));
	assert_int_equal(ra.n, 0);
	assert_true(ralloc_add(&ra, 0xffffffffffffe000ull, 0x1fff));
	EXPECT_FREE({ 0xffffffffffffe000ull, 0x1000 });
}

static void test_alloc_basic(void **state)
{
	static const struct ralloc_range hip[] = { { 0x101000, 0x3ff000 } };
	uint64_t p;
	(void)state;

	ralloc_init(&ra, hip, 1);
	/* lowest address, size rounded up to pages */
	assert_true(ralloc_alloc(&ra, 1, 0, &p));
	assert_int_equal(p, 0x101000);
	assert_true(ralloc_alloc(&ra, 0x1001, 4096, &p));
	assert_int_equal(p, 0x102000);
	EXPECT_FREE({ 0x104000, 0x3fc000 });
	/* small alignments mean a page */
	assert_true(ralloc_alloc(&ra, 4096, 16, &p));
	assert_int_equal(p, 0x104000);
	/* 2 MiB alignment leaves a hole below */
	assert_true(ralloc_alloc(&ra, 2 * M, 2 * M, &p));
	assert_int_equal(p, 0x200000);
	EXPECT_FREE({ 0x105000, 0xfb000 }, { 0x400000, 0x100000 });
	/* the hole is used by later fitting requests */
	assert_true(ralloc_alloc(&ra, 64 * K, 64 * K, &p));
	assert_int_equal(p, 0x110000);
	/* bad requests */
	assert_false(ralloc_alloc(&ra, 0, 4096, &p));
	assert_false(ralloc_alloc(&ra, 4096, 3 * 4096, &p));
	assert_false(ralloc_alloc(&ra, 4096, 4097, &p));
	assert_false(ralloc_alloc(&ra, 0xffffffffffffffffull, 4096, &p));
	assert_false(ralloc_alloc(&ra, 16 * M, 4096, &p));
	assert_false(ralloc_alloc(&ra, 4096, 1ull << 63, &p));
	assert_false(ralloc_alloc(&ra, 4096, 8 * M, &p));
	assert_true(ralloc_check(&ra));
}

static void test_exhaust(void **state)
{
	static const struct ralloc_range hip[] = { { 0x10000, 0x10000 },
						   { 0x40000, 0x8000 } };
	uint64_t p, got[64];
	unsigned n = 0;
	(void)state;

	ralloc_init(&ra, hip, 2);
	while (ralloc_alloc(&ra, 4096, 4096, &p)) {
		assert_true(n < 64);
		got[n++] = p;
	}
	assert_int_equal(n, 24);
	assert_int_equal(ra.n, 0);
	assert_int_equal(ralloc_free_bytes(&ra), 0);
	assert_false(ralloc_alloc(&ra, 1, 0, &p));
	/* give everything back in a scrambled order: one range per RAM area */
	for (unsigned i = 0; i < n; i++)
		assert_true(ralloc_free(&ra, got[(i * 7) % n], 4096));
	EXPECT_FREE({ 0x10000, 0x10000 }, { 0x40000, 0x8000 });
	/* a request larger than any single range fails */
	assert_false(ralloc_alloc(&ra, 0x11000, 0, &p));
	assert_true(ralloc_alloc(&ra, 0x10000, 0, &p));
	assert_int_equal(p, 0x10000);
}

static void test_free_merge(void **state)
{
	static const struct ralloc_range hip[] = { { 0x100000, 0x10000 } };
	uint64_t a, b, c, d;
	(void)state;

	ralloc_init(&ra, hip, 1);
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &a));
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &b));
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &c));
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &d));
	EXPECT_FREE({ 0x104000, 0xc000 });
	/* free b: new range between nothing */
	assert_true(ralloc_free(&ra, b, 0x1000));
	EXPECT_FREE({ 0x101000, 0x1000 }, { 0x104000, 0xc000 });
	/* free d: merges with the range above */
	assert_true(ralloc_free(&ra, d, 1));
	EXPECT_FREE({ 0x101000, 0x1000 }, { 0x103000, 0xd000 });
	/* free a: merges with b below... above */
	assert_true(ralloc_free(&ra, a, 0x1000));
	EXPECT_FREE({ 0x100000, 0x2000 }, { 0x103000, 0xd000 });
	/* double frees and partial overlaps are refused without change */
	assert_false(ralloc_free(&ra, a, 0x1000));
	assert_false(ralloc_free(&ra, c, 0x2000));
	assert_false(ralloc_free(&ra, 0xff000, 0x2000));
	assert_false(ralloc_free(&ra, 0x10f000, 0x1000));
	assert_false(ralloc_free(&ra, 0x100000, 0x20000));
	EXPECT_FREE({ 0x100000, 0x2000 }, { 0x103000, 0xd000 });
	/* bad arguments */
	assert_false(ralloc_free(&ra, c + 1, 0x1000));
	assert_false(ralloc_free(&ra, c, 0));
	assert_false(ralloc_free(&ra, 0xfffffffffffff000ull, 0x1000));
	assert_false(ralloc_free(&ra, c, 0xffffffffffffffffull));
	/* free c: closes the gap, both sides merge */
	assert_true(ralloc_free(&ra, c, 0x1000));
	EXPECT_FREE({ 0x100000, 0x10000 });
	/* memory outside the original ranges can be given too */
	assert_true(ralloc_free(&ra, 0x200000, 0x1000));
	assert_true(ralloc_free(&ra, 0x0, 0x1000));
	EXPECT_FREE({ 0x0, 0x1000 }, { 0x100000, 0x10000 }, { 0x200000, 0x1000 });
}

static void test_reserve(void **state)
{
	static const struct ralloc_range hip[] = { { 0x100000, 0x10000 } };
	uint64_t p;
	(void)state;

	ralloc_init(&ra, hip, 1);
	assert_true(ralloc_reserve(&ra, 0x104000, 0x1800));
	EXPECT_FREE({ 0x100000, 0x4000 }, { 0x106000, 0xa000 });
	assert_false(ralloc_reserve(&ra, 0x104000, 0x1000)); /* not free */
	assert_false(ralloc_reserve(&ra, 0x103000, 0x2000)); /* partly */
	assert_false(ralloc_reserve(&ra, 0x10f000, 0x2000)); /* beyond */
	assert_false(ralloc_reserve(&ra, 0x100800, 0x1000)); /* unaligned */
	assert_false(ralloc_reserve(&ra, 0x100000, 0));
	assert_true(ralloc_reserve(&ra, 0x100000, 0x1000)); /* at the start */
	assert_true(ralloc_reserve(&ra, 0x10f000, 0x1000)); /* at the end */
	assert_true(ralloc_reserve(&ra, 0x101000, 0x3000)); /* a whole range */
	EXPECT_FREE({ 0x106000, 0x9000 });
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &p));
	assert_int_equal(p, 0x106000);
}

static void test_full_table(void **state)
{
	uint64_t p;
	(void)state;

	/* RALLOC_MAX separate ranges: 0x10000 apart, 0x2000 each */
	ralloc_init(&ra, NULL, 0);
	for (unsigned i = 0; i < RALLOC_MAX; i++)
		assert_true(ralloc_add(&ra, 0x10000ull * (i + 1), 0x2000));
	assert_int_equal(ra.n, RALLOC_MAX);
	/* one more separate range does not fit, touching ones do */
	assert_false(ralloc_add(&ra, 0x10000ull * (RALLOC_MAX + 1), 0x1000));
	assert_false(ralloc_free(&ra, 0x18000, 0x1000));
	assert_true(ralloc_free(&ra, 0x12000, 0x2000));
	assert_true(ralloc_free(&ra, 0xf000, 0x1000));
	assert_true(ralloc_check(&ra));
	assert_int_equal(ra.n, RALLOC_MAX);
	assert_int_equal(ra.r[0].base, 0xf000);
	assert_int_equal(ra.r[0].size, 0x5000);
	/* taking the middle of a range would split it: refused; ends are fine */
	assert_false(ralloc_reserve(&ra, 0x10000, 0x1000));
	assert_true(ralloc_reserve(&ra, 0xf000, 0x1000));
	assert_true(ralloc_alloc(&ra, 0x1000, 0, &p));
	assert_int_equal(p, 0x10000);
	/* first range is now 0x11000..0x14000: a 0x2000-aligned page there
	 * (0x12000) would split it, so the next range is used */
	assert_true(ralloc_alloc(&ra, 0x1000, 0x2000, &p));
	assert_int_equal(p, 0x20000);
	assert_true(ralloc_free(&ra, 0x20000, 0x1000));
	assert_int_equal(ra.n, RALLOC_MAX);
	/* a range used up completely disappears, making room again */
	assert_true(ralloc_alloc(&ra, 0x3000, 0, &p));
	assert_int_equal(p, 0x11000);
	assert_int_equal(ra.n, RALLOC_MAX - 1);
	assert_true(ralloc_free(&ra, 0x5000000, 0x1000));
	assert_int_equal(ra.n, RALLOC_MAX);
	assert_true(ralloc_check(&ra));
}

/* An allocation made by the stress test. */
struct used {
	uint64_t base, size;
};

/* Whether [base, base+size) lies inside one of the n RAM ranges. */
static bool inside(const struct ralloc_range *ram, unsigned n, uint64_t base,
		   uint64_t size)
{
	for (unsigned i = 0; i < n; i++)
		if (base >= ram[i].base &&
		    base + size <= ram[i].base + ram[i].size)
			return true;
	return false;
}

static void test_stress(void **state)
{
	static const struct ralloc_range ram[] = {
		{ 0x100000, 0x9f000 }, { 0x200000, 0x1e00000 },
		{ 0x4000000, 0x400000 }, { 0x8000000, 0x1000 },
	};
	enum { MAX_USED = 300 };
	static struct used used[MAX_USED];
	unsigned nused = 0, fails = 0, full = 0;
	uint64_t total = 0;
	struct unit_rng r;
	(void)state;

	assert_true(ralloc_init(&ra, ram, 4));
	total = ralloc_free_bytes(&ra);
	unit_rng_seed(&r, 1234);
	for (int it = 0; it < 20000; it++) {
		bool do_alloc = nused == 0 ||
				(nused < MAX_USED && unit_rng_below(&r, 100) < 55);
		if (do_alloc) {
			uint64_t size = 1 + unit_rng_below(&r, 64 * K);
			uint64_t align = 1ull << (12 + unit_rng_below(&r, 10));
			uint64_t p, rounded;
			if (unit_rng_below(&r, 20) == 0)
				size = 1 + unit_rng_below(&r, 4 * M);
			rounded = (size + 0xfff) & ~0xfffull;
			if (!ralloc_alloc(&ra, size, align, &p)) {
				fails++;
				continue;
			}
			assert_int_equal(p % align, 0);
			assert_true(inside(ram, 4, p, rounded));
			for (unsigned i = 0; i < nused; i++)
				assert_true(p + rounded <= used[i].base ||
					    used[i].base + used[i].size <= p);
			used[nused].base = p;
			used[nused++].size = rounded;
		} else {
			unsigned i = (unsigned)unit_rng_below(&r, nused);
			if (!ralloc_free(&ra, used[i].base, used[i].size)) {
				/* only when it needs a new entry and there is none */
				assert_int_equal(ra.n, RALLOC_MAX);
				full++;
				continue;
			}
			/* freeing it again must be refused */
			assert_false(ralloc_free(&ra, used[i].base, 4096));
			used[i] = used[--nused];
		}
		assert_true(ralloc_check(&ra));
		uint64_t in_use = 0;
		for (unsigned i = 0; i < nused; i++)
			in_use += used[i].size;
		assert_int_equal(ralloc_free_bytes(&ra) + in_use, total);
		/* no free range overlaps an allocation */
		for (unsigned f = 0; f < ra.n; f++)
			for (unsigned i = 0; i < nused; i++)
				assert_true(ra.r[f].base + ra.r[f].size <=
						    used[i].base ||
					    used[i].base + used[i].size <=
						    ra.r[f].base);
	}
	/* both exhaustion and a full table were reached sometimes */
	assert_true(fails > 0 && full > 0);
	/* give everything back; a free that needs a new entry while the table
	 * is full fails, but one next to a free range always succeeds, so
	 * repeated passes finish */
	while (nused > 0) {
		unsigned before = nused;
		for (unsigned i = 0; i < nused;) {
			if (ralloc_free(&ra, used[i].base, used[i].size))
				used[i] = used[--nused];
			else
				i++;
		}
		assert_true(nused < before);
	}
	expect_free(4, ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_alloc_basic),
		cmocka_unit_test(test_exhaust),
		cmocka_unit_test(test_free_merge),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_stress),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
