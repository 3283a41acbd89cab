/*
 * Unit tests of the XSETBV checks the kernel makes for a guest
 * (arch/x86_64/xcr0.c), against the rules of SDM Vol. 1, 13.3.
 */
#include "unit.h"

#include <arch/xcr0.h>

#define SKX (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512) /* Skylake-X without MPX/PKRU */

static void test_valid_values(void **state)
{
	(void)state;
	assert_true(xcr0_valid(XCR0_X87, SKX));
	assert_true(xcr0_valid(XCR0_X87 | XCR0_SSE, SKX));
	assert_true(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, SKX));
	assert_true(xcr0_valid(SKX, SKX));
	assert_true(xcr0_valid(XCR0_X87 | XCR0_BNDREGS | XCR0_BNDCSR, XCR0_GUEST_MAX));
	assert_true(xcr0_valid(XCR0_X87 | XCR0_PKRU, XCR0_GUEST_MAX));
}

static void test_x87_required(void **state)
{
	(void)state;
	assert_false(xcr0_valid(0, SKX));
	assert_false(xcr0_valid(XCR0_SSE, SKX));
	assert_false(xcr0_valid(XCR0_SSE | XCR0_AVX, SKX));
}

static void test_avx_needs_sse(void **state)
{
	(void)state;
	assert_false(xcr0_valid(XCR0_X87 | XCR0_AVX, SKX));
}

static void test_avx512_together_and_with_avx(void **state)
{
	(void)state;
	u64 base = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	assert_false(xcr0_valid(base | XCR0_OPMASK, SKX));
	assert_false(xcr0_valid(base | XCR0_OPMASK | XCR0_ZMM_HI256, SKX));
	assert_false(xcr0_valid(base | XCR0_HI16_ZMM, SKX));
	assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX512, SKX));
	assert_true(xcr0_valid(base | XCR0_AVX512, SKX));
}

static void test_mpx_pair(void **state)
{
	(void)state;
	assert_false(xcr0_valid(XCR0_X87 | XCR0_BNDREGS, XCR0_GUEST_MAX));
	assert_false(xcr0_valid(XCR0_X87 | XCR0_BNDCSR, XCR0_GUEST_MAX));
}

static void test_only_host_enabled(void **state)
{
	(void)state;
	/* AVX not enabled by the host: refused even though the value is well-formed */
	assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, XCR0_X87 | XCR0_SSE));
	assert_false(xcr0_valid(XCR0_X87 | XCR0_PKRU, SKX));
	assert_false(xcr0_valid(XCR0_X87 | (1ull << 8), ~0ull)); /* PT: supervisor state, never in XCR0 */
	assert_false(xcr0_valid(XCR0_X87 | (1ull << 63), ~0ull ^ (1ull << 63)));
}

/* Every value over the low 10 bits: valid exactly when all rules hold. */
static void test_exhaustive_low_bits(void **state)
{
	(void)state;
	for (u64 v = 0; v < 1024; v++) {
		bool want = (v & 1) && !((v & 4) && !(v & 2)) && !(v & ~SKX) &&
			    ((v & 0xe0) == 0 || ((v & 0xe0) == 0xe0 && (v & 4)));
		assert_int_equal(xcr0_valid(v, SKX), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_x87_required),
		cmocka_unit_test(test_avx_needs_sse),
		cmocka_unit_test(test_avx512_together_and_with_avx),
		cmocka_unit_test(test_mpx_pair),
		cmocka_unit_test(test_only_host_enabled),
		cmocka_unit_test(test_exhaustive_low_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
