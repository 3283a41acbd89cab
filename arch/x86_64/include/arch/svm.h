/*
 * AMD-V (SVM): the VMCB layout, intercept bits and exit codes as the AMD64
 * Architecture Programmer's Manual Vol. 2 (chapter 15, appendix B and C)
 * names them, and the interface of arch/x86_64/svm/ to vcpu.c.
 */
#ifndef ARCH_SVM_H
#define ARCH_SVM_H

#include "types.h"

struct PACKED vmcb_seg {
	u16 sel, attrib; /* attrib: descriptor bits 40..47 and 52..55 */
	u32 limit;
	u64 base;
};

/* The VMCB: control area at 0, state-save area at 0x400 (APM Vol. 2 appendix B). */
struct PACKED vmcb {
	u32 intercept_cr;      /* 0x000: reads 0..15, writes 16..31 */
	u32 intercept_dr;      /* 0x004 */
	u32 intercept_exc;     /* 0x008 */
	u32 intercept1;        /* 0x00c: SVM_I1_* */
	u32 intercept2;        /* 0x010: SVM_I2_* */
	u8 reserved0[0x40 - 0x14];
	u64 iopm_pa;           /* 0x040 */
	u64 msrpm_pa;          /* 0x048 */
	u64 tsc_offset;        /* 0x050 */
	u32 asid;              /* 0x058 */
	u8 tlb_control;        /* 0x05c */
	u8 reserved1[3];
	u64 vintr;             /* 0x060: V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING */
	u64 int_state;         /* 0x068: bit 0 interrupt shadow */
	u64 exitcode;          /* 0x070 */
	u64 exitinfo1;         /* 0x078 */
	u64 exitinfo2;         /* 0x080 */
	u64 exitintinfo;       /* 0x088 */
	u64 np_enable;         /* 0x090 */
	u8 reserved2[0xa8 - 0x98];
	u64 eventinj;          /* 0x0a8 */
	u64 n_cr3;             /* 0x0b0 */
	u64 lbr_virt;          /* 0x0b8 */
	u32 clean;             /* 0x0c0 */
	u32 reserved3;
	u64 next_rip;          /* 0x0c8 (with NRIPS) */
	u8 reserved4[0x400 - 0xd0];
	/* state-save area */
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	u8 reserved5[0x4cb - 0x4a0];
	u8 cpl;                /* 0x4cb */
	u32 reserved6;
	u64 efer;              /* 0x4d0 */
	u8 reserved7[0x548 - 0x4d8];
	u64 cr4, cr3, cr0, dr7, dr6, rflags, rip; /* 0x548 */
	u8 reserved8[0x5d8 - 0x580];
	u64 rsp;               /* 0x5d8 */
	u8 reserved9[0x5f8 - 0x5e0];
	u64 rax;               /* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600 */
	u64 sysenter_cs, sysenter_esp, sysenter_eip;     /* 0x628 */
	u64 cr2;               /* 0x640 */
	u8 reserved10[0x668 - 0x648];
	u64 g_pat;             /* 0x668 */
	u64 dbgctl;            /* 0x670 */
	u8 reserved11[0x1000 - 0x678];
};

_Static_assert(__builtin_offsetof(struct vmcb, iopm_pa) == 0x40, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, eventinj) == 0xa8, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, next_rip) == 0xc8, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, tr) == 0x490, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB layout");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB layout");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB layout");

/* intercept_exc (VMCB 0x008): one bit per vector */
#define SVM_EXC_DB (1u << 1)
#define SVM_EXC_AC (1u << 17)
/* intercept1 (VMCB 0x00c) */
#define SVM_I1_INTR (1u << 0)
#define SVM_I1_NMI (1u << 1)
#define SVM_I1_INIT (1u << 3)
#define SVM_I1_VINTR (1u << 4)
#define SVM_I1_RDPMC (1u << 15)
#define SVM_I1_CPUID (1u << 18)
#define SVM_I1_IRET (1u << 20)
#define SVM_I1_INVD (1u << 22)
#define SVM_I1_HLT (1u << 24)
#define SVM_I1_INVLPGA (1u << 26)
#define SVM_I1_IOIO (1u << 27)
#define SVM_I1_MSR (1u << 28)
#define SVM_I1_TASK_SWITCH (1u << 29)
#define SVM_I1_SHUTDOWN (1u << 31)
/* intercept2 (VMCB 0x010) */
#define SVM_I2_VMRUN (1u << 0)
#define SVM_I2_VMMCALL (1u << 1)
#define SVM_I2_VMLOAD (1u << 2)
#define SVM_I2_VMSAVE (1u << 3)
#define SVM_I2_STGI (1u << 4)
#define SVM_I2_CLGI (1u << 5)
#define SVM_I2_SKINIT (1u << 6)
#define SVM_I2_RDTSCP (1u << 7)
#define SVM_I2_WBINVD (1u << 9)
#define SVM_I2_MONITOR (1u << 10)
#define SVM_I2_MWAIT (1u << 11)
#define SVM_I2_XSETBV (1u << 13)

/* vintr (VMCB 0x060) */
#define SVM_V_IRQ (1ull << 8)
#define SVM_V_INTR_PRIO_SHIFT 16
#define SVM_V_IGN_TPR (1ull << 20)
#define SVM_V_INTR_MASKING (1ull << 24)

/* tlb_control */
#define SVM_TLB_FLUSH_NONE 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* event injection (EVENTINJ, EXITINTINFO) */
#define SVM_EVT_VALID (1u << 31)
#define SVM_EVT_ERR (1u << 11)
#define SVM_EVT_INTR 0u
#define SVM_EVT_NMI 2u
#define SVM_EVT_EXC 3u
#define SVM_EVT_SOFT 4u

/* exit codes (APM Vol. 2 appendix C) */
#define SVM_EXIT_EXC_DB 0x41 /* 0x40 + vector */
#define SVM_EXIT_EXC_AC 0x51
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_RDTSCP 0x87
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID (~0ull)

#define EFER_SVME (1ull << 12)

/* ---- Interface to the generic vCPU code (vcpu.c) ------------------------- */
struct ec;
struct hv_cpu_state;

bool svm_probe(void);
bool svm_init_cpu(void);
bool svm_vcpu_create(struct ec *ec);
void svm_vcpu_destroy(struct ec *ec);
NORETURN void svm_run(struct ec *ec);
void svm_get_state(struct ec *ec, u64 mtd, struct hv_cpu_state *st);
bool svm_set_state(struct ec *ec, const struct hv_cpu_state *st);

/* the translations to the exit message's layout (svm/translate.c, unit-tested) */
u32 svm_attrib_to_ar(u16 attrib);
u16 svm_ar_to_attrib(u32 ar);
u64 svm_ioio_qual(u64 exitinfo1);
u64 svm_npf_qual(u64 exitinfo1);
u32 svm_evt_to_vmx(u64 evt);
bool svm_evt_from_vmx(u32 info, u32 error, u64 *evt, bool *advance_rip);
struct svm_exit {
	unsigned reason;  /* the VT-x basic exit reason */
	u32 inst_len;
	u64 qual, gpa;    /* VT-x layout */
};
bool svm_exit_to_vmx(const struct vmcb *b, bool nrips, struct svm_exit *e);

#endif
