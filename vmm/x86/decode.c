/*
 * x86 instruction decoder (see decode.h). Follows the Intel SDM vol. 2:
 * section 2.1 (prefixes, ModRM, SIB, displacement, immediate), 2.2 (REX,
 * 64-bit mode), appendix A (opcode maps) and the LOCK/BT/MOVSXD pages.
 */
#include "decode.h"

#include <string.h>

/* Opcode attributes: low nibble the immediate kind, then flags. */
enum {
	I_NONE,
	I_B,     /* 1 byte */
	I_W,     /* 2 bytes */
	I_Z,     /* 2 bytes with 16-bit operand size, else 4 */
	I_V,     /* operand size (MOV r, imm: 2, 4 or 8) */
	I_MOFFS, /* address size (A0-A3) */
	I_AP,    /* far pointer: 2 + (2 or 4) */
	I_ENTER, /* iw + ib */
	I_JZ,    /* near branch rel16/32; always 4 in 64-bit mode (Intel) */
};
#define A_MODRM 0x10
#define A_INV64 0x20 /* invalid in 64-bit mode */
#define A_BAD 0x40   /* undefined in every mode */
#define A_SPEC 0x80  /* decided in code (prefix, escape, VEX, group) */

#define __ I_NONE
#define Ib I_B
#define Iw I_W
#define Iz I_Z
#define Iv I_V
#define Ob I_MOFFS
#define Ap (I_AP | A_INV64)
#define En I_ENTER
#define Jz I_JZ
#define M_ A_MODRM
#define MB (A_MODRM | I_B)
#define MZ (A_MODRM | I_Z)
#define I6 A_INV64
#define B6 (I_B | A_INV64)
#define MB6 (A_MODRM | I_B | A_INV64)
#define XX A_BAD
#define SP A_SPEC

/* One-byte opcode map (SDM table A-2). */
static const uint8_t map_one[256] = {
/*       0   1   2   3   4   5   6   7   8   9   A   B   C   D   E   F */
/* 0 */ M_, M_, M_, M_, Ib, Iz, I6, I6, M_, M_, M_, M_, Ib, Iz, I6, SP,
/* 1 */ M_, M_, M_, M_, Ib, Iz, I6, I6, M_, M_, M_, M_, Ib, Iz, I6, I6,
/* 2 */ M_, M_, M_, M_, Ib, Iz, SP, I6, M_, M_, M_, M_, Ib, Iz, SP, I6,
/* 3 */ M_, M_, M_, M_, Ib, Iz, SP, I6, M_, M_, M_, M_, Ib, Iz, SP, I6,
/* 4 */ __, __, __, __, __, __, __, __, __, __, __, __, __, __, __, __,
/* 5 */ __, __, __, __, __, __, __, __, __, __, __, __, __, __, __, __,
/* 6 */ I6, I6, SP, M_, SP, SP, SP, SP, Iz, MZ, Ib, MB, __, __, __, __,
/* 7 */ Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib,
/* 8 */ MB, MZ, MB6, MB, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, SP,
/* 9 */ __, __, __, __, __, __, __, __, __, __, Ap, __, __, __, __, __,
/* A */ Ob, Ob, Ob, Ob, __, __, __, __, Ib, Iz, __, __, __, __, __, __,
/* B */ Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv,
/* C */ MB, MB, Iw, __, SP, SP, MB, MZ, En, __, Iw, __, __, Ib, I6, __,
/* D */ M_, M_, M_, M_, B6, B6, I6, __, M_, M_, M_, M_, M_, M_, M_, M_,
/* E */ Ib, Ib, Ib, Ib, Ib, Ib, Ib, Ib, Jz, Jz, Ap, Ib, __, __, __, __,
/* F */ SP, __, SP, SP, __, __, SP, SP, __, __, __, __, __, __, M_, M_,
};

