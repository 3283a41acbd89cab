/*
 * Unit tests of the kernel memory allocator (hypervisor/kmem.c): the page
 * pool, the size classes and the per-PD quotas. The pool is one host
 * region (aligned_alloc) handed to kmem_add_range() once; kmem.c keeps its
 * state in static variables, so the tests share the pool and each one
 * leaves it as it found it (objects never go back to the pool, though).
 */
#include "unit.h"

#include "kmem.h"

#define NPAGES 256
#define REGION_SIZE (NPAGES * PAGE_SIZE)

static char *region;

static int group_setup(void **state)
{
	(void)state;
	region = aligned_alloc(PAGE_SIZE, REGION_SIZE);
	if (!region)
		return -1;
	memset(region, 0xa5, REGION_SIZE); /* so that "zeroed" means something */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(region);
	return 0;
}

static bool in_region(const void *p, size_t size)
{
	const char *c = p;
	return c >= region && c <= region + REGION_SIZE - size;
}

static bool all_zero(const void *p, size_t size)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < size; i++)
		if (c[i])
			return false;
	return true;
}

/* What an allocation of `size` bytes is charged (and occupies). */
static size_t charged(size_t size)
{
	if (size > 2048)
		return PAGE_SIZE;
	size_t c = 32;
	while (c < size)
		c *= 2;
	return c;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static void test_add_range(void **state)
{
	(void)state;
	assert_int_equal(kmem_free_pages(), 0);
	assert_null(page_alloc());
	/* the last, partial page is left out */
	kmem_add_range(region, REGION_SIZE - PAGE_SIZE + PAGE_SIZE / 2);
	assert_int_equal(kmem_free_pages(), NPAGES - 1);
	kmem_add_range(region + REGION_SIZE - PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(kmem_free_pages(), NPAGES);
	kmem_add_range(region, PAGE_SIZE - 1); /* nothing */
	assert_int_equal(kmem_free_pages(), NPAGES);
}

static void test_pages(void **state)
{
	(void)state;
	static uintptr_t pages[NPAGES];

	char *p = page_alloc();
	assert_non_null(p);
	assert_true(in_region(p, PAGE_SIZE));
	assert_int_equal((uintptr_t)p % PAGE_SIZE, 0);
	assert_true(all_zero(p, PAGE_SIZE));
	assert_int_equal(kmem_free_pages(), NPAGES - 1);
	memset(p, 0xff, PAGE_SIZE);
	page_free(p);
	assert_int_equal(kmem_free_pages(), NPAGES);
	char *q = page_alloc(); /* the page just freed, zeroed again */
	assert_ptr_equal(q, p);
	assert_true(all_zero(q, PAGE_SIZE));
	page_free(q);

	/* the whole pool: every page of the region exactly once */
	for (unsigned i = 0; i < NPAGES; i++) {
		char *pg = page_alloc();
		assert_non_null(pg);
		assert_true(all_zero(pg, PAGE_SIZE));
		memset(pg, (int)i, PAGE_SIZE);
		pages[i] = (uintptr_t)pg;
	}
	assert_int_equal(kmem_free_pages(), 0);
	assert_null(page_alloc());
	assert_int_equal(kmem_free_pages(), 0);
	qsort(pages, NPAGES, sizeof(pages[0]), cmp_ptr);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(pages[i], (uintptr_t)region + i * PAGE_SIZE);
	for (unsigned i = 0; i < NPAGES; i++)
		page_free((void *)pages[i]);
	assert_int_equal(kmem_free_pages(), NPAGES);
}

static void test_sizes_rejected(void **state)
{
	(void)state;
	struct kmem_quota q = { .limit = 1 << 20, .used = 0 };
	size_t pages = kmem_free_pages();
	assert_null(kmem_alloc(&q, 0));
	assert_null(kmem_alloc(&q, PAGE_SIZE + 1));
	assert_null(kmem_alloc(&q, 2 * PAGE_SIZE));
	assert_null(kmem_alloc(&q, SIZE_MAX));
	assert_null(kmem_alloc(NULL, 0));
	assert_null(kmem_alloc(NULL, PAGE_SIZE + 1));
	assert_int_equal(q.used, 0);
	assert_int_equal(kmem_free_pages(), pages);
}

static void test_charging(void **state)
{
	(void)state;
	static const size_t sizes[][2] = {
		{ 1, 32 },     { 31, 32 },     { 32, 32 },     { 33, 64 },     { 64, 64 },
		{ 65, 128 },   { 100, 128 },   { 128, 128 },   { 129, 256 },   { 256, 256 },
		{ 257, 512 },  { 512, 512 },   { 513, 1024 },  { 1000, 1024 }, { 1024, 1024 },
		{ 1025, 2048 }, { 2047, 2048 }, { 2048, 2048 }, { 2049, 4096 }, { 4095, 4096 },
		{ 4096, 4096 },
	};
	struct kmem_quota q = { .limit = 1 << 20, .used = 0 };
	void *p[ARRAY_SIZE(sizes)];
	u64 used = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		assert_int_equal(charged(sizes[i][0]), sizes[i][1]);
		p[i] = kmem_alloc(&q, sizes[i][0]);
		assert_non_null(p[i]);
		used += sizes[i][1];
		assert_int_equal(q.used, used);
		assert_true(in_region(p[i], sizes[i][1]));
		assert_int_equal((uintptr_t)p[i] % sizes[i][1], 0); /* naturally aligned */
		assert_true(all_zero(p[i], sizes[i][1]));
		memset(p[i], 0x5a, sizes[i][0]);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		kmem_free(&q, p[i], sizes[i][0]);
		used -= sizes[i][1];
		assert_int_equal(q.used, used);
	}
	assert_int_equal(q.used, 0);

	/* without a quota */
	void *n = kmem_alloc(NULL, 40);
	assert_non_null(n);
	kmem_free(NULL, n, 40);
	/* freeing NULL charges nothing back */
	q.used = 64;
	kmem_free(&q, NULL, 64);
	assert_int_equal(q.used, 64);
}

static void test_distinct(void **state)
{
	(void)state;
	enum { N = 300 };
	static struct {
		uintptr_t p;
		size_t size;
	} obj[N];
	static uintptr_t sorted[N][2];
	struct unit_rng r;
	struct kmem_quota q = { .limit = 1 << 30, .used = 0 };
	u64 used = 0;
	unit_rng_seed(&r, 0x6b6d656d);

	for (unsigned i = 0; i < N; i++) {
		u64 x = unit_rng_below(&r, 100);
		size_t size = x < 80 ? 1 + unit_rng_below(&r, 512)
			    : x < 95 ? 513 + unit_rng_below(&r, 1536) : 2049 + unit_rng_below(&r, 2048);
		void *p = kmem_alloc(&q, size);
		assert_non_null(p);
		assert_true(in_region(p, charged(size)));
		assert_int_equal((uintptr_t)p % charged(size), 0);
		assert_true(all_zero(p, charged(size)));
		memset(p, (int)(i & 0xff), size);
		obj[i].p = (uintptr_t)p;
		obj[i].size = size;
		used += charged(size);
		assert_int_equal(q.used, used);
	}
	/* nothing overlaps, nothing was overwritten */
	for (unsigned i = 0; i < N; i++) {
		sorted[i][0] = obj[i].p;
		sorted[i][1] = obj[i].p + charged(obj[i].size);
	}
	qsort(sorted, N, sizeof(sorted[0]), cmp_ptr);
	for (unsigned i = 1; i < N; i++)
		assert_true(sorted[i][0] >= sorted[i - 1][1]);
	for (unsigned i = 0; i < N; i++) {
		const unsigned char *c = (const unsigned char *)obj[i].p;
		for (size_t j = 0; j < obj[i].size; j++)
			if (c[j] != (i & 0xff))
				fail_msg("object %u (%zu bytes) overwritten at %zu", i, obj[i].size, j);
	}
	/* free in random order; allocating again gives zeroed memory */
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)unit_rng_below(&r, i + 1);
		uintptr_t tp = obj[i].p;
		size_t ts = obj[i].size;
		obj[i] = obj[j];
		obj[j].p = tp;
		obj[j].size = ts;
	}
	for (unsigned i = 0; i < N; i++) {
		kmem_free(&q, (void *)obj[i].p, obj[i].size);
		used -= charged(obj[i].size);
		assert_int_equal(q.used, used);
	}
	assert_int_equal(q.used, 0);
	for (unsigned i = 0; i < N; i++) {
		void *p = kmem_alloc(&q, obj[i].size);
		assert_non_null(p);
		assert_true(all_zero(p, charged(obj[i].size)));
		obj[i].p = (uintptr_t)p;
	}
	for (unsigned i = 0; i < N; i++)
		kmem_free(&q, (void *)obj[i].p, obj[i].size);
	assert_int_equal(q.used, 0);
}

