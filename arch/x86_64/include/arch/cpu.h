/* Thin wrappers around x86 instructions and registers. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include "types.h"

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_PAT 0x277
#define MSR_SYSENTER_CS 0x174 /* ESP 0x175, EIP 0x176 */
#define MSR_SYSENTER_EIP 0x176
#define MSR_MCG_CAP 0x179
#define MSR_MC0_STATUS 0x401 /* bank i: MSR_MC0_STATUS + 4 * i */
#define MSR_SPEC_CTRL 0x48         /* bit 0: IBRS */
#define MSR_PRED_CMD 0x49          /* bit 0: IBPB */
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_FLUSH_CMD 0x10b        /* bit 0: L1D_FLUSH */

#define EFER_SCE (1ul << 0)
#define EFER_LME (1ul << 8)
#define EFER_NXE (1ul << 11)

#define CR0_MP (1ul << 1)
#define CR0_TS (1ul << 3)
#define CR0_WP (1ul << 16)
#define CR4_MCE (1ul << 6)
#define CR4_PGE (1ul << 7)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_UMIP (1ul << 11)
#define CR4_OSXSAVE (1ul << 18)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)

#define RFLAGS_IF (1ul << 9)
/* Flags a user thread may set itself: CF PF AF ZF SF TF DF OF AC ID */
#define RFLAGS_USER_MASK 0x240dd5ul

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }

static inline u64 read_cr0(void)
{
	u64 v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }

/* XCR0; needs CR4.OSXSAVE */
static inline void xsetbv0(u64 v) { __asm__ volatile("xsetbv" ::"c"(0), "a"((u32)v), "d"((u32)(v >> 32))); }
static inline u64 xgetbv0(void)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

static inline u64 read_cr2(void)
{
	u64 v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline u64 read_cr3(void)
{
	u64 v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline u64 read_cr4(void)
{
	u64 v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
/* What cpu_init() found and turned on (docs/security.md): */
struct cpu_prot {
	bool smep, smap, umip, nx, mce, mca, eibrs;
	bool ibpb;                 /* IBPB before another PD's code (host or guest) runs */
	bool l1d_need, l1d_flush;  /* L1TF: flush the L1D before VM entry; IA32_FLUSH_CMD can */
	bool verw_need;            /* MDS: clear CPU buffers before user or guest code runs */
};
extern struct cpu_prot cpu_prot;
extern u8 cpu_verw; /* ... and VERW does it (MD_CLEAR) */

static inline void cpu_ibpb(void)
{
	if (cpu_prot.ibpb)
		wrmsr(MSR_PRED_CMD, 1);
}

/* Before VM entry: the L1D flush (it also clears the MDS buffers), or VERW. */
static inline void cpu_vm_entry_barrier(void)
{
	static const u16 sel = 0x10; /* any writable data selector */
	if (cpu_prot.l1d_flush)
		wrmsr(MSR_FLUSH_CMD, 1);
	else if (cpu_verw)
		__asm__ volatile("verw %0" ::"m"(sel) : "cc");
}

/* Boot self-tests, for the boot tests only (selftest.c) */
enum { SELFTEST_NONE, SELFTEST_PROTECTIONS, SELFTEST_STACK, SELFTEST_NMI };
extern u8 selftest_mode;
struct regs;
void selftest_init(void);
void selftest_user(u64 user_rip);
bool selftest_fixup(struct regs *r);

static inline NORETURN void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
