/*
 * MODE_HOSTILE: a guest that attacks its VMM and the kernel instead of
 * checking them. Seeded (port 0x51c bits 16..31) and deterministic: the
 * same seed makes the same accesses in the same order.
 *
 * First rounds that the guest survives by design (every exception is
 * caught, counted and stepped over: catch_all in lib.c): CPUID leaves, port
 * I/O, MMIO through a 2 MiB window moved across and beyond guest-physical
 * space, MSRs, the virtualization and other exiting instructions,
 * exceptions and single steps, NMI requests, segment registers loaded from
 * a table of odd descriptors. Then acts that may end it, one after the
 * other from act (seed % NACTS) on, until one does: CR8, bad CR0/CR4/PAT,
 * the #DB and #AC loops, CR8 = 15 and halt, leaving long mode, a triple
 * fault, an INIT/SIPI storm (storm.c). The VMM, or the kernel, ends the
 * guest; nobody else may notice.
 */
#include "guest.h"
#include <stdbool.h>

#define WINDOW 0x400000UL /* virtual 4..6 MiB: pd_low[2], as in modes.c */
#define ROUNDS 100        /* operations per round */

extern uint64_t pd_low[512];

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dUL;
}

uint64_t hostile_rnd(void) { return rnd(); }

static uint64_t below(uint64_t n) { return rnd() % n; }

static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

static uint64_t caught_total(void)
{
	uint64_t n = 0;
	for (unsigned v = 0; v < 32; v++)
		n += caught[v];
	return n;
}

static void round_end(const char *what, unsigned n, uint64_t before)
{
	print("hostile: %s: %u done, %lu exceptions\n", what, n, caught_total() - before);
}

static void round_cpuid(void)
{
	static const uint32_t base[] = { 0, 0x40000000u, 0x80000000u, 0x8fffff00u, 0xc0000000u };
	uint64_t before = caught_total();
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t a = base[below(5)] + (uint32_t)below(0x40), b, c = (uint32_t)rnd(), d;
		if (!below(8))
			a = (uint32_t)rnd();
		__asm__ volatile(GUARD_BEGIN "cpuid" GUARD_END : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "r11", "memory");
	}
	round_end("cpuid", ROUNDS, before);
}

/* Any port but the ones that would end the run (0x501) or garble the log. */
static uint16_t port_any(bool write)
{
	for (;;) {
		uint16_t p = below(4) ? (uint16_t)rnd() : (uint16_t)(0x500 + below(0x20));
		if (write && ((p >= 0x3f8 && p <= 0x3ff) || p == PORT_EXIT || p == PORT_PAGE))
			continue;
		return p;
	}
}

static void round_pio(void)
{
	uint64_t before = caught_total();
	for (unsigned i = 0; i < ROUNDS; i++) {
		unsigned kind = (unsigned)below(6);
		uint16_t p = port_any(kind >= 3);
		uint32_t v = (uint32_t)rnd();
		switch (kind) {
		case 0:
			__asm__ volatile(GUARD_BEGIN "inb %%dx, %%al" GUARD_END : "+a"(v) : "d"(p) : "r11", "memory");
			break;
		case 1:
			__asm__ volatile(GUARD_BEGIN "inw %%dx, %%ax" GUARD_END : "+a"(v) : "d"(p) : "r11", "memory");
			break;
		case 2:
			__asm__ volatile(GUARD_BEGIN "inl %%dx, %%eax" GUARD_END : "+a"(v) : "d"(p) : "r11", "memory");
			break;
		case 3:
			__asm__ volatile(GUARD_BEGIN "outb %%al, %%dx" GUARD_END : : "a"(v), "d"(p) : "r11", "memory");
			break;
		case 4:
			__asm__ volatile(GUARD_BEGIN "outw %%ax, %%dx" GUARD_END : : "a"(v), "d"(p) : "r11", "memory");
			break;
		default:
			__asm__ volatile(GUARD_BEGIN "outl %%eax, %%dx" GUARD_END : : "a"(v), "d"(p) : "r11", "memory");
		}
	}
	/* two string accesses: the VMM says it does not do them */
	uint64_t buf = 0, *b = &buf, n = 1;
	__asm__ volatile(GUARD_BEGIN "rep insb" GUARD_END : "+D"(b), "+c"(n) : "d"(0x510) : "r11", "memory");
	n = 1;
	__asm__ volatile(GUARD_BEGIN "rep outsb" GUARD_END : "+S"(b), "+c"(n) : "d"(0x510) : "r11", "memory");
	round_end("pio", ROUNDS + 2, before);
}

