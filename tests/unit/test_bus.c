/* The VMM's bus (vmm/bus.c): ranges that may not overlap, dispatch by the
 * first port or address, and PCI BARs that move (bus_map_io/mmio). */
#include "unit.h"
#define main vmm_main /* the runtime's declaration of the VMM's main() */
#include "../../vmm/vmm.h"
#undef main

static uint64_t last_off;
static void *last_ctx;
static int a, b, c;

static uint64_t rd(void *ctx, uint64_t off, unsigned size)
{
	(void)size;
	last_ctx = ctx;
	last_off = off;
	return 0x42;
}

static void wrf(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)size, (void)val;
	last_ctx = ctx;
	last_off = off;
}

static void test_map(void **state)
{
	(void)state;
	uint64_t v;
	struct bus_dev fixed = { "fixed", 0x1000, 0x1fff, rd, wrf, &a };
	assert_true(bus_add_mmio(&fixed));
	struct bus_dev bar = { "bar", 0x8000, 0x8fff, rd, wrf, &b };
	assert_true(bus_map_mmio(&bar, true));
	assert_true(bus_mmio(NULL, 0x8010, 4, false, &v));
	assert_ptr_equal(last_ctx, &b);
	assert_int_equal(last_off, 0x10);
	/* moved: the old range is gone */
	bar.first = 0x20000, bar.last = 0x20fff;
	assert_true(bus_map_mmio(&bar, true));
	assert_false(bus_probe_mmio(0x8010));
	assert_true(bus_mmio(NULL, 0x20ffc, 4, true, &v));
	assert_ptr_equal(last_ctx, &b);
	assert_int_equal(last_off, 0xffc);
	/* over another device: refused, and the BAR decodes nothing */
	bar.first = 0x1800, bar.last = 0x27ff;
	assert_false(bus_map_mmio(&bar, false) && bus_map_mmio(&bar, true));
	assert_false(bus_probe_mmio(0x20000));
	assert_true(bus_mmio(NULL, 0x1800, 4, false, &v));
	assert_ptr_equal(last_ctx, &a);
	/* off, then on again */
	bar.first = 0x30000, bar.last = 0x30fff;
	assert_true(bus_map_mmio(&bar, true));
	assert_true(bus_map_mmio(&bar, false));
	assert_false(bus_probe_mmio(0x30000));
	assert_true(bus_map_mmio(&bar, true));
	assert_true(bus_probe_mmio(0x30000));
	/* ports the same way, in their own table */
	struct bus_dev io = { "io", 0xc000, 0xc00f, rd, wrf, &c };
	assert_true(bus_map_io(&io, true));
	assert_true(bus_io(NULL, 0xc004, 2, true, &v));
	assert_int_equal(v, 0x42);
	assert_int_equal(last_off, 4);
	io.first = 0xc010, io.last = 0xc01f;
	assert_true(bus_map_io(&io, true));
	assert_false(bus_io(NULL, 0xc004, 2, true, &v));
	assert_int_equal(v, ~0ull);
	assert_true(bus_probe_mmio(0x30000));
	/* reversed ranges are refused */
	io.first = 0xd000, io.last = 0xcfff;
	assert_false(bus_map_io(&io, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