/* Two-byte opcode map, 0F xx (SDM table A-3). */
static const uint8_t map_0f[256] = {
/*       0   1   2   3   4   5   6   7   8   9   A   B   C   D   E   F */
/* 0 */ M_, M_, M_, M_, XX, __, __, __, __, __, XX, __, XX, M_, __, SP,
/* 1 */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* 2 */ SP, SP, SP, SP, XX, XX, XX, XX, M_, M_, M_, M_, M_, M_, M_, M_,
/* 3 */ __, __, __, __, __, __, XX, __, SP, XX, SP, XX, XX, XX, XX, XX,
/* 4 */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* 5 */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* 6 */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* 7 */ MB, MB, MB, MB, M_, M_, M_, __, M_, M_, XX, XX, M_, M_, M_, M_,
/* 8 */ Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz, Jz,
/* 9 */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* A */ __, __, __, M_, MB, M_, M_, M_, __, __, __, M_, MB, M_, M_, M_,
/* B */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, MB, M_, M_, M_, M_, M_,
/* C */ M_, M_, MB, M_, MB, MB, MB, M_, __, __, __, __, __, __, __, __,
/* D */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* E */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
/* F */ M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_, M_,
};

/* Byte cursor bounded by both the buffer and the 15-byte limit. */
struct cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

/* Takes the next byte: INVALID past 15 bytes, TRUNCATED past the buffer. */
static int fetch(struct cursor *c, uint8_t *b)
{
	if (c->pos >= X86_MAX_INSN_LEN)
		return X86_ERR_INVALID;
	if (c->pos >= c->len)
		return X86_ERR_TRUNCATED;
	*b = c->p[c->pos++];
	return 0;
}

/* Takes n (0..8) bytes as a little-endian value sign-extended from n. */
static int fetch_le(struct cursor *c, unsigned n, int64_t *v)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t b;
		int rc = fetch(c, &b);
		if (rc)
			return rc;
		x |= (uint64_t)b << (8 * i);
	}
	if (n && n < 8 && (x >> (8 * n - 1)) & 1)
		x |= ~0ull << (8 * n);
	*v = (int64_t)x;
	return 0;
}

/* Looks at the next byte without taking it. */
static int peek(struct cursor *c, uint8_t *b)
{
	int rc = fetch(c, b);
	if (!rc)
		c->pos--;
	return rc;
}

/* Register number of a general register operand of the given size: with a
 * byte operand and no REX prefix, encodings 4-7 are AH, CH, DH, BH. */
static uint8_t gpr(const struct x86_insn *in, unsigned enc, unsigned size)
{
	if (size == 1 && !in->rex && enc >= 4 && enc <= 7)
		return (uint8_t)(X86_REG_AH + enc - 4);
	return (uint8_t)enc;
}

/* Decodes ModRM, SIB and displacement into in->mem (memory forms). */
static int decode_modrm(struct cursor *c, struct x86_insn *in, bool regonly)
{
	int rc = fetch(c, &in->modrm);
	if (rc)
		return rc;
	in->has_modrm = true;
	unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
	if (mod == 3 || regonly)
		return 0;

	struct x86_mem *m = &in->mem;
	m->base = X86_REG_NONE;
	m->index = X86_REG_NONE;
	m->scale = 1;
	unsigned dsize = mod == 1 ? 1 : 0;
	if (in->addrsize == 2) {
		static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
		static const uint8_t index16[8] = { 6, 7, 6, 7, 0xff, 0xff,
						    0xff, 0xff };
		if (mod == 2 || (mod == 0 && rm == 6))
			dsize = 2;
		if (!(mod == 0 && rm == 6))
			m->base = base16[rm];
		m->index = index16[rm];
	} else {
		unsigned b = in->rex & X86_REX_B ? 8 : 0;
		if (mod == 2)
			dsize = 4;
		if (rm == 4) {
			rc = fetch(c, &in->sib);
			if (rc)
				return rc;
			in->has_sib = true;
			unsigned idx = ((in->sib >> 3) & 7) |
				       (in->rex & X86_REX_X ? 8 : 0);
			if (idx != 4)
				m->index = (uint8_t)idx;
			m->scale = (uint8_t)(1u << (in->sib >> 6));
			if ((in->sib & 7) == 5 && mod == 0)
				dsize = 4;
			else
				m->base = (uint8_t)((in->sib & 7) | b);
		} else if (rm == 5 && mod == 0) {
			dsize = 4;
			if (in->mode == X86_MODE_64)
				m->base = X86_REG_RIP;
		} else {
			m->base = (uint8_t)(rm | b);
		}
	}
	m->seg = (m->base == X86_REG_RSP || m->base == X86_REG_RBP) ?
			 X86_SEG_SS :
			 X86_SEG_DS;
	in->disp_size = (uint8_t)dsize;
	return fetch_le(c, dsize, &m->disp);
}

