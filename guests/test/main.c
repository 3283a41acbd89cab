/*
 * Test guest: IDT setup and the checks cpuid, pio, msr, hlt, exception and
 * memory (mmio is in mmio.c). See README.md for what each one expects of
 * the VMM.
 */
#include "guest.h"

int have_microhv;

/* ---- IDT: vectors 0-31 and TIMER_VECTOR; anything else raises #GP ---- */

struct gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

static struct gate idt[TIMER_VECTOR + 1] __attribute__((aligned(16)));

static void set_gate(unsigned vec, uint64_t handler)
{
	idt[vec] = (struct gate){
		.off0 = (uint16_t)handler,
		.sel = 0x18,
		.type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.off1 = (uint16_t)(handler >> 16),
		.off2 = (uint32_t)(handler >> 32),
	};
}

static void idt_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} desc = {sizeof idt - 1, (uintptr_t)idt};

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, isr_table[v]);
	set_gate(TIMER_VECTOR, isr_table[32]);
	__asm__ volatile("lidt %0" ::"m"(desc));
}

/* ---- TSS: the stack for exceptions from CPL 3 (check_ac) ---- */

static struct __attribute__((packed)) {
	uint32_t reserved0;
	uint64_t rsp[3], reserved1, ist[7], reserved2;
	uint16_t reserved3, iomap_base;
} tss;
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
extern uint64_t gdt[];

static void tss_init(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof tss - 1;

	tss.rsp[0] = (uintptr_t)ring0_stack + sizeof ring0_stack;
	tss.iomap_base = sizeof tss; /* no I/O bitmap */
	gdt[7] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89UL << 40 | (base >> 24 & 0xff) << 56;
	gdt[8] = base >> 32;
	__asm__ volatile("ltr %w0" ::"r"(0x38));
}

void idt_use_copy(void *base)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} desc = {sizeof idt - 1, (uintptr_t)base};

	memcpy(base, idt, sizeof idt);
	__asm__ volatile("lidt %0" ::"m"(desc) : "memory");
}

void idt_use_original(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} desc = {sizeof idt - 1, (uintptr_t)idt};

	__asm__ volatile("lidt %0" ::"m"(desc) : "memory");
}

/* ---- cpuid ---- */

static void printable(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			s[i] = '.';
}