/* A guest-physical 2 MiB frame outside its RAM: MMIO, holes, the end of the
 * guest-physical space, beyond the physical-address width. */
static uint64_t frame_any(void)
{
	switch (below(8)) {
	case 0:
		return 0xfe800000UL + (below(4) << 21); /* the test device, the test page, APIC area */
	case 1:
		return RAM_END + (below(512) << 21);    /* just above RAM */
	case 2:
		return (1UL << 39) - (1UL << 21);        /* the last frame the kernel maps */
	case 3:
		return 1UL << (40 + below(12));          /* beyond the physical-address width */
	case 4:
		return 0xc0000000UL + (below(512) << 21);
	default:
		return (rnd() & ((1UL << 39) - 1) & ~((1UL << 21) - 1)) | (1UL << 32);
	}
}

static void round_mmio(void)
{
	volatile uint64_t *pde = &pd_low[2];
	uint64_t before = caught_total();
	for (unsigned i = 0; i < ROUNDS; i++) {
		if (i % 10 == 0) {
			*pde = frame_any() | 0x83 | (below(4) << 3); /* present, writable, 2 MiB, PWT/PCD */
			invlpg(WINDOW);
		}
		/* anywhere in the window, unaligned too, and across its end (unmapped 6 MiB) */
		uint64_t off = below(8) ? (rnd() & 0x1fffff) : 0x200000 - 1 - below(8);
		uint64_t v = rnd(), n = 1 + below(4);
		uint8_t *p = (uint8_t *)(WINDOW + off);
		switch (below(12)) {
		case 0:
			__asm__ volatile(GUARD_BEGIN "movb (%%rdi), %%al" GUARD_END : "+a"(v) : "D"(p) : "r11", "memory");
			break;
		case 1:
			__asm__ volatile(GUARD_BEGIN "movq (%%rdi), %%rax" GUARD_END : "+a"(v) : "D"(p) : "r11", "memory");
			break;
		case 2:
			__asm__ volatile(GUARD_BEGIN "movw %%ax, (%%rdi)" GUARD_END : : "a"(v), "D"(p) : "r11", "memory");
			break;
		case 3:
			__asm__ volatile(GUARD_BEGIN "movl %%eax, (%%rdi)" GUARD_END : : "a"(v), "D"(p) : "r11", "memory");
			break;
		case 4:
			__asm__ volatile(GUARD_BEGIN "movq %%rax, (%%rdi)" GUARD_END : : "a"(v), "D"(p) : "r11", "memory");
			break;
		case 5:
			__asm__ volatile(GUARD_BEGIN "movzwl (%%rdi), %%eax" GUARD_END : "+a"(v) : "D"(p) : "r11", "memory");
			break;
		case 6:
			__asm__ volatile(GUARD_BEGIN "xchgq %%rax, (%%rdi)" GUARD_END : "+a"(v) : "D"(p) : "r11", "memory");
			break;
		case 7:
			__asm__ volatile(GUARD_BEGIN "addl %%eax, (%%rdi)" GUARD_END : : "a"(v), "D"(p) : "r11", "memory", "cc");
			break;
		case 8:
			__asm__ volatile(GUARD_BEGIN "orb $0x81, (%%rdi)" GUARD_END : : "D"(p) : "r11", "memory", "cc");
			break;
		case 9:
			__asm__ volatile(GUARD_BEGIN "testq %%rax, (%%rdi)" GUARD_END : : "a"(v), "D"(p) : "r11", "memory", "cc");
			break;
		case 10:
			__asm__ volatile(GUARD_BEGIN "rep stosb" GUARD_END : "+D"(p), "+c"(n) : "a"(v) : "r11", "memory");
			break;
		default:
			__asm__ volatile(GUARD_BEGIN "notq (%%rdi)" GUARD_END : : "D"(p) : "r11", "memory");
		}
	}
	*pde = 0;
	invlpg(WINDOW);
	round_end("mmio", ROUNDS, before);
}

