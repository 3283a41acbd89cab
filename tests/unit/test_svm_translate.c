/*
 * Unit tests of the AMD-V exit information translated to the exit
 * message's (VT-x) layout (arch/x86_64/svm/translate.c): segment rights,
 * I/O and nested-page-fault qualifications, event information both ways,
 * exit reasons.
 */
#include "unit.h"

#include <arch/svm.h>
#include <hv/vmexit.h>

static void test_segment_rights(void **state)
{
	(void)state;
	/* 64-bit code: P, DPL 0, S, type 0xb; L and G */
	assert_int_equal(svm_attrib_to_ar(0xa9b), 0xa09b);
	assert_int_equal(svm_ar_to_attrib(0xa09b), 0xa9b);
	/* 32-bit flat data: D/B and G */
	assert_int_equal(svm_attrib_to_ar(0xc93), 0xc093);
	assert_int_equal(svm_ar_to_attrib(0xc093), 0xc93);
	/* real-mode data */
	assert_int_equal(svm_attrib_to_ar(0x93), 0x93);
	/* not present: unusable, the other bits kept both ways */
	assert_int_equal(svm_attrib_to_ar(0x0), 1u << 16);
	assert_int_equal(svm_attrib_to_ar(0x13), (1u << 16) | 0x13);
	assert_int_equal(svm_ar_to_attrib((1u << 16) | 0x93), 0x13);
	for (unsigned a = 0; a < 0x1000; a++)
		assert_int_equal(svm_ar_to_attrib(svm_attrib_to_ar((u16)a)), a);
}

static void test_ioio(void **state)
{
	(void)state;
	/* out dx, al to 0x3f8: SZ8, A64 */
	assert_int_equal(svm_ioio_qual((0x3f8ull << 16) | (1u << 4) | (1u << 9)), (0x3f8ull << 16) | 0);
	/* in ax, 0x60 */
	assert_int_equal(svm_ioio_qual((0x60ull << 16) | (1u << 5) | 1), (0x60ull << 16) | 1 | 8);
	/* in eax, dx from 0xcfc */
	assert_int_equal(svm_ioio_qual((0xcfcull << 16) | (1u << 6) | 1), (0xcfcull << 16) | 3 | 8);
	/* rep outsb to 0x80 */
	assert_int_equal(svm_ioio_qual((0x80ull << 16) | (1u << 4) | 4 | 8), (0x80ull << 16) | 16 | 32);
}

static void test_npf(void **state)
{
	(void)state;
	/* a read of an unmapped page at the final translation */
	assert_int_equal(svm_npf_qual(1ull << 32), 1 | (1u << 7) | (1u << 8));
	/* a write to a present (read-only) page */
	assert_int_equal(svm_npf_qual((1ull << 32) | 2 | 1), 2 | 8 | (1u << 7) | (1u << 8));
	/* an instruction fetch during a guest page-table walk */
	assert_int_equal(svm_npf_qual((1ull << 33) | 0x10), 4 | (1u << 7));
}

static void test_events_to_vmx(void **state)
{
	(void)state;
	assert_int_equal(svm_evt_to_vmx(0), 0);
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | 0x30), SVM_EVT_VALID | 0x30);            /* interrupt */
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | (2u << 8) | 2), SVM_EVT_VALID | (2u << 8) | 2); /* NMI */
	/* #GP with its error code in the upper half */
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | SVM_EVT_ERR | (3u << 8) | 13 | (0x1230ull << 32)),
			 SVM_EVT_VALID | SVM_EVT_ERR | (3u << 8) | 13);
	/* INT3 as AMD (exception) and QEMU (software interrupt) report it: software exception */
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | (3u << 8) | 3), SVM_EVT_VALID | (6u << 8) | 3);
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | (4u << 8) | 3), SVM_EVT_VALID | (6u << 8) | 3);
	/* INT 0x80 */
	assert_int_equal(svm_evt_to_vmx(SVM_EVT_VALID | (4u << 8) | 0x80), SVM_EVT_VALID | (4u << 8) | 0x80);
}

