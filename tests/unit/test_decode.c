/*
 * Unit tests of the x86 instruction decoder (vmm/x86/decode.c), with
 * capstone as the oracle: (a) every supported opcode with generated
 * ModRM/SIB/displacement/immediate/prefix/REX combinations, (b) every
 * one- and two-byte opcode for lengths, (c) random byte strings, (d)
 * malformed encodings. Every encoding is also decoded from buffers cut at
 * each shorter length, placed at the end of a heap block so that ASan
 * catches any read past the given length.
 *
 * Capstone 4 quirks, accepted explicitly where they show (cs_quirk_len()
 * and compare_semantics()); on each point the decoder follows the SDM:
 *  Q1 64-bit mode, 66 prefix on a near branch (E8, E9, 0F 80-8F): capstone
 *     takes a rel16 (AMD); Intel 64 ignores 66 there and takes rel32.
 *  Q2 0F FF (UD0): capstone decodes it without the ModRM byte the SDM
 *     gives it ("0F FF /r UD0 r32, r/m32").
 *  Q3 MOVSXD (63 in 64-bit mode): capstone always shows a 64-bit
 *     destination and a 32-bit source; without REX.W the destination is 32
 *     (or, with 66, 16) bits and with 66 the source is 16 bits.
 *  Q4 64-bit mode, CS/DS/ES/SS segment override: capstone reports it on
 *     the memory operand; the SDM says these are ignored in 64-bit mode, so
 *     the decoder's effective segment is the default one.
 *  Q5 capstone reports the SIB scale even when there is no index register
 *     (index 100b); scale is only compared when there is an index.
 *  Q6 capstone accepts LOCK where the SDM says #UD: on the ALU forms whose
 *     destination is the ModRM.reg register (02, 03, 0A, ...), and on any
 *     instruction when F2 or F3 is also present. Accepted when the decoder
 *     rejects only because of LOCK and the lengths agree.
 *  Q7 in 32- and 64-bit modes, when the last legacy prefix is F2 or F3 and
 *     a 66 precedes it, capstone gives memory and immediate operands whose
 *     size is the operand size (and all operands of a string instruction)
 *     the size they would have without 66 (dword); other register operands
 *     do honour 66.
 *  Q8 F7 /1 (the TEST alias the SDM leaves blank, executed as TEST by the
 *     processors): with REX.W capstone gives the immediate size 4 where it
 *     gives 8 for F7 /0.
 *  Q9 C2 (RET imm16) with REX.W and 66 or 67 in 64-bit mode: capstone
 *     reads an imm32.
 *  Q10 A0-A3 (MOV moffs) with 66 before F2/F3 and no 67: capstone rejects
 *     them.
 *  Q11 66/F2/F3 0F 78/79: VMREAD/VMWRITE allow none of these prefixes
 *     (SDM: "NP", #UD), so the decoder rejects them; capstone decodes AMD's
 *     SSE4a EXTRQ/INSERTQ there (inconsistently, by mode and prefix order).
 *  Q2 also covers 0F B9 (UD1, "0F B9 /r"), which capstone decodes as
 *     "ud2b" without ModRM.
 * Values are compared modulo their size: capstone sign-extends immediates
 * to 64 bits and shows some 32-bit displacements zero-extended.
 */
#include "unit.h"

/* Capstone's x86 names overlap ours (enum x86_reg, enum x86_insn, the
 * X86_REG_ constants of the GPRs): include it with those renamed to CS_. */
#define x86_reg cs_x86_reg_t
#define x86_insn cs_x86_insn_t
#define X86_REG_RAX CS_REG_RAX
#define X86_REG_RCX CS_REG_RCX
#define X86_REG_RDX CS_REG_RDX
#define X86_REG_RBX CS_REG_RBX
#define X86_REG_RSP CS_REG_RSP
#define X86_REG_RBP CS_REG_RBP
#define X86_REG_RSI CS_REG_RSI
#define X86_REG_RDI CS_REG_RDI
#define X86_REG_R8 CS_REG_R8
#define X86_REG_R15 CS_REG_R15
#define X86_REG_AH CS_REG_AH
#define X86_REG_CH CS_REG_CH
#define X86_REG_DH CS_REG_DH
#define X86_REG_BH CS_REG_BH
#define X86_REG_RIP CS_REG_RIP
#include <capstone/capstone.h>
#undef x86_reg
#undef x86_insn
#undef X86_REG_RAX
#undef X86_REG_RCX
#undef X86_REG_RDX
#undef X86_REG_RBX
#undef X86_REG_RSP
#undef X86_REG_RBP
#undef X86_REG_RSI
#undef X86_REG_RDI
#undef X86_REG_R8
#undef X86_REG_R15
#undef X86_REG_AH
#undef X86_REG_CH
#undef X86_REG_DH
#undef X86_REG_BH
#undef X86_REG_RIP

#include "decode.h"

