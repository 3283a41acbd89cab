/*
 * Test guest: shared declarations. The device and port contract is in
 * README.md; the constants below are its single source in the code.
 */
#ifndef GUEST_TEST_GUEST_H
#define GUEST_TEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Memory layout: the image is loaded here; RAM is at least 0..RAM_END. */
#define LOAD_ADDR 0x10000UL
#define RAM_END 0x400000UL

/* The VMM's devices (README.md, "Contract"). */
#define UART_BASE 0x3f8		/* 16550: THR at +0, LSR at +5 */
#define UART_LSR_THRE 0x20
#define PORT_EXIT 0x501		/* outb: number of failed checks; ends the guest */
#define PORT_TEST_CONST 0x510	/* in: 0x12345678 (truncated); out: latch */
#define PORT_TEST_LATCH 0x514	/* in: last value written to 0x510 */
#define PORT_TIMER 0x518	/* outl: one-shot delay in microseconds */
#define PORT_MODE 0x51c		/* inl: MODE_* bits, guest id in bits 8..15 */
#define PORT_NMI 0x504		/* outb: inject an NMI as soon as NMIs are not blocked */
#define PORT_PAGE 0x508		/* outl 1: the VMM takes TEST_PAGE away until it is touched;
				 * inl: exits on it that interrupted an event delivery */
#define PORT_VECT 0x50c		/* inl: the last such event (IDT-vectoring information) */
#define PORT_HOST_CODE 0x520	/* inl: an address of VMM code that runs at every exit */
#define TEST_PAGE 0xfea00000UL	/* one page of RAM outside 0..RAM_END, mapped write-back */
#define MODE_ISOLATION 1u
#define MODE_BENCH 2u
#define MODE_EVENTS 4u		/* the VMM carries out PORT_NMI and PORT_PAGE requests */
#define MODE_HOSTILE 8u		/* hostile.c instead of the checks; seed in bits 16..31 */
#define TEST_CONST 0x12345678u
#define TIMER_VECTOR 0x30
#define MMIO_BASE 0xfeb00000UL	/* test device, 4 KiB, mapped uncached */
#define MMIO_SCRATCH 0x00	/* 64-bit read/write, byte addressable */
#define MMIO_MAGIC 0x08		/* 64-bit read-only */
#define MMIO_WRITES 0x10	/* 64-bit read-only: write accesses so far */
#define MMIO_MAGIC_VALUE 0xfeedfacecafebeefUL
#define HV_LEAF 0x40000000u
#define HV_SIGNATURE "MicroHVMicro"	/* EBX, ECX, EDX of HV_LEAF */
#define MSR_PAT 0x277
#define MSR_UNKNOWN 0xc0011234u	/* must raise #GP under microhv */
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_FMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u

/* Exception vectors used by the checks. */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_AC 17

#define NO_VMM "no microhv VMM"

/* Register frame built by the interrupt stubs (start.S). */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err;
	uint64_t rip, cs, rflags, rsp, ss;
};

/*
 * An expected exception: a check sets vec (expect()), its inline assembly
 * stores the address to resume at into resume, and the handler records
 * where and how the exception arrived and continues at resume.
 */
struct expected {
	int vec;
	int hits;
	uint64_t resume;
	uint64_t rip, err, cr2;
};
extern volatile struct expected xp;
extern volatile uint64_t timer_ticks, timer_rip;
/* While catch_all is set, every exception (vectors 0..31) is counted in
 * caught[] and resumes at catch_all, with TF and AC cleared (hostile.c). */
extern volatile uint64_t catch_all;
extern volatile uint64_t caught[32];
extern void (*volatile exc_hook[32])(struct frame *f); /* exceptions (and NMIs) of a vector go here while set */
extern int have_microhv;

/*
 * Inline-assembly prologue for an instruction that faults: %0 gets the
 * address of the instruction (label 1), %1 the address after it (label 2),
 * which is also stored in xp.resume (%2). The instruction follows, then
 * EXPECT_ASM_END.
 */
#define EXPECT_ASM_BEGIN                                                                                     \
	"lea 1f(%%rip), %0\n\t"                                                                              \
	"lea 2f(%%rip), %1\n\t"                                                                              \
	"movq %1, %2\n"                                                                                      \
	"1:\t"
#define EXPECT_ASM_END "\n2:"
#define EXPECT_ASM_OUT(at, after) "=&r"(at), "=&r"(after), "=m"(xp.resume)

void expect(int vec);

/* One instruction (or a few) that may fault: whatever happens, go on after
 * it (catch_all; hostile.c, storm.c). */
#define GUARD_BEGIN "lea 1f(%%rip), %%r11\n\tmov %%r11, catch_all(%%rip)\n\t"
#define GUARD_END "\n1:"

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* lib.c: output, checks, exceptions. */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void begin(const char *name);
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void end(void);
void skip_without_vmm(void);
void finish(void) __attribute__((noreturn));
void check_isolation(uint32_t id);
void run_hostile(uint32_t seed) __attribute__((noreturn));
uint64_t hostile_rnd(void);     /* hostile.c's seeded generator */
void hostile_init_sipi(void);   /* storm.c */
void run_bench(void);
void trap(struct frame *f);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* The checks. */
void check_mmio(void);
void xsave_prepare(void);
void check_xsave(void);
void syscall_prepare(void);
void check_syscall(void);
void check_nmi(void);
void check_vectoring(void);
void check_debug(void);
void check_step(void);
void check_ac(void);
void check_hostbp(void);

/* main.c: run on a copy of the IDT at `base` / back to the original one */
void idt_use_copy(void *base);
void idt_use_original(void);

/* syscall.S: from CPL 0 to CPL 3 and back with SYSCALL/SYSRET (check_syscall) */
struct syscall_result {
	uint64_t rcx, r11, cs, ss, rflags, gs_base;	/* seen at the first SYSCALL's entry */
	uint64_t user_cs, user_ss, user_rflags;		/* after SYSRET */
	uint64_t ret_rip;				/* the instruction after that SYSCALL */
	uint64_t entries;				/* SYSCALL entries: 2 */
};
void syscall_roundtrip(struct syscall_result *r);
void syscall_entry(void);
/* the same way to CPL 3 and back, running `code` with `rflags` there; code ends with the LEAVE SYSCALL */
void user_run(struct syscall_result *r, void (*code)(void), uint64_t rflags);
void user_ac(void);		/* three misaligned 2-byte loads from user_ac_loads on */
extern const char user_ac_loads[];

/* Called from start.S. */
void guest_main(void) __attribute__((noreturn));

/* start.S and guest.ld */
extern const uint64_t isr_table[33]; /* vectors 0-31, then TIMER_VECTOR */
extern char __image_end[];

#endif
