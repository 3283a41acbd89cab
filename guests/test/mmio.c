/*
 * Test guest: the mmio check. Instruction forms a VMM must emulate on its
 * MMIO test device (README.md, "Contract"): mov in every width and with
 * the high-byte registers, mov immediate, movzx/movsx/movsxd, stos with and
 * without rep, and/or/xor/add with a memory operand, xchg and test.
 *
 * Results of the read-modify-write forms are compared with the same
 * instruction on ordinary RAM (run natively): memory, register and the
 * flags the instruction defines must all agree. The device's write counter
 * must agree with the number of write accesses the instructions make.
 */
#include "guest.h"

#define DEV ((uintptr_t)MMIO_BASE)
#define G 0xa5a5a5a5a5a5a5a5UL /* register contents that must survive */

/* RFLAGS bits an instruction defines */
#define FLAGS_LOGIC 0x8c5UL /* CF PF ZF SF OF (AF is undefined) */
#define FLAGS_ARITH 0x8d5UL /* CF PF AF ZF SF OF */

static uint64_t writes_base, expected_writes;

static uint64_t rd64(unsigned off)
{
	uint64_t v;
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(DEV + off) : "memory");
	return v;
}

static void wr64(unsigned off, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" ::"r"(v), "r"(DEV + off) : "memory");
	expected_writes++;
}

static __attribute__((noinline)) void expect_eq(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s: 0x%016lx, expected 0x%016lx", what, got, want);
}

static void check_writes(const char *group)
{
	uint64_t n = rd64(MMIO_WRITES) - writes_base;

	if (n != expected_writes) {
		fail("%s: write counter at %lu, expected %lu", group, n, expected_writes);
		expected_writes = n; /* judge the next group on its own */
	}
}

/* mov between registers and the device, all widths */
static void mmio_mov(void)
{
	uint64_t a, b, c, d;
	register uint64_t r9 __asm__("r9");
	register uint64_t r10 __asm__("r10");
	register uint64_t r13 __asm__("r13");

	wr64(MMIO_SCRATCH, 0x0123456789abcdefUL);
	expect_eq("movq (mem), r64", rd64(MMIO_SCRATCH), 0x0123456789abcdefUL);

	/* loads: 32-bit zero-extends, 8/16-bit keep the rest of the register */
	a = ~0UL, b = G, c = G, d = G;
	__asm__ volatile("movl (%4), %%eax\n\t"
			 "movw (%4), %%bx\n\t"
			 "movb (%4), %%cl\n\t"
			 "movb 7(%4), %%dl"
			 : "+a"(a), "+b"(b), "+c"(c), "+d"(d)
			 : "S"(DEV)
			 : "memory");
	expect_eq("movl (mem), %eax", a, 0x89abcdef);
	expect_eq("movw (mem), %bx", b, (G & ~0xffffUL) | 0xcdef);
	expect_eq("movb (mem), %cl", c, (G & ~0xffUL) | 0xef);
	expect_eq("movb 7(mem), %dl", d, (G & ~0xffUL) | 0x01);
	r10 = ~0UL, r13 = 0;
	__asm__ volatile("movl 4(%2), %%r10d\n\t"
			 "movq (%2), %%r13"
			 : "+r"(r10), "+r"(r13)
			 : "r"(DEV)
			 : "memory");
	expect_eq("movl 4(mem), %r10d", r10, 0x01234567);
	expect_eq("movq (mem), %r13", r13, 0x0123456789abcdefUL);
	a = G; /* %ah: no REX prefix allowed, so the address is in %rdi */
	__asm__ volatile("movb 1(%1), %%ah" : "+a"(a) : "D"(DEV) : "memory");
	expect_eq("movb 1(mem), %ah", a, (G & ~0xff00UL) | 0xcd00);

	/* stores of part of the register change only those bytes */
	a = 0x775a, r9 = 0xbeef, b = 0xdeadbeef;
	__asm__ volatile("movb %%al, (%3)\n\t"
			 "movw %%r9w, 2(%3)\n\t"
			 "movl %%ebx, 4(%3)\n\t"
			 "movb %%ah, 1(%3)"
			 :
			 : "a"(a), "r"(r9), "b"(b), "D"(DEV)
			 : "memory");
	expected_writes += 4;
	expect_eq("movb/movw/movl/movb %ah to mem", rd64(MMIO_SCRATCH), 0xdeadbeefbeef775aUL);
	r9 = 0x8877665544332211UL; /* base + index*8 - 8 */
	__asm__ volatile("movq %%r9, -8(%1,%2,8)" ::"r"(r9), "r"(DEV), "c"(1UL) : "memory");
	expected_writes++;
	expect_eq("movq %r9, -8(base,index,8)", rd64(MMIO_SCRATCH), 0x8877665544332211UL);

	/* the read-only register, in every width; writes are ignored */
	expect_eq("movq 0x08", rd64(MMIO_MAGIC), MMIO_MAGIC_VALUE);
	a = G, b = G, c = G;
	__asm__ volatile("movl 0x0c(%3), %%eax\n\t"
			 "movw 0x0a(%3), %%bx\n\t"
			 "movb 0x08(%3), %%cl"
			 : "+a"(a), "+b"(b), "+c"(c)
			 : "r"(DEV)
			 : "memory");
	expect_eq("movl 0x0c", a, MMIO_MAGIC_VALUE >> 32);
	expect_eq("movw 0x0a", b, (G & ~0xffffUL) | ((MMIO_MAGIC_VALUE >> 16) & 0xffff));
	expect_eq("movb 0x08", c, (G & ~0xffUL) | (MMIO_MAGIC_VALUE & 0xff));
	wr64(MMIO_MAGIC, 0);
	expect_eq("movq 0x08 after a write", rd64(MMIO_MAGIC), MMIO_MAGIC_VALUE);

	/* unused offsets read as zero */
	expect_eq("movq 0x18", rd64(0x18), 0);
	expect_eq("movq 0xff8", rd64(0xff8), 0);
}

