/*
 * Unit tests of the MMIO instruction emulator (vmm/x86/emulate.c): each
 * supported form is decoded from real encodings and executed against a
 * fake memory. The arithmetic results and flags are compared with the host
 * CPU running the same operation (inline assembly, RFLAGS read back with
 * PUSHF); the other forms with values computed independently here.
 */
#include "unit.h"

#include "decode.h"
#include "emulate.h"

/* ---- fake memory --------------------------------------------------------- */

#define MEM_BASE 0x10000u
#define MEM_SIZE 0x4000u

static uint8_t mem[MEM_SIZE];

struct fake {
	unsigned reads, writes;
	bool fail_read, fail_write;
	unsigned ok_writes; /* with fail_write: writes that still succeed */
	uint64_t last_addr;
	unsigned last_size;
	int last_seg;
};

/* Read callback: little-endian load from mem[] (in range, sizes 1-8). */
static int fake_read(void *ctx, uint64_t addr, unsigned size, uint64_t *val)
{
	struct fake *f = ctx;
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(addr >= MEM_BASE && addr + size <= MEM_BASE + MEM_SIZE);
	f->reads++;
	f->last_addr = addr;
	f->last_size = size;
	if (f->fail_read)
		return -1;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)mem[addr - MEM_BASE + i] << (8 * i);
	*val = v | (size < 8 ? 0xdead000000000000ull : 0); /* junk above */
	return 0;
}

/* Write callback: little-endian store into mem[]. */
static int fake_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
	struct fake *f = ctx;
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(addr >= MEM_BASE && addr + size <= MEM_BASE + MEM_SIZE);
	if (size < 8)
		assert_int_equal(val >> (8 * size), 0);
	f->writes++;
	f->last_addr = addr;
	f->last_size = size;
	if (f->fail_write && f->writes > f->ok_writes)
		return -1;
	for (unsigned i = 0; i < size; i++)
		mem[addr - MEM_BASE + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

/* Translate callback: segment bases are 0 except FS (0x1000). */
static int fake_translate(void *ctx, enum x86_seg seg, uint64_t offset,
			  bool write, uint64_t *addr)
{
	struct fake *f = ctx;
	(void)write;
	f->last_seg = seg;
	*addr = offset + (seg == X86_SEG_FS ? 0x1000 : 0);
	return 0;
}

static const struct x86_mem_ops ops = { fake_read, fake_write,
					fake_translate };

/* Little-endian value of size bytes at address a of mem[]. */
static uint64_t peek_mem(uint64_t a, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)mem[a - MEM_BASE + i] << (8 * i);
	return v;
}

