/* XCR0 (XFEATURE_ENABLED_MASK): the state components XSAVE manages (SDM Vol. 1, 13.3). */
#ifndef ARCH_XCR0_H
#define ARCH_XCR0_H

#include "types.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_BNDREGS (1ull << 3)
#define XCR0_BNDCSR (1ull << 4)
#define XCR0_OPMASK (1ull << 5)
#define XCR0_ZMM_HI256 (1ull << 6)
#define XCR0_HI16_ZMM (1ull << 7)
#define XCR0_PKRU (1ull << 9)
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
/* the user components a guest may enable (AMX needs XFD: not offered) */
#define XCR0_GUEST_MAX (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_BNDREGS | XCR0_BNDCSR | XCR0_AVX512 | XCR0_PKRU)

/* Would XSETBV accept v as XCR0, with `allowed` the components the host enabled? */
bool xcr0_valid(u64 v, u64 allowed);

#endif