/* mov immediate: imm32 sign-extended for movq */
static void mmio_imm(void)
{
	__asm__ volatile("movq $-2, (%0)" ::"r"(DEV) : "memory");
	expect_eq("movq $-2", rd64(MMIO_SCRATCH), 0xfffffffffffffffeUL);
	__asm__ volatile("movl $0x12345678, (%0)" ::"r"(DEV) : "memory");
	expect_eq("movl $0x12345678", rd64(MMIO_SCRATCH), 0xffffffff12345678UL);
	__asm__ volatile("movw $0xabcd, 4(%0)" ::"r"(DEV) : "memory");
	expect_eq("movw $0xabcd, 4(mem)", rd64(MMIO_SCRATCH), 0xffffabcd12345678UL);
	__asm__ volatile("movb $0x42, 7(%0)" ::"r"(DEV) : "memory");
	expect_eq("movb $0x42, 7(mem)", rd64(MMIO_SCRATCH), 0x42ffabcd12345678UL);
	expected_writes += 4;
}

/* movzx, movsx, movsxd */
static void mmio_movx(void)
{
	uint64_t a = ~0UL, b = ~0UL, c = 0, d = ~0UL, si = G;
	register uint64_t r8 __asm__("r8") = ~0UL;
	register uint64_t r11 __asm__("r11") = 0;
	register uint64_t r12 __asm__("r12") = ~0UL;
	register uint64_t r14 __asm__("r14") = 0;

	/* bytes: 80 7f 01 80 00 00 00 00 */
	wr64(MMIO_SCRATCH, 0x0000000080017f80UL);
	__asm__ volatile("movzbl (%[p]), %%eax\n\t"
			 "movzbq 1(%[p]), %%rbx\n\t"
			 "movsbq (%[p]), %%rcx\n\t"
			 "movsbl (%[p]), %%edx\n\t"
			 "movsbw (%[p]), %%si\n\t"
			 "movzwl 2(%[p]), %%r8d\n\t"
			 "movswq 2(%[p]), %%r11\n\t"
			 "movswl 2(%[p]), %%r12d\n\t"
			 "movslq (%[p]), %%r14"
			 : "+a"(a), "+b"(b), "+c"(c), "+d"(d), "+S"(si), "+r"(r8), "+r"(r11), "+r"(r12), "+r"(r14)
			 : [p] "D"(DEV)
			 : "memory");
	expect_eq("movzbl", a, 0x80);
	expect_eq("movzbq", b, 0x7f);
	expect_eq("movsbq", c, 0xffffffffffffff80UL);
	expect_eq("movsbl", d, 0xffffff80UL);
	expect_eq("movsbw", si, (G & ~0xffffUL) | 0xff80);
	expect_eq("movzwl", r8, 0x8001);
	expect_eq("movswq", r11, 0xffffffffffff8001UL);
	expect_eq("movswl", r12, 0xffff8001UL);
	expect_eq("movslq (movsxd)", r14, 0xffffffff80017f80UL);
}