/* Stores size bytes of v at address a of mem[]. */
static void poke_mem(uint64_t a, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		mem[a - MEM_BASE + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Decodes the literal bytes (which must decode) into *in. */
#define DECODE(mode, in, ...)                                                \
	do {                                                                 \
		const uint8_t b_[] = { __VA_ARGS__ };                       \
		assert_int_equal(x86_decode(b_, sizeof(b_), mode, in), 0);  \
		assert_int_equal((in)->len, sizeof(b_));                    \
	} while (0)

/* ---- host oracle --------------------------------------------------------- */

enum { H_ADD, H_OR, H_ADC, H_SBB, H_AND, H_SUB, H_XOR, H_CMP, H_TEST,
       H_INC, H_DEC, H_NEG, H_NOT, H_BT, H_BTS, H_BTR, H_BTC, H_N };

/* Two-operand instruction "ins s, d" on the host with RFLAGS f in/out
 * (below the red zone, as PUSHF/POPF use the stack). */
#define HOST2(ins, m)                                                        \
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" \
			 ins " %" m "[s], %" m "[d]\n\t"                     \
			 "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"       \
			 : [d] "+r"(d), [f] "+r"(f)                          \
			 : [s] "r"(s)                                        \
			 : "cc")
#define HOST1(ins, m)                                                        \
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" \
			 ins " %" m "[d]\n\t"                                \
			 "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"       \
			 : [d] "+r"(d), [f] "+r"(f)                          \
			 :                                                   \
			 : "cc")
#define SIZES(H, ins)                                                        \
	switch (size) {                                                      \
	case 1: H(ins "b", "b"); break;                                      \
	case 2: H(ins "w", "w"); break;                                      \
	case 4: H(ins "l", "k"); break;                                      \
	default: H(ins "q", "q"); break;                                     \
	}
#define SIZES_NO8(H, ins)                                                    \
	switch (size) {                                                      \
	case 2: H(ins "w", "w"); break;                                      \
	case 4: H(ins "l", "k"); break;                                      \
	default: H(ins "q", "q"); break;                                     \
	}

/* Runs operation op of the given size on the host CPU: returns the result
 * (low size bytes) and the flags after it in *fout. */
static uint64_t host(unsigned op, unsigned size, uint64_t d, uint64_t s,
		     uint64_t fin, uint64_t *fout)
{
	uint64_t f = fin;
	switch (op) {
	case H_ADD: SIZES(HOST2, "add"); break;
	case H_OR: SIZES(HOST2, "or"); break;
	case H_ADC: SIZES(HOST2, "adc"); break;
	case H_SBB: SIZES(HOST2, "sbb"); break;
	case H_AND: SIZES(HOST2, "and"); break;
	case H_SUB: SIZES(HOST2, "sub"); break;
	case H_XOR: SIZES(HOST2, "xor"); break;
	case H_CMP: SIZES(HOST2, "cmp"); break;
	case H_TEST: SIZES(HOST2, "test"); break;
	case H_INC: SIZES(HOST1, "inc"); break;
	case H_DEC: SIZES(HOST1, "dec"); break;
	case H_NEG: SIZES(HOST1, "neg"); break;
	case H_NOT: SIZES(HOST1, "not"); break;
	case H_BT: SIZES_NO8(HOST2, "bt"); break;
	case H_BTS: SIZES_NO8(HOST2, "bts"); break;
	case H_BTR: SIZES_NO8(HOST2, "btr"); break;
	case H_BTC: SIZES_NO8(HOST2, "btc"); break;
	}
	*fout = f;
	return d & mask_of(size);
}

/* Flags the SDM defines for op (the ones compared with the host). */
static uint64_t defined_flags(unsigned op)
{
	switch (op) {
	case H_OR: case H_AND: case H_XOR: case H_TEST: /* AF undefined */
		return X86_FLAGS_ARITH & ~(uint64_t)X86_FLAG_AF;
	case H_BT: case H_BTS: case H_BTR: case H_BTC:
		return X86_FLAG_CF;
	default:
		return X86_FLAGS_ARITH;
	}
}

static unsigned long n_host, n_forms;
static struct unit_rng rng;

/* An interesting value of the given size: edges or random. */
static uint64_t value(unsigned size)
{
	static const uint64_t edge[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff,
		0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
		0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
		0x0f, 0x10, 0xfffffffffffffff0 };
	uint64_t v = unit_rng_below(&rng, 3) ?
			     unit_rng_next(&rng) :
			     edge[unit_rng_below(&rng, sizeof(edge) / 8)];
	if (unit_rng_below(&rng, 4) == 0)
		v = (uint64_t)-(int64_t)(v & 0xff); /* small negative */
	return v & mask_of(size);
}

/* ---- ALU forms against the host ----------------------------------------- */

/* Runs host operation op (size, operands d and s, flags fin) through the
 * emulator in one of its encodings (form: 0 r/m-memory op= reg, 1 reg op=
 * memory, 2 memory op= imm, 3 register op= register) in the given mode, and
 * compares result and flags with the host. */
static void alu_case(enum x86_mode mode, unsigned op, unsigned size,
		     unsigned form, uint64_t d, uint64_t s, uint64_t fin)
{
	uint8_t b[16];
	unsigned p = 0, rex = 0;
	bool unary = op >= H_INC && op <= H_NOT;
	bool w = size > 1;
	/* source register: RCX, or R9 (REX.R), or AH (byte, no REX) */
	unsigned sreg = 1, dreg = 2; /* rdx for the register form */
	unsigned pick = (unsigned)unit_rng_below(&rng, 3);
	if (mode == X86_MODE_64 && pick == 1)
		sreg = 9;
	if (size == 1 && pick == 2 && mode != X86_MODE_64)
		sreg = X86_REG_AH;
	if ((op == H_TEST && form == 1) || (unary && form == 1))
		form = 0;
	if (op == H_TEST && form == 3)
		form = 0;

	if ((size == 2) != (mode == X86_MODE_16) && size != 1 && size != 8)
		b[p++] = 0x66;
	if (mode == X86_MODE_64) {
		rex = 0x40 | (size == 8 ? 8 : 0) | (sreg >= 8 ? 4 : 0);
		if (rex != 0x40 || (size == 1 && unit_rng_below(&rng, 2)))
			b[p++] = (uint8_t)rex;
		else
			rex = 0;
	}
	unsigned rmreg = mode == X86_MODE_16 ? 7 : 3; /* [bx] or [ebx]/[rbx] */
	unsigned mod = form == 3 ? 0xc0u | dreg : rmreg;
	unsigned regf = sreg == X86_REG_AH ? 4 : sreg & 7;
	int64_t imm = 0;
	unsigned immsz = 0;
	if (unary) {
		static const uint8_t grp[4][2] = { { 0xfe, 0 }, { 0xfe, 1 },
						   { 0xf6, 3 }, { 0xf6, 2 } };
		b[p++] = (uint8_t)(grp[op - H_INC][0] | w);
		b[p++] = (uint8_t)(mod | grp[op - H_INC][1] << 3);
	} else if (form == 2) {
		unsigned reg = op == H_TEST ? 0 : op;
		bool ib = size > 1 && op != H_TEST && unit_rng_below(&rng, 2);
		b[p++] = (uint8_t)(op == H_TEST ? (0xf6 | w) :
				   ib ? 0x83 : (0x80 | w));
		b[p++] = (uint8_t)(mod | reg << 3);
		immsz = size == 1 || ib ? 1 : size == 2 ? 2 : 4;
		imm = (int64_t)(s << (64 - 8 * immsz)) >> (64 - 8 * immsz);
		s = (uint64_t)imm & mask_of(size);
		for (unsigned i = 0; i < immsz; i++)
			b[p++] = (uint8_t)((uint64_t)imm >> (8 * i));
	} else {
		unsigned opc = op == H_TEST ? 0x84u : op * 8u;
		b[p++] = (uint8_t)(opc | w | (form == 1 ? 2 : 0));
		b[p++] = (uint8_t)(mod | regf << 3);
	}

	struct x86_insn in;
	int rc = x86_decode(b, p, mode, &in);
	if (rc || in.len != p) {
		print_message("decode failed (%d), mode %d op %u size %u "
			      "form %u\n", rc, mode, op, size, form);
		fail();
	}

	/* host: destination value and source as the instruction sees them */
	uint64_t hd = form == 1 ? s : d, hs = form == 1 ? d : s, fout;
	uint64_t r = host(op, size, hd, hs, fin, &fout);

	struct x86_regs regs;
	struct fake f = { 0 };
	uint64_t addr = MEM_BASE + 0x100;
	for (unsigned i = 0; i < 16; i++)
		regs.gpr[i] = unit_rng_next(&rng);
	regs.gpr[3] = addr; /* rbx */
	regs.rip = 0x1000;
	regs.rflags = fin;
	uint64_t junk = unit_rng_next(&rng);
	if (sreg == X86_REG_AH)
		regs.gpr[0] = (junk & ~0xff00ull) | (s & 0xff) << 8;
	else
		regs.gpr[sreg] = (junk & ~mask_of(size)) | s;
	if (form == 3)
		regs.gpr[dreg] = (junk & ~mask_of(size)) | d;
	poke_mem(addr, 8, unit_rng_next(&rng));
	poke_mem(addr, size, d);
	uint64_t around = peek_mem(addr, 8);

	struct x86_regs before = regs;
	rc = x86_emulate(&in, &regs, addr, &ops, &f);
	assert_int_equal(rc, 0);
	assert_int_equal(regs.rip, before.rip + p);
	uint64_t def = defined_flags(op);
	if ((regs.rflags & def) != (fout & def) ||
	    (regs.rflags & ~(uint64_t)X86_FLAGS_ARITH) !=
		    (fin & ~(uint64_t)X86_FLAGS_ARITH)) {
		print_message("mode %d op %u size %u form %u d %llx s %llx "
			      "fin %llx: flags %llx, host %llx\n", mode, op,
			      size, form, (unsigned long long)hd,
			      (unsigned long long)hs,
			      (unsigned long long)fin,
			      (unsigned long long)regs.rflags,
			      (unsigned long long)fout);
		fail();
	}
	bool writes = op != H_CMP && op != H_TEST;
	uint64_t want_mem = around, want_reg = before.gpr[sreg & 15];
	unsigned rreg = form == 3 ? dreg : sreg;
	if (writes && (form == 0 || form == 2))
		want_mem = (around & ~mask_of(size)) | r;
	if (writes && (form == 1 || form == 3)) {
		uint64_t old = form == 3 ? before.gpr[dreg] :
				sreg == X86_REG_AH ? before.gpr[0] :
						     before.gpr[sreg];
		want_reg = sreg == X86_REG_AH && form == 1 ?
				   (old & ~0xff00ull) | r << 8 :
			   size == 4 ? r :
				   (old & ~mask_of(size)) | r;
	} else if (form == 3) {
		want_reg = before.gpr[dreg];
	} else if (sreg == X86_REG_AH) {
		want_reg = before.gpr[0];
	}
	assert_int_equal(peek_mem(addr, 8), want_mem);
	if (rreg == X86_REG_AH)
		rreg = 0;
	assert_int_equal(regs.gpr[rreg & 15], want_reg);
	assert_int_equal(regs.gpr[3], addr);
	n_host++;
}

/* Every ALU form, size and mode against the host CPU's results/flags. */
static void test_alu_host(void **state)
{
	(void)state;
	unit_rng_seed(&rng, 42);
	for (unsigned op = H_ADD; op <= H_NOT; op++) {
		for (unsigned size = 1; size <= 8; size *= 2) {
			for (unsigned i = 0; i < 3000; i++) {
				enum x86_mode mode = i % 3 == 0 ? X86_MODE_64 :
						     i % 3 == 1 ? X86_MODE_32 :
								  X86_MODE_16;
				if (size == 8)
					mode = X86_MODE_64;
				uint64_t fin = 0x2 | (unit_rng_next(&rng) &
						      X86_FLAGS_ARITH);
				alu_case(mode, op, size, i % 4, value(size),
					 value(size), fin);
			}
		}
	}
	print_message("emulate: %lu ALU executions compared with the host\n",
		      n_host);
}

/* ---- other forms --------------------------------------------------------- */

#define ADDR (MEM_BASE + 0x100)

/* Registers with recognisable values: gpr[i] = 0x1111111111111111 * (i+1)
 * with the low byte i, RBX = ADDR, RIP 0x1000, RFLAGS 0x2. */
static void init_regs(struct x86_regs *r)
{
	for (unsigned i = 0; i < 16; i++)
		r->gpr[i] = 0x0101010101010100ull * (i + 1) + 0x80 + i;
	r->gpr[X86_REG_RBX] = ADDR;
	r->rip = 0x1000;
	r->rflags = 0x2;
}

/* Runs in on regs with memory at ADDR; expects success. */
static void run(const struct x86_insn *in, struct x86_regs *r)
{
	struct fake f = { 0 };
	uint64_t rip = r->rip;
	assert_int_equal(x86_emulate(in, r, ADDR, &ops, &f), 0);
	assert_int_equal(r->rip, rip + in->len);
	n_forms++;
}

/* MOV, MOVZX, MOVSX, MOVSXD, XCHG with all register widths. */
static void test_mov(void **state)
{
	struct x86_insn in;
	struct x86_regs r, b;
	(void)state;

	/* mov [rbx], ah / spl / r9b; mov ah, [rbx] */
	init_regs(&r);
	poke_mem(ADDR, 8, 0);
	DECODE(X86_MODE_64, &in, 0x88, 0x23);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), (r.gpr[0] >> 8) & 0xff);
	DECODE(X86_MODE_64, &in, 0x40, 0x88, 0x23);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), r.gpr[4] & 0xff);
	DECODE(X86_MODE_64, &in, 0x44, 0x88, 0x0b);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), r.gpr[9] & 0xff);
	poke_mem(ADDR, 8, 0x1122334455667788ull);
	b = r;
	DECODE(X86_MODE_64, &in, 0x8a, 0x23);
	run(&in, &r);
	assert_int_equal(r.gpr[0], (b.gpr[0] & ~0xff00ull) | 0x8800);
	/* 8-, 16-, 32-, 64-bit loads: merge, merge, zero-extend, all */
	DECODE(X86_MODE_64, &in, 0x8a, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], (b.gpr[1] & ~0xffull) | 0x88);
	DECODE(X86_MODE_64, &in, 0x66, 0x8b, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], (b.gpr[1] & ~0xffffull) | 0x7788);
	DECODE(X86_MODE_64, &in, 0x44, 0x8b, 0x03);
	run(&in, &r);
	assert_int_equal(r.gpr[8], 0x55667788);
	DECODE(X86_MODE_64, &in, 0x4c, 0x8b, 0x3b);
	run(&in, &r);
	assert_int_equal(r.gpr[15], 0x1122334455667788ull);
	/* 32-bit mode: same rules for the register file */
	DECODE(X86_MODE_32, &in, 0x8b, 0x0b);
	r.gpr[1] = ~0ull;
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x55667788);
	/* stores of immediates: C6, 66 C7, C7, REX.W C7 (sign-extended) */
	DECODE(X86_MODE_64, &in, 0xc6, 0x03, 0xab);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0x11223344556677abull);
	DECODE(X86_MODE_64, &in, 0x66, 0xc7, 0x03, 0xcd, 0xab);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0x112233445566abcdull);
	DECODE(X86_MODE_64, &in, 0xc7, 0x03, 1, 2, 3, 4);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0x1122334404030201ull);
	DECODE(X86_MODE_64, &in, 0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0xfffffffffffffffeull);
	/* moffs: loads and stores of AL/eAX/rAX at the given address */
	poke_mem(ADDR, 8, 0x8877665544332211ull);
	b = r;
	DECODE(X86_MODE_64, &in, 0x48, 0xa1, 0, 1, 1, 0, 0, 0, 0, 0);
	assert_int_equal(in.mem.disp, ADDR);
	run(&in, &r);
	assert_int_equal(r.gpr[0], 0x8877665544332211ull);
	DECODE(X86_MODE_32, &in, 0xa0, 0, 1, 1, 0);
	run(&in, &r);
	assert_int_equal(r.gpr[0], 0x8877665544332211ull);
	r.gpr[0] = 0xa5a5a5a5a5a5a5a5ull;
	DECODE(X86_MODE_16, &in, 0xa3, 0, 1);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0x887766554433a5a5ull);
	DECODE(X86_MODE_16, &in, 0x66, 0xa3, 0, 1);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0x88776655a5a5a5a5ull);
	/* MOVZX/MOVSX/MOVSXD */
	poke_mem(ADDR, 8, 0x0000000080008080ull);
	DECODE(X86_MODE_64, &in, 0x0f, 0xb6, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x80);
	DECODE(X86_MODE_64, &in, 0x48, 0x0f, 0xbf, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0xffffffffffff8080ull);
	r.gpr[1] = 0x1234567812345678ull;
	DECODE(X86_MODE_64, &in, 0x66, 0x0f, 0xbe, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x123456781234ff80ull);
	DECODE(X86_MODE_64, &in, 0x0f, 0xbe, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0xffffff80ull);
	DECODE(X86_MODE_64, &in, 0x0f, 0xbf, 0x23); /* movsx esp */
	run(&in, &r);
	assert_int_equal(r.gpr[4], 0xffff8080ull);
	DECODE(X86_MODE_64, &in, 0x48, 0x63, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0xffffffff80008080ull);
	DECODE(X86_MODE_64, &in, 0x63, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x80008080ull);
	DECODE(X86_MODE_32, &in, 0x0f, 0xb7, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x8080);
	/* XCHG memory with ECX, AH */
	r.gpr[1] = 0xaaaaaaaabbbbbbbbull;
	DECODE(X86_MODE_64, &in, 0x87, 0x0b);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 0x80008080ull);
	assert_int_equal(peek_mem(ADDR, 8), 0xbbbbbbbbull);
	b = r;
	DECODE(X86_MODE_64, &in, 0xf0, 0x86, 0x23);
	run(&in, &r);
	assert_int_equal(r.gpr[0], (b.gpr[0] & ~0xff00ull) | 0xbb00);
	assert_int_equal(peek_mem(ADDR, 8),
			 0xbbbbbb00ull | ((b.gpr[0] >> 8) & 0xff));
	/* register-only XCHG and MOV */
	r.gpr[1] = 1;
	r.gpr[2] = 2;
	DECODE(X86_MODE_64, &in, 0x48, 0x87, 0xca);
	run(&in, &r);
	assert_int_equal(r.gpr[1], 2);
	assert_int_equal(r.gpr[2], 1);
	/* flags untouched by all of the above */
	assert_int_equal(r.rflags, 0x2);
}

