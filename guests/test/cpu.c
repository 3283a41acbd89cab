/*
 * Test guest: the checks xsave (AVX state, XCR0 and DR0-3 across VM exits,
 * XSETBV checks) and syscall (the SYSCALL MSRs the guest owns, a SYSCALL/SYSRET
 * round trip). See README.md.
 */
#include "guest.h"

#define CR4_OSFXSR (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define CR4_OSXSAVE (1UL << 18)
#define XCR0_AVX_ON 0x7UL	/* x87 | SSE | AVX */
#define XCR0_AVX512_ON 0xe7UL	/* ... | opmask | ZMM_Hi256 | Hi16_ZMM */

static uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return (uint64_t)hi << 32 | lo;
}

static void xsetbv(uint64_t v) { __asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }

static void cpuid_sub(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* An XSETBV that must raise #GP(0) at the instruction. */
static __attribute__((noinline)) void xsetbv_gp(uint32_t xcr, uint64_t v)
{
	uint64_t at, after;
	expect(VEC_GP);
	__asm__ volatile(EXPECT_ASM_BEGIN "xsetbv" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after)
			 : "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
	if (xp.hits != 1)
		fail("xsetbv xcr%u = 0x%lx: no #GP (XCR0 now 0x%lx)", xcr, v, xgetbv(0));
	else if (xp.rip != at || xp.err != 0)
		fail("xsetbv xcr%u = 0x%lx: #GP at rip 0x%lx error code 0x%lx, expected rip 0x%lx error code 0", xcr,
		     v, xp.rip, xp.err, at);
	(void)after;
}

static uint8_t ymm_in[16][32] __attribute__((aligned(32)));
static uint8_t ymm_out[16][32] __attribute__((aligned(32)));

/* All 16 YMM registers; the compiler uses none of them (-mgeneral-regs-only). */
static void ymm_load(void)
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "vmovdqu \\r*32(%0), %%ymm\\r\n\t"
			 ".endr" ::"r"(ymm_in)
			 : "memory");
}

static void ymm_store(void)
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "vmovdqu %%ymm\\r, \\r*32(%0)\n\t"
			 ".endr" ::"r"(ymm_out)
			 : "memory");
}

#define YMM_ROUNDS 8

static int ymm_ready;
static uint64_t xcr0_at_reset;

static void ymm_fill(unsigned round)
{
	/* values of this guest and round: another guest on the CPU uses others */
	unsigned id = (inl(PORT_MODE) >> 8) & 0xff;
	for (unsigned r = 0; r < 16; r++)
		for (unsigned i = 0; i < 32; i++)
			ymm_in[r][i] = (uint8_t)(r * 37 + i * 11 + id * 101 + round * 7 + 1);
}

/* Debug registers 0-3: addresses of this guest (not enabled in DR7) */
static uint64_t dr_value(unsigned n) { return 0x00007f0000000000UL | ((inl(PORT_MODE) >> 8) & 0xff) << 20 | n << 12; }

static void dr_load(void)
{
	__asm__ volatile("mov %0, %%db0" ::"r"(dr_value(0)));
	__asm__ volatile("mov %0, %%db1" ::"r"(dr_value(1)));
	__asm__ volatile("mov %0, %%db2" ::"r"(dr_value(2)));
	__asm__ volatile("mov %0, %%db3" ::"r"(dr_value(3)));
}

static void dr_compare(void)
{
	uint64_t d[4];
	__asm__ volatile("mov %%db0, %0" : "=r"(d[0]));
	__asm__ volatile("mov %%db1, %0" : "=r"(d[1]));
	__asm__ volatile("mov %%db2, %0" : "=r"(d[2]));
	__asm__ volatile("mov %%db3, %0" : "=r"(d[3]));
	for (unsigned n = 0; n < 4; n++)
		if (d[n] != dr_value(n))
			fail("DR%u 0x%lx, expected 0x%lx", n, d[n], dr_value(n));
}

static void ymm_compare(const char *when, unsigned *bad)
{
	ymm_store();
	for (unsigned r = 0; r < 16; r++)
		if (memcmp(ymm_in[r], ymm_out[r], 32) && (*bad)++ < 3)
			fail("%s: ymm%u changed: bytes 0/16/31 now 0x%x/0x%x/0x%x, were 0x%x/0x%x/0x%x", when, r,
			     ymm_out[r][0], ymm_out[r][16], ymm_out[r][31], ymm_in[r][0], ymm_in[r][16],
			     ymm_in[r][31]);
}

