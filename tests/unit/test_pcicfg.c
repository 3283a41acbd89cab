/*
 * Unit tests of the roottask's PCI configuration-space logic
 * (servers/roottask/pcicfg.c): BAR decoding, the capability walk, access
 * checks and the write filter for drivers.
 */
#include "unit.h"

#include "pcicfg.h"

/* Decodes BAR i of one register pair / array and checks the result. */
static void bar(const uint32_t *orig, const uint32_t *sized, unsigned i, unsigned nbars, unsigned used,
		uint64_t base, uint64_t size, unsigned flags)
{
	struct pci_bar b;
	assert_int_equal(pci_bar_decode(orig, sized, i, nbars, &b), used);
	assert_int_equal(b.base, base);
	assert_int_equal(b.size, size);
	assert_int_equal(b.flags, flags);
}

static void test_bar_mem32(void **state)
{
	(void)state;
	uint32_t o[6] = {0xfebc0000u}, s[6] = {0xfffe0000u};
	bar(o, s, 0, 6, 1, 0xfebc0000u, 0x20000, 0);
	o[0] = 0xfebc0008u; /* prefetchable */
	s[0] = 0xfffe0008u;
	bar(o, s, 0, 6, 1, 0xfebc0000u, 0x20000, PCI_BAR_PREFETCH);
	o[0] = 0x000a0002u; /* below 1 MiB (legacy type) */
	s[0] = 0xfffe0002u;
	bar(o, s, 0, 6, 1, 0xa0000, 0x20000, 0);
	o[0] = 0xfebe4000u; /* 16 bytes */
	s[0] = 0xfffffff0u;
	bar(o, s, 0, 6, 1, 0xfebe4000u, 16, 0);
	o[0] = 0xfebc1000u; /* not aligned to its size */
	s[0] = 0xfffe0000u;
	bar(o, s, 0, 6, 1, 0, 0, 0);
	o[0] = 0; /* not implemented */
	s[0] = 0;
	bar(o, s, 0, 6, 1, 0, 0, 0);
	o[0] = 0x6; /* reserved type */
	s[0] = 0xfffe0006u;
	bar(o, s, 0, 6, 1, 0, 0, 0);
	o[0] = 0; /* unassigned (base 0) but implemented: decoded, base 0 */
	s[0] = 0xfffff000u;
	bar(o, s, 0, 6, 1, 0, 0x1000, 0);
}

static void test_bar_mem64(void **state)
{
	(void)state;
	uint32_t o[6] = {0, 0xc000000cu, 0x1}, s[6] = {0, 0xf000000cu, 0xffffffffu};
	bar(o, s, 1, 6, 2, 0x1c0000000ull, 0x10000000, PCI_BAR_64 | PCI_BAR_PREFETCH);
	/* 8 GiB: the size is in the upper half */
	o[1] = 0xcu;
	o[2] = 0x4;
	s[1] = 0xcu;
	s[2] = 0xfffffffeu;
	bar(o, s, 1, 6, 2, 0x400000000ull, 0x200000000ull, PCI_BAR_64 | PCI_BAR_PREFETCH);
	/* at the top of the address space */
	o[1] = 0xf0000004u;
	o[2] = 0xffffffffu;
	s[1] = 0xf0000004u;
	s[2] = 0xffffffffu;
	bar(o, s, 1, 6, 2, 0xfffffffff0000000ull, 0x10000000, PCI_BAR_64);
	/* 64-bit in the last register: no upper half */
	uint32_t o5[6] = {[5] = 0xfe000004u}, s5[6] = {[5] = 0xff000004u};
	bar(o5, s5, 5, 6, 1, 0, 0, 0);
	/* a bridge has two registers */
	uint32_t ob[2] = {0, 0xfe000004u}, sb[2] = {0, 0xff000004u};
	bar(ob, sb, 1, 2, 1, 0, 0, 0);
	bar(ob, sb, 0, 2, 1, 0, 0, 0);
}