/* Size in bytes of an immediate of kind k. */
static unsigned imm_bytes(const struct x86_insn *in, unsigned k)
{
	switch (k) {
	case I_B:
		return 1;
	case I_W:
		return 2;
	case I_Z:
		return in->opsize == 2 ? 2 : 4;
	case I_V:
		return in->opsize;
	case I_MOFFS:
		return in->addrsize;
	case I_AP:
		return in->opsize == 2 ? 4 : 6;
	case I_ENTER:
		return 3;
	case I_JZ:
		return in->mode == X86_MODE_64 || in->opsize != 2 ? 4 : 2;
	default:
		return 0;
	}
}

/* Whether the instruction may take LOCK (SDM "LOCK" page), ignoring the
 * requirement of a memory destination. */
static bool lockable(const struct x86_insn *in)
{
	unsigned op = in->opcode, reg = (in->modrm >> 3) & 7;
	if (in->map == 0) {
		if (op < 0x40 && (op & 7) < 2 && op != 0x38 && op != 0x39)
			return true;
		if (op >= 0x80 && op <= 0x83)
			return reg != 7;
		if (op == 0x86 || op == 0x87)
			return true;
		if (op == 0xf6 || op == 0xf7)
			return reg == 2 || reg == 3;
		if (op == 0xfe || op == 0xff)
			return reg < 2;
		return false;
	}
	if (in->map == 1) {
		if (op == 0xab || op == 0xb3 || op == 0xbb || op == 0xb0 ||
		    op == 0xb1 || op == 0xc0 || op == 0xc1)
			return true;
		if (op == 0xba)
			return reg >= 5;
		if (op == 0xc7)
			return reg == 1;
	}
	return false;
}

/* Sets operand i to the ModRM r/m operand of the given size. */
static void opnd_rm(struct x86_insn *in, unsigned i, unsigned size)
{
	struct x86_operand *o = &in->opnd[i];
	o->size = (uint8_t)size;
	if ((in->modrm >> 6) == 3) {
		o->kind = X86_OPND_REG;
		o->reg = gpr(in, (in->modrm & 7) | (in->rex & X86_REX_B ? 8 : 0),
			     size);
	} else {
		o->kind = X86_OPND_MEM;
	}
}

/* Sets operand i to the ModRM reg operand (or, with fixed >= 0, to that
 * register) of the given size. */
static void opnd_reg(struct x86_insn *in, unsigned i, unsigned size, int fixed)
{
	struct x86_operand *o = &in->opnd[i];
	unsigned enc = ((in->modrm >> 3) & 7) | (in->rex & X86_REX_R ? 8 : 0);
	o->kind = X86_OPND_REG;
	o->size = (uint8_t)size;
	o->reg = fixed >= 0 ? (uint8_t)fixed : gpr(in, enc, size);
}

/* Sets operand i to the immediate, of the given (operand) size. */
static void opnd_imm(struct x86_insn *in, unsigned i, unsigned size)
{
	in->opnd[i].kind = X86_OPND_IMM;
	in->opnd[i].size = (uint8_t)size;
}

/* Memory operand of a string instruction: seg:[rSI] or ES:[rDI]. */
static void string_mem(struct x86_insn *in, unsigned i, bool dst)
{
	in->opnd[i].kind = X86_OPND_MEM;
	in->opnd[i].size = in->opsize;
	in->mem.base = dst ? X86_REG_RDI : X86_REG_RSI;
	in->mem.index = X86_REG_NONE;
	in->mem.scale = 1;
	in->mem.disp = 0;
	in->mem.seg = dst ? X86_SEG_ES : X86_SEG_DS;
}