static void test_events_from_vmx(void **state)
{
	(void)state;
	u64 evt;
	bool adv;
	assert_true(svm_evt_from_vmx(0, 0, &evt, &adv));
	assert_int_equal(evt, 0);
	assert_true(svm_evt_from_vmx(SVM_EVT_VALID | 0x41, 0, &evt, &adv));
	assert_int_equal(evt, SVM_EVT_VALID | 0x41);
	assert_false(adv);
	assert_true(svm_evt_from_vmx(SVM_EVT_VALID | SVM_EVT_ERR | (3u << 8) | 14, 0x6, &evt, &adv));
	assert_int_equal(evt, SVM_EVT_VALID | SVM_EVT_ERR | (3u << 8) | 14 | (6ull << 32));
	assert_true(svm_evt_from_vmx(SVM_EVT_VALID | (2u << 8) | 2, 0, &evt, &adv));
	assert_int_equal(evt, SVM_EVT_VALID | (2u << 8) | 2);
	/* software interrupts and exceptions: RIP moves past the instruction */
	assert_true(svm_evt_from_vmx(SVM_EVT_VALID | (4u << 8) | 0x80, 0, &evt, &adv));
	assert_int_equal(evt, SVM_EVT_VALID | (4u << 8) | 0x80);
	assert_true(adv);
	assert_true(svm_evt_from_vmx(SVM_EVT_VALID | (6u << 8) | 3, 0, &evt, &adv));
	assert_int_equal(evt, SVM_EVT_VALID | (3u << 8) | 3);
	assert_true(adv);
	/* reserved types */
	assert_false(svm_evt_from_vmx(SVM_EVT_VALID | (1u << 8) | 3, 0, &evt, &adv));
	assert_false(svm_evt_from_vmx(SVM_EVT_VALID | (7u << 8), 0, &evt, &adv));
}

/* Exit codes to VT-x reasons, instruction lengths and qualifications. */
static void test_exit_reasons(void **state)
{
	(void)state;
	static struct vmcb b;
	struct svm_exit e;
	b.exitcode = SVM_EXIT_CPUID;
	b.rip = 0x1000;
	b.next_rip = 0x1003; /* ignored without NRIP save */
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_CPUID);
	assert_int_equal(e.inst_len, 2);
	b.next_rip = 0x1002;
	assert_true(svm_exit_to_vmx(&b, true, &e));
	assert_int_equal(e.inst_len, 2);
	b.exitcode = SVM_EXIT_MSR;
	b.exitinfo1 = 1; /* WRMSR */
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_MSR_WRITE);
	b.exitcode = SVM_EXIT_IOIO; /* in al, dx from 0x510; the next RIP in EXITINFO2 */
	b.exitinfo1 = (0x510ull << 16) | (1u << 4) | 1;
	b.exitinfo2 = 0x1001;
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_IO_INSTRUCTION);
	assert_int_equal(e.inst_len, 1);
	assert_int_equal(e.qual, (0x510ull << 16) | 8);
	b.exitcode = SVM_EXIT_NPF; /* a write to a not-present page */
	b.exitinfo1 = 2 | (1ull << 32);
	b.exitinfo2 = 0xfeb00008;
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_EPT_VIOLATION);
	assert_int_equal(e.gpa, 0xfeb00008);
	assert_int_equal(e.inst_len, 0);
	b.exitcode = SVM_EXIT_EXC_AC; /* kernel-handled ones have reasons too */
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_EXCEPTION_NMI);
	b.exitcode = SVM_EXIT_WBINVD;
	assert_true(svm_exit_to_vmx(&b, false, &e));
	assert_int_equal(e.reason, EXIT_REASON_WBINVD);
	b.exitcode = SVM_EXIT_IRET; /* the kernel's own (the NMI window), never a message */
	assert_false(svm_exit_to_vmx(&b, false, &e));
	b.exitcode = 0x1234;
	assert_false(svm_exit_to_vmx(&b, false, &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_rights), cmocka_unit_test(test_ioio), cmocka_unit_test(test_npf),
		cmocka_unit_test(test_events_to_vmx), cmocka_unit_test(test_events_from_vmx),
		cmocka_unit_test(test_exit_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