static void test_bar_io(void **state)
{
	(void)state;
	uint32_t o[6] = {0xc001u}, s[6] = {0xffffffc1u};
	bar(o, s, 0, 6, 1, 0xc000, 0x40, PCI_BAR_IO);
	s[0] = 0x0000ffc1u; /* 16-bit decode: upper bits read as 0 */
	bar(o, s, 0, 6, 1, 0xc000, 0x40, PCI_BAR_IO);
	o[0] = 0xff01u; /* up to the last port */
	s[0] = 0xffffff01u;
	bar(o, s, 0, 6, 1, 0xff00, 0x100, PCI_BAR_IO);
	o[0] = 0x10001u; /* beyond the I/O space */
	bar(o, s, 0, 6, 1, 0, 0, PCI_BAR_IO);
	o[0] = 0xc011u; /* not aligned */
	s[0] = 0xffffffc1u;
	bar(o, s, 0, 6, 1, 0, 0, PCI_BAR_IO);
	o[0] = 0x1u; /* all-zero size */
	s[0] = 0x1u;
	bar(o, s, 0, 6, 1, 0, 0, PCI_BAR_IO);
}

/* Any register values: the result is consistent, never out of bounds. */
static void test_bar_fuzz(void **state)
{
	struct unit_rng r;
	(void)state;
	unit_rng_seed(&r, 12);
	for (unsigned n = 0; n < 200000; n++) {
		uint32_t o[6], s[6];
		for (unsigned i = 0; i < 6; i++) {
			o[i] = (uint32_t)unit_rng_next(&r);
			s[i] = (uint32_t)unit_rng_next(&r);
			if (unit_rng_below(&r, 2))
				s[i] |= 0xffff0000u; /* many implemented bits */
		}
		for (unsigned i = 0; i < 6;) {
			struct pci_bar b;
			unsigned used = pci_bar_decode(o, s, i, 6, &b);
			assert_true(used == 1 || (used == 2 && i < 5));
			if (b.size) {
				assert_int_equal(b.size & (b.size - 1), 0);
				assert_int_equal(b.base & (b.size - 1), 0);
				assert_true(b.base + (b.size - 1) >= b.base);
				if (b.flags & PCI_BAR_IO)
					assert_true(b.base + b.size <= 0x10000);
			}
			i += used;
		}
	}
}

/* A configuration space with PM at 0x40, MSI (64-bit, masking) at 0x50
 * and MSI-X (5 entries, table and PBA in BAR 3) at 0x70. */
static void make_cfg(uint8_t *c)
{
	memset(c, 0, PCI_CFG_SIZE);
	c[PCI_STATUS] = PCI_STATUS_CAPS;
	c[PCI_CAP_PTR] = 0x40;
	c[0x40] = PCI_CAP_PM;
	c[0x41] = 0x50;
	c[0x50] = PCI_CAP_MSI;
	c[0x51] = 0x70;
	c[0x52] = 0x80; /* 64-bit */
	c[0x53] = 0x01; /* per-vector masking */
	c[0x70] = PCI_CAP_MSIX;
	c[0x71] = 0;
	c[0x72] = 4; /* 5 entries */
	c[0x74] = 0x03; /* table: BAR 3, offset 0 */
	c[0x78] = 0x03; /* PBA: BAR 3, offset 0x2000 */
	c[0x79] = 0x20;
}

static void test_caps(void **state)
{
	uint8_t c[PCI_CFG_SIZE];
	struct pci_caps k;
	(void)state;
	make_cfg(c);
	pci_caps_parse(c, &k);
	assert_int_equal(k.pm, 0x40);
	assert_int_equal(k.msi, 0x50);
	assert_true(k.msi_64);
	assert_true(k.msi_mask);
	assert_int_equal(pci_msi_data_off(&k), 0x5c);
	assert_int_equal(k.msix, 0x70);
	assert_int_equal(k.msix_n, 5);
	assert_int_equal(k.msix_bir, 3);
	assert_int_equal(k.msix_off, 0);
	assert_int_equal(k.pba_bir, 3);
	assert_int_equal(k.pba_off, 0x2000);

	/* no capability list */
	c[PCI_STATUS] = 0;
	pci_caps_parse(c, &k);
	assert_int_equal(k.pm | k.msi | k.msix, 0);
	/* a loop ends; pointers below 0x40 end the list; low bits ignored */
	make_cfg(c);
	c[0x41] = 0x40;
	pci_caps_parse(c, &k);
	assert_int_equal(k.pm, 0x40);
	assert_int_equal(k.msi, 0);
	c[0x41] = 0x10;
	pci_caps_parse(c, &k);
	assert_int_equal(k.msi, 0);
	c[0x41] = 0x53;
	pci_caps_parse(c, &k);
	assert_int_equal(k.msi, 0x50);
	/* 32-bit MSI without masking: data at +8 */
	make_cfg(c);
	c[0x52] = 0;
	c[0x53] = 0;
	pci_caps_parse(c, &k);
	assert_false(k.msi_64);
	assert_int_equal(pci_msi_data_off(&k), 0x58);
	/* an MSI capability that does not fit is ignored */
	memset(c, 0, sizeof(c));
	c[PCI_STATUS] = PCI_STATUS_CAPS;
	c[PCI_CAP_PTR] = 0xf0;
	c[0xf0] = PCI_CAP_MSI;
	c[0xf2] = 0x80;
	c[0xf3] = 0x01;
	pci_caps_parse(c, &k);
	assert_int_equal(k.msi, 0);
	c[0xf2] = c[0xf3] = 0; /* 12 bytes fit */
	pci_caps_parse(c, &k);
	assert_int_equal(k.msi, 0xf0);
	/* random spaces: never out of bounds (AddressSanitizer) */
	struct unit_rng r;
	unit_rng_seed(&r, 5);
	for (unsigned n = 0; n < 20000; n++) {
		uint8_t *x = malloc(PCI_CFG_SIZE);
		for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
			x[i] = (uint8_t)unit_rng_next(&r);
		x[PCI_STATUS] |= PCI_STATUS_CAPS;
		pci_caps_parse(x, &k);
		assert_true(!k.msi || k.msi + 12 <= PCI_CFG_SIZE);
		free(x);
	}
}