static uint32_t msr_any(void)
{
	static const uint32_t base[] = { 0, 0x100, 0x170, 0x200, 0x400, 0x800, 0xc0000080u, 0xc0010000u,
					 0xc0011000u, 0x40000000u, 0x4b564d00u };
	return below(6) ? base[below(11)] + (uint32_t)below(0x40) : (uint32_t)rnd();
}

static void round_msr(void)
{
	uint64_t before = caught_total();
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t idx = msr_any(), lo = (uint32_t)rnd(), hi = (uint32_t)rnd();
		if (below(2)) {
			__asm__ volatile(GUARD_BEGIN "rdmsr" GUARD_END : "=a"(lo), "=d"(hi) : "c"(idx) : "r11", "memory");
			continue;
		}
		/* PAT and EFER go to the VMM unchecked: those are acts (below), not rounds */
		if (idx == MSR_PAT || idx == MSR_EFER)
			continue;
		__asm__ volatile(GUARD_BEGIN "wrmsr" GUARD_END : : "c"(idx), "a"(lo), "d"(hi) : "r11", "memory");
	}
	round_end("msr", ROUNDS, before);
}

/* The virtualization instructions and others that exit or should. */
static void round_insn(void)
{
	uint64_t before = caught_total(), mem[2] = { rnd(), rnd() };
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint64_t a = rnd(), c = below(2) ? 0 : rnd(), d = rnd();
		uint64_t *m = mem;
		switch (below(16)) {
		case 0:
			__asm__ volatile(GUARD_BEGIN "vmxon (%%rdi)" GUARD_END : : "D"(m) : "r11", "memory");
			break;
		case 1:
			__asm__ volatile(GUARD_BEGIN "vmptrld (%%rdi)" GUARD_END : : "D"(m) : "r11", "memory");
			break;
		case 2:
			__asm__ volatile(GUARD_BEGIN "vmread %%rax, %%rdx" GUARD_END : "+a"(a), "+d"(d) : : "r11", "memory");
			break;
		case 3:
			__asm__ volatile(GUARD_BEGIN "vmlaunch" GUARD_END : : : "r11", "memory", "cc");
			break;
		case 4:
			__asm__ volatile(GUARD_BEGIN "invept (%%rdi), %%rax" GUARD_END : : "D"(m), "a"(a) : "r11", "memory");
			break;
		case 5:
			__asm__ volatile(GUARD_BEGIN "vmcall" GUARD_END : "+a"(a) : : "r11", "memory");
			break;
		case 6:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x01, 0xd9" GUARD_END : "+a"(a) : : "r11", "memory"); /* vmmcall */
			break;
		case 7:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x01, 0xd8" GUARD_END : "+a"(a) : : "r11", "memory"); /* vmrun */
			break;
		case 8:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x01, 0xdd" GUARD_END : : : "r11", "memory"); /* clgi */
			break;
		case 9:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x01, 0xde" GUARD_END : "+a"(a) : : "r11", "memory"); /* skinit */
			break;
		case 10:
			__asm__ volatile(GUARD_BEGIN "rdtscp" GUARD_END : "+a"(a), "+c"(c), "+d"(d) : : "r11", "memory");
			break;
		case 11:
			__asm__ volatile(GUARD_BEGIN "rdpmc" GUARD_END : "+a"(a), "+c"(c), "+d"(d) : : "r11", "memory");
			break;
		case 12:
			__asm__ volatile(GUARD_BEGIN "xsetbv" GUARD_END : : "a"(a), "c"(c), "d"(d) : "r11", "memory");
			break;
		case 13:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x37" GUARD_END : "+a"(a) : : "r11", "memory"); /* getsec */
			break;
		case 14:
			__asm__ volatile(GUARD_BEGIN "invlpg (%%rax)" GUARD_END : : "a"(a) : "r11", "memory");
			break;
		default:
			__asm__ volatile(GUARD_BEGIN ".byte 0x0f, 0x01, 0xd4" GUARD_END : : : "r11", "memory"); /* vmfunc */
		}
	}
	round_end("instructions", ROUNDS, before);
}

