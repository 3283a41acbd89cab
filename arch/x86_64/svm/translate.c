/*
 * AMD-V exit information in the layout of the exit messages (docs/abi.md),
 * which is VT-x's: exit reasons, segment access rights, I/O and
 * nested-page-fault qualifications, event (injection) information. Pure
 * functions, so the host unit tests run them.
 */
#include <arch/svm.h>
#include <hv/vmexit.h>

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

/*
 * The exit message of an exit: the VT-x exit reason of an AMD-V exit code,
 * with the instruction length (fixed, or from the NRIP if the CPU saves it)
 * and the qualification in the VT-x layout. False: an unexpected code.
 */
bool svm_exit_to_vmx(const struct vmcb *b, bool nrips, struct svm_exit *e)
{
	static const struct {
		u16 code;
		u8 reason, len;
	} map[] = {
		{ SVM_EXIT_EXC_DB, EXIT_REASON_EXCEPTION_NMI, 0 },
		{ SVM_EXIT_EXC_AC, EXIT_REASON_EXCEPTION_NMI, 0 },
		{ SVM_EXIT_INTR, EXIT_REASON_EXTERNAL_INTERRUPT, 0 },
		{ SVM_EXIT_NMI, EXIT_REASON_EXCEPTION_NMI, 0 },
		{ SVM_EXIT_INIT, EXIT_REASON_INIT_SIGNAL, 0 },
		{ SVM_EXIT_VINTR, EXIT_REASON_INTERRUPT_WINDOW, 0 },
		{ SVM_EXIT_RDPMC, EXIT_REASON_RDPMC, 2 },
		{ SVM_EXIT_CPUID, EXIT_REASON_CPUID, 2 },
		{ SVM_EXIT_INVD, EXIT_REASON_INVD, 2 },
		{ SVM_EXIT_HLT, EXIT_REASON_HLT, 1 },
		{ SVM_EXIT_IOIO, EXIT_REASON_IO_INSTRUCTION, 0 },
		{ SVM_EXIT_MSR, EXIT_REASON_MSR_READ, 2 },
		{ SVM_EXIT_TASK_SWITCH, EXIT_REASON_TASK_SWITCH, 0 },
		{ SVM_EXIT_SHUTDOWN, EXIT_REASON_TRIPLE_FAULT, 0 },
		/* SVM's instructions as their VMX counterparts (#UD for both), and RDTSCP */
		{ SVM_EXIT_VMRUN, EXIT_REASON_VMLAUNCH, 3 },
		{ SVM_EXIT_VMMCALL, EXIT_REASON_VMCALL, 3 },
		{ SVM_EXIT_VMLOAD, EXIT_REASON_VMPTRLD, 3 },
		{ SVM_EXIT_VMSAVE, EXIT_REASON_VMPTRST, 3 },
		{ SVM_EXIT_STGI, EXIT_REASON_VMXON, 3 },
		{ SVM_EXIT_CLGI, EXIT_REASON_VMXOFF, 3 },
		{ SVM_EXIT_SKINIT, EXIT_REASON_VMLAUNCH, 3 },
		{ SVM_EXIT_RDTSCP, EXIT_REASON_RDTSCP, 3 },
		{ SVM_EXIT_INVLPGA, EXIT_REASON_INVVPID, 3 },
		{ SVM_EXIT_WBINVD, EXIT_REASON_WBINVD, 2 },
		{ SVM_EXIT_MONITOR, EXIT_REASON_MONITOR_INSTRUCTION, 3 },
		{ SVM_EXIT_MWAIT, EXIT_REASON_MWAIT_INSTRUCTION, 3 },
		{ SVM_EXIT_XSETBV, EXIT_REASON_XSETBV, 3 },
		{ SVM_EXIT_NPF, EXIT_REASON_EPT_VIOLATION, 0 },
	};
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].code != b->exitcode)
			continue;
		*e = (struct svm_exit){ map[i].reason, map[i].len, 0, 0 };
		if (nrips && map[i].len && b->next_rip > b->rip && b->next_rip - b->rip <= 15)
			e->inst_len = (u32)(b->next_rip - b->rip);
		if (b->exitcode == SVM_EXIT_IOIO) {
			e->qual = svm_ioio_qual(b->exitinfo1);
			e->inst_len = (u32)(b->exitinfo2 - b->rip); /* EXITINFO2: the next RIP */
		} else if (b->exitcode == SVM_EXIT_MSR && (b->exitinfo1 & 1)) {
			e->reason = EXIT_REASON_MSR_WRITE;
		} else if (b->exitcode == SVM_EXIT_NPF) {
			e->qual = svm_npf_qual(b->exitinfo1);
			e->gpa = b->exitinfo2;
		}
		return true;
	}
	return false;
}