static void test_access(void **state)
{
	(void)state;
	assert_true(pci_access_ok(0, 4, PCI_CFG_SIZE));
	assert_true(pci_access_ok(254, 2, PCI_CFG_SIZE));
	assert_true(pci_access_ok(255, 1, PCI_CFG_SIZE));
	assert_true(pci_access_ok(4092, 4, PCI_ECAM_SIZE));
	assert_false(pci_access_ok(256, 1, PCI_CFG_SIZE));
	assert_false(pci_access_ok(4096, 1, PCI_ECAM_SIZE));
	assert_false(pci_access_ok(2, 4, PCI_CFG_SIZE));
	assert_false(pci_access_ok(1, 2, PCI_CFG_SIZE));
	assert_false(pci_access_ok(0, 3, PCI_CFG_SIZE));
	assert_false(pci_access_ok(0, 8, PCI_CFG_SIZE));
	assert_false(pci_access_ok(0, 0, PCI_CFG_SIZE));
	assert_false(pci_access_ok(UINT64_MAX - 1, 2, PCI_CFG_SIZE));
	assert_false(pci_access_ok(UINT64_MAX & ~3ull, 4, PCI_CFG_SIZE));
}

static const uint32_t addrs[2] = {0xfee00000u, 0xfee01000u};

static void filter(struct pci_filter *f, bool msi)
{
	uint8_t c[PCI_CFG_SIZE];
	make_cfg(c);
	memset(f, 0, sizeof(*f));
	pci_caps_parse(c, &f->caps);
	f->msi = msi;
	f->msi_data = 0x61;
	f->msi_addr = addrs;
	f->n_addr = 2;
}

#define OK(o, s, v) assert_int_equal(pci_write_check(&f, o, s, v), 0)
#define NO(o, s, v) assert_int_equal(pci_write_check(&f, o, s, v), -1)