static volatile unsigned nmis, nmi_more;

static void nmi_again(struct frame *f)
{
	(void)f;
	nmis++;
	if (nmi_more) { /* ask for the next one from inside the handler */
		nmi_more--;
		outb(PORT_NMI, 1);
	}
}

/* Exceptions of every kind, single steps, and NMIs asked for in bursts. */
static void round_exceptions(void)
{
	uint64_t before = caught_total();
	exc_hook[VEC_NMI] = nmi_again;
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint64_t a = rnd(), z = 0;
		switch (below(8)) {
		case 0:
			__asm__ volatile(GUARD_BEGIN "int3" GUARD_END : : : "r11", "memory");
			break;
		case 1: /* beyond the IDT's limit for most vectors: #GP */
			__asm__ volatile(GUARD_BEGIN "mov %%al, 2f+1(%%rip)\n\tjmp 2f\n2:\tint $0" GUARD_END
					 : : "a"((uint8_t)a) : "r11", "memory");
			break;
		case 2:
			__asm__ volatile(GUARD_BEGIN "ud2" GUARD_END : : : "r11", "memory");
			break;
		case 3:
			__asm__ volatile(GUARD_BEGIN "div %%rcx" GUARD_END : "+a"(a), "+d"(z) : "c"(z) : "r11", "memory");
			break;
		case 4:
			__asm__ volatile(GUARD_BEGIN "mov (%%rax), %%rax" GUARD_END : "+a"(a) : : "r11", "memory");
			break;
		case 5: /* a single step */
			__asm__ volatile(GUARD_BEGIN "pushf\n\torl $0x100, (%%rsp)\n\tpopf\n\tnop\n\tnop" GUARD_END
					 : : : "r11", "memory", "cc");
			break;
		case 6:
			__asm__ volatile(GUARD_BEGIN "mov %%ax, %%fs" GUARD_END : : "a"(a) : "r11", "memory");
			break;
		default:
			nmi_more = (unsigned)below(4);
			outb(PORT_NMI, 1);
		}
	}
	__asm__ volatile("mov %0, %%fs" : : "r"(0x10) : "memory");
	round_end("exceptions", ROUNDS, before);
	exc_hook[VEC_NMI] = 0;
	print("hostile: %u NMIs taken\n", nmis);
}

/* Data segments from a table of odd descriptors, then exits with them loaded. */
static uint64_t gdt2[32] __attribute__((aligned(16)));