/* stos, single and rep; with rep stosq the writes go on into 0x08 and 0x10 */
static void mmio_string(void)
{
	uint64_t di, cx;

	di = DEV;
	__asm__ volatile("stosq" : "+D"(di) : "a"(0x1111111111111111UL) : "memory");
	expected_writes++;
	expect_eq("stosq", rd64(MMIO_SCRATCH), 0x1111111111111111UL);
	expect_eq("stosq: rdi - base", di - DEV, 8);

	di = DEV, cx = 3;
	__asm__ volatile("rep stosq" : "+D"(di), "+c"(cx) : "a"(0x2222222222222222UL) : "memory");
	expected_writes += 3;
	expect_eq("rep stosq x3", rd64(MMIO_SCRATCH), 0x2222222222222222UL);
	expect_eq("rep stosq x3: rcx", cx, 0);
	expect_eq("rep stosq x3: rdi - base", di - DEV, 24);
	expect_eq("rep stosq x3: 0x08 unchanged", rd64(MMIO_MAGIC), MMIO_MAGIC_VALUE);

	di = DEV, cx = 2;
	__asm__ volatile("rep stosl" : "+D"(di), "+c"(cx) : "a"(0x11223344UL) : "memory");
	expected_writes += 2;
	expect_eq("rep stosl x2", rd64(MMIO_SCRATCH), 0x1122334411223344UL);
	expect_eq("rep stosl x2: rcx", cx, 0);
	expect_eq("rep stosl x2: rdi - base", di - DEV, 8);

	di = DEV + 4, cx = 4;
	__asm__ volatile("rep stosb" : "+D"(di), "+c"(cx) : "a"(0x5aUL) : "memory");
	expected_writes += 4;
	expect_eq("rep stosb x4", rd64(MMIO_SCRATCH), 0x5a5a5a5a11223344UL);
	expect_eq("rep stosb x4: rcx", cx, 0);
	expect_eq("rep stosb x4: rdi - base", di - DEV, 8);

	di = DEV + 2;
	__asm__ volatile("stosw" : "+D"(di) : "a"(0xbeefUL) : "memory");
	expected_writes++;
	expect_eq("stosw", rd64(MMIO_SCRATCH), 0x5a5a5a5abeef3344UL);

	di = DEV, cx = 0;
	__asm__ volatile("rep stosq" : "+D"(di), "+c"(cx) : "a"(0UL) : "memory");
	expect_eq("rep stosq x0", rd64(MMIO_SCRATCH), 0x5a5a5a5abeef3344UL);
	expect_eq("rep stosq x0: rdi - base", di - DEV, 0);
}

/*
 * Read-modify-write forms. Each runs its instruction (operands %[s]: a
 * register holding src, %[p]: the address) once on RAM holding init and
 * once on the scratch register holding init; memory, register and the
 * flags in fmask must agree. nw: write accesses the instruction makes.
 */
