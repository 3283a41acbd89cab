/*
 * AMD-V exit information in the layout of the exit messages (docs/abi.md),
 * which is VT-x's: segment access rights, I/O and nested-page-fault
 * qualifications, event (injection) information. Pure functions, so the
 * host unit tests run them.
 */
#include <arch/svm.h>

/* VMX rights: type 0..3, S 4, DPL 5..6, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16 */
#define AR_UNUSABLE (1u << 16)
#define ATTR_P 0x80u

u32 svm_attrib_to_ar(u16 attrib)
{
	u32 ar = (attrib & 0xffu) | ((u32)(attrib & 0xf00u) << 4);
	return attrib & ATTR_P ? ar : ar | AR_UNUSABLE;
}

u16 svm_ar_to_attrib(u32 ar)
{
	u16 a = (u16)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
	return ar & AR_UNUSABLE ? (u16)(a & ~ATTR_P) : a;
}

/*
 * IOIO EXITINFO1: bit 0 IN, 2 string, 3 REP, 4..6 operand size 8/16/32,
 * port in 16..31. VMX: size - 1 in 0..2, 3 IN, 4 string, 5 REP, port in
 * 16..31 (bit 6, DX or immediate, is not known and stays 0).
 */
u64 svm_ioio_qual(u64 info)
{
	unsigned size = info & (1u << 6) ? 4 : info & (1u << 5) ? 2 : 1;
	return (size - 1) | (info & 1 ? 8u : 0) | (info & 4 ? 16u : 0) | (info & 8 ? 32u : 0) |
	       (info & 0xffff0000ull);
}

/*
 * Nested page fault EXITINFO1 (a #PF error code: P 0, W 1, U 2, RSV 3,
 * fetch 4; 32: at the final translation, 33: at a guest page table) as an
 * EPT-violation qualification: read 0 / write 1 / fetch 2, the page was
 * readable 3, a guest-linear address caused it 7, at the final translation 8.
 */
u64 svm_npf_qual(u64 info)
{
	u64 q = info & 2 ? 2 : info & 0x10 ? 4 : 1;
	if (info & 1)
		q |= 8;
	if (info & (3ull << 32))
		q |= 1u << 7;
	if (info & (1ull << 32))
		q |= 1u << 8;
	return q;
}

/*
 * EXITINTINFO / EVENTINJ -> VMX interruption information. INT3 and INTO
 * are software exceptions there; AMD CPUs report them as exceptions,
 * QEMU as software interrupts, and either way they become type 6.
 */
u32 svm_evt_to_vmx(u64 evt)
{
	if (!(evt & SVM_EVT_VALID))
		return 0;
	unsigned type = (evt >> 8) & 7, vec = evt & 0xff;
	if ((type == SVM_EVT_EXC || type == SVM_EVT_SOFT) && (vec == 3 || vec == 4))
		type = 6;
	return SVM_EVT_VALID | (u32)(evt & SVM_EVT_ERR) | (type << 8) | vec;
}

/*
 * VMX interruption information -> EVENTINJ. Software interrupts and
 * software exceptions push the address after the instruction, so the
 * caller advances RIP by the instruction length (*advance_rip). The
 * reserved types (1, 7) are refused.
 */
bool svm_evt_from_vmx(u32 info, u32 error, u64 *evt, bool *advance_rip)
{
	*evt = 0;
	*advance_rip = false;
	if (!(info & SVM_EVT_VALID))
		return true;
	unsigned type = (info >> 8) & 7, vec = info & 0xff, t;
	switch (type) {
	case 0:
		t = SVM_EVT_INTR;
		break;
	case 2:
		t = SVM_EVT_NMI;
		vec = 2;
		break;
	case 3:
		t = SVM_EVT_EXC;
		break;
	case 4:
		t = SVM_EVT_SOFT;
		*advance_rip = true;
		break;
	case 5: /* privileged software exception (INT1) */
	case 6: /* software exception (INT3, INTO) */
		t = SVM_EVT_EXC;
		*advance_rip = true;
		break;
	default:
		return false;
	}
	*evt = SVM_EVT_VALID | (t << 8) | vec;
	if (info & SVM_EVT_ERR)
		*evt |= SVM_EVT_ERR | ((u64)error << 32);
	return true;
}
