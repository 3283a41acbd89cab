/*
 * Unit tests of the kernel memory allocator (hypervisor/kmem.c): the page
 * pool, the slabs, the per-quota accounting by page, poisoning, and that
 * kernel memory comes back: after every pattern of allocations and frees
 * (also through the mapping database, hypervisor/mdb.c, with its nodes
 * from kmem as in the kernel) the pool's free-page count is what it was.
 * The pool is one host region (aligned_alloc) handed to kmem_add_range()
 * once; kmem.c keeps its state in static variables, so the tests share the
 * pool and each one leaves it as it found it.
 */
#include "unit.h"

#include "kernel.h"
#include "kmem.h"
#include "mdb.h"

#define NPAGES 256
#define REGION_SIZE (NPAGES * PAGE_SIZE)
#define SLAB_MAX 1024

static char *region;

/* panic(): fails the test unless a test expects it (then it jumps back there). */
static jmp_buf panic_jmp;
static bool panic_expected;
static char panic_msg[256];

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	if (!panic_expected) {
		fprintf(stderr, "unexpected panic: %s\n", panic_msg);
		abort();
	}
	panic_expected = false;
	longjmp(panic_jmp, 1);
}

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

static bool all_bytes(const void *p, size_t size, unsigned char v)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < size; i++)
		if (c[i] != v)
			return false;
	return true;
}

static bool all_zero(const void *p, size_t size) { return all_bytes(p, size, 0); }

/* The block an allocation of `size` bytes occupies (a page above 1 KiB). */
static size_t block(size_t size)
{
	if (size > SLAB_MAX)
		return PAGE_SIZE;
	size_t c = 32;
	while (c < size)
		c *= 2;
	return c;
}

/* Blocks of that size in one slab page (the page's end holds the slab header). */
static size_t per_page(size_t size) { return size > SLAB_MAX ? 1 : (PAGE_SIZE - 64) / block(size); }

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* Pages of the pool in use now. */
static size_t pages_used(void) { return NPAGES - kmem_free_pages(); }

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
	assert_true(all_bytes(p + 16, PAGE_SIZE - 16, KMEM_POISON)); /* poisoned while free */
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
	struct kmem_quota q = { .limit = 1 << 20 };
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

/* Objects are zeroed, naturally aligned, charged by the page their slab takes. */
static void test_charging(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 31, 32, 33, 64, 65, 100, 128, 129, 256, 257, 512,
					513, 1000, 1024, 1025, 2047, 2048, 2049, 4095, 4096 };
	struct kmem_quota q = { .limit = 1 << 20 };
	void *p[ARRAY_SIZE(sizes)];

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t used = q.used, taken = pages_used();
		p[i] = kmem_alloc(&q, sizes[i]);
		assert_non_null(p[i]);
		/* a new class or a page-sized object takes a page; the same class does not */
		bool same_slab = i > 0 && block(sizes[i - 1]) == block(sizes[i]) && sizes[i] <= SLAB_MAX;
		assert_int_equal(q.used, used + (same_slab ? 0 : PAGE_SIZE));
		assert_int_equal(pages_used(), taken + (same_slab ? 0 : 1));
		assert_true(in_region(p[i], block(sizes[i])));
		assert_int_equal((uintptr_t)p[i] % block(sizes[i]), 0); /* naturally aligned */
		assert_true(all_zero(p[i], block(sizes[i])));
		memset(p[i], 0x5a, sizes[i]);
	}
	assert_int_equal(q.used, pages_used() * PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++)
		kmem_free(&q, p[i], sizes[i]);
	assert_int_equal(q.used, 0);
	assert_int_equal(pages_used(), 0);

	/* without a quota: the kernel's own slabs, charged to nobody */
	void *n = kmem_alloc(NULL, 40);
	assert_non_null(n);
	assert_int_equal(pages_used(), 1);
	kmem_free(NULL, n, 40);
	assert_int_equal(pages_used(), 0);
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
	struct kmem_quota q = { .limit = 1 << 30 };
	unit_rng_seed(&r, 0x6b6d656d);

	for (unsigned i = 0; i < N; i++) {
		u64 x = unit_rng_below(&r, 100);
		size_t size = x < 80 ? 1 + unit_rng_below(&r, 512)
			    : x < 95 ? 513 + unit_rng_below(&r, 1536) : 2049 + unit_rng_below(&r, 2048);
		void *p = kmem_alloc(&q, size);
		assert_non_null(p);
		assert_true(in_region(p, block(size)));
		assert_int_equal((uintptr_t)p % block(size), 0);
		assert_true(all_zero(p, block(size)));
		memset(p, (int)(i & 0xff), size);
		obj[i].p = (uintptr_t)p;
		obj[i].size = size;
		assert_int_equal(q.used, pages_used() * PAGE_SIZE); /* the only user of the pool */
	}
	/* nothing overlaps, nothing was overwritten */
	for (unsigned i = 0; i < N; i++) {
		sorted[i][0] = obj[i].p;
		sorted[i][1] = obj[i].p + block(obj[i].size);
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
		assert_int_equal(q.used, pages_used() * PAGE_SIZE);
	}
	assert_int_equal(q.used, 0);
	assert_int_equal(pages_used(), 0);
	for (unsigned i = 0; i < N; i++) {
		void *p = kmem_alloc(&q, obj[i].size);
		assert_non_null(p);
		assert_true(all_zero(p, block(obj[i].size)));
		obj[i].p = (uintptr_t)p;
	}
	for (unsigned i = 0; i < N; i++)
		kmem_free(&q, (void *)obj[i].p, obj[i].size);
	assert_int_equal(q.used, 0);
	assert_int_equal(pages_used(), 0);
}