static void round_segments(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} old, desc = { sizeof(gdt2) - 1, (uintptr_t)gdt2 };
	uint64_t before = caught_total();
	__asm__ volatile("sgdt %0" : "=m"(old));
	memcpy(gdt2, (void *)old.base, old.limit + 1UL);
	for (unsigned i = 8; i < 32; i++) /* random descriptors: data, code, system, expand-down */
		gdt2[i] = rnd() | (1UL << 47);
	__asm__ volatile("lgdt %0" : : "m"(desc) : "memory");
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint16_t sel = (uint16_t)((8 + below(24)) * 8 + below(4));
		uint32_t a = 0, b, c = 0, d;
		switch (below(4)) {
		case 0:
			__asm__ volatile(GUARD_BEGIN "mov %%ax, %%ds" GUARD_END : : "a"(sel) : "r11", "memory");
			break;
		case 1:
			__asm__ volatile(GUARD_BEGIN "mov %%ax, %%es" GUARD_END : : "a"(sel) : "r11", "memory");
			break;
		case 2:
			__asm__ volatile(GUARD_BEGIN "mov %%ax, %%gs" GUARD_END : : "a"(sel) : "r11", "memory");
			break;
		default:
			__asm__ volatile(GUARD_BEGIN "lldt %%ax" GUARD_END : : "a"(sel) : "r11", "memory");
		}
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)); /* an exit with them */
	}
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%gs\n\tlldt %w1" : : "r"(0x10), "r"(0) : "memory");
	__asm__ volatile("lgdt %0" : : "m"(old) : "memory");
	round_end("segments", ROUNDS, before);
}

/* ---- acts that may end the guest ------------------------------------------ */

static void exits(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
}

static void write_cr8(uint64_t v)
{
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr8" GUARD_END : : "a"(v) : "r11", "memory");
}

static void act_cr8(void)
{
	write_cr8(15); /* the task priority: the guest's own, never the host's */
	exits(200);
	write_cr8(0);
}

static void act_cr0(void)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	/* NW without CD, then CD and NW (no caching) for a few exits */
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr0" GUARD_END : : "a"((cr0 & ~(1UL << 30)) | (1UL << 29))
			 : "r11", "memory");
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr0" GUARD_END : : "a"(cr0 | (3UL << 29)) : "r11", "memory");
	exits(10);
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr0" GUARD_END : : "a"(cr0) : "r11", "memory");
}

static void act_cr4(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	static const uint64_t bits[] = { 1UL << 13 /* VMXE */, 1UL << 12 /* LA57 */, 1UL << 15, 1UL << 24,
					 1UL << 40 };
	for (unsigned i = 0; i < 5; i++) {
		__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr4" GUARD_END : : "a"(cr4 | bits[i]) : "r11", "memory");
		exits(2);
	}
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr4" GUARD_END : : "a"(cr4) : "r11", "memory");
}

static void act_pat(void)
{
	/* memory types 2, 3 and 8 do not exist: the VMM passes them on */
	__asm__ volatile(GUARD_BEGIN "wrmsr" GUARD_END : : "c"(MSR_PAT), "a"(0x08030206u), "d"(0x00070406u)
			 : "r11", "memory");
	exits(10);
}

/* A data breakpoint on the IDT entry of #DB: delivering #DB reads it,
 * which raises #DB again, for good (unless #DB exits). */
static void act_db_loop(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	uint64_t dr7 = 1 | (3UL << 16) | (2UL << 18); /* L0, R/W, 8 bytes */
	__asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr7" : : "r"(idtr.base + 16), "r"(dr7));
	__asm__ volatile(GUARD_BEGIN ".byte 0xf1" GUARD_END : : : "r11", "memory"); /* int1 */
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x400UL));
}

/*
 * CPL 3 with RFLAGS.AC and CR0.AM, a misaligned stack, and #AC delivered
 * through a gate to CPL-3 code: delivering #AC pushes to the misaligned
 * stack, which raises #AC again, for good (unless #AC exits).
 */
extern char ac_user[];
static void act_ac_loop(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	uint16_t *g = (uint16_t *)(idtr.base + 17 * 16);
	uint64_t h = (uintptr_t)ac_user;
	g[0] = (uint16_t)h;
	g[1] = 0x33; /* the user 64-bit code segment, DPL 3 */
	g[2] = 0x8e00;
	g[3] = (uint16_t)(h >> 16);
	*(uint32_t *)&g[4] = (uint32_t)(h >> 32);
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile(GUARD_BEGIN "mov %%rax, %%cr0" GUARD_END : : "a"(cr0 | (1UL << 18)) : "r11", "memory");
	static uint64_t ustack[64] __attribute__((aligned(16)));
	__asm__ volatile(GUARD_BEGIN "pushq $0x2b\n\tpushq %0\n\tpushq $0x40002\n\tpushq $0x33\n\tpushq %1\n\tiretq\n\t"
			 ".globl ac_user\nac_user:\n\tmov 1(%%rsp), %%rax\n\tjmp ac_user" GUARD_END
			 : : "r"((uintptr_t)&ustack[60] + 3), "r"(h) : "r11", "rax", "memory");
}

