/*
 * Unit tests of the VT-d logic without hardware (arch/x86_64/vtd.c): the
 * DMAR table's remapping units (a table QEMU made, hand-made ones and
 * malformed ones) and the second-level page tables, on a fake allocator
 * that can fail. Host pointers pass for kernel ones: virt_to_phys() and
 * phys_to_virt() wrap around 2^64, and a heap address plus 2^47 still fits
 * in an entry's address bits. Interrupt remapping: the table entries and
 * the remappable MSI and IOAPIC formats, bit by bit from the spec.
 */
#include "unit.h"

#include "kmem.h"
#include <arch/layout.h>
#include <arch/vtd.h>

#define SL_ADDR 0x000ffffffffff000ull

/* ---- fakes -------------------------------------------------------------------- */

static int tables;          /* pages allocated and not freed */
static int fail_after = -1; /* allocations that succeed before all fail; -1: never fail */
static unsigned syncs;

void *kmem_alloc(struct kmem_quota *q, size_t size)
{
	assert_int_equal(size, PAGE_SIZE);
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	assert_non_null(p);
	memset(p, 0, PAGE_SIZE);
	q->used += PAGE_SIZE;
	tables++;
	return p;
}

void kmem_free(struct kmem_quota *q, void *p, size_t size)
{
	assert_int_equal(size, PAGE_SIZE);
	q->used -= PAGE_SIZE;
	tables--;
	free(p);
}

void vtd_sync(const volatile void *p, size_t n)
{
	(void)p, (void)n;
	syncs++;
}

static int setup(void **state)
{
	(void)state;
	tables = 0;
	fail_after = -1;
	return 0;
}

/* The leaf entry for iova as the hardware walks it (0 if a table is missing). */
static u64 lookup(u64 *root, unsigned levels, u64 iova)
{
	u64 *t = root;
	for (unsigned l = levels - 1; l > 0; l--) {
		u64 e = t[(iova >> (12 + 9 * l)) & 511];
		if (!(e & 3))
			return 0;
		assert_int_equal(e & 3, 3); /* tables allow both: the leaf decides */
		t = phys_to_virt(e & SL_ADDR);
	}
	return t[(iova >> 12) & 511];
}

/* ---- DMAR --------------------------------------------------------------------- */

/* QEMU 7.2 '-machine q35 -device intel-iommu': one unit with device scopes
 * (IOAPIC, 00:00.0, 00:1f.0, 00:1f.2, 00:1f.3), captured from a boot. */
static const u8 dmar_qemu[] = {
	0x44, 0x4d, 0x41, 0x52, 0x68, 0x00, 0x00, 0x00, 0x01, 0x42, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x26, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd9, 0xfe,
	0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00,
	0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x1f, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x02,
	0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x03,
};

static void test_dmar_qemu(void **state)
{
	(void)state;
	struct vtd_drhd d[VTD_MAX_UNITS];
	assert_int_equal(vtd_parse_dmar(dmar_qemu, d, VTD_MAX_UNITS), 1);
	assert_int_equal(d[0].base, 0xfed90000);
	assert_int_equal(d[0].pages, 1);
	assert_int_equal(d[0].segment, 0);
	assert_int_equal(d[0].ioapic_sid, 0xff00); /* bus ff, device 0, function 0 */
}

/* A DMAR table being built: header, then structures. */
struct table {
	u8 b[512];
	u32 len;
};

static void table_init(struct table *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	t->b[36] = 38; /* host address width - 1 */
	t->len = 48;
}

static void put(struct table *t, u32 off, u64 v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		t->b[off + i] = (u8)(v >> (8 * i));
}

/* Appends a structure of type and length (its body zero) and returns its offset. */
static u32 add(struct table *t, u16 type, u16 len)
{
	u32 off = t->len;
	put(t, off, type, 2);
	put(t, off + 2, len, 2);
	t->len += len;
	put(t, 4, t->len, 4);
	return off;
}

static u32 add_drhd(struct table *t, u8 flags, u8 size, u16 segment, u64 base, unsigned scopes)
{
	u32 off = add(t, 0, (u16)(16 + 8 * scopes));
	t->b[off + 4] = flags;
	t->b[off + 5] = size;
	put(t, off + 6, segment, 2);
	put(t, off + 8, base, 8);
	for (unsigned i = 0; i < scopes; i++) {
		t->b[off + 16 + 8 * i] = 1; /* PCI endpoint */
		t->b[off + 17 + 8 * i] = 8;
	}
	return off;
}