static void test_reuse(void **state)
{
	(void)state;
	struct kmem_quota q = { .limit = 1 << 20 };
	/* a block goes back to its slab and comes out zeroed */
	char *keep = kmem_alloc(&q, 100), *p = kmem_alloc(&q, 100);
	assert_non_null(p);
	memset(p, 0xee, 100);
	kmem_free(&q, p, 100);
	assert_true(all_bytes(p + 8, 120, KMEM_POISON));
	char *r = kmem_alloc(&q, 65); /* same class (128) */
	assert_ptr_equal(r, p);
	assert_true(all_zero(r, 128));
	kmem_free(&q, r, 65);
	assert_int_equal(q.used, PAGE_SIZE);
	/* an empty slab's page goes back to the pool, and its charge with it */
	kmem_free(&q, keep, 100);
	assert_int_equal(q.used, 0);
	assert_int_equal(pages_used(), 0);

	/* page-sized objects too */
	p = kmem_alloc(&q, 3000);
	assert_int_equal(pages_used(), 1);
	memset(p, 0x77, PAGE_SIZE);
	kmem_free(&q, p, 3000);
	assert_int_equal(pages_used(), 0);
	r = page_alloc();
	assert_ptr_equal(r, p);
	assert_true(all_zero(r, PAGE_SIZE));
	page_free(r);

	/* quotas have slabs of their own: two PDs' objects never share a page */
	struct kmem_quota q2 = { .limit = 1 << 20 };
	char *a = kmem_alloc(&q, 64), *b = kmem_alloc(&q2, 64);
	assert_true(ALIGN_DOWN((uintptr_t)a, PAGE_SIZE) != ALIGN_DOWN((uintptr_t)b, PAGE_SIZE));
	assert_int_equal(q.used, PAGE_SIZE);
	assert_int_equal(q2.used, PAGE_SIZE);
	kmem_free(&q, a, 64);
	kmem_free(&q2, b, 64);
	assert_int_equal(q.used + q2.used, 0);
	assert_int_equal(pages_used(), 0);
}

