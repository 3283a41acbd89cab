/*
 * Hardware virtualization, whichever the CPU has: Intel VT-x (vmx/) or
 * AMD-V (svm/). The kernel sees one interface: vCPUs whose exits become
 * the same events with the same message layout (docs/abi.md) on both, and
 * guest-physical page tables (EPT or NPT) built from a VM PD's GMEM space.
 */
#ifndef ARCH_VIRT_H
#define ARCH_VIRT_H

#include "types.h"

struct ec;
struct pd;
struct hv_cpu_state;
struct vmx_msr;
struct vmcb;

/* Guest register bits both backends use (SDM Vol. 3 / APM Vol. 2 names). */
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_RF (1ul << 16)
#define DR6_BS (1ul << 14)
/* What a VMM's reply may set: RFLAGS without reserved bits (1 is set by the kernel), EFER.SCE/LME/LMA/NXE */
#define GUEST_RFLAGS_MASK 0x3f7fd7ul
#define GUEST_EFER_MASK 0xd01ull

enum virt_kind { VIRT_NONE, VIRT_VMX, VIRT_SVM };
extern enum virt_kind virt_kind;

struct vcpu {
	void *fpu;            /* XSAVE area (fpu_size bytes) or 512-byte FXSAVE area */
	u64 xcr0;             /* guest XCR0: in the CPU while the vCPU owns its FPU */
	u64 cstar;            /* VT-x: guest IA32_CSTAR, switched with the FPU */
	u64 dr[5];            /* DR0-3 and (VT-x) DR6, switched with the FPU */
	bool initialized, started;
	/* VT-x */
	paddr_t vmcs;         /* physical address of the VMCS region */
	struct vmx_msr *msrs; /* guest values: VM-exit MSR-store and VM-entry MSR-load area */
	u64 cr2;              /* guest CR2 (not in the VMCS) */
	u64 cr0_shadow;
	u16 vpid;
	bool launched;
	/* AMD-V */
	struct vmcb *vmcb;
	u32 asid;
	u64 asid_gen;         /* the CPU's ASID generation the ASID belongs to */
	u64 gpt_gen;          /* the PD's NPT generation this vCPU's TLB entries reflect */
	u64 qual, gpa;        /* the last exit, in the VT-x layout the messages use */
	u32 inst_len;
	u32 vect_info, vect_error;
	bool nmi_blocked;     /* an injected NMI's handler has not reached IRET yet */
	bool nmi_step;        /* that IRET is being single-stepped */
	bool nmi_window;      /* the VMM asked for an exit once NMIs can be injected */
};

/* boot and every AP: probe (boot CPU) and enable VMX or SVM on this CPU */
void virt_init_cpu(void);
bool virt_available(void);
bool vcpu_create(struct ec *ec);
void vcpu_destroy(struct ec *ec);
NORETURN void vcpu_run(struct ec *ec);
void vcpu_get_state(struct ec *ec, u64 mtd, struct hv_cpu_state *st);
bool vcpu_set_state(struct ec *ec, const struct hv_cpu_state *st);

/* shared by both backends (vcpu.c) */
extern u32 fpu_size;
void vcpu_lazy_switch(struct ec *ec);
bool vcpu_xsetbv(struct ec *ec, u32 xcr, u64 value);
void vcpu_irq_window(void);
u64 cpu_idt_base(void);

/* guest-physical page tables of a VM PD: EPT (VT-x) or NPT (AMD-V) */
bool gpt_init(struct pd *pd);
bool gpt_map(struct pd *pd, u64 gpa, u64 pa, u64 npages, unsigned rights);
void gpt_unmap(struct pd *pd, u64 gpa, u64 npages);
void gpt_destroy(struct pd *pd);
void gpt_flush_local(void);

#endif