static void check_cpuid(void)
{
	uint32_t a, b, c, d;
	char vendor[13] = {0}, sig[13] = {0};

	begin("cpuid");
	cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	printable(vendor, 12);
	info("leaf 0: max leaf 0x%x, vendor \"%s\"", a, vendor);
	if (a < 1)
		fail("leaf 0: max leaf 0x%x < 1", a);

	cpuid(1, &a, &b, &c, &d);
	if (!(c & 1u << 31))
		fail("leaf 1: hypervisor-present bit (ECX[31]) clear, ECX 0x%08x", c);
	if (c & 1u << 5)
		fail("leaf 1: VMX bit (ECX[5]) set, ECX 0x%08x", c);

	cpuid(HV_LEAF, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	have_microhv = !memcmp(sig, HV_SIGNATURE, 12);
	printable(sig, 12);
	info("leaf 0x%x: max leaf 0x%x, signature \"%s\"", HV_LEAF, a, sig);
	if (!have_microhv)
		fail(NO_VMM ": leaf 0x%x signature \"%s\", expected \"%s\"; VMM checks skipped", HV_LEAF, sig,
		     HV_SIGNATURE);
	else if (a < HV_LEAF)
		fail("leaf 0x%x: max hypervisor leaf 0x%x < 0x%x", HV_LEAF, a, HV_LEAF);
	end();
}

/* ---- pio: the test ports 0x510 (constant / latch) and 0x514 (latch) ---- */

#define GARBAGE 0xa5a5a5a5a5a5a5a5UL

static __attribute__((noinline)) void pio_expect(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s: rax 0x%016lx, expected 0x%016lx", what, got, want);
}

static void check_pio(void)
{
	uint64_t r;

	begin("pio");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}

	/* in: result width only; 8/16-bit leave the rest of RAX, 32-bit zero-extends */
	r = GARBAGE;
	__asm__ volatile("inl %%dx, %%eax" : "+a"(r) : "d"(PORT_TEST_CONST));
	pio_expect("inl 0x510", r, TEST_CONST);
	r = GARBAGE;
	__asm__ volatile("inw %%dx, %%ax" : "+a"(r) : "d"(PORT_TEST_CONST));
	pio_expect("inw 0x510", r, (GARBAGE & ~0xffffUL) | (TEST_CONST & 0xffff));
	r = GARBAGE;
	__asm__ volatile("inb %%dx, %%al" : "+a"(r) : "d"(PORT_TEST_CONST));
	pio_expect("inb 0x510", r, (GARBAGE & ~0xffUL) | (TEST_CONST & 0xff));

	/* out 0x510 sets the latch (zero-extended), in 0x514 returns it */
	static const struct {
		unsigned width;
		uint32_t value;
	} outs[] = {{4, 0xdeadbeef}, {2, 0xc0de}, {1, 0x5a}, {4, 0x80000001}};
	for (unsigned i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		uint32_t v = outs[i].value;
		if (outs[i].width == 4)
			outl(PORT_TEST_CONST, v);
		else if (outs[i].width == 2)
			outw(PORT_TEST_CONST, (uint16_t)v);
		else
			outb(PORT_TEST_CONST, (uint8_t)v);
		r = GARBAGE;
		__asm__ volatile("inl %%dx, %%eax" : "+a"(r) : "d"(PORT_TEST_LATCH));
		if (r != v)
			fail("out%c 0x%x to 0x510: inl 0x514 gave 0x%lx", "?bw?l"[outs[i].width], v, r);
	}
	r = GARBAGE;
	__asm__ volatile("inw %%dx, %%ax" : "+a"(r) : "d"(PORT_TEST_LATCH));
	pio_expect("inw 0x514", r, (GARBAGE & ~0xffffUL) | 0x0001);
	r = GARBAGE;
	__asm__ volatile("inb %%dx, %%al" : "+a"(r) : "d"(PORT_TEST_LATCH));
	pio_expect("inb 0x514", r, (GARBAGE & ~0xffUL) | 0x01);
	/* writes do not change what 0x510 reads */
	r = GARBAGE;
	__asm__ volatile("inl %%dx, %%eax" : "+a"(r) : "d"(PORT_TEST_CONST));
	pio_expect("inl 0x510 after out", r, TEST_CONST);
	end();
}

/* ---- msr ---- */

static void check_msr(void)
{
	uint64_t at, after, lo, hi;

	begin("msr");
	/* IA32_PAT: entries 1 and 5 WT (04) -> WC (01); entries 0 and 3 (used by
	 * our page tables: WB and UC) unchanged */
	uint64_t pat = rdmsr(MSR_PAT), want = (pat & ~0x0000ff000000ff00UL) | 0x0000010000000100UL;
	wrmsr(MSR_PAT, want);
	uint64_t got = rdmsr(MSR_PAT);
	if (got != want)
		fail("IA32_PAT: wrote 0x%016lx, read 0x%016lx", want, got);
	wrmsr(MSR_PAT, pat);
	if ((got = rdmsr(MSR_PAT)) != pat)
		fail("IA32_PAT: restored 0x%016lx, read 0x%016lx", pat, got);
	info("IA32_PAT 0x%016lx, round trip with 0x%016lx", pat, want);

	if (!have_microhv) {
		fail(NO_VMM ": unknown-MSR #GP not tested");
		end();
		return;
	}

	/* rdmsr of an MSR the VMM does not implement: #GP(0), EDX:EAX untouched */
	expect(VEC_GP);
	lo = 0x11111111, hi = 0x22222222;
	__asm__ volatile(EXPECT_ASM_BEGIN "rdmsr" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after), "+a"(lo), "+d"(hi)
			 : "c"(MSR_UNKNOWN)
			 : "memory");
	if (xp.hits != 1)
		fail("rdmsr 0x%x: no #GP (got 0x%08lx:%08lx)", MSR_UNKNOWN, hi, lo);
	else if (xp.rip != at || xp.err != 0)
		fail("rdmsr 0x%x: #GP at rip 0x%lx error code 0x%lx, expected rip 0x%lx error code 0", MSR_UNKNOWN,
		     xp.rip, xp.err, at);
	else if (lo != 0x11111111 || hi != 0x22222222)
		fail("rdmsr 0x%x: #GP, but EDX:EAX changed to 0x%08lx:%08lx", MSR_UNKNOWN, hi, lo);

	/* wrmsr of it: #GP(0) as well */
	expect(VEC_GP);
	__asm__ volatile(EXPECT_ASM_BEGIN "wrmsr" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after)
			 : "c"(MSR_UNKNOWN), "a"(0), "d"(0)
			 : "memory");
	if (xp.hits != 1)
		fail("wrmsr 0x%x: no #GP", MSR_UNKNOWN);
	else if (xp.rip != at || xp.err != 0)
		fail("wrmsr 0x%x: #GP at rip 0x%lx error code 0x%lx, expected rip 0x%lx error code 0", MSR_UNKNOWN,
		     xp.rip, xp.err, at);
	(void)after;
	end();
}