static void test_quota(void **state)
{
	(void)state;
	size_t pages = kmem_free_pages();
	struct kmem_quota q = { .limit = 2 * PAGE_SIZE };

	/* two slab pages fit, a third class does not; the first class fills its page */
	void *a = kmem_alloc(&q, 64), *b = kmem_alloc(&q, 128);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(q.used, 2 * PAGE_SIZE);
	assert_null(kmem_alloc(&q, 256));
	assert_null(kmem_alloc(&q, PAGE_SIZE));
	assert_int_equal(q.used, 2 * PAGE_SIZE);
	void *more[64];
	unsigned n = 0;
	while (n < 64 && (more[n] = kmem_alloc(&q, 64)))
		n++;
	assert_int_equal(n, per_page(64) - 1);
	assert_int_equal(q.used, 2 * PAGE_SIZE);
	while (n)
		kmem_free(&q, more[--n], 64);
	kmem_free(&q, b, 128);
	assert_int_equal(q.used, PAGE_SIZE);
	b = kmem_alloc(&q, 256); /* the freed page's charge is usable again */
	assert_non_null(b);
	kmem_free(&q, b, 256);
	kmem_free(&q, a, 64);
	assert_int_equal(q.used, 0);

	/* exactly the limit */
	q.limit = PAGE_SIZE;
	a = kmem_alloc(&q, PAGE_SIZE);
	assert_non_null(a);
	assert_int_equal(q.used, PAGE_SIZE);
	assert_null(kmem_alloc(&q, 1));
	kmem_free(&q, a, PAGE_SIZE);
	assert_int_equal(q.used, 0);
	q.limit = PAGE_SIZE - 1;
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

/*
 * A PD cannot pin more pages than its quota: fill pages of one size class,
 * free all but one object per page, go on to the next class. With slabs
 * shared by all quotas and charged per object this pinned about six times
 * the quota; charged by page, the quota stops it.
 */
static void test_pin_bound(void **state)
{
	(void)state;
	enum { QPAGES = 16 };
	static void *objs[QPAGES * 126];
	static void *kept[KMEM_CLASSES * QPAGES * 2];
	struct kmem_quota q = { .limit = QPAGES * PAGE_SIZE };
	size_t nkept = 0, start = pages_used(), peak = 0;

	for (size_t size = 32; size <= SLAB_MAX; size *= 2) {
		size_t n = 0;
		while (n < ARRAY_SIZE(objs) && (objs[n] = kmem_alloc(&q, size)))
			n++;
		for (size_t i = 0; i < n; i++) {
			bool first = (uintptr_t)objs[i] % PAGE_SIZE == 0;
			if (first)
				kept[nkept++] = objs[i], kept[nkept++] = (void *)size;
			else
				kmem_free(&q, objs[i], size);
		}
		peak = MAX(peak, pages_used() - start);
		assert_true(pages_used() - start <= QPAGES);
		assert_int_equal(q.used, (pages_used() - start) * PAGE_SIZE);
	}
	assert_true(peak <= QPAGES);
	for (size_t i = 0; i < nkept; i += 2)
		kmem_free(&q, kept[i], (size_t)kept[i + 1]);
	assert_int_equal(q.used, 0);
	assert_int_equal(pages_used(), start);
}

/* ---- kernel memory comes back, also through the mapping database ------------ */

struct pd {
	struct kmem_quota quota;
	struct space spaces[4];
};

struct mdb_node *mdb_node_alloc(struct pd *pd) { return kmem_alloc(&pd->quota, sizeof(struct mdb_node)); }
void mdb_node_free(struct pd *pd, struct mdb_node *n) { kmem_free(&pd->quota, n, sizeof(*n)); }
struct mdb_node **mdb_leaf_alloc(struct pd *pd) { return kmem_alloc(&pd->quota, PAGE_SIZE); }
void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf) { kmem_free(&pd->quota, leaf, PAGE_SIZE); }
bool space_install(struct space *s, struct mdb_node *n)
{
	(void)s;
	return n->base != 0xbad; /* a failure to install */
}
void space_uninstall(struct space *s, struct mdb_node *n) { (void)s, (void)n; }
void space_flush(void) {}
struct space *space_of(struct pd *pd, unsigned kind) { return &pd->spaces[kind]; }

static void pd_init(struct pd *pd, u64 limit)
{
	memset(pd, 0, sizeof(*pd));
	pd->quota.limit = limit;
	for (unsigned k = 0; k < 4; k++) {
		pd->spaces[k].kind = k;
		pd->spaces[k].pd = pd;
	}
}

static void test_memory_returns(void **state)
{
	(void)state;
	static struct pd pds[3];
	static int objs[4];
	struct unit_rng r;
	size_t start = kmem_free_pages();
	unit_rng_seed(&r, 0x72657475726e);
	for (unsigned i = 0; i < 3; i++)
		pd_init(&pds[i], 64 * PAGE_SIZE);

	for (unsigned round = 0; round < 20; round++) {
		struct space *m0 = &pds[0].spaces[HV_KIND_MEM], *o0 = &pds[0].spaces[HV_KIND_OBJ];
		assert_int_equal(mdb_insert_root(m0, 0, 10, 0x1000, HV_R_MEM_RWX, 0), HV_OK);
		for (u64 s = 0; s < 4; s++)
			assert_int_equal(mdb_insert_root(o0, s * 600, 0, (u64)(uintptr_t)&objs[s], HV_R_ALL, 0), HV_OK);
		/* delegations in random shapes, some refused for lack of quota or an install failure */
		for (unsigned i = 0; i < 300; i++) {
			unsigned from = (unsigned)unit_rng_below(&r, 3), to = (unsigned)unit_rng_below(&r, 3);
			unsigned kind = unit_rng_below(&r, 4) ? HV_KIND_MEM : HV_KIND_OBJ;
			u64 sb = unit_rng_below(&r, kind == HV_KIND_MEM ? 1024 : 2400), db = unit_rng_below(&r, 3000);
			if (unit_rng_below(&r, 50) == 0)
				db = 0xbad;
			(void)mdb_delegate(&pds[from].spaces[kind], sb, 0, &pds[to].spaces[kind], db, HV_R_ALL, 0);
		}
		/* revocations of ranges, and of single nodes with everything below them */
		for (unsigned i = 0; i < 10; i++) {
			unsigned p = (unsigned)unit_rng_below(&r, 3), order = (unsigned)unit_rng_below(&r, 8);
			u64 base = unit_rng_below(&r, 3000) & ~((1ull << order) - 1), from = base;
			while (from < base + (1ull << order))
				assert_int_equal(mdb_revoke(&pds[p].spaces[HV_KIND_MEM], base, order, i & 1, &from, 7), HV_OK);
		}
		struct mdb_node *n = mdb_ceil(&pds[1].spaces[HV_KIND_OBJ], 0);
		if (n)
			mdb_remove(n);
		assert_true(kmem_free_pages() < start);
		for (unsigned i = 0; i < 3; i++)
			for (unsigned k = 0; k < 4; k++)
				mdb_destroy_space(&pds[i].spaces[k]);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(pds[i].quota.used, 0);
		assert_int_equal(kmem_free_pages(), start);
	}
}