static csh cs16, cs32, cs64;
static uint8_t *tail; /* 16-byte heap block; inputs are put at its end */
static unsigned long n_table, n_sem, n_sweep, n_random, n_random_ok,
	n_random_cs_only, n_trunc, n_q[12];
static unsigned n_fail;

/* Capstone handle for a mode. */
static csh handle(enum x86_mode m)
{
	return m == X86_MODE_64 ? cs64 : m == X86_MODE_32 ? cs32 : cs16;
}

/* Decodes bytes[0..n) placed at the end of the heap block (n <= 16). */
static int decode_tail(const uint8_t *b, size_t n, enum x86_mode m,
		       struct x86_insn *in)
{
	uint8_t *p = tail + 16 - n;
	memcpy(p, b, n);
	return x86_decode(p, n, m, in);
}

/* Reports a mismatch and counts it; the first example of each (check,
 * mode, first byte after the prefixes) is printed, up to 200. */
static void mismatch(const uint8_t *b, size_t n, enum x86_mode m,
		     const char *what, long long ours, long long theirs)
{
	static struct { const char *what; int m; uint8_t op; } seen[200];
	static unsigned nseen;
	size_t p = 0;
	while (p + 1 < n && (b[p] == 0x66 || b[p] == 0x67 || b[p] == 0xf0 ||
			     b[p] == 0xf2 || b[p] == 0xf3 ||
			     (b[p] & 0xe7) == 0x26 || b[p] == 0x64 ||
			     b[p] == 0x65 ||
			     (m == X86_MODE_64 && (b[p] & 0xf0) == 0x40)))
		p++;
	n_fail++;
	for (unsigned i = 0; i < nseen; i++)
		if (seen[i].what == what && seen[i].m == (int)m &&
		    seen[i].op == b[p])
			return;
	if (nseen == 200)
		return;
	seen[nseen].what = what;
	seen[nseen].m = (int)m;
	seen[nseen++].op = n > p ? b[p] : 0;
	char hex[64] = "";
	for (size_t i = 0; i < n && i < 15; i++)
		sprintf(hex + 3 * i, "%02x ", b[i]);
	print_message("mode %d [%s]: %s: ours %lld, capstone %lld\n", m, hex,
		      what, ours, theirs);
}

/* Capstone register id of our register reg used with the given size. */
static unsigned cs_gpr(unsigned reg, unsigned size)
{
	static const cs_x86_reg_t r8[16] = {
		X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL,
		X86_REG_SPL, X86_REG_BPL, X86_REG_SIL, X86_REG_DIL,
		X86_REG_R8B, X86_REG_R9B, X86_REG_R10B, X86_REG_R11B,
		X86_REG_R12B, X86_REG_R13B, X86_REG_R14B, X86_REG_R15B
	};
	static const cs_x86_reg_t r16[16] = {
		X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
		X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI,
		X86_REG_R8W, X86_REG_R9W, X86_REG_R10W, X86_REG_R11W,
		X86_REG_R12W, X86_REG_R13W, X86_REG_R14W, X86_REG_R15W
	};
	static const cs_x86_reg_t r32[16] = {
		X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
		X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI,
		X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
		X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D
	};
	static const cs_x86_reg_t r64[16] = {
		CS_REG_RAX, CS_REG_RCX, CS_REG_RDX, CS_REG_RBX,
		CS_REG_RSP, CS_REG_RBP, CS_REG_RSI, CS_REG_RDI,
		CS_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, CS_REG_R15
	};
	static const cs_x86_reg_t high[4] = { CS_REG_AH, CS_REG_CH, CS_REG_DH,
					 CS_REG_BH };
	if (reg == 0xff)
		return X86_REG_INVALID;
	if (reg == 20) /* CS_REG_RIP of decode.h */
		return size == 8 ? CS_REG_RIP : X86_REG_EIP;
	if (reg >= 16)
		return high[(reg - 16) & 3];
	return size == 1 ? r8[reg] : size == 2 ? r16[reg] :
	       size == 4 ? r32[reg] : r64[reg];
}

/* Whether capstone quirk Q7 applies to the bytes being checked: 66
 * before F2/F3 among the prefixes, in 32/64-bit mode. */
static bool cur_q7;

/* Whether quirk Q7 applies to decoded instruction in. */
static bool q7(const struct x86_insn *in)
{
	return cur_q7 && in->mode != X86_MODE_16;
}