/* BT/BTS/BTR/BTC: register forms against the host, memory forms with
 * bit offsets beyond the operand (x86_insn_ea's displacement). */
static void test_bt(void **state)
{
	struct x86_insn in;
	struct x86_regs r;
	(void)state;

	unit_rng_seed(&rng, 7);
	for (unsigned i = 0; i < 4000; i++) {
		unsigned op = H_BT + i % 4, size = 2u << (i / 4 % 3);
		uint8_t b[8];
		unsigned p = 0;
		if (size == 2)
			b[p++] = 0x66;
		if (size == 8)
			b[p++] = 0x48;
		b[p++] = 0x0f;
		b[p++] = (uint8_t)(0xa3 + 8 * (op - H_BT));
		b[p++] = 0xca; /* bt edx, ecx */
		assert_int_equal(x86_decode(b, p, X86_MODE_64, &in), 0);
		init_regs(&r);
		uint64_t d = value(size), s = unit_rng_next(&rng);
		uint64_t fin = 0x2 | (unit_rng_next(&rng) & X86_FLAGS_ARITH);
		r.gpr[2] = d;
		r.gpr[1] = s;
		r.rflags = fin;
		uint64_t fout, res = host(op, size, d & mask_of(size),
					  s & mask_of(size), fin, &fout);
		run(&in, &r);
		assert_int_equal(r.rflags & X86_FLAG_CF, fout & X86_FLAG_CF);
		assert_int_equal(r.rflags & ~(uint64_t)X86_FLAG_CF,
				 fin & ~(uint64_t)X86_FLAG_CF);
		assert_int_equal(r.gpr[2] & mask_of(size), res);
		n_host++;
	}

	/* bts [rbx], ecx with ecx = 100: dword 3, bit 4 */
	init_regs(&r);
	memset(mem, 0, sizeof(mem));
	DECODE(X86_MODE_64, &in, 0x0f, 0xab, 0x0b);
	r.gpr[1] = 100;
	assert_int_equal(x86_insn_ea(&in, &r), ADDR + 12);
	struct fake f = { 0 };
	assert_int_equal(x86_emulate(&in, &r, ADDR + 12, &ops, &f), 0);
	assert_int_equal(peek_mem(ADDR + 12, 4), 0x10);
	assert_int_equal(r.rflags & X86_FLAG_CF, 0);
	/* btc with offset -1: the dword below, bit 31 */
	DECODE(X86_MODE_64, &in, 0x0f, 0xbb, 0x0b);
	r.gpr[1] = 0xffffffff;
	assert_int_equal(x86_insn_ea(&in, &r), ADDR - 4);
	assert_int_equal(x86_emulate(&in, &r, ADDR - 4, &ops, &f), 0);
	assert_int_equal(peek_mem(ADDR - 4, 4), 0x80000000);
	/* 16-bit: btr [rbx], cx with cx = -17: word at -4, bit 15 */
	poke_mem(ADDR - 4, 2, 0x8001);
	DECODE(X86_MODE_64, &in, 0x66, 0x0f, 0xb3, 0x0b);
	r.gpr[1] = 0x1234ffef;
	assert_int_equal(x86_insn_ea(&in, &r), ADDR - 4);
	assert_int_equal(x86_emulate(&in, &r, ADDR - 4, &ops, &f), 0);
	assert_int_equal(peek_mem(ADDR - 4, 2), 0x0001);
	assert_int_equal(r.rflags & X86_FLAG_CF, X86_FLAG_CF);
	/* 64-bit offset */
	DECODE(X86_MODE_64, &in, 0x48, 0x0f, 0xa3, 0x0b);
	r.gpr[1] = 0x8000000000000000ull;
	assert_int_equal(x86_insn_ea(&in, &r),
			 ADDR + 0xf000000000000000ull);
	/* immediate forms: offset modulo the operand size, no displacement */
	poke_mem(ADDR, 8, 0);
	DECODE(X86_MODE_64, &in, 0x0f, 0xba, 0x2b, 35); /* bts [rbx], 35 */
	assert_int_equal(x86_insn_ea(&in, &r), ADDR);
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 8);
	DECODE(X86_MODE_64, &in, 0x0f, 0xba, 0x23, 3); /* bt [rbx], 3 */
	run(&in, &r);
	assert_int_equal(r.rflags & X86_FLAG_CF, X86_FLAG_CF);
	DECODE(X86_MODE_64, &in, 0x66, 0x0f, 0xba, 0x3b, 19); /* btc, bit 3 */
	run(&in, &r);
	assert_int_equal(peek_mem(ADDR, 8), 0);
	assert_int_equal(r.rflags & X86_FLAG_CF, X86_FLAG_CF);
}