/* ---- poisoning -------------------------------------------------------------- */

static void test_poison(void **state)
{
	(void)state;
	struct kmem_quota q = { .limit = 1 << 20 };
	size_t start = kmem_free_pages();

	/* a write to a freed block panics when the block is handed out again */
	char *keep = kmem_alloc(&q, 200), *p = kmem_alloc(&q, 200);
	kmem_free(&q, p, 200);
	p[100] = 1;
	panic_expected = true;
	if (!setjmp(panic_jmp)) {
		(void)kmem_alloc(&q, 200);
		fail_msg("no panic");
	}
	assert_false(panic_expected);
	char want[128];
	snprintf(want, sizeof(want), "kmem: %p (256 bytes) was written after it was freed (offset 96)", (void *)p);
	assert_string_equal(panic_msg, want);
	kmem_free(&q, p, 200); /* the block the panic left allocated */
	kmem_free(&q, keep, 200);

	/* a write to a freed page: the same */
	char *pg = kmem_alloc(&q, PAGE_SIZE);
	kmem_free(&q, pg, PAGE_SIZE);
	pg[PAGE_SIZE - 1] = 0;
	panic_expected = true;
	if (!setjmp(panic_jmp)) {
		(void)page_alloc();
		fail_msg("no panic");
	}
	assert_non_null(strstr(panic_msg, "was written after it was freed (offset 4088)"));
	pg[PAGE_SIZE - 1] = (char)KMEM_POISON;

	/* freeing what is not an allocated block of that size panics too */
	keep = kmem_alloc(&q, 64);
	panic_expected = true;
	if (!setjmp(panic_jmp)) {
		kmem_free(&q, keep + 32, 64);
		fail_msg("no panic");
	}
	assert_non_null(strstr(panic_msg, "bad free"));
	struct kmem_quota other = { .limit = 1 << 20 };
	panic_expected = true;
	if (!setjmp(panic_jmp)) {
		kmem_free(&other, keep, 64);
		fail_msg("no panic");
	}
	kmem_free(&q, keep, 64);
	assert_int_equal(q.used, 0);
	assert_int_equal(kmem_free_pages(), start);
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	static void *pages[NPAGES], *objs[NPAGES * 4];
	struct kmem_quota q = { .limit = 1 << 30 };
	size_t npages = 0, nobjs = 0;

	objs[nobjs++] = kmem_alloc(&q, 1024); /* a slab with room left */
	while ((pages[npages] = page_alloc()))
		npages++;
	assert_true(npages > 0);
	assert_int_equal(kmem_free_pages(), 0);

	/* page-sized objects and new slabs: refused, quota untouched */
	assert_null(kmem_alloc(&q, PAGE_SIZE));
	assert_null(kmem_alloc(&q, 2049));
	assert_null(kmem_alloc(&q, 32));
	assert_int_equal(q.used, PAGE_SIZE);
	/* the slab that has room still gives what it has */
	while ((objs[nobjs] = kmem_alloc(&q, 1024)))
		nobjs++;
	assert_int_equal(nobjs, per_page(1024));
	assert_int_equal(q.used, PAGE_SIZE);
	for (size_t i = 0; i < nobjs; i++)
		kmem_free(&q, objs[i], 1024);
	assert_int_equal(q.used, 0);
	assert_int_equal(kmem_free_pages(), 1); /* its page came back */

	/* pages back: allocation works again */
	for (size_t i = 0; i < npages; i++)
		page_free(pages[i]);
	assert_int_equal(kmem_free_pages(), npages + 1);
	void *p = kmem_alloc(&q, PAGE_SIZE);
	assert_non_null(p);
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
		cmocka_unit_test(test_pin_bound),
		cmocka_unit_test(test_memory_returns),
		cmocka_unit_test(test_poison),
		cmocka_unit_test(test_pool_exhausted),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