/* Capstone instruction id(s) of an operation and size. */
static bool id_matches(const struct x86_insn *in, unsigned id)
{
	static const unsigned alu[] = { 0, X86_INS_ADD, X86_INS_OR,
		X86_INS_ADC, X86_INS_SBB, X86_INS_AND, X86_INS_SUB,
		X86_INS_XOR, X86_INS_CMP, X86_INS_TEST, X86_INS_MOV,
		X86_INS_MOVZX, X86_INS_MOVSX, X86_INS_MOVSXD, X86_INS_XCHG,
		X86_INS_BT, X86_INS_BTS, X86_INS_BTR, X86_INS_BTC, X86_INS_INC,
		X86_INS_DEC, X86_INS_NOT, X86_INS_NEG };
	static const unsigned movs[] = { X86_INS_MOVSB, X86_INS_MOVSW,
		X86_INS_MOVSD, X86_INS_MOVSQ };
	static const unsigned stos[] = { X86_INS_STOSB, X86_INS_STOSW,
		X86_INS_STOSD, X86_INS_STOSQ };
	static const unsigned lods[] = { X86_INS_LODSB, X86_INS_LODSW,
		X86_INS_LODSD, X86_INS_LODSQ };
	unsigned lg = in->opsize == 1 ? 0 : in->opsize == 2 ? 1 :
		      in->opsize == 4 ? 2 : 3;
	if (lg == 1 && q7(in))
		lg = 2;
	switch (in->op) {
	case X86_OP_MOVS:
		return id == movs[lg];
	case X86_OP_STOS:
		return id == stos[lg];
	case X86_OP_LODS:
		return id == lods[lg];
	case X86_OP_MOV:
		if (id == X86_INS_MOVABS) /* moffs in 64-bit mode */
			return in->opcode >= 0xa0 && in->mode == X86_MODE_64;
		break;
	}
	return in->op < sizeof(alu) / sizeof(alu[0]) && id == alu[in->op];
}