static void test_reuse(void **state)
{
	(void)state;
	/* an object goes back to its class and comes out zeroed */
	char *p = kmem_alloc(NULL, 100);
	assert_non_null(p);
	memset(p, 0xee, 128);
	kmem_free(NULL, p, 100);
	char *q = kmem_alloc(NULL, 65); /* same class (128) */
	assert_ptr_equal(q, p);
	assert_true(all_zero(q, 128));
	kmem_free(NULL, q, 65);

	/* objects do not go back to the pool; pages do */
	size_t pages = kmem_free_pages();
	p = kmem_alloc(NULL, 128);
	kmem_free(NULL, p, 128);
	assert_int_equal(kmem_free_pages(), pages);
	p = kmem_alloc(NULL, 3000);
	assert_int_equal(kmem_free_pages(), pages - 1);
	memset(p, 0x77, PAGE_SIZE);
	kmem_free(NULL, p, 3000);
	assert_int_equal(kmem_free_pages(), pages);
	q = page_alloc();
	assert_ptr_equal(q, p);
	assert_true(all_zero(q, PAGE_SIZE));
	page_free(q);
}

static void test_quota(void **state)
{
	(void)state;
	size_t pages = kmem_free_pages();
	struct kmem_quota q = { .limit = 100, .used = 0 };

	void *a = kmem_alloc(&q, 64);
	assert_non_null(a);
	assert_int_equal(q.used, 64);
	assert_null(kmem_alloc(&q, 64)); /* 128 > 100 */
	assert_null(kmem_alloc(&q, 33)); /* charged 64 */
	assert_int_equal(q.used, 64);
	void *b = kmem_alloc(&q, 32);
	assert_non_null(b);
	assert_int_equal(q.used, 96);
	assert_null(kmem_alloc(&q, 1)); /* charged 32 > 4 left */
	assert_null(kmem_alloc(&q, PAGE_SIZE));
	assert_int_equal(q.used, 96);
	kmem_free(&q, a, 64);
	assert_int_equal(q.used, 32);
	a = kmem_alloc(&q, 60);
	assert_non_null(a);
	assert_int_equal(q.used, 96);
	kmem_free(&q, a, 60);
	kmem_free(&q, b, 32);
	assert_int_equal(q.used, 0);

	/* exactly the limit */
	q.limit = PAGE_SIZE;
	a = kmem_alloc(&q, PAGE_SIZE);
	assert_non_null(a);
	assert_int_equal(q.used, PAGE_SIZE);
	assert_null(kmem_alloc(&q, 1));
	kmem_free(&q, a, PAGE_SIZE);
	assert_int_equal(q.used, 0);
	q.limit = 0;
	assert_null(kmem_alloc(&q, 1));
	assert_int_equal(q.used, 0);
	assert_int_equal(kmem_free_pages(), pages);

	/* charge and uncharge directly */
	q = (struct kmem_quota){ .limit = 100, .used = 10 };
	assert_true(kmem_charge(&q, 90));
	assert_int_equal(q.used, 100);
	assert_false(kmem_charge(&q, 1));
	assert_int_equal(q.used, 100);
	assert_true(kmem_charge(&q, 0));
	kmem_uncharge(&q, 30);
	assert_int_equal(q.used, 70);
	kmem_uncharge(&q, 1000); /* never below zero */
	assert_int_equal(q.used, 0);
	assert_true(kmem_charge(NULL, SIZE_MAX));
	kmem_uncharge(NULL, 5);

	/* a charge so big that used + bytes wraps around is refused */
	q = (struct kmem_quota){ .limit = 100, .used = 10 };
	assert_false(kmem_charge(&q, SIZE_MAX - 5));
	assert_int_equal(q.used, 10);
	assert_false(kmem_charge(&q, SIZE_MAX));
	assert_false(kmem_charge(&q, 101));
	assert_int_equal(q.used, 10);
	q = (struct kmem_quota){ .limit = UINT64_MAX, .used = UINT64_MAX - 10 };
	assert_false(kmem_charge(&q, 11 + PAGE_SIZE));
	assert_true(kmem_charge(&q, 10));
	assert_int_equal(q.used, UINT64_MAX);
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	static void *pages[NPAGES], *objs[NPAGES * 4];
	struct kmem_quota q = { .limit = 1 << 30, .used = 0 };
	size_t npages = 0, nobjs = 0;

	while ((pages[npages] = page_alloc()))
		npages++;
	assert_true(npages > 0);
	assert_int_equal(kmem_free_pages(), 0);

	/* page-sized objects: refused, quota untouched */
	assert_null(kmem_alloc(&q, PAGE_SIZE));
	assert_null(kmem_alloc(&q, 2049));
	assert_int_equal(q.used, 0);
	/* a class runs dry (what is left on its free list first) */
	while ((objs[nobjs] = kmem_alloc(&q, 1024))) {
		nobjs++;
		assert_int_equal(q.used, nobjs * 1024);
		assert_true(nobjs < ARRAY_SIZE(objs));
	}
	assert_int_equal(q.used, nobjs * 1024);
	assert_null(kmem_alloc(&q, 1000));
	assert_int_equal(q.used, nobjs * 1024);
	for (size_t i = 0; i < nobjs; i++)
		kmem_free(&q, objs[i], 1024);
	assert_int_equal(q.used, 0);

	/* pages back: allocation works again, from a new page for an empty class */
	for (size_t i = 0; i < npages; i++)
		page_free(pages[i]);
	assert_int_equal(kmem_free_pages(), npages);
	void *p = kmem_alloc(&q, PAGE_SIZE);
	assert_non_null(p);
	assert_int_equal(kmem_free_pages(), npages - 1);
	kmem_free(&q, p, PAGE_SIZE);
	assert_int_equal(q.used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_range),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_sizes_rejected),
		cmocka_unit_test(test_charging),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_pool_exhausted),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
