/*
 * The checks XSETBV makes on a new XCR0 (SDM Vol. 1, 13.3), done by the
 * kernel for a guest's XSETBV exit. Pure, so the host unit tests run it.
 */
#include <arch/xcr0.h>

bool xcr0_valid(u64 v, u64 allowed)
{
	if (!(v & XCR0_X87) || (v & ~(allowed & XCR0_GUEST_MAX)))
		return false;
	if ((v & XCR0_AVX) && !(v & XCR0_SSE))
		return false;
	if ((v & XCR0_AVX512) && ((v & XCR0_AVX512) != XCR0_AVX512 || !(v & XCR0_AVX)))
		return false;
	if (!(v & XCR0_BNDREGS) != !(v & XCR0_BNDCSR))
		return false;
	return true;
}