static void test_filter(void **state)
{
	struct pci_filter f;
	(void)state;
	filter(&f, true);
	/* command and status */
	OK(PCI_COMMAND, 2, 0x7);
	OK(PCI_STATUS, 2, 0xffff);
	OK(PCI_COMMAND, 4, 0xffff0406);
	OK(PCI_COMMAND + 1, 1, 0x04);
	NO(PCI_COMMAND, 1, 0x100); /* value wider than the access */
	/* the rest of the header */
	NO(0x00, 4, 0);
	NO(0x02, 2, 0);
	NO(0x08, 4, 0);
	NO(0x0c, 4, 0);
	for (unsigned b = 0x10; b < 0x28; b += 4)
		NO(b, 4, 0xffffffffu); /* BARs */
	NO(0x30, 4, 0);            /* expansion ROM */
	NO(0x34, 1, 0);
	NO(0x3c, 1, 5);            /* interrupt line */
	NO(0x3d, 1, 1);
	NO(0x80, 4, 0);            /* beyond the capabilities */
	NO(0xfc, 4, 0);
	/* power management: PMCSR only */
	OK(0x44, 2, 0x8003);
	OK(0x40, 2, 0x5001); /* the read-only header */
	NO(0x42, 2, 0);      /* PMC */
	NO(0x46, 1, 0);
	NO(0x44, 4, 0);      /* PMCSR and the bridge/data bytes */
	/* MSI control: one vector; enable only with an MSI semaphore */
	OK(0x52, 2, 0x0001);
	OK(0x52, 2, 0x0000);
	OK(0x52, 1, 0x01);
	OK(0x53, 1, 0x00);
	OK(0x50, 4, 0x00017005);
	NO(0x52, 2, 0x0011);
	NO(0x52, 2, 0x0041);
	NO(0x50, 4, 0x00107005);
	/* MSI address: one of the CPUs', whole; upper half 0 */
	OK(0x54, 4, 0xfee00000u);
	OK(0x54, 4, 0xfee01000u);
	NO(0x54, 4, 0xfee02000u);
	NO(0x54, 4, 0x00001000u);
	NO(0x54, 2, 0x0000);
	NO(0x56, 2, 0xfee0);
	NO(0x54, 1, 0);
	OK(0x58, 4, 0);
	NO(0x58, 4, 1);
	NO(0x58, 2, 0);
	/* MSI data: exactly the semaphore's */
	OK(0x5c, 2, 0x61);
	OK(0x5c, 4, 0x61);
	NO(0x5c, 2, 0x62);
	NO(0x5c, 4, 0x10061);
	NO(0x5c, 1, 0x61);
	NO(0x5e, 2, 0);
	/* mask bits yes, pending bits no */
	OK(0x60, 4, 1);
	OK(0x60, 1, 0);
	NO(0x64, 4, 0);
	/* MSI-X: function mask yes, enable no, table location no */
	OK(0x72, 2, 0x4000);
	OK(0x70, 4, 0x40000011);
	NO(0x72, 2, 0x8000);
	NO(0x73, 1, 0x80);
	NO(0x70, 4, 0x80000011);
	NO(0x74, 4, 0);
	NO(0x78, 4, 0);

	/* without an MSI semaphore (INTx) */
	filter(&f, false);
	OK(0x52, 2, 0);
	NO(0x52, 2, 1);
	NO(0x54, 4, 0xfee00000u);
	NO(0x58, 4, 0);
	NO(0x5c, 2, 0x61);
	OK(PCI_COMMAND, 2, 0x406);

	/* no capabilities: command and status only */
	memset(&f, 0, sizeof(f));
	OK(PCI_COMMAND, 2, 6);
	NO(0x40, 4, 0);
	NO(0x52, 2, 0);
}

/* The semaphore delivered by MSI-X (table entry 0 written by the roottask). */
static void test_filter_msix(void **state)
{
	struct pci_filter f;
	(void)state;
	filter(&f, false);
	f.msix = true;
	/* MSI-X enable and function mask, in any access width */
	OK(0x72, 2, 0x8000);
	OK(0x72, 2, 0xc000);
	OK(0x72, 2, 0x0000);
	OK(0x73, 1, 0x80);
	OK(0x73, 1, 0xc0);
	OK(0x70, 4, 0x80000011);
	OK(0x70, 4, 0xc0000011);
	/* table and PBA location never */
	NO(0x74, 4, 0);
	NO(0x74, 4, 3);
	NO(0x78, 4, 0);
	NO(0x76, 2, 0);
	NO(0x72, 4, 0x8000); /* into the table offset */
	/* MSI: not enabled, its address and data not written */
	OK(0x52, 2, 0);
	NO(0x52, 2, 1);
	NO(0x52, 1, 1);
	NO(0x50, 4, 0x00017005);
	NO(0x54, 4, 0xfee00000u);
	NO(0x58, 4, 0);
	NO(0x5c, 2, 0x61);
	OK(PCI_COMMAND, 2, 0x406);

	/* with MSI (not MSI-X): MSI-X enable refused, in every width */
	filter(&f, true);
	NO(0x72, 2, 0x8000);
	NO(0x73, 1, 0x80);
	NO(0x70, 4, 0x80000011);
	OK(0x73, 1, 0x40);

	/* MSI-X flag without an MSI-X capability: nothing there to write */
	filter(&f, false);
	f.msix = true;
	f.caps.msix = 0;
	NO(0x72, 2, 0x8000);
	NO(0x70, 4, 0x80000011);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_mem32), cmocka_unit_test(test_bar_mem64), cmocka_unit_test(test_bar_io),
		cmocka_unit_test(test_bar_fuzz),  cmocka_unit_test(test_caps),      cmocka_unit_test(test_access),
		cmocka_unit_test(test_filter),    cmocka_unit_test(test_filter_msix),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