static void test_dmar_units(void **state)
{
	(void)state;
	struct table t;
	struct vtd_drhd d[VTD_MAX_UNITS];
	table_init(&t);
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), 0); /* none */
	add_drhd(&t, 0, 2, 0, 0xfed90000, 2);     /* 4 pages (VT-d 3.x size field) */
	add(&t, 1, 32);                           /* RMRR: skipped */
	add_drhd(&t, 1, 0, 0, 0xfed91000, 0);     /* INCLUDE_PCI_ALL, size 0: one page */
	add(&t, 2, 8);                            /* ATSR: skipped */
	add_drhd(&t, 1, 0x10, 1, 0xfed92000, 0); /* segment 1; reserved size bits ignored */
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), 3);
	assert_int_equal(d[0].base, 0xfed90000);
	assert_int_equal(d[0].pages, 4);
	assert_int_equal(d[1].base, 0xfed91000);
	assert_int_equal(d[1].pages, 1);
	assert_int_equal(d[2].segment, 1);
	assert_int_equal(d[2].pages, 1);
	/* more than fit: counted, only max written */
	memset(d, 0xaa, sizeof(d));
	assert_int_equal(vtd_parse_dmar(t.b, d, 1), 3);
	assert_int_equal(d[0].base, 0xfed90000);
	assert_int_equal(d[1].base, 0xaaaaaaaaaaaaaaaaull);
}

/* Sets scope i of the DRHD at off: type, length, start bus, first path entry. */
static void scope(struct table *t, u32 off, unsigned i, u8 type, u8 len, u8 bus, u8 dev, u8 fn)
{
	u8 *s = t->b + off + 16 + 8 * i;
	s[0] = type;
	s[1] = len;
	s[5] = bus;
	s[6] = dev;
	s[7] = fn;
}

static void test_dmar_ioapic(void **state)
{
	(void)state;
	struct table t;
	struct vtd_drhd d[VTD_MAX_UNITS];
	table_init(&t);
	u32 a = add_drhd(&t, 1, 0, 0, 0xfed90000, 3);  /* endpoint, IOAPIC 00:1e.7, HPET */
	scope(&t, a, 1, 3, 8, 0, 0x1e, 7);
	scope(&t, a, 2, 4, 8, 0, 0x1f, 0);
	u32 b = add_drhd(&t, 0, 0, 0, 0xfed91000, 2);  /* two IOAPICs: neither */
	scope(&t, b, 0, 3, 8, 0xf0, 0, 0);
	scope(&t, b, 1, 3, 8, 0xf0, 1, 0);
	u32 c = add_drhd(&t, 0, 0, 0, 0xfed92000, 1);  /* behind a bridge (two path entries): not known */
	scope(&t, c, 0, 3, 10, 0, 2, 0);
	t.len += 2;
	put(&t, c + 2, 26, 2);
	put(&t, 4, t.len, 4);
	u32 e = add_drhd(&t, 0, 0, 0, 0xfed93000, 1);  /* a scope longer than its DRHD: ignored */
	scope(&t, e, 0, 3, 16, 0, 3, 0);
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), 4);
	assert_int_equal(d[0].ioapic_sid, 0x00f7);
	assert_int_equal(d[1].ioapic_sid, -1);
	assert_int_equal(d[2].ioapic_sid, -1);
	assert_int_equal(d[2].base, 0xfed92000);
	assert_int_equal(d[3].ioapic_sid, -1);
	assert_int_equal(d[3].base, 0xfed93000);
}

/* ---- interrupt remapping ------------------------------------------------------ */

static void test_irte(void **state)
{
	(void)state;
	u64 e[2];
	/* P (0), FPD 0, DM 0 physical, RH 0, TM (4), DLM 0 fixed, IM 0, vector 23..16, DST 47..40 (xAPIC) */
	vtd_irte(e, 0x61, 1, false, 0x0008); /* 00:01.0 */
	assert_int_equal(e[0], 0x0000010000610001ull);
	assert_int_equal(e[1], 0x0000000000040008ull); /* SID 00:01.0, SQ 0: all bits, SVT 01 */
	vtd_irte(e, 0x24, 0x1ff, true, -1);              /* level; any source; 8-bit destination */
	assert_int_equal(e[0], 0x0000ff0000240011ull);
	assert_int_equal(e[1], 0);
	vtd_irte(e, 0x20, 0, false, 0xff00);             /* the IOAPIC of QEMU's DMAR table */
	assert_int_equal(e[0], 0x0000000000200001ull);
	assert_int_equal(e[1], 0x000000000004ff00ull);
}