/* Fills op and operands of a supported instruction; returns 0, or
 * X86_ERR_UNSUPPORTED / X86_ERR_INVALID. */
static int classify(struct x86_insn *in)
{
	unsigned op = in->opcode, reg = (in->modrm >> 3) & 7;
	unsigned osz = in->opsize, bsz = (op & 1) ? osz : 1;

	in->nopnd = 2;
	if (in->map == 1) {
		switch (op) {
		case 0xa3: case 0xab: case 0xb3: case 0xbb:
			in->op = (uint8_t)(X86_OP_BT + ((op >> 3) & 3));
			opnd_rm(in, 0, osz);
			opnd_reg(in, 1, osz, -1);
			return 0;
		case 0xba:
			if (reg < 4)
				return X86_ERR_INVALID;
			in->op = (uint8_t)(X86_OP_BT + reg - 4);
			opnd_rm(in, 0, osz);
			opnd_imm(in, 1, 1);
			return 0;
		case 0xb6: case 0xb7: case 0xbe: case 0xbf:
			in->op = op < 0xb8 ? X86_OP_MOVZX : X86_OP_MOVSX;
			opnd_reg(in, 0, osz, -1);
			opnd_rm(in, 1, (op & 1) ? 2 : 1);
			return 0;
		}
		return X86_ERR_UNSUPPORTED;
	}
	if (in->map != 0)
		return X86_ERR_UNSUPPORTED;
	if (op < 0x40 && (op & 7) < 4) {
		in->op = (uint8_t)(X86_OP_ADD + (op >> 3));
		opnd_rm(in, (op & 2) ? 1 : 0, bsz);
		opnd_reg(in, (op & 2) ? 0 : 1, bsz, -1);
		return 0;
	}
	switch (op) {
	case 0x63:
		if (in->mode != X86_MODE_64)
			return X86_ERR_UNSUPPORTED; /* ARPL */
		in->op = X86_OP_MOVSXD;
		opnd_reg(in, 0, osz, -1);
		opnd_rm(in, 1, osz < 4 ? osz : 4);
		return 0;
	case 0x80: case 0x81: case 0x82: case 0x83:
		in->op = (uint8_t)(X86_OP_ADD + reg);
		bsz = (op & 1) ? osz : 1;
		opnd_rm(in, 0, bsz);
		opnd_imm(in, 1, bsz);
		return 0;
	case 0x84: case 0x85: case 0x86: case 0x87:
		in->op = op < 0x86 ? X86_OP_TEST : X86_OP_XCHG;
		opnd_rm(in, 0, bsz);
		opnd_reg(in, 1, bsz, -1);
		return 0;
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		in->op = X86_OP_MOV;
		opnd_rm(in, (op & 2) ? 1 : 0, bsz);
		opnd_reg(in, (op & 2) ? 0 : 1, bsz, -1);
		return 0;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		in->op = X86_OP_MOV;
		in->opnd[(op & 2) ? 0 : 1].kind = X86_OPND_MEM;
		in->opnd[(op & 2) ? 0 : 1].size = (uint8_t)bsz;
		opnd_reg(in, (op & 2) ? 1 : 0, bsz, X86_REG_RAX);
		return 0;
	case 0xa4: case 0xa5:
		in->op = X86_OP_MOVS;
		if (op == 0xa4)
			in->opsize = 1;
		string_mem(in, 1, false);
		in->opnd[0] = in->opnd[1];
		return 0;
	case 0xaa: case 0xab: case 0xac: case 0xad:
		in->op = op < 0xac ? X86_OP_STOS : X86_OP_LODS;
		if (!(op & 1))
			in->opsize = 1;
		string_mem(in, op < 0xac ? 0 : 1, op < 0xac);
		opnd_reg(in, op < 0xac ? 1 : 0, in->opsize, X86_REG_RAX);
		return 0;
	case 0xc6: case 0xc7:
		if (reg == 7 && in->modrm == 0xf8)
			return X86_ERR_UNSUPPORTED; /* XABORT, XBEGIN */
		if (reg)
			return X86_ERR_INVALID;
		in->op = X86_OP_MOV;
		opnd_rm(in, 0, bsz);
		opnd_imm(in, 1, bsz);
		return 0;
	case 0xf6: case 0xf7:
		if (reg >= 4)
			return X86_ERR_UNSUPPORTED; /* MUL, IMUL, DIV, IDIV */
		opnd_rm(in, 0, bsz);
		if (reg < 2) {
			in->op = X86_OP_TEST;
			opnd_imm(in, 1, bsz);
		} else {
			in->op = reg == 2 ? X86_OP_NOT : X86_OP_NEG;
			in->nopnd = 1;
		}
		return 0;
	case 0xfe: case 0xff:
		if (reg >= 2)
			return op == 0xfe || reg == 7 ? X86_ERR_INVALID :
							 X86_ERR_UNSUPPORTED;
		in->op = reg ? X86_OP_DEC : X86_OP_INC;
		opnd_rm(in, 0, bsz);
		in->nopnd = 1;
		return 0;
	}
	return X86_ERR_UNSUPPORTED;
}