/*
 * Before the other checks: AVX on, and values in ymm0-15 that must survive
 * all of them (their exits, and other guests' vCPUs running meanwhile).
 */
void xsave_prepare(void)
{
	uint32_t a, b, c, d;

	if (!have_microhv)
		return;
	cpuid(1, &a, &b, &c, &d);
	if (!(c & 1u << 26) || !(c & 1u << 28))
		return;
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
	dr_load();
	xcr0_at_reset = xgetbv(0);
	xsetbv(XCR0_AVX_ON);
	ymm_fill(0);
	ymm_load();
	ymm_ready = 1;
}

void check_xsave(void)
{
	uint32_t a, b, c, d;
	unsigned bad = 0;
	uint64_t x;

	begin("xsave");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	if (!ymm_ready) {
		cpuid(1, &a, &b, &c, &d);
		fail("CPUID.1:ECX 0x%08x: no XSAVE (bit 26) or AVX (bit 28)", c);
		end();
		return;
	}
	if (xcr0_at_reset != 1)
		fail("XCR0 after reset 0x%lx, expected 0x1", xcr0_at_reset);
	if ((x = xgetbv(0)) != XCR0_AVX_ON)
		fail("xsetbv 0x%lx: XCR0 reads 0x%lx", XCR0_AVX_ON, x);
	ymm_compare("since the start of the checks", &bad);
	for (unsigned round = 1; round <= YMM_ROUNDS; round++) {
		ymm_fill(round);
		ymm_load();
		/* exits to the VMM: CPUID, port I/O, and HLT until the timer (other vCPUs may run) */
		cpuid(0, &a, &b, &c, &d);
		outl(PORT_TEST_CONST, 0x5a5a5a5a);
		(void)inl(PORT_TEST_LATCH);
		uint64_t ticks = timer_ticks;
		outl(PORT_TIMER, 1000);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (timer_ticks != ticks + 1)
			fail("timer: %lu interrupts, expected 1", timer_ticks - ticks);
		if (round < YMM_ROUNDS)
			ymm_compare("after CPUID, I/O and HLT", &bad);
	}

	/* invalid values and XCRs: #GP(0), XCR0 unchanged */
	xsetbv_gp(0, 0x0);		/* x87 bit clear */
	xsetbv_gp(0, 0x2);
	xsetbv_gp(0, 0x5);		/* AVX without SSE */
	xsetbv_gp(0, 0x107);		/* bit 8: not a user state component */
	xsetbv_gp(0, 1UL << 40);
	xsetbv_gp(1, 0x7);		/* XCR1 cannot be written */
	cpuid_sub(7, 0, &a, &b, &c, &d);
	int avx512 = (b >> 16) & 1;
	cpuid_sub(0xd, 0, &a, &b, &c, &d);
	avx512 = avx512 && (a & 0xe0) == 0xe0;
	xsetbv_gp(0, 0x27);		/* AVX-512 components only together */
	xsetbv_gp(0, 0xc7);
	xsetbv_gp(0, 0xe3);		/* ... and with AVX */
	if (avx512) {
		xsetbv(XCR0_AVX512_ON);
		if ((x = xgetbv(0)) != XCR0_AVX512_ON)
			fail("xsetbv 0x%lx: XCR0 reads 0x%lx", XCR0_AVX512_ON, x);
		xsetbv(XCR0_AVX_ON);
	}
	if ((x = xgetbv(0)) != XCR0_AVX_ON)
		fail("XCR0 0x%lx after the refused values, expected 0x%lx", x, XCR0_AVX_ON);
	/* the last round's values also went through the XSETBV exits */
	ymm_compare("after XSETBV exits", &bad);
	dr_compare();
	info("XCR0 0x%lx; ymm0-15 and DR0-3 kept through the checks before, %u rounds of CPUID, I/O and HLT, and "
	     "XSETBV exits; AVX-512 %s",
	     x, YMM_ROUNDS, avx512 ? "enabled and disabled" : "not offered");
	end();
}

/* ---- syscall ---- */

#define STAR_VALUE (0x20UL << 48 | 0x18UL << 32)
#define FMASK_VALUE 0x47700UL			/* TF DF IF IOPL NT AC, as Linux */
#define CSTAR_VALUE 0xffffffff81a00040UL	/* only stored: SYSCALL from compatibility mode is not used */
#define ARITH_FLAGS 0x8d5UL			/* CF PF AF ZF SF OF: set by the code around */
#define KGS_VALUE 0xffff888012345000UL
#define FS_VALUE 0x00007f00deadb000UL

