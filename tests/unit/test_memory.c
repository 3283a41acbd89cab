/*
 * Unit tests of the boot-time RAM splitting in hypervisor/memory.c:
 * ranges_add, ranges_remove, ranges_take and memory_device. memory_init() is linked but
 * not called; the symbols it needs come from the stubs below.
 */
#include "unit.h"

#include "boot.h"
#include "kernel.h"
#include <arch/bootinfo.h>

/* ---- stubs for memory_init() (never called) ---------------------------- */

struct boot_info boot_info;
char _image_end[1];

void kmem_add_range(void *base, size_t size)
{
	(void)base;
	(void)size;
	fail_msg("kmem_add_range called");
}

void printk(const char *fmt, ...)
{
	(void)fmt;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* ---- helpers ----------------------------------------------------------- */

struct range {
	u64 base, end;
};

/* Asserts that rs holds exactly the n given ranges, in this order. */
static void expect_ranges(const struct ranges *rs, unsigned n, const struct range *want)
{
	if (rs->n != n) {
		for (unsigned i = 0; i < rs->n; i++)
			print_message("  range %u: 0x%llx..0x%llx\n", i,
				      (unsigned long long)rs->r[i].base,
				      (unsigned long long)rs->r[i].end);
		fail_msg("%u ranges, expected %u", rs->n, n);
	}
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rs->r[i].base, want[i].base);
		assert_int_equal(rs->r[i].end, want[i].end);
	}
}

#define EXPECT(rs, ...)                                                      \
	do {                                                                 \
		const struct range w_[] = { __VA_ARGS__ };                   \
		expect_ranges(rs, ARRAY_SIZE(w_), w_);                       \
	} while (0)
#define EXPECT_NONE(rs) assert_int_equal((rs)->n, 0)

/* ---- tests ------------------------------------------------------------- */

static void test_add(void **state)
{
	(void)state;
	static struct ranges rs;
	memset(&rs, 0, sizeof(rs));
	ranges_add(&rs, 0x1000, 0x2000);
	ranges_add(&rs, 0x5000, 0x5000); /* empty */
	ranges_add(&rs, 0x9000, 0x8000); /* inverted */
	ranges_add(&rs, 0x3000, 0x4000);
	EXPECT(&rs, { 0x1000, 0x2000 }, { 0x3000, 0x4000 });

	/* at most MAX_RANGES, the rest is dropped */
	memset(&rs, 0, sizeof(rs));
	for (u64 i = 0; i < MAX_RANGES + 5; i++)
		ranges_add(&rs, i * 0x10000, i * 0x10000 + 0x1000);
	assert_int_equal(rs.n, MAX_RANGES);
	assert_int_equal(rs.r[MAX_RANGES - 1].base, (MAX_RANGES - 1) * 0x10000ull);
}

static void test_remove(void **state)
{
	(void)state;
	static struct ranges rs;

	/* no overlap: before, after, touching on either side */
	memset(&rs, 0, sizeof(rs));
	ranges_add(&rs, 0x10000, 0x20000);
	ranges_remove(&rs, 0, 0x8000);
	ranges_remove(&rs, 0x8000, 0x10000);
	ranges_remove(&rs, 0x20000, 0x30000);
	ranges_remove(&rs, 0x15000, 0x15000); /* empty: no split */
	ranges_remove(&rs, 0x18000, 0x14000); /* inverted: no split, no overlap */
	EXPECT(&rs, { 0x10000, 0x20000 });

	/* cut the front, the back, then split the middle */
	ranges_remove(&rs, 0xf000, 0x11000);
	EXPECT(&rs, { 0x11000, 0x20000 });
	ranges_remove(&rs, 0x1f000, 0x21000);
	EXPECT(&rs, { 0x11000, 0x1f000 });
	ranges_remove(&rs, 0x11000, 0x12000); /* front, exactly at the base */
	ranges_remove(&rs, 0x1e000, 0x1f000); /* back, exactly at the end */
	EXPECT(&rs, { 0x12000, 0x1e000 });
	ranges_remove(&rs, 0x15000, 0x16000);
	EXPECT(&rs, { 0x12000, 0x15000 }, { 0x16000, 0x1e000 });

	/* whole ranges: exact, covering, several at once */
	ranges_remove(&rs, 0x12000, 0x15000);
	EXPECT(&rs, { 0x16000, 0x1e000 });
	ranges_remove(&rs, 0, ~0ull);
	EXPECT_NONE(&rs);

	/* a removed range is replaced by the last one, which is checked too */
	ranges_add(&rs, 0x0, 0x10000);
	ranges_add(&rs, 0x40000, 0x50000);
	ranges_add(&rs, 0x20000, 0x30000);
	ranges_remove(&rs, 0x0, 0x25000);
	EXPECT(&rs, { 0x25000, 0x30000 }, { 0x40000, 0x50000 });
	ranges_add(&rs, 0x60000, 0x70000);
	ranges_remove(&rs, 0x20000, 0x80000);
	EXPECT_NONE(&rs);

	/* one cut over the boundary of two adjacent ranges */
	ranges_add(&rs, 0x1000, 0x3000);
	ranges_add(&rs, 0x3000, 0x5000);
	ranges_remove(&rs, 0x2000, 0x4000);
	EXPECT(&rs, { 0x1000, 0x2000 }, { 0x4000, 0x5000 });
}