/* Reads the opcode (escapes included) and returns its attributes, or a
 * negative error (VEX/EVEX/XOP: X86_ERR_UNSUPPORTED with len 0). */
static int decode_opcode(struct cursor *c, struct x86_insn *in, uint8_t b)
{
	uint8_t nb;
	int rc;

	if (b != 0x0f) {
		in->opcode = b;
		unsigned a = map_one[b];
		if (!(a & A_SPEC))
			return (int)a;
		if (b == 0xf6 || b == 0xf7 || b == 0x8f)
			a = A_MODRM;
		if (b == 0x62 || b == 0xc4 || b == 0xc5 || b == 0x8f) {
			if ((rc = peek(c, &nb)))
				return rc;
			if (b == 0x8f) /* POP r/m, or XOP if ModRM.reg != 0 */
				return (nb & 0x38) ? X86_ERR_UNSUPPORTED : M_;
			/* EVEX/VEX in 64-bit mode or with a register form */
			if (in->mode == X86_MODE_64 || (nb >> 6) == 3)
				return X86_ERR_UNSUPPORTED;
			a = A_MODRM;
		}
		return (int)a;
	}
	if ((rc = fetch(c, &b)))
		return rc;
	in->map = 1;
	in->opcode = b;
	if (b == 0x38 || b == 0x3a) {
		in->map = b == 0x38 ? 2 : 3;
		if ((rc = fetch(c, &in->opcode)))
			return rc;
		return b == 0x38 ? M_ : MB;
	}
	if (b == 0x0f) /* 3DNow!: ModRM, then the opcode as an imm8 */
		return MB;
	if (b >= 0x20 && b <= 0x23) /* MOV CR/DR: ModRM.mod is ignored */
		return M_ | A_SPEC;
	return map_0f[b];
}

/* Decodes the instruction in bytes[0..len) (see decode.h). */
int x86_decode(const uint8_t *bytes, size_t len, enum x86_mode mode,
	       struct x86_insn *out)
{
	struct cursor c = { bytes, len, 0 };
	struct x86_insn *in = out;
	uint8_t b;
	int rc;

	memset(in, 0, sizeof(*in));
	in->seg_override = X86_SEG_NONE;
	in->mem.seg = X86_SEG_NONE;
	in->mem.base = in->mem.index = X86_REG_NONE;
	if (mode != X86_MODE_16 && mode != X86_MODE_32 && mode != X86_MODE_64)
		return X86_ERR_INVALID;
	in->mode = (uint8_t)mode;

