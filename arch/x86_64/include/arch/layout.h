/*
 * Virtual memory layout and the layouts shared between C and assembly:
 * the saved user frame (struct regs) and the head of struct percpu.
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H

#define KERNEL_VBASE 0xffffffff80000000   /* image: phys + KERNEL_VBASE */
#define DMAP_BASE 0xffff800000000000      /* direct map of phys 0..4 GiB */
#define DMAP_SIZE 0x100000000
#define KERNEL_PHYS 0x100000
/* Per-CPU stacks (paging.c): a 64 KiB slot per CPU; its pages, lowest first: guard, NMI,
 * guard, #DF, guard, #MC, six guards, the 16 KiB kernel stack. Guards are unmapped. */
#define KSTACK_AREA (KERNEL_VBASE + 0x200000)
#define KSTACK_SLOT 0x10000
#define KSTACK_TOP(id) (KSTACK_AREA + ((u64)(id) + 1) * KSTACK_SLOT)
#define IST_TOP(id, n) (KSTACK_AREA + (u64)(id) * KSTACK_SLOT + 0x2000 * ((n) + 1)) /* IST n+1 */

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS 0x28

/* struct regs: saved user state, lowest address first */
#define REGS_R15 0
#define REGS_RAX 112
#define REGS_VEC 120
#define REGS_ERR 128
#define REGS_RIP 136
#define REGS_CS 144
#define REGS_RFLAGS 152
#define REGS_RSP 160
#define REGS_SS 168
#define REGS_SIZE 176

/* struct percpu head (GS base points to it) */
#define PCPU_SELF 0
#define PCPU_KSTACK 8     /* top of this CPU's kernel stack */
#define PCPU_SCRATCH 16   /* user RSP during syscall entry */
#define PCPU_FRAME_TOP 24 /* end of the current EC's struct regs */

#define VEC_SYSCALL 0x100 /* pseudo vector recorded for system calls */
#define VEC_IRQ_BASE 0x20 /* GSI n -> vector 0x20 + n, MSI n -> 0x60 + n (irq.h) */
#define VEC_IOMMU 0xe0 /* VT-d fault events (iommu.c) */
#define VEC_TIMER 0xf0
#define VEC_IPI_RESCHED 0xf1
#define VEC_IPI_TLB 0xf2
#define VEC_SPURIOUS 0xff

#ifndef __ASSEMBLER__
#include "types.h"

struct regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vec, err;
	u64 rip, cs, rflags, rsp, ss;
};

_Static_assert(offsetof(struct regs, rax) == REGS_RAX, "regs layout");
_Static_assert(offsetof(struct regs, vec) == REGS_VEC, "regs layout");
_Static_assert(offsetof(struct regs, rip) == REGS_RIP, "regs layout");
_Static_assert(offsetof(struct regs, ss) == REGS_SS, "regs layout");
_Static_assert(sizeof(struct regs) == REGS_SIZE, "regs layout");

#define phys_to_virt(p) ((void *)((u64)(p) + DMAP_BASE))
#define virt_to_phys(v) ((u64)(v) >= KERNEL_VBASE ? (u64)(v) - KERNEL_VBASE : (u64)(v) - DMAP_BASE)
#endif

#endif