/* Splitting when the table is full: nothing of the removed part survives. */
static void test_remove_full(void **state)
{
	(void)state;
	static struct ranges rs;
	memset(&rs, 0, sizeof(rs));
	for (u64 i = 0; i < MAX_RANGES; i++)
		ranges_add(&rs, i * 0x10000, i * 0x10000 + 0x8000);
	ranges_remove(&rs, 0x2000, 0x3000);
	assert_true(rs.n <= MAX_RANGES);
	for (unsigned i = 0; i < rs.n; i++) {
		assert_true(rs.r[i].base < rs.r[i].end);
		assert_true(rs.r[i].end <= 0x2000 || rs.r[i].base >= 0x3000);
	}
	assert_int_equal(rs.r[0].base, 0);
	assert_int_equal(rs.r[0].end, 0x2000);
}

static void test_take(void **state)
{
	(void)state;
	static struct ranges rs;
	u64 out = 0x1234;
	memset(&rs, 0, sizeof(rs));
	assert_false(ranges_take(&rs, 0x1000, &out)); /* nothing at all */
	assert_int_equal(out, 0x1234);

	ranges_add(&rs, 0x100000, 0x200000); /* 1 MiB */
	ranges_add(&rs, 0x400000, 0x600000); /* 2 MiB: the largest */
	ranges_add(&rs, 0x800000, 0x900000); /* 1 MiB */
	assert_true(ranges_take(&rs, 0x80000, &out));
	assert_int_equal(out, 0x580000); /* from the top of the largest */
	EXPECT(&rs, { 0x100000, 0x200000 }, { 0x400000, 0x580000 }, { 0x800000, 0x900000 });

	/* too big for any: refused, nothing changes */
	out = 0x1234;
	assert_false(ranges_take(&rs, 0x180001, &out));
	assert_int_equal(out, 0x1234);
	EXPECT(&rs, { 0x100000, 0x200000 }, { 0x400000, 0x580000 }, { 0x800000, 0x900000 });

	/* exactly the largest */
	assert_true(ranges_take(&rs, 0x180000, &out));
	assert_int_equal(out, 0x400000);
	assert_int_equal(rs.r[1].end - rs.r[1].base, 0);
	/* equal sizes: the first one */
	assert_true(ranges_take(&rs, 0x1000, &out));
	assert_int_equal(out, 0x1ff000);
	assert_true(ranges_take(&rs, 0x100000, &out));
	assert_int_equal(out, 0x800000);
	assert_false(ranges_take(&rs, 0x100000, &out));
}