#define MEM_OPS(X)                                                                                           \
	X(and1, "andq %[s], (%[p])", 0xff00ff00ff00ff00UL, 0x00ff00ff00ff00ffUL, FLAGS_LOGIC, 1)             \
	X(and2, "andq %[s], (%[p])", 0xff00ff00ff00ff00UL, 0x8000000000000f00UL, FLAGS_LOGIC, 1)             \
	X(and3, "andw $0x00f0, 2(%[p])", 0x123456789abcdef0UL, 0, FLAGS_LOGIC, 1)                            \
	X(and4, "andb (%[p]), %b[s]", 0x00000000000000f0UL, 0x0f, FLAGS_LOGIC, 0)                            \
	X(or1, "orl $0x80000000, (%[p])", 0x1111111100001234UL, 0, FLAGS_LOGIC, 1)                           \
	X(or2, "orb %b[s], 5(%[p])", 0, 0x81, FLAGS_LOGIC, 1)                                                \
	X(or3, "orq (%[p]), %[s]", 0x00000000ffff0000UL, 0x00000000000000ffUL, FLAGS_LOGIC, 0)               \
	X(xor1, "xorq %[s], (%[p])", 0xaaaaaaaaaaaaaaaaUL, 0x5555555555555555UL, FLAGS_LOGIC, 1)             \
	X(xor2, "xorq (%[p]), %[s]", 0x0123456789abcdefUL, 0x0123456789abcdefUL, FLAGS_LOGIC, 0)             \
	X(xor3, "xorl $-1, 4(%[p])", 0x00000000ffffffffUL, 0, FLAGS_LOGIC, 1)                                \
	X(add1, "addq %[s], (%[p])", 0xffffffffffffffffUL, 1, FLAGS_ARITH, 1)                                \
	X(add2, "addl $1, (%[p])", 0x000000007fffffffUL, 0, FLAGS_ARITH, 1)                                  \
	X(add3, "addb $0x80, 7(%[p])", 0x8000000000000000UL, 0, FLAGS_ARITH, 1)                              \
	X(add4, "addw %w[s], 6(%[p])", 0x0fff000000000000UL, 0x0001, FLAGS_ARITH, 1)                         \
	X(add5, "addq (%[p]), %[s]", 5, 7, FLAGS_ARITH, 0)                                                   \
	X(xchg1, "xchgq %[s], (%[p])", 0x0123456789abcdefUL, 0xfedcba9876543210UL, 0, 1)                     \
	X(xchg2, "xchgl %k[s], 4(%[p])", 0x0123456789abcdefUL, 0xa5a5a5a5deadbeefUL, 0, 1)                   \
	X(xchg3, "xchgb %b[s], (%[p])", 0x0123456789abcdefUL, 0x42, 0, 1)                                    \
	X(test1, "testq %[s], (%[p])", 0x00000000000000f0UL, 0x000000000000000fUL, FLAGS_LOGIC, 0)           \
	X(test2, "testq %[s], (%[p])", 0x8000000000000001UL, ~0UL, FLAGS_LOGIC, 0)                           \
	X(test3, "testb $0x80, 7(%[p])", 0x8000000000000000UL, 0, FLAGS_LOGIC, 0)                            \
	X(test4, "testl $0x10000, (%[p])", 0x00000000fffeffffUL, 0, FLAGS_LOGIC, 0)

struct mem_op {
	const char *insn;
	void (*run)(uintptr_t p, uint64_t *reg, uint64_t *flags);
	uint64_t init, src, fmask;
	unsigned nw;
};

#define MEM_OP_FN(name, insn, init, src, fmask, nw)                                                          \
	static void op_##name(uintptr_t p, uint64_t *reg, uint64_t *flags)                                   \
	{                                                                                                    \
		uint64_t s = *reg, f;                                                                        \
		__asm__ volatile(insn "\n\tpushfq\n\tpopq %[f]"                                              \
				 : [s] "+r"(s), [f] "=r"(f)                                                  \
				 : [p] "r"(p)                                                                \
				 : "memory", "cc");                                                          \
		*reg = s, *flags = f;                                                                        \
	}
#define MEM_OP_ENTRY(name, insn, init, src, fmask, nw) {insn, op_##name, init, src, fmask, nw},

MEM_OPS(MEM_OP_FN)
static const struct mem_op mem_ops[] = {MEM_OPS(MEM_OP_ENTRY)};

static void mmio_mem_ops(void)
{
	for (unsigned i = 0; i < sizeof mem_ops / sizeof mem_ops[0]; i++) {
		const struct mem_op *op = &mem_ops[i];
		volatile uint64_t ram = op->init;
		uint64_t ram_reg = op->src, dev_reg = op->src, ram_flags, dev_flags, dev;

		op->run((uintptr_t)&ram, &ram_reg, &ram_flags);
		wr64(MMIO_SCRATCH, op->init);
		op->run(DEV, &dev_reg, &dev_flags);
		expected_writes += op->nw;
		ram_flags &= op->fmask, dev_flags &= op->fmask;
		if ((dev = rd64(MMIO_SCRATCH)) != ram)
			fail("%s: memory 0x%016lx, expected 0x%016lx", op->insn, dev, ram);
		if (dev_reg != ram_reg)
			fail("%s: register 0x%016lx, expected 0x%016lx", op->insn, dev_reg, ram_reg);
		if (dev_flags != ram_flags)
			fail("%s: flags 0x%03lx, expected 0x%03lx", op->insn, dev_flags, ram_flags);
	}
}

void check_mmio(void)
{
	begin("mmio");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	writes_base = rd64(MMIO_WRITES);
	expected_writes = 0;
	mmio_mov();
	check_writes("mov");
	mmio_imm();
	check_writes("mov immediate");
	mmio_movx();
	check_writes("movzx/movsx");
	mmio_string();
	check_writes("stos");
	mmio_mem_ops();
	check_writes("and/or/xor/add/xchg/test");
	info("%lu write accesses counted", expected_writes);
	end();
}