/* Low size bytes of v. */
static uint64_t trunc_to(uint64_t v, unsigned size)
{
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* Compares our memory operand m with capstone's. */
static void compare_mem(const uint8_t *b, size_t n, const struct x86_insn *in,
			const struct x86_mem *m, const x86_op_mem *c)
{
	enum x86_mode md = in->mode;
	unsigned as = in->addrsize;
	bool sdst = m->seg == X86_SEG_ES && m->base == X86_REG_RDI &&
		    in->map == 0 && in->opcode >= 0xa4 && in->opcode <= 0xab;
	if (cs_gpr(m->base, as) != (unsigned)c->base)
		mismatch(b, n, md, "mem base", m->base, c->base);
	if (cs_gpr(m->index, as) != (unsigned)c->index)
		mismatch(b, n, md, "mem index", m->index, c->index);
	if (m->index != X86_REG_NONE && m->scale != c->scale) /* Q5 */
		mismatch(b, n, md, "mem scale", m->scale, c->scale);
	if (trunc_to((uint64_t)m->disp, as) != trunc_to((uint64_t)c->disp, as))
		mismatch(b, n, md, "mem disp", m->disp, c->disp);
	/* capstone names the segment only when a prefix overrides it */
	unsigned want = X86_REG_INVALID;
	static const cs_x86_reg_t segs[6] = { X86_REG_ES, X86_REG_CS, X86_REG_SS,
					 X86_REG_DS, X86_REG_FS, X86_REG_GS };
	bool dflt = m->seg == X86_SEG_DS ||
		    (m->seg == X86_SEG_SS && (m->base == X86_REG_RSP ||
					      m->base == X86_REG_RBP));
	if (sdst) {
		/* string destination: always ES, named by capstone in 16-
		 * and 32-bit modes only */
		if ((unsigned)c->segment !=
		    (md == X86_MODE_64 ? X86_REG_INVALID : X86_REG_ES))
			mismatch(b, n, md, "string dst seg", m->seg,
				 c->segment);
		return;
	}
	if ((in->prefixes & X86_PFX_SEG) && m->seg == in->seg_override)
		want = segs[m->seg];
	else if (!dflt)
		mismatch(b, n, md, "mem seg not default", m->seg, 0);
	if (md == X86_MODE_64 && c->segment != X86_REG_INVALID &&
	    c->segment != X86_REG_FS && c->segment != X86_REG_GS &&
	    want == X86_REG_INVALID) {
		n_q[4]++; /* Q4 */
		return;
	}
	if (want != (unsigned)c->segment)
		mismatch(b, n, md, "mem seg", m->seg, c->segment);
}

/* Compares a supported instruction's decoding with capstone's detail. */
static void compare_semantics(const uint8_t *b, size_t n,
			      const struct x86_insn *in, const cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;
	enum x86_mode md = in->mode;

	n_sem++;
	if (!id_matches(in, ci->id))
		mismatch(b, n, md, "operation", in->op, ci->id);
	if (x->op_count != in->nopnd) {
		mismatch(b, n, md, "operand count", in->nopnd, x->op_count);
		return;
	}
	for (unsigned i = 0; i < in->nopnd; i++) {
		const struct x86_operand *o = &in->opnd[i];
		const cs_x86_op *c = &x->operands[i];
		unsigned size = o->size, reg = o->reg;
		if (in->op == X86_OP_MOVSXD && !(in->rex & X86_REX_W)) {
			n_q[3]++; /* Q3 */
			size = i == 0 ? 8 : 4;
		}
		if ((o->kind != X86_OPND_REG || in->op >= X86_OP_MOVS) &&
		    size == 2 && q7(in) && in->op != X86_OP_MOVZX &&
		    in->op != X86_OP_MOVSX && in->op != X86_OP_MOVSXD) {
			n_q[7]++; /* Q7 */
			size = 4;
		}
		if (o->kind == X86_OPND_IMM && size == 8 && in->opcode == 0xf7 &&
		    ((in->modrm >> 3) & 7) == 1) {
			n_q[8]++; /* Q8 */
			size = 4;
		}
		if (c->size != size)
			mismatch(b, n, md, "operand size", o->size, c->size);
		switch (o->kind) {
		case X86_OPND_REG:
			if (c->type != X86_OP_REG ||
			    (unsigned)c->reg != cs_gpr(reg, size))
				mismatch(b, n, md, "register operand", reg,
					 c->reg);
			break;
		case X86_OPND_IMM:
			if (c->type != X86_OP_IMM ||
			    trunc_to((uint64_t)in->imm, size) !=
				    trunc_to((uint64_t)c->imm, size))
				mismatch(b, n, md, "immediate", in->imm,
					 c->imm);
			break;
		case X86_OPND_MEM:
			if (c->type != X86_OP_MEM) {
				mismatch(b, n, md, "memory operand", 0,
					 c->type);
			} else if (in->op == X86_OP_MOVS && i == 0) {
				struct x86_mem d = { X86_SEG_ES, X86_REG_RDI,
						     X86_REG_NONE, 1, 0 };
				compare_mem(b, n, in, &d, &c->mem);
			} else {
				compare_mem(b, n, in, &in->mem, &c->mem);
			}
			break;
		}
	}
}

/* Whether b is a prefix byte in mode m. */
static bool is_prefix(uint8_t b, enum x86_mode m)
{
	return b == 0xf0 || b == 0xf2 || b == 0xf3 || (b & 0xe7) == 0x26 ||
	       (b >= 0x64 && b <= 0x67) ||
	       (m == X86_MODE_64 && (b & 0xf0) == 0x40);
}

/* Capstone length disagreements that are documented quirks. */
static bool cs_quirk_len(const struct x86_insn *in)
{
	if (in->mode == X86_MODE_64 && (in->prefixes & X86_PFX_OPSIZE) &&
	    ((in->map == 0 && (in->opcode == 0xe8 || in->opcode == 0xe9)) ||
	     (in->map == 1 && (in->opcode & 0xf0) == 0x80)))
		return true; /* Q1 */
	if (in->map == 1 && (in->opcode == 0xff || in->opcode == 0xb9))
		return true; /* Q2 */
	if (in->map == 1 && (in->opcode & 0xfe) == 0x78 &&
	    (in->prefixes & (X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE)))
		return true; /* Q11 */
	if (in->mode == X86_MODE_64 && in->map == 0 && in->opcode == 0xc2 &&
	    (in->prefixes & (X86_PFX_OPSIZE | X86_PFX_ADDRSIZE)) &&
	    (in->rex & X86_REX_W))
		return true; /* Q9 */
	return false;
}

/* Whether the decoder rejected b[0..n) only for its LOCK prefix (Q6):
 * the same bytes with each F0 prefix made a DS override decode. */
static bool lock_only(const uint8_t *b, size_t n, enum x86_mode m,
		      const struct x86_insn *in)
{
	uint8_t c[16];
	struct x86_insn t;
	if (!(in->prefixes & X86_PFX_LOCK))
		return false;
	memcpy(c, b, n);
	for (size_t i = 0; i < n && is_prefix(c[i], m); i++)
		if (c[i] == 0xf0)
			c[i] = 0x3e;
	int rc = decode_tail(c, n, m, &t);
	return rc != X86_ERR_INVALID && rc != X86_ERR_TRUNCATED &&
	       t.len == in->len;
}

/*
 * Decodes bytes[0..n) (n <= 15) and compares with capstone. Returns our
 * result. Checks: success implies capstone agrees on length and details;
 * whenever both know the length they agree; every shorter cut of a known
 * length is TRUNCATED.
 */
static int check(const uint8_t *b, size_t n, enum x86_mode m)
{
	struct x86_insn in;
	cs_insn *ci = NULL;
	int rc = decode_tail(b, n, m, &in);
	size_t cn = cs_disasm(handle(m), b, n, 0, 1, &ci);
	bool seen66 = false;

	cur_q7 = false;
	for (size_t i = 0; i < n && is_prefix(b[i], m); i++) {
		if ((b[i] & 0xf0) == 0x40 && m == X86_MODE_64)
			continue; /* REX */
		cur_q7 = seen66 && (b[i] == 0xf2 || b[i] == 0xf3);
		seen66 |= b[i] == 0x66;
	}
	if (rc == 0 && !cn) {
		if (q7(&in) && in.opcode >= 0xa0 && in.opcode <= 0xa3 &&
		    !(in.prefixes & X86_PFX_ADDRSIZE))
			n_q[10]++; /* Q10 */
		else
			mismatch(b, n, m, "capstone rejects", in.len, 0);
	}
	if (rc != 0 && rc != X86_ERR_UNSUPPORTED && rc != X86_ERR_INVALID &&
	    rc != X86_ERR_TRUNCATED)
		mismatch(b, n, m, "bad error code", rc, 0);
	if (rc == X86_ERR_INVALID && cn) {
		if (lock_only(b, n, m, &in) &&
		    (in.len == ci->size || cs_quirk_len(&in)))
			n_q[6]++; /* Q6 */
		else if (in.map == 1 && (in.opcode & 0xfe) == 0x78)
			n_q[11]++; /* Q11 */
		else
			mismatch(b, n, m, "we reject, capstone accepts", rc,
				 ci->size);
	}
	if (cn && in.len) {
		if (in.len != ci->size) {
			if (cs_quirk_len(&in))
				n_q[0]++; /* Q1, Q2, Q9 or Q11 */
			else
				mismatch(b, n, m, "length", in.len, ci->size);
		} else if (rc == 0) {
			compare_semantics(b, n, &in, ci);
		}
	}
	if (in.len) {
		if (in.len > n)
			mismatch(b, n, m, "length past the input", in.len, n);
		for (size_t k = 0; k < in.len && k <= n; k++) {
			struct x86_insn t;
			int r = decode_tail(b, k, m, &t);
			n_trunc++;
			if (r != X86_ERR_TRUNCATED)
				mismatch(b, k, m, "cut not TRUNCATED", r, k);
		}
		/* the exact length decodes the same */
		struct x86_insn t;
		if (decode_tail(b, in.len, m, &t) != rc || t.len != in.len)
			mismatch(b, in.len, m, "exact length differs", t.len,
				 in.len);
	}
	if (cn)
		cs_free(ci, cn);
	return rc;
}

/* Opens capstone and the tail buffer. */
static int setup(void **state)
{
	(void)state;
	if (cs_open(CS_ARCH_X86, CS_MODE_16, &cs16) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_32, &cs32) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &cs64) != CS_ERR_OK)
		return -1;
	cs_option(cs16, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(cs32, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(cs64, CS_OPT_DETAIL, CS_OPT_ON);
	tail = malloc(16);
	return tail ? 0 : -1;
}

/* Closes capstone and prints the counts. */
static int teardown(void **state)
{
	(void)state;
	cs_close(&cs16);
	cs_close(&cs32);
	cs_close(&cs64);
	free(tail);
	print_message("decode: %lu table encodings (%lu supported decodings "
		      "compared in detail, all parts), "
		      "%lu opcode-sweep encodings, %lu random strings (%lu "
		      "supported, %lu known to capstone only), %lu truncated "
		      "cuts\ncapstone quirks accepted: length (Q1/2/9/11) %lu, "
		      "Q3 %lu, Q4 %lu, Q6 %lu, Q7 %lu, Q8 %lu, Q10 %lu, Q11 %lu"
		      "\n", n_table, n_sem, n_sweep, n_random, n_random_ok,
		      n_random_cs_only, n_trunc, n_q[0], n_q[3], n_q[4],
		      n_q[6], n_q[7], n_q[8], n_q[10], n_q[11]);
	return 0;
}


/* Deterministic random bytes. */
static struct unit_rng rng;

/* Fills b[from..15) with random bytes. */
static void fill(uint8_t *b, size_t from)
{
	for (size_t i = from; i < 15; i++)
		b[i] = (uint8_t)unit_rng_next(&rng);
}

/* Prefix combinations (count, bytes); the 64-bit ones from index 10. */
static const uint8_t combos[][4] = {
	{ 0 }, { 1, 0x66 }, { 1, 0x67 }, { 2, 0x66, 0x67 }, { 1, 0x26 },
	{ 1, 0x36 }, { 1, 0x64 }, { 1, 0xf0 }, { 1, 0xf3 }, { 2, 0xf2, 0x2e },
	{ 1, 0x40 }, { 1, 0x41 }, { 1, 0x42 }, { 1, 0x44 }, { 1, 0x48 },
	{ 1, 0x4f }, { 2, 0x66, 0x48 }, { 2, 0x67, 0x45 }, { 2, 0x65, 0x4c },
	{ 2, 0x48, 0x66 }, { 2, 0xf0, 0x48 }, { 3, 0x3e, 0xf0, 0x4b },
};
#define N_COMBO_LEGACY 10
#define N_COMBO (sizeof(combos) / sizeof(combos[0]))

/* A supported opcode: map (0 or 1), opcode, ModRM.reg (-1: any, -2: no
 * ModRM), and whether it exists only outside (1) or inside (2) 64-bit. */
struct spec {
	uint8_t map, opc;
	int8_t reg;
	uint8_t only;
};
static const struct spec specs[] = {
	{ 0, 0x63, -1, 2 }, { 0, 0x80, -1, 0 }, { 0, 0x81, -1, 0 },
	{ 0, 0x82, -1, 1 }, { 0, 0x83, -1, 0 }, { 0, 0x84, -1, 0 },
	{ 0, 0x85, -1, 0 }, { 0, 0x86, -1, 0 }, { 0, 0x87, -1, 0 },
	{ 0, 0x88, -1, 0 }, { 0, 0x89, -1, 0 }, { 0, 0x8a, -1, 0 },
	{ 0, 0x8b, -1, 0 }, { 0, 0xa0, -2, 0 }, { 0, 0xa1, -2, 0 },
	{ 0, 0xa2, -2, 0 }, { 0, 0xa3, -2, 0 }, { 0, 0xa4, -2, 0 },
	{ 0, 0xa5, -2, 0 }, { 0, 0xaa, -2, 0 }, { 0, 0xab, -2, 0 },
	{ 0, 0xac, -2, 0 }, { 0, 0xad, -2, 0 }, { 0, 0xc6, 0, 0 },
	{ 0, 0xc7, 0, 0 }, { 0, 0xf6, 0, 0 }, { 0, 0xf6, 2, 0 },
	{ 0, 0xf6, 3, 0 }, { 0, 0xf7, 0, 0 }, { 0, 0xf7, 2, 0 },
	{ 0, 0xf7, 3, 0 }, { 0, 0xfe, 0, 0 }, { 0, 0xfe, 1, 0 },
	{ 0, 0xff, 0, 0 }, { 0, 0xff, 1, 0 }, { 1, 0xa3, -1, 0 },
	{ 1, 0xab, -1, 0 }, { 1, 0xb3, -1, 0 }, { 1, 0xbb, -1, 0 },
	{ 1, 0xba, 4, 0 }, { 1, 0xba, 5, 0 }, { 1, 0xba, 6, 0 },
	{ 1, 0xba, 7, 0 }, { 1, 0xb6, -1, 0 }, { 1, 0xb7, -1, 0 },
	{ 1, 0xbe, -1, 0 }, { 1, 0xbf, -1, 0 },
};

static const enum x86_mode modes[3] = { X86_MODE_16, X86_MODE_32,
					X86_MODE_64 };

/* Checks spec s in mode m with every prefix combination and ModRM, and
 * SIB bytes so that each (opcode, mode) sees all 256 of them. */
static void table_spec(const struct spec *s, enum x86_mode m)
{
	unsigned ncombo = m == X86_MODE_64 ? N_COMBO : N_COMBO_LEGACY;
	for (unsigned c = 0; c < ncombo; c++) {
		uint8_t b[16];
		size_t p = combos[c][0];
		memcpy(b, &combos[c][1], p);
		if (s->map)
			b[p++] = 0x0f;
		b[p++] = s->opc;
		if (s->reg == -2) {
			for (unsigned v = 0; v < 16; v++) {
				fill(b, p);
				check(b, 15, m);
				n_table++;
			}
			continue;
		}
		for (unsigned mr = 0; mr < 256; mr++) {
			unsigned reg = (mr >> 3) & 7;
			if (s->reg >= 0 && reg != (unsigned)s->reg)
				continue;
			b[p] = (uint8_t)mr;
			bool sib = (mr >> 6) != 3 && (mr & 7) == 4;
			for (unsigned j = 0; j < (sib ? 8u : 1u); j++) {
				fill(b, p + 1);
				if (sib)
					b[p + 1] = (uint8_t)(j * 32 +
						((mr >> 3) & 31) + c);
				check(b, 15, m);
				n_table++;
			}
		}
	}
}

/* (a) Every supported opcode, all ModRM/SIB/prefix/REX combinations. */
static void test_supported_table(void **state)
{
	(void)state;
	unit_rng_seed(&rng, 0x1234);
	for (unsigned mi = 0; mi < 3; mi++) {
		enum x86_mode m = modes[mi];
		for (unsigned op = 0; op < 0x40; op++) {
			if ((op & 7) >= 4)
				continue;
			struct spec s = { 0, (uint8_t)op, -1, 0 };
			table_spec(&s, m);
		}
		for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
			const struct spec *s = &specs[i];
			if ((s->only == 1 && m == X86_MODE_64) ||
			    (s->only == 2 && m != X86_MODE_64))
				continue;
			table_spec(s, m);
		}
	}
	assert_int_equal(n_fail, 0);
}