	for (;;) { /* prefixes; REX counts only right before the opcode */
		if ((rc = fetch(&c, &b)))
			return rc;
		if (b == 0xf0) {
			in->prefixes |= X86_PFX_LOCK;
		} else if (b == 0xf2 || b == 0xf3) {
			in->prefixes &= (uint8_t)~(X86_PFX_REP | X86_PFX_REPNE);
			in->prefixes |= b == 0xf3 ? X86_PFX_REP : X86_PFX_REPNE;
		} else if ((b & 0xe7) == 0x26 || b == 0x64 || b == 0x65) {
			in->prefixes |= X86_PFX_SEG;
			in->seg_override = (b & 0xe7) == 0x26 ?
						   (uint8_t)((b >> 3) & 3) :
						   (uint8_t)(b - 0x64 + X86_SEG_FS);
		} else if (b == 0x66) {
			in->prefixes |= X86_PFX_OPSIZE;
		} else if (b == 0x67) {
			in->prefixes |= X86_PFX_ADDRSIZE;
		} else if (mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
			in->rex = b;
			continue;
		} else {
			break;
		}
		in->rex = 0;
	}
	if (in->rex)
		in->prefixes |= X86_PFX_REX;

	bool o16 = in->prefixes & X86_PFX_OPSIZE;
	bool a16 = in->prefixes & X86_PFX_ADDRSIZE;
	if (mode == X86_MODE_64) {
		in->opsize = (in->rex & X86_REX_W) ? 8 : o16 ? 2 : 4;
		in->addrsize = a16 ? 4 : 8;
	} else {
		in->opsize = (mode == X86_MODE_32) != o16 ? 4 : 2;
		in->addrsize = (mode == X86_MODE_32) != a16 ? 4 : 2;
	}

	int attr = decode_opcode(&c, in, b);
	if (attr < 0)
		return attr;
	if ((attr & A_BAD) || ((attr & A_INV64) && mode == X86_MODE_64))
		return X86_ERR_INVALID;
	if (attr & A_MODRM) {
		if ((rc = decode_modrm(&c, in, (attr & A_SPEC) != 0)))
			return rc;
	}
	unsigned reg = (in->modrm >> 3) & 7;
	unsigned ik = (unsigned)attr & 15;
	if (in->map == 0 && (in->opcode == 0xf6 || in->opcode == 0xf7) &&
	    reg < 2)
		ik = in->opcode == 0xf6 ? I_B : I_Z;
	if (ik == I_MOFFS) {
		in->mem.base = in->mem.index = X86_REG_NONE;
		in->mem.scale = 1;
		in->mem.seg = X86_SEG_DS;
		in->disp_size = in->addrsize;
		if ((rc = fetch_le(&c, in->addrsize, &in->mem.disp)))
			return rc;
		if (in->addrsize < 8)
			in->mem.disp &= (int64_t)((1ull << (8 * in->addrsize)) - 1);
	} else {
		in->imm_size = (uint8_t)imm_bytes(in, ik);
		if ((rc = fetch_le(&c, in->imm_size, &in->imm)))
			return rc;
	}
	in->len = (uint8_t)c.pos;

	bool mem = in->has_modrm && (in->modrm >> 6) != 3 && !(attr & A_SPEC);
	if (in->prefixes & X86_PFX_LOCK) {
		if (!lockable(in) || !mem)
			return X86_ERR_INVALID;
	}
	/* VMREAD/VMWRITE allow no 66/F2/F3 ("NP"; AMD: EXTRQ/INSERTQ) */
	if (in->map == 1 && (in->opcode == 0x78 || in->opcode == 0x79) &&
	    (in->prefixes & (X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE)))
		return X86_ERR_INVALID;
	if (!mem && in->has_modrm &&
	    ((in->map == 0 && in->opcode == 0x8d) ||
	     (in->map == 0 && in->opcode == 0xff && (reg == 3 || reg == 5)) ||
	     (in->map == 1 && (in->opcode == 0xb2 || in->opcode == 0xb4 ||
			       in->opcode == 0xb5)) ||
	     (in->map == 1 && in->opcode == 0xc7 && reg == 1)))
		return X86_ERR_INVALID; /* memory operand required */

	rc = classify(in);
	if (rc) {
		in->op = X86_OP_NONE;
		in->nopnd = 0;
		memset(in->opnd, 0, sizeof(in->opnd));
		return rc;
	}
	if (in->mem.seg != X86_SEG_NONE && (in->prefixes & X86_PFX_SEG) &&
	    !(in->op == X86_OP_STOS) &&
	    (mode != X86_MODE_64 || in->seg_override >= X86_SEG_FS))
		in->mem.seg = in->seg_override;
	return 0;
}