/* Runs a string instruction with addr = its current element; returns the
 * emulator's result. */
static int run_string(const struct x86_insn *in, struct x86_regs *r,
		      struct fake *f, const struct x86_mem_ops *o)
{
	uint64_t a = in->op == X86_OP_STOS ? r->gpr[X86_REG_RDI] :
					     r->gpr[X86_REG_RSI];
	a &= mask_of(in->addrsize);
	n_forms++;
	return x86_emulate(in, r, a, o, f);
}

/* STOS, LODS, MOVS with and without REP, DF, address sizes, page limit. */
static void test_string(void **state)
{
	struct x86_insn in;
	struct x86_regs r;
	struct fake f = { 0 };
	(void)state;

	/* rep stosq, 3 times, DF=0 */
	memset(mem, 0, sizeof(mem));
	init_regs(&r);
	r.gpr[X86_REG_RDI] = MEM_BASE + 0x200;
	r.gpr[X86_REG_RCX] = 3;
	DECODE(X86_MODE_64, &in, 0xf3, 0x48, 0xab);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(peek_mem(MEM_BASE + 0x200 + 8 * i, 8),
				 r.gpr[0]);
	assert_int_equal(peek_mem(MEM_BASE + 0x218, 8), 0);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x218);
	assert_int_equal(r.gpr[X86_REG_RCX], 0);
	assert_int_equal(r.rip, 0x1003);
	/* rep stosb (F2 acts as REP), DF=1: downwards */
	r.rflags |= X86_FLAG_DF;
	r.gpr[X86_REG_RCX] = 5;
	r.gpr[X86_REG_RDI] = MEM_BASE + 0x304;
	DECODE(X86_MODE_64, &in, 0xf2, 0xaa);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(peek_mem(MEM_BASE + 0x2ff, 8),
			 0x0000808080808000ull);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x2ff);
	r.rflags &= ~(uint64_t)X86_FLAG_DF;
	/* REP with rCX = 0: no access, done */
	f.reads = f.writes = 0;
	DECODE(X86_MODE_64, &in, 0xf3, 0xab);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(f.writes, 0);
	/* page limit: rep stosd of 2000 from 8 bytes before a page end */
	memset(mem, 0, sizeof(mem));
	init_regs(&r);
	r.gpr[X86_REG_RDI] = MEM_BASE + 0x1000 - 8;
	r.gpr[X86_REG_RCX] = 2000;
	DECODE(X86_MODE_64, &in, 0xf3, 0xab);
	unsigned calls = 0;
	int rc;
	while ((rc = run_string(&in, &r, &f, &ops)) == X86_EMUL_MORE) {
		assert_int_equal(r.rip, 0x1000);
		assert_int_equal(r.gpr[X86_REG_RDI] & 0xfff, 0);
		calls++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(calls, 2); /* 2 + 1024 elements, then 974 */
	assert_int_equal(r.rip, 0x1002);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x1000 - 8 + 8000);
	assert_int_equal(r.gpr[X86_REG_RCX], 0);
	for (unsigned i = 0; i < 2000; i++)
		assert_int_equal(peek_mem(MEM_BASE + 0xff8 + 4 * i, 4),
				 r.gpr[0] & 0xffffffff);
	assert_int_equal(peek_mem(MEM_BASE + 0xff8 + 8000, 4), 0);
	/* lodsb; rep lodsw reads each element (device side effects) */
	poke_mem(MEM_BASE + 0x400, 8, 0x0807060504030201ull);
	r.gpr[X86_REG_RSI] = MEM_BASE + 0x400;
	DECODE(X86_MODE_64, &in, 0xac);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(r.gpr[0] & 0xff, 1);
	assert_int_equal(r.gpr[X86_REG_RSI], MEM_BASE + 0x401);
	f.reads = 0;
	r.gpr[X86_REG_RCX] = 3;
	DECODE(X86_MODE_64, &in, 0xf3, 0x66, 0xad);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(f.reads, 3);
	assert_int_equal(r.gpr[0] & 0xffff, 0x0706);
	/* rep movsb with translate; FS-overridden movsd source */
	r.gpr[X86_REG_RSI] = MEM_BASE + 0x400;
	r.gpr[X86_REG_RDI] = MEM_BASE + 0x800;
	r.gpr[X86_REG_RCX] = 7;
	DECODE(X86_MODE_64, &in, 0xf3, 0xa4);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(peek_mem(MEM_BASE + 0x800, 8), 0x0007060504030201ull);
	assert_int_equal(r.gpr[X86_REG_RSI], MEM_BASE + 0x407);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x807);
	poke_mem(MEM_BASE + 0x1400, 4, 0xcafef00d);
	r.gpr[X86_REG_RSI] = MEM_BASE + 0x400;
	DECODE(X86_MODE_64, &in, 0x64, 0xa5);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(f.last_seg, X86_SEG_ES);
	assert_int_equal(peek_mem(MEM_BASE + 0x807, 4), 0xcafef00d);
	/* MOVS needs translate */
	const struct x86_mem_ops no_tr = { fake_read, fake_write, NULL };
	assert_int_equal(run_string(&in, &r, &f, &no_tr), X86_ERR_UNSUPPORTED);
	/* 67 in 64-bit mode: ECX/EDI, written zero-extended */
	r.gpr[X86_REG_RCX] = 0xffffffff00000002ull;
	r.gpr[X86_REG_RDI] = 0xffffffff00000000ull | (MEM_BASE + 0x900);
	DECODE(X86_MODE_64, &in, 0x67, 0xf3, 0xaa);
	assert_int_equal(run_string(&in, &r, &f, &ops), 0);
	assert_int_equal(r.gpr[X86_REG_RCX], 0);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x902);
	/* 16-bit address size: DI wraps; stop there, CX/DI merged */
	r.gpr[X86_REG_RCX] = 0x1234000000000005ull;
	r.gpr[X86_REG_RDI] = 0x55550000ull | 0xfffe;
	DECODE(X86_MODE_32, &in, 0x67, 0xf3, 0xaa);
	const struct x86_mem_ops *o = &ops;
	f.writes = 0;
	assert_int_equal(x86_emulate(&in, &r, MEM_BASE + 0x3ffe - 0x1000, o,
				     &f), X86_EMUL_MORE);
	assert_int_equal(f.writes, 2);
	assert_int_equal(r.gpr[X86_REG_RCX], 0x1234000000000003ull);
	assert_int_equal(r.gpr[X86_REG_RDI], 0x55550000ull);
	/* a failing write stops with the finished iterations committed */
	r.gpr[X86_REG_RCX] = 10;
	r.gpr[X86_REG_RDI] = MEM_BASE + 0x100;
	r.rip = 0x1000;
	f.fail_write = true;
	f.ok_writes = 4;
	f.writes = 0;
	DECODE(X86_MODE_64, &in, 0xf3, 0xaa);
	assert_int_equal(run_string(&in, &r, &f, &ops), X86_ERR_MEMORY);
	assert_int_equal(r.gpr[X86_REG_RCX], 6);
	assert_int_equal(r.gpr[X86_REG_RDI], MEM_BASE + 0x104);
	assert_int_equal(r.rip, 0x1000);
}