static void test_remappable_formats(void **state)
{
	(void)state;
	/* MSI address: 0xfee, handle 14..0 at 19..5, format 1 at 4, SHV 0 at 3, handle 15 at 2 */
	assert_int_equal(vtd_msi_address(0x40), 0xfee00810);
	assert_int_equal(vtd_msi_address(0x5f), 0xfee00bf0);
	assert_int_equal(vtd_msi_address(0x7fff), 0xfeeffff0);
	assert_int_equal(vtd_msi_address(0x8001), 0xfee00034);
	/* IOAPIC redirection entry, upper half: index 14..0 at 63..49, format at 48 */
	assert_int_equal(vtd_rte_high(0), 0x00010000);
	assert_int_equal(vtd_rte_high(4), 0x00090000);
	assert_int_equal(vtd_rte_high(0x3f), 0x007f0000);
	assert_int_equal(vtd_rte_high(0x7fff), 0xffff0000);
}

static void test_dmar_malformed(void **state)
{
	(void)state;
	struct table t;
	struct vtd_drhd d[VTD_MAX_UNITS];

	table_init(&t);
	add(&t, 1, 0); /* zero length: would loop for ever */
	t.len += 8;
	put(&t, 4, t.len, 4);
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), -1);

	table_init(&t);
	add(&t, 1, 3); /* shorter than its own header */
	t.len += 8;
	put(&t, 4, t.len, 4);
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), -1);

	table_init(&t);
	add_drhd(&t, 1, 0, 0, 0xfed90000, 0);
	put(&t, 4, t.len - 1, 4); /* the table ends inside the DRHD */
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), -1);

	table_init(&t);
	add(&t, 0, 12); /* a DRHD too short for its base address */
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), -1);

	table_init(&t);
	add_drhd(&t, 1, 0, 0, 0xfed90000, 0);
	put(&t, 4, t.len + 2, 4); /* two bytes left over: no structure header fits */
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), -1);

	table_init(&t);
	put(&t, 4, 40, 4); /* shorter than the DMAR header: no units */
	assert_int_equal(vtd_parse_dmar(t.b, d, VTD_MAX_UNITS), 0);
}

/* Every length a DRHD can claim, and every table length: never a read outside the table. */
static void test_dmar_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 12);
	for (unsigned i = 0; i < 20000; i++) {
		struct table t;
		table_init(&t);
		for (unsigned k = unit_rng_below(&r, 5); k--;)
			add_drhd(&t, 1, 0, 0, 0xfed90000, (unsigned)unit_rng_below(&r, 3));
		/* damage one byte of the structures, cut the table */
		if (t.len > 48)
			t.b[48 + unit_rng_below(&r, t.len - 48)] = (u8)unit_rng_next(&r);
		u32 len = 48 + (u32)unit_rng_below(&r, t.len - 47);
		u8 *copy = malloc(len); /* exactly len bytes: ASan sees any overrun */
		memcpy(copy, t.b, len);
		put(&t, 4, len, 4);
		memcpy(copy + 4, t.b + 4, 4);
		struct vtd_drhd d[2];
		int n = vtd_parse_dmar(copy, d, 2);
		assert_true(n >= -1 && n <= 8);
		free(copy);
	}
}

/* ---- second-level page tables --------------------------------------------------- */

static void check_map(unsigned levels)
{
	struct kmem_quota q = { .limit = 1 << 20 };
	u64 *root = vtd_pt_alloc(&q);
	assert_non_null(root);
	bool stale = false;
	/* three pages across a 2 MiB boundary, writable; one read-only far away */
	u64 top = levels == 4 ? 0xfffffffff000ull : 0x7ffffff000ull;
	assert_true(vtd_pt_map(&q, root, levels, 0x1ff000, 0x5000000, 3, true, &stale));
	assert_true(vtd_pt_map(&q, root, levels, top, 0x1234000, 1, false, &stale));
	assert_false(stale);
	for (u64 i = 0; i < 3; i++)
		assert_int_equal(lookup(root, levels, 0x1ff000 + (i << 12)), (0x5000000 + (i << 12)) | 3);
	assert_int_equal(lookup(root, levels, top), 0x1234000 | 1);
	assert_int_equal(lookup(root, levels, 0x1fe000), 0);
	assert_int_equal(lookup(root, levels, 0x202000), 0);
	assert_int_equal(lookup(root, levels, top - 0x1000), 0);
	/* tables: the root; low: (a PDPT,) a directory, two leaf tables; top: (a PDPT,) a directory, a leaf table */
	assert_int_equal(tables, levels == 4 ? 1 + 4 + 3 : 1 + 3 + 2);
	assert_int_equal(q.used, (u64)tables * PAGE_SIZE);

	/* mapping over a present entry: stale, for the IOTLB */
	assert_true(vtd_pt_map(&q, root, levels, 0x200000, 0x7000000, 1, false, &stale));
	assert_true(stale);
	assert_int_equal(lookup(root, levels, 0x200000), 0x7000000 | 1);

	/* unmap the middle page; over a range without tables (no allocation) */
	int before = tables;
	vtd_pt_unmap(root, levels, 0x200000, 1);
	vtd_pt_unmap(root, levels, 0x40000000, 100000);
	assert_int_equal(tables, before);
	assert_int_equal(lookup(root, levels, 0x200000), 0);
	assert_int_equal(lookup(root, levels, 0x1ff000), 0x5000000 | 3);
	assert_int_equal(lookup(root, levels, 0x201000), 0x5002000 | 3);
	vtd_pt_unmap(root, levels, 0, 0x400);
	assert_int_equal(lookup(root, levels, 0x1ff000), 0);
	assert_int_equal(lookup(root, levels, 0x201000), 0);
	assert_int_equal(lookup(root, levels, top), 0x1234000 | 1);

	vtd_pt_free(&q, root, levels);
	assert_int_equal(tables, 0);
	assert_int_equal(q.used, 0);
}