/* (b) Lengths of every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps,
 * with all ModRM bytes (sampled ones under some prefixes). */
static void test_opcode_sweep(void **state)
{
	static const uint8_t pfx[][3] = { { 0 }, { 1, 0x66 }, { 1, 0x67 },
					  { 1, 0xf3 }, { 1, 0xf2 },
					  { 2, 0x66, 0x48 } };
	(void)state;
	unit_rng_seed(&rng, 0x5678);
	for (unsigned mi = 0; mi < 3; mi++) {
		enum x86_mode m = modes[mi];
		for (unsigned map = 0; map < 4; map++) {
			for (unsigned op = 0; op < 256; op++) {
				if (map == 0 && (op == 0x0f || is_prefix((uint8_t)op, m)))
					continue;
				for (unsigned c = 0; c < 6; c++) {
					if (c == 5 && m != X86_MODE_64)
						continue;
					bool all = c < 2 && map < 2;
					for (unsigned mr = 0; mr < 256;
					     mr += all ? 1 : 9) {
						uint8_t b[16];
						size_t p = pfx[c][0];
						memcpy(b, &pfx[c][1], p);
						if (map)
							b[p++] = 0x0f;
						if (map >= 2)
							b[p++] = map == 2 ? 0x38 : 0x3a;
						b[p++] = (uint8_t)op;
						b[p] = (uint8_t)mr;
						fill(b, p + 1);
						check(b, 15, m);
						n_sweep++;
					}
				}
			}
		}
	}
	assert_int_equal(n_fail, 0);
}