/* Effective addresses and RIP wrap-around in each mode. */
static void test_ea_rip(void **state)
{
	struct x86_insn in;
	struct x86_regs r;
	(void)state;

	init_regs(&r);
	r.gpr[X86_REG_RCX] = 0x10;
	DECODE(X86_MODE_64, &in, 0x8b, 0x44, 0x8b, 0xf0); /* [rbx+rcx*4-16] */
	assert_int_equal(x86_insn_ea(&in, &r), ADDR + 0x40 - 16);
	r.gpr[X86_REG_RBX] = 0xfffffff0;
	DECODE(X86_MODE_64, &in, 0x67, 0x8b, 0x44, 0x8b, 0x10);
	assert_int_equal(x86_insn_ea(&in, &r), 0x40);
	r.rip = 0x7000;
	DECODE(X86_MODE_64, &in, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff);
	assert_int_equal(x86_insn_ea(&in, &r), 0x7000 + 6 - 16);
	DECODE(X86_MODE_64, &in, 0x41, 0x8b, 0x04, 0x24); /* [r12] */
	assert_int_equal(x86_insn_ea(&in, &r), r.gpr[12]);
	DECODE(X86_MODE_64, &in, 0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12);
	assert_int_equal(x86_insn_ea(&in, &r), 0x12345678);
	r.gpr[X86_REG_RBP] = 0xfff0;
	r.gpr[X86_REG_RSI] = 0x0018;
	DECODE(X86_MODE_16, &in, 0x8b, 0x42, 0x01); /* [bp+si+1] */
	assert_int_equal(x86_insn_ea(&in, &r), 0x9);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	/* RIP: 16-bit IP and 32-bit EIP wrap */
	DECODE(X86_MODE_16, &in, 0x8b, 0x42, 0x01);
	r.rip = 0xfffe;
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &(struct fake){ 0 }),
			 0);
	assert_int_equal(r.rip, 1);
	r.rip = 0xfffffffe;
	DECODE(X86_MODE_32, &in, 0x8b, 0x03);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &(struct fake){ 0 }),
			 0);
	assert_int_equal(r.rip, 0);
}