static struct {
	uint32_t msr;
	uint64_t value;
	const char *name;
} sc_msrs[6];
static unsigned sc_nonzero; /* MSRs not 0 at the start, as a bit set */

/*
 * Before the other checks: values of this guest in the MSRs it owns, which
 * must survive all of them (another guest on the CPU writes its own).
 */
void syscall_prepare(void)
{
	if (!have_microhv)
		return;
	uint64_t id = (inl(PORT_MODE) >> 8) & 0xff;
	sc_msrs[0].msr = MSR_STAR, sc_msrs[0].value = STAR_VALUE, sc_msrs[0].name = "STAR";
	sc_msrs[1].msr = MSR_LSTAR, sc_msrs[1].value = (uintptr_t)syscall_entry, sc_msrs[1].name = "LSTAR";
	sc_msrs[2].msr = MSR_CSTAR, sc_msrs[2].value = CSTAR_VALUE + (id << 12), sc_msrs[2].name = "CSTAR";
	sc_msrs[3].msr = MSR_FMASK, sc_msrs[3].value = FMASK_VALUE, sc_msrs[3].name = "FMASK";
	sc_msrs[4].msr = MSR_KERNEL_GS_BASE, sc_msrs[4].value = KGS_VALUE + (id << 12);
	sc_msrs[4].name = "KERNEL_GS_BASE";
	sc_msrs[5].msr = MSR_FS_BASE, sc_msrs[5].value = FS_VALUE + (id << 12), sc_msrs[5].name = "FS_BASE";
	for (unsigned i = 0; i < 6; i++) {
		if (rdmsr(sc_msrs[i].msr))
			sc_nonzero |= 1u << i;
		wrmsr(sc_msrs[i].msr, sc_msrs[i].value);
	}
}

void check_syscall(void)
{
	static struct syscall_result res;
	uint32_t a, b, c, d;

	begin("syscall");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	for (unsigned i = 0; i < 6; i++)
		if (sc_nonzero & 1u << i)
			fail("%s not 0 at start", sc_msrs[i].name);
	/* more exits to the VMM and a HLT (other host code and guests run meanwhile) */
	cpuid(0, &a, &b, &c, &d);
	outl(PORT_TEST_CONST, 1);
	outl(PORT_TIMER, 1000);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	for (unsigned i = 0; i < 6; i++) {
		uint64_t got = rdmsr(sc_msrs[i].msr);
		if (got != sc_msrs[i].value)
			fail("%s: wrote 0x%lx before the checks, reads 0x%lx", sc_msrs[i].name, sc_msrs[i].value, got);
	}
	wrmsr(MSR_FS_BASE, 0);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
	syscall_roundtrip(&res);
	if (res.entries != 2)
		fail("%lu SYSCALL entries, expected 2", res.entries);
	if (res.rcx != res.ret_rip || (res.r11 & ~ARITH_FLAGS) != 0x402)
		fail("SYSCALL: rcx 0x%lx r11 0x%lx, expected 0x%lx 0x402", res.rcx, res.r11, res.ret_rip);
	if (res.cs != 0x18 || res.ss != 0x20 || (res.rflags & ~ARITH_FLAGS) != 0x2)
		fail("SYSCALL: cs 0x%lx ss 0x%lx rflags 0x%lx, expected 0x18 0x20 0x2 (FMASK applied)", res.cs,
		     res.ss, res.rflags);
	if (res.gs_base != sc_msrs[4].value)
		fail("swapgs: GS base 0x%lx, expected KERNEL_GS_BASE 0x%lx", res.gs_base, sc_msrs[4].value);
	if (res.user_cs != 0x33 || res.user_ss != 0x2b || res.user_rflags != res.r11)
		fail("SYSRET: cs 0x%lx ss 0x%lx rflags 0x%lx, expected 0x33 0x2b 0x%lx (r11)", res.user_cs,
		     res.user_ss, res.user_rflags, res.r11);
	if (rdmsr(MSR_KERNEL_GS_BASE) != sc_msrs[4].value || rdmsr(MSR_GS_BASE) != 0)
		fail("after two swapgs: GS base 0x%lx, KERNEL_GS_BASE 0x%lx", rdmsr(MSR_GS_BASE),
		     rdmsr(MSR_KERNEL_GS_BASE));
	info("STAR LSTAR CSTAR FMASK KERNEL_GS_BASE FS_BASE kept through the checks before; SYSCALL to 0x%lx, SYSRET to 0x%lx",
	     (uintptr_t)syscall_entry, res.ret_rip);
	end();
}