/* (c) Random byte strings, half of them starting with random prefixes
 * and an escape, so that all maps are reached. */
static void test_random(void **state)
{
	static const uint8_t pf[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e,
				      0x3e, 0x26, 0x36, 0x64, 0x65, 0x48,
				      0x41, 0x4c, 0x40 };
	(void)state;
	unit_rng_seed(&rng, 0x9abc);
	for (unsigned i = 0; i < 300000; i++) {
		enum x86_mode m = modes[i % 3];
		uint8_t b[16];
		size_t p = 0;
		fill(b, 0);
		if (unit_rng_below(&rng, 2)) {
			unsigned np = (unsigned)unit_rng_below(&rng, 4);
			for (unsigned k = 0; k < np; k++)
				b[p++] = pf[unit_rng_below(&rng, sizeof(pf))];
			if (unit_rng_below(&rng, 2))
				b[p++] = 0x0f;
		}
		n_random++;
		struct x86_insn in;
		int rc = check(b, 15, m);
		if (rc == 0)
			n_random_ok++;
		cs_insn *ci;
		size_t cn = cs_disasm(handle(m), b, 15, 0, 1, &ci);
		if (cn) {
			if (decode_tail(b, 15, m, &in) != 0 && in.len == 0)
				n_random_cs_only++;
			cs_free(ci, cn);
		}
	}
	print_message("random: %lu strings, %lu supported, %lu decoded by "
		      "capstone but of unknown length to us (VEX/EVEX/XOP "
		      "or invalid)\n", n_random, n_random_ok, n_random_cs_only);
	assert_int_equal(n_fail, 0);
}