/* Random adds, removes and takes against a bitmap of the covered units. */
static void test_random(void **state)
{
	(void)state;
	enum { U = 2048, UNIT = 0x1000 };
	static struct ranges rs;
	static bool cover[U];
	struct unit_rng r;
	unsigned long takes = 0, splits = 0;
	unit_rng_seed(&r, 0x72616e6765);

	for (unsigned round = 0; round < 200; round++) {
		memset(&rs, 0, sizeof(rs));
		memset(cover, 0, sizeof(cover));
		for (unsigned step = 0; step < 60; step++) {
			u64 b = unit_rng_below(&r, U), e = b + unit_rng_below(&r, 200);
			e = MIN(e, (u64)U);
			unsigned op = (unsigned)unit_rng_below(&r, 10);
			if (op < 3) {
				/* add only what is free: firmware ranges do not overlap */
				bool free_ = true;
				for (u64 u = b; u < e; u++)
					free_ &= !cover[u];
				if (!free_ || rs.n == MAX_RANGES)
					continue;
				ranges_add(&rs, b * UNIT, e * UNIT);
				for (u64 u = b; u < e; u++)
					cover[u] = true;
			} else if (op < 8) {
				unsigned n0 = rs.n;
				ranges_remove(&rs, b * UNIT, e * UNIT);
				splits += rs.n > n0;
				for (u64 u = b; u < e; u++)
					cover[u] = false;
			} else {
				u64 size = unit_rng_below(&r, 64) + 1, largest = 0, out = 0;
				for (unsigned i = 0; i < rs.n; i++)
					largest = MAX(largest, rs.r[i].end - rs.r[i].base);
				bool ok = ranges_take(&rs, size * UNIT, &out);
				assert_int_equal(ok, largest >= size * UNIT);
				if (ok) {
					takes++;
					assert_int_equal(out % UNIT, 0);
					for (u64 u = out / UNIT; u < out / UNIT + size; u++) {
						assert_true(cover[u]);
						cover[u] = false;
					}
				}
			}
			/* the ranges are disjoint and cover exactly the bitmap */
			static bool seen[U];
			memset(seen, 0, sizeof(seen));
			assert_true(rs.n <= MAX_RANGES);
			for (unsigned i = 0; i < rs.n; i++) {
				assert_true(rs.r[i].base <= rs.r[i].end);
				for (u64 u = rs.r[i].base / UNIT; u < rs.r[i].end / UNIT; u++) {
					assert_false(seen[u]);
					seen[u] = true;
				}
			}
			for (unsigned u = 0; u < U; u++)
				if (seen[u] != cover[u])
					fail_msg("round %u step %u: unit %u is %s", round, step, u,
						 cover[u] ? "missing" : "left over");
		}
	}
	assert_true(takes > 100);
	assert_true(splits > 100);
}

static int by_base(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;
	return x < y ? -1 : x > y;
}

/* memory_device(): what the memory map (RAM, ACPI, NVS: whole pages), the
 * LAPIC/MSI window and the kernel's MMIO pages leave of [1 MiB, 2^bits). */
static void test_device(void **state)
{
	(void)state;
	static struct ranges dev;
	const u64 kp[] = { 0xfec00000, 0xfed90123 };
	memset(&boot_info, 0, sizeof(boot_info));
	boot_info.mem[boot_info.nmem++] = (struct boot_range){ 0, 0x9fc00 };
	boot_info.mem[boot_info.nmem++] = (struct boot_range){ 0x100000, 0x7fe0000 - 0x100000 };
	boot_info.firm[boot_info.nfirm++] = (struct boot_range){ 0x7fe0000, 0x20000 - 0x800 };
	boot_info.mem[boot_info.nmem++] = (struct boot_range){ 0x100000000, 0x40000000 };
	boot_info.firm[boot_info.nfirm++] = (struct boot_range){ 0xfed1c800, 0x10 };
	memory_device(&dev, 36, kp, 2);
	qsort(dev.r, dev.n, sizeof(dev.r[0]), by_base);
	EXPECT(&dev, { 0x8000000, 0xfec00000 }, { 0xfec01000, 0xfed1c000 }, { 0xfed1d000, 0xfed90000 },
	       { 0xfed91000, 0xfee00000 }, { 0xfef00000, 0x100000000 }, { 0x140000000, 0x1000000000 });

	/* an entry running past 2^64 covers everything above its base */
	boot_info.firm[boot_info.nfirm++] = (struct boot_range){ 0xfffff000, ~0ull - 0x100 };
	memory_device(&dev, 36, NULL, 0);
	qsort(dev.r, dev.n, sizeof(dev.r[0]), by_base);
	EXPECT(&dev, { 0x8000000, 0xfed1c000 }, { 0xfed1d000, 0xfee00000 }, { 0xfef00000, 0xfffff000 });

	/* nothing above 1 MiB to look at; nothing listed */
	memory_device(&dev, 20, kp, 2);
	EXPECT_NONE(&dev);
	memset(&boot_info, 0, sizeof(boot_info));
	memory_device(&dev, 32, NULL, 0);
	EXPECT(&dev, { 0x100000, 0xfee00000 }, { 0xfef00000, 0x100000000 });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_remove_full),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