static void test_map_3_levels(void **state)
{
	(void)state;
	check_map(3);
}

static void test_map_4_levels(void **state)
{
	(void)state;
	check_map(4);
}

/* Out of memory at every possible point: no entry changes, nothing leaks. */
static void test_map_out_of_memory(void **state)
{
	(void)state;
	for (int n = 0; n < 8; n++) {
		struct kmem_quota q = { .limit = 1 << 20 };
		u64 *root = vtd_pt_alloc(&q);
		bool stale = false;
		assert_true(vtd_pt_map(&q, root, 4, 0x1000, 0x9000, 1, true, &stale));
		fail_after = n;
		/* 1024 pages from 1 GiB - 1 MiB: three leaf tables and a directory to make */
		bool ok = vtd_pt_map(&q, root, 4, 0x3ff00000, 0xa0000000, 1024, true, &stale);
		assert_int_equal(ok, n >= 4);
		assert_int_equal(lookup(root, 4, 0x1000), 0x9000 | 3);
		assert_int_equal(lookup(root, 4, 0x3ff00000), ok ? 0xa0000000 | 3 : 0);
		assert_int_equal(lookup(root, 4, 0x402ff000), ok ? (0xa0000000 + (1023ull << 12)) | 3 : 0);
		assert_int_equal(lookup(root, 4, 0x40300000), 0);
		fail_after = -1;
		vtd_pt_free(&q, root, 4);
		assert_int_equal(tables, 0);
		assert_int_equal(q.used, 0);
	}
}

/* A random series of maps and unmaps against a model of what must be mapped. */
static void test_map_model(void **state)
{
	(void)state;
	enum { PAGES = 4096 };
	static u64 model[PAGES];
	memset(model, 0, sizeof(model));
	struct unit_rng r;
	unit_rng_seed(&r, 7);
	struct kmem_quota q = { .limit = 1 << 24 };
	u64 *root = vtd_pt_alloc(&q);
	u64 base = 0x7fff000000ull; /* below the 39-bit limit, across directories */
	for (unsigned i = 0; i < 3000; i++) {
		u64 at = unit_rng_below(&r, PAGES), n = 1 + unit_rng_below(&r, MIN(64, PAGES - at));
		bool w = unit_rng_below(&r, 2), stale = false, was = false;
		for (u64 k = 0; k < n; k++)
			was |= model[at + k] != 0;
		if (unit_rng_below(&r, 3)) {
			u64 pa = unit_rng_below(&r, 1ull << 20) << 12;
			assert_true(vtd_pt_map(&q, root, 3, base + (at << 12), pa, n, w, &stale));
			assert_int_equal(stale, was);
			for (u64 k = 0; k < n; k++)
				model[at + k] = (pa + (k << 12)) | 1 | (w ? 2 : 0);
		} else {
			vtd_pt_unmap(root, 3, base + (at << 12), n);
			for (u64 k = 0; k < n; k++)
				model[at + k] = 0;
		}
	}
	for (u64 k = 0; k < PAGES; k++)
		assert_int_equal(lookup(root, 3, base + (k << 12)), model[k]);
	vtd_pt_free(&q, root, 3);
	assert_int_equal(tables, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dmar_qemu, setup),
		cmocka_unit_test_setup(test_dmar_units, setup),
		cmocka_unit_test_setup(test_dmar_ioapic, setup),
		cmocka_unit_test_setup(test_irte, setup),
		cmocka_unit_test_setup(test_remappable_formats, setup),
		cmocka_unit_test_setup(test_dmar_malformed, setup),
		cmocka_unit_test_setup(test_dmar_fuzz, setup),
		cmocka_unit_test_setup(test_map_3_levels, setup),
		cmocka_unit_test_setup(test_map_4_levels, setup),
		cmocka_unit_test_setup(test_map_out_of_memory, setup),
		cmocka_unit_test_setup(test_map_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