static void act_cr8_halt(void)
{
	write_cr8(15);
	exits(10);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * Back to 32-bit protected mode without paging, CR4.PAE off while
 * EFER.LME stays on, then an exit and the exit port (code 99). On AMD-V
 * PAE stays on: QEMU 7.2's #VMEXIT loads the host's CR0 while the guest's
 * EFER and CR4 are still in force, refuses paging with LME but no PAE, and
 * leaves the host CPU without paging (AMD's CPUs switch all at once; the
 * README's limits say so).
 */
extern char pm32[];
static void act_leave_long_mode(void)
{
	struct __attribute__((packed)) {
		uint32_t off;
		uint16_t sel;
	} far = { (uint32_t)(uintptr_t)pm32, 0x08 };
	uint32_t a, b, c, d, pae_off;
	cpuid(0, &a, &b, &c, &d);
	pae_off = b == 0x68747541 ? ~0u : ~0x20u; /* "Auth"enticAMD: keep PAE */
	__asm__ volatile("ljmpl *%0\n"
			 ".code32\n"
			 ".globl pm32\npm32:\n\t"
			 "mov $0x10, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%ss\n\t"
			 "mov %%cr0, %%eax\n\tand $0x7fffffff, %%eax\n\tmov %%eax, %%cr0\n\t" /* paging off */
			 "mov %%cr4, %%eax\n\tand %%ecx, %%eax\n\tmov %%eax, %%cr4\n\t"       /* PAE off */
			 "xor %%eax, %%eax\n\tcpuid\n\t"
			 "mov $0x501, %%dx\n\tmov $99, %%al\n\toutb %%al, %%dx\n"
			 "2:\tcli\n\thlt\n\tjmp 2b\n"
			 ".code64"
			 : : "m"(far), "c"(pae_off) : "memory");
}

static void act_triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = { 0, 0 };
	catch_all = 0;
	__asm__ volatile("lidt %0\n\tint3" : : "m"(none) : "memory");
}

static const struct {
	const char *name;
	void (*fn)(void);
} acts[] = {
	{ "CR8 = 15 for a while", act_cr8 },
	{ "CR8 = 15 and halt", act_cr8_halt },
	{ "CR0.NW without CR0.CD", act_cr0 },
	{ "reserved and VMX bits in CR4", act_cr4 },
	{ "memory types that do not exist in PAT", act_pat },
	{ "#DB loop", act_db_loop },
	{ "#AC loop", act_ac_loop },
	{ "leaving long mode with EFER.LME on and CR4.PAE off", act_leave_long_mode },
	{ "triple fault", act_triple_fault },
	{ "INIT/SIPI storm", hostile_init_sipi },
};
#define NACTS (sizeof(acts) / sizeof(acts[0]))

void run_hostile(uint32_t seed)
{
	rng = 0x9e3779b97f4a7c15UL ^ ((uint64_t)seed << 17) ^ seed;
	print("hostile: seed %u\n", seed);
	round_cpuid();
	round_pio();
	round_mmio();
	round_msr();
	round_insn();
	round_exceptions();
	round_segments();
	for (unsigned i = 0; i < NACTS; i++) {
		unsigned a = (seed + i) % NACTS;
		print("hostile: act %u: %s\n", a, acts[a].name);
		acts[a].fn();
		print("hostile: act %u: still running\n", a);
	}
	act_triple_fault();
	for (;;)
		__asm__ volatile("cli; hlt");
}