/* Failing callbacks leave the registers as they were; bad inputs. */
static void test_errors(void **state)
{
	struct x86_insn in;
	struct x86_regs r, b;
	struct fake f = { 0 };
	(void)state;

	init_regs(&r);
	r.rflags = 0x2 | X86_FLAGS_ARITH;
	b = r;
	f.fail_read = true;
	DECODE(X86_MODE_64, &in, 0x48, 0x8b, 0x0b);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &f), X86_ERR_MEMORY);
	assert_memory_equal(&r, &b, sizeof(r));
	f.fail_read = false;
	f.fail_write = true;
	DECODE(X86_MODE_64, &in, 0x01, 0x0b);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &f), X86_ERR_MEMORY);
	assert_memory_equal(&r, &b, sizeof(r));
	DECODE(X86_MODE_64, &in, 0x87, 0x0b);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &f), X86_ERR_MEMORY);
	assert_memory_equal(&r, &b, sizeof(r));
	DECODE(X86_MODE_64, &in, 0x0f, 0xab, 0x0b);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &f), X86_ERR_MEMORY);
	assert_memory_equal(&r, &b, sizeof(r));
	/* no callbacks: memory forms fail, register forms work */
	assert_int_equal(x86_emulate(&in, &r, ADDR, NULL, NULL),
			 X86_ERR_MEMORY);
	DECODE(X86_MODE_64, &in, 0x01, 0xcb);
	assert_int_equal(x86_emulate(&in, &r, 0, NULL, NULL), 0);
	/* an instruction that did not decode as supported */
	const uint8_t nop = 0x90;
	assert_int_equal(x86_decode(&nop, 1, X86_MODE_64, &in),
			 X86_ERR_UNSUPPORTED);
	assert_int_equal(x86_emulate(&in, &r, ADDR, &ops, &f),
			 X86_ERR_UNSUPPORTED);
	print_message("emulate: %lu host comparisons, %lu other forms run\n",
		      n_host, n_forms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu_host),
		cmocka_unit_test(test_mov),
		cmocka_unit_test(test_bt),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_ea_rip),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