/* Decodes a byte string given as a literal. */
#define DEC(mode, in, ...)                                                   \
	({                                                                   \
		const uint8_t b_[] = { __VA_ARGS__ };                       \
		decode_tail(b_, sizeof(b_), mode, in);                      \
	})

/* (d) Malformed and edge encodings give clean errors. */
static void test_malformed(void **state)
{
	struct x86_insn in;
	uint8_t b[16];
	(void)state;

	assert_int_equal(x86_decode(tail, 0, X86_MODE_64, &in),
			 X86_ERR_TRUNCATED);
	assert_int_equal(x86_decode(NULL, 0, X86_MODE_32, &in),
			 X86_ERR_TRUNCATED);
	assert_int_equal(DEC((enum x86_mode)48, &in, 0x90), X86_ERR_INVALID);
	/* 14 prefixes + NOP = 15 bytes: fine; 15 + NOP: too long */
	memset(b, 0x66, 16);
	b[14] = 0x90;
	assert_int_equal(decode_tail(b, 15, X86_MODE_64, &in),
			 X86_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 15);
	b[14] = 0x66;
	b[15] = 0x90;
	assert_int_equal(decode_tail(b, 16, X86_MODE_64, &in),
			 X86_ERR_INVALID);
	assert_int_equal(decode_tail(b, 14, X86_MODE_64, &in),
			 X86_ERR_TRUNCATED);
	/* a 16-byte MOV: 12 prefixes + 48 C7 80 disp32 imm32 */
	memset(b, 0x2e, 16);
	assert_int_equal(decode_tail(b, 16, X86_MODE_64, &in),
			 X86_ERR_INVALID);
	const uint8_t longmov[] = { 0x66, 0x66, 0x66, 0x66, 0x67, 0x48, 0xc7,
				    0x80, 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(decode_tail(longmov, 16, X86_MODE_64, &in),
			 X86_ERR_INVALID);
	assert_int_equal(decode_tail(longmov + 1, 15, X86_MODE_64, &in), 0);
	/* LOCK: non-lockable, register destination, CMP, lockable */
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x88, 0x00),
			 X86_ERR_INVALID);
	assert_int_equal(in.len, 3);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x8b, 0x00),
			 X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x01, 0xc0),
			 X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_32, &in, 0xf0, 0x39, 0x00),
			 X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_32, &in, 0xf0, 0x0f, 0xa3, 0x00),
			 X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_32, &in, 0xf0, 0x90), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x01, 0x00), 0);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x87, 0x00), 0);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf0, 0x0f, 0xba, 0x28, 1), 0);
	assert_int_equal(DEC(X86_MODE_16, &in, 0xf0, 0xf6, 0x18), 0);
	/* memory required; undefined group members */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x8d, 0xc0), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xc6, 0x08, 0), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xfe, 0x10), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xff, 0x38), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x0f, 0xba, 0x00, 1),
			 X86_ERR_INVALID);
	/* invalid in 64-bit mode only */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x06), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_32, &in, 0x06), X86_ERR_UNSUPPORTED);
	assert_int_equal(DEC(X86_MODE_64, &in, 0xd4, 0x0a), X86_ERR_INVALID);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x0f, 0x04), X86_ERR_INVALID);
	/* VEX: length unknown */
	assert_int_equal(DEC(X86_MODE_64, &in, 0xc5, 0xf8, 0x77),
			 X86_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 0);
	/* only prefixes */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x66, 0x48), X86_ERR_TRUNCATED);
}