/* ---- hlt: the VMM's one-shot timer wakes the halted guest ---- */

#define TIMER_DELAY_US 10000
#define TIMER_ROUNDS 3

static void check_hlt(void)
{
	begin("hlt");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}

	for (unsigned i = 0; i < TIMER_ROUNDS; i++) {
		uint64_t before = timer_ticks, resume;

		outl(PORT_TIMER, TIMER_DELAY_US);
		/* sti's interrupt shadow covers hlt: no wakeup is lost in between */
		__asm__ volatile("lea 1f(%%rip), %0\n\t"
				 "sti\n\t"
				 "hlt\n"
				 "1:\tcli"
				 : "=&r"(resume)::"memory");
		uint64_t n = timer_ticks - before;
		if (n != 1) {
			fail("round %u: %lu timer interrupts (vector 0x%x) after hlt, expected 1", i, n,
			     TIMER_VECTOR);
			break;
		}
		if (timer_rip != resume) {
			fail("round %u: interrupt frame rip 0x%lx, expected 0x%lx (after hlt)", i, timer_rip,
			     resume);
			break;
		}
	}
	end();
}

/* ---- exception: the guest's own handlers ---- */

static __attribute__((noinline)) void exc_result(const char *what, int vec, uint64_t want_rip, uint64_t want_err)
{
	if (xp.hits != 1)
		fail("%s: %d exceptions (vector %d), expected 1", what, xp.hits, vec);
	else if (xp.rip != want_rip || xp.err != want_err)
		fail("%s: rip 0x%lx error code 0x%lx, expected rip 0x%lx error code 0x%lx", what, xp.rip, xp.err,
		     want_rip, want_err);
}

static void check_exception(void)
{
	uint64_t at, after;

	begin("exception");

	/* #UD: a fault at ud2, resumed 2 bytes further */
	expect(VEC_UD);
	__asm__ volatile(EXPECT_ASM_BEGIN "ud2" EXPECT_ASM_END : EXPECT_ASM_OUT(at, after)::"memory");
	exc_result("ud2", VEC_UD, at, 0);
	if (after != at + 2)
		fail("ud2: length %lu", after - at);

	/* #DE: a fault at the div, skipped */
	uint32_t a = 1, d = 0;
	expect(VEC_DE);
	__asm__ volatile(EXPECT_ASM_BEGIN "divl %5" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after), "+a"(a), "+d"(d)
			 : "c"(0)
			 : "memory", "cc");
	exc_result("divide by zero", VEC_DE, at, 0);

	/* #BP: a trap, the frame points after int3 */
	expect(VEC_BP);
	__asm__ volatile(EXPECT_ASM_BEGIN "int3" EXPECT_ASM_END : EXPECT_ASM_OUT(at, after)::"memory");
	exc_result("int3", VEC_BP, after, 0);

	/* #PF: read of an unmapped address (PDPT[2] is empty) */
	uint64_t addr = 0x80000000UL, v;
	expect(VEC_PF);
	__asm__ volatile(EXPECT_ASM_BEGIN "movq (%4), %3" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after), "=&r"(v)
			 : "r"(addr)
			 : "memory");
	(void)v;
	exc_result("page fault", VEC_PF, at, 0);
	if (xp.hits == 1 && xp.cr2 != addr)
		fail("page fault: cr2 0x%lx, expected 0x%lx", xp.cr2, addr);

	/*
	 * Hypercalls and the virtualization instructions of both vendors: #UD
	 * at the instruction (microhv offers neither VMX nor SVM, nor
	 * hypercalls). Elsewhere VMCALL may be a hypercall.
	 */
	if (have_microhv) {
#define EXPECT_UD(insn, ...)                                                                                 \
	do {                                                                                                 \
		expect(VEC_UD);                                                                              \
		__asm__ volatile(EXPECT_ASM_BEGIN insn EXPECT_ASM_END                                       \
				 : EXPECT_ASM_OUT(at, after)                                                 \
				 : __VA_ARGS__                                                               \
				 : "memory");                                                                \
		exc_result(insn, VEC_UD, at, 0);                                                             \
	} while (0)
		EXPECT_UD("vmcall", "a"(0));
		EXPECT_UD("vmmcall", "a"(0));
		EXPECT_UD("vmrun %%rax", "a"(0x200000UL));
		EXPECT_UD("vmload %%rax", "a"(0x200000UL));
		EXPECT_UD("vmsave %%rax", "a"(0x200000UL));
		EXPECT_UD("clgi", "a"(0));
		EXPECT_UD("stgi", "a"(0));
		EXPECT_UD("invlpga %%rax, %%ecx", "a"(0), "c"(0));
		EXPECT_UD("skinit %%eax", "a"(0x200000UL));
		EXPECT_UD("vmxon (%%rax)", "a"(0x200000UL));
#undef EXPECT_UD
	}
	end();
}

