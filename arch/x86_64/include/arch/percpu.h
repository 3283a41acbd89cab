/* Per-CPU state, reached through the GS base in kernel mode. */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#include "layout.h"
#include "types.h"

#define MAX_CPUS 16

struct ec;
struct sc;
struct pd;

struct PACKED tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
	u8 iomap[8192 + 1];
};

struct percpu {
	/* the first fields are used by entry.S; see layout.h */
	struct percpu *self;
	u64 kstack_top;
	u64 scratch;
	u64 frame_top;

	unsigned id;
	u32 apic_id;
	bool online;
	struct ec *cur_ec;     /* EC whose state is in the CPU (or NULL: idle) */
	struct sc *cur_sc;     /* SC being consumed */
	struct pd *io_pd;      /* whose I/O bitmap the TSS holds */
	struct pd *last_pd;    /* whose code ran last here (IBPB when another's runs) */
	struct pd *cr3_pd;     /* whose page tables CR3 may hold (smp.c: shootdowns) */
	u64 io_gen;
	u64 sc_start;          /* TSC when cur_sc was last charged */
	u64 timer_when;        /* TSC the host timer is armed for (0: not armed) */
	volatile bool tlb_flush; /* shootdown request */
	bool virt_on;          /* VMX or SVM enabled: vCPUs may run here */
	volatile bool irq_window; /* taking host interrupts after a VM exit (vcpu.c) */
	u64 cur_vmcs;          /* VT-x: physical address of the current VMCS */
	u64 svm_host_vmcb;     /* AMD-V: physical address of the host's VMSAVE area */
	u64 asid_gen;          /* AMD-V: ASIDs handed out since the last full flush */
	u32 next_asid;
	struct ec *fpu_owner;  /* vCPU whose FPU state, XCR0 and CSTAR are in the CPU */
	volatile bool resched;

	u64 gdt[7] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
};

_Static_assert(offsetof(struct percpu, kstack_top) == PCPU_KSTACK, "percpu layout");
_Static_assert(offsetof(struct percpu, scratch) == PCPU_SCRATCH, "percpu layout");
_Static_assert(offsetof(struct percpu, frame_top) == PCPU_FRAME_TOP, "percpu layout");

extern struct percpu percpu_area[MAX_CPUS];
extern unsigned num_cpus;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

void cpu_init(unsigned id, u32 apic_id);
/* Where the CPU saves user state on the next entry: the current EC's frame. */
static inline void cpu_set_frame(struct percpu *c, struct regs *r)
{
	c->frame_top = (u64)(r + 1);
	c->tss.rsp[0] = (u64)(r + 1);
}
void cpu_set_iobitmap(struct percpu *c, u8 *const bitmap[2]);

#endif