/* Specific fields the oracle does not show. */
static void test_fields(void **state)
{
	struct x86_insn in;
	(void)state;

	/* AH without REX, SPL with REX 40 */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x88, 0x20), 0);
	assert_int_equal(in.opnd[1].reg, X86_REG_AH);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x40, 0x88, 0x20), 0);
	assert_int_equal(in.opnd[1].reg, X86_REG_RSP);
	assert_int_equal(in.prefixes, X86_PFX_REX);
	/* REX not right before the opcode is ignored */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x48, 0x66, 0x89, 0x00), 0);
	assert_int_equal(in.rex, 0);
	assert_int_equal(in.opsize, 2);
	/* 40-4F are INC/DEC outside 64-bit mode */
	assert_int_equal(DEC(X86_MODE_32, &in, 0x48, 0x89, 0x00),
			 X86_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 1);
	/* default SS for rBP/rSP bases; DS otherwise; overrides */
	assert_int_equal(DEC(X86_MODE_32, &in, 0x8b, 0x45, 0x00), 0);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	assert_int_equal(DEC(X86_MODE_16, &in, 0x8b, 0x02), 0);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	assert_int_equal(in.mem.base, X86_REG_RBP);
	assert_int_equal(in.mem.index, X86_REG_RSI);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x2e, 0x8b, 0x45, 0x00), 0);
	assert_int_equal(in.mem.seg, X86_SEG_SS);
	assert_int_equal(in.seg_override, X86_SEG_CS);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x65, 0x8b, 0x45, 0x00), 0);
	assert_int_equal(in.mem.seg, X86_SEG_GS);
	/* STOS ignores overrides, LODS takes them */
	assert_int_equal(DEC(X86_MODE_32, &in, 0x26, 0xf3, 0x64, 0xab), 0);
	assert_int_equal(in.mem.seg, X86_SEG_ES);
	assert_int_equal(in.prefixes & X86_PFX_REP, X86_PFX_REP);
	assert_int_equal(DEC(X86_MODE_32, &in, 0x64, 0xac), 0);
	assert_int_equal(in.mem.seg, X86_SEG_FS);
	/* last of F2/F3 wins */
	assert_int_equal(DEC(X86_MODE_64, &in, 0xf3, 0xf2, 0xa4), 0);
	assert_int_equal(in.prefixes & (X86_PFX_REP | X86_PFX_REPNE),
			 X86_PFX_REPNE);
	/* RIP-relative, with 67 */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x67, 0x8b, 0x05, 0xf0, 0xff,
			     0xff, 0xff), 0);
	assert_int_equal(in.mem.base, X86_REG_RIP);
	assert_int_equal(in.mem.disp, -16);
	assert_int_equal(in.addrsize, 4);
	/* moffs with 64-bit offset; C7 with REX.W: imm32 sign-extended */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x48, 0xa3, 1, 2, 3, 4, 5, 6,
			     7, 0x88), 0);
	assert_int_equal(in.len, 10);
	assert_int_equal((uint64_t)in.mem.disp, 0x8807060504030201ull);
	assert_int_equal(in.opnd[0].kind, X86_OPND_MEM);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x48, 0xc7, 0x00, 0xfe, 0xff,
			     0xff, 0xff), 0);
	assert_int_equal(in.imm, -2);
	assert_int_equal(in.opsize, 8);
	/* MOVSXD with 66: 16-bit source (SDM), MOVZX with 66 */
	assert_int_equal(DEC(X86_MODE_64, &in, 0x66, 0x63, 0x00), 0);
	assert_int_equal(in.opnd[1].size, 2);
	assert_int_equal(DEC(X86_MODE_64, &in, 0x66, 0x0f, 0xb6, 0x00), 0);
	assert_int_equal(in.opnd[0].size, 2);
	assert_int_equal(in.opnd[1].size, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supported_table),
		cmocka_unit_test(test_opcode_sweep),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