/* ---- memory: all RAM above the image up to 4 MiB ---- */

static uint64_t pattern(uint64_t addr, uint64_t seed) { return (addr * 0x9e3779b97f4a7c15UL) ^ seed; }

static void check_memory(void)
{
	/* under microhv all of it is RAM; elsewhere skip the PC hole 640K-1M */
	uint64_t start = ((uintptr_t)__image_end + 7) & ~7UL;
	uint64_t ranges[2][2] = {{start, RAM_END}, {0, 0}};
	unsigned nranges = 1, bad = 0;
	uint64_t bytes = 0;

	begin("memory");
	if (!have_microhv) {
		ranges[0][1] = 0xa0000;
		ranges[1][0] = 0x100000;
		ranges[1][1] = RAM_END;
		nranges = 2;
	}
	for (unsigned r = 0; r < nranges; r++) {
		info("0x%lx-0x%lx", ranges[r][0], ranges[r][1] - 1);
		bytes += ranges[r][1] - ranges[r][0];
	}
	static const uint64_t seeds[2] = {0, ~0UL};
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned r = 0; r < nranges; r++)
			for (uint64_t a = ranges[r][0]; a < ranges[r][1]; a += 8)
				*(volatile uint64_t *)a = pattern(a, seeds[pass]);
		for (unsigned r = 0; r < nranges; r++)
			for (uint64_t a = ranges[r][0]; a < ranges[r][1]; a += 8) {
				uint64_t got = *(volatile uint64_t *)a, want = pattern(a, seeds[pass]);
				if (got != want && bad++ < 4)
					fail("pass %u: at 0x%lx read 0x%016lx, wrote 0x%016lx", pass, a, got, want);
			}
	}
	if (bad > 4)
		fail("%u bad words in all", bad);
	if (!bad)
		info("%lu KiB written and read back twice", bytes / 1024);
	end();
}

/* ---- cr8: the task-priority register, left at 15 (nothing here needs interrupts after it) ---- */

static void check_cr8(void)
{
	static const uint64_t values[] = {15, 0, 7, 15};
	uint64_t got;

	begin("cr8");
	for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
		__asm__ volatile("mov %1, %%cr8\n\tmov %%cr8, %0" : "=r"(got) : "r"(values[i]) : "memory");
		if (got != values[i])
			fail("wrote %lu to CR8, read %lu", values[i], got);
	}
	info("CR8 written and read back: 15, 0, 7, 15 (left at 15)");
	end();
}

void guest_main(void)
{
	idt_init();
	tss_init();
	print("test guest: long mode, image 0x%lx-0x%lx\n", LOAD_ADDR, (uintptr_t)__image_end - 1);
	check_cpuid();
	if (have_microhv && (inl(PORT_MODE) & MODE_HOSTILE))
		run_hostile(inl(PORT_MODE) >> 16);
	xsave_prepare();
	syscall_prepare();
	check_pio();
	check_mmio();
	check_msr();
	check_hlt();
	check_exception();
	check_memory();
	check_xsave();
	check_syscall();
	check_nmi();
	check_vectoring();
	check_debug();
	check_step();
	check_ac();
	check_hostbp();
	check_cr8();
	uint32_t mode = have_microhv ? inl(PORT_MODE) : 0;
	if (mode & MODE_ISOLATION)
		check_isolation((mode >> 8) & 0xff);
	if (mode & MODE_BENCH)
		run_bench();
	finish();
}
