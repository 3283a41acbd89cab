/*
 * x86 instruction decoder for the VMM's MMIO emulation (Intel SDM vol. 2,
 * chapter 2 "Instruction format" and appendix A "Opcode map").
 *
 * x86_decode() decodes one instruction in 16-, 32- or 64-bit mode: legacy
 * prefixes (66, 67, F0, F2/F3, segment overrides), REX (64-bit mode, only
 * right before the opcode), opcode, ModRM/SIB, displacement, immediate.
 *
 * Fully decoded (return 0, see enum x86_op), memory and register forms:
 *   ALU  00-3F x0-x3 (ADD OR ADC SBB AND SUB XOR CMP r/m,reg and reg,r/m),
 *        80/81/82/83 (group 1, 82 outside 64-bit mode), 84/85 TEST,
 *        F6/F7 /0 /1 TEST imm (/1: the alias the processors execute as
 *        TEST), F6/F7 /2 NOT, /3 NEG, FE/FF /0 INC, /1 DEC
 *   MOV  88-8B, C6/C7 /0, A0-A3 (moffs), 0F B6/B7 MOVZX, 0F BE/BF MOVSX,
 *        63 MOVSXD (64-bit mode; elsewhere ARPL, unsupported)
 *   XCHG 86/87; BT/BTS/BTR/BTC 0F A3/AB/B3/BB and 0F BA /4-/7
 *   MOVS A4/A5, STOS AA/AB, LODS AC/AD, with REP/REPNE
 * Length only (X86_ERR_UNSUPPORTED with out->len set): every other opcode
 * of the one-byte map and of the two-byte map 0F xx (ModRM, mod-ignoring
 * MOV CR/DR, every immediate kind: ib, iw, iz, iv, moffs, far pointer,
 * ENTER, rel8/rel16/rel32), the three-byte maps 0F 38 xx (ModRM) and
 * 0F 3A xx (ModRM + ib), 3DNow! 0F 0F (ModRM + ib) and VIA 0F A6/A7.
 * Opcode validity inside 0F 38/0F 3A and of reserved ModRM encodings of
 * system groups (0F 00, 0F 01, 0F 18, ...) is not checked.
 * X86_ERR_UNSUPPORTED with len 0: VEX (C4/C5), EVEX (62), XOP (8F).
 * X86_ERR_INVALID: undefined opcodes (0F 04 0A 0C 24-27 36 39 3B-3F 7A 7B,
 * D6 in 64-bit mode), opcodes invalid in 64-bit mode (06 07 0E 16 17 1E 1F
 * 27 2F 37 3F 60 61 82 9A CE D4 D5 EA), undefined members of the decoded
 * groups (C6/C7 /1-/7 but XABORT/XBEGIN, FE /2-/7, FF /7, 0F BA /0-/3),
 * LOCK on anything but a lockable instruction with a memory destination,
 * 66/F2/F3 on VMREAD/VMWRITE, register ModRM on LEA, LSS/LFS/LGS, far
 * CALL/JMP (FF /3 /5) and CMPXCHG8B/16B, and more than 15 bytes.
 * Near branches ignore 66 in 64-bit mode (rel32), as on Intel processors.
 *
 * Freestanding: only <stdint.h>, <stddef.h>, <stdbool.h> and <string.h>.
 */
#ifndef VMM_X86_DECODE_H
#define VMM_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Architectural maximum length of one instruction. */
#define X86_MAX_INSN_LEN 15

/* Errors of x86_decode() and x86_emulate(). */
#define X86_ERR_TRUNCATED (-1)   /* the bytes end before the instruction */
#define X86_ERR_INVALID (-2)     /* undefined or malformed (would #UD/#GP) */
#define X86_ERR_UNSUPPORTED (-3) /* valid, but not an emulated instruction */
#define X86_ERR_MEMORY (-4)      /* x86_emulate: a memory callback failed */

/* Code segment size: CS.L=1 -> 64; CS.D=1 -> 32; else (or real mode) 16. */
enum x86_mode {
	X86_MODE_16 = 16,
	X86_MODE_32 = 32,
	X86_MODE_64 = 64,
};

/* Operations the emulator supports. The first eight are in the order of
 * the ALU opcode block 00-3F and of ModRM.reg in group 1 (80-83). */
enum x86_op {
	X86_OP_NONE = 0,
	X86_OP_ADD,
	X86_OP_OR,
	X86_OP_ADC,
	X86_OP_SBB,
	X86_OP_AND,
	X86_OP_SUB,
	X86_OP_XOR,
	X86_OP_CMP,
	X86_OP_TEST,
	X86_OP_MOV,
	X86_OP_MOVZX,
	X86_OP_MOVSX,
	X86_OP_MOVSXD,
	X86_OP_XCHG,
	X86_OP_BT,
	X86_OP_BTS,
	X86_OP_BTR,
	X86_OP_BTC,
	X86_OP_INC,
	X86_OP_DEC,
	X86_OP_NOT,
	X86_OP_NEG,
	X86_OP_MOVS,
	X86_OP_STOS,
	X86_OP_LODS,
};

/* Registers: 0-15 are RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 (the
 * encoding order; the width comes from the operand). For byte operands
 * without a REX prefix, encodings 4-7 are AH, CH, DH, BH. */
enum x86_reg {
	X86_REG_RAX = 0,
	X86_REG_RCX,
	X86_REG_RDX,
	X86_REG_RBX,
	X86_REG_RSP,
	X86_REG_RBP,
	X86_REG_RSI,
	X86_REG_RDI,
	X86_REG_R8,
	X86_REG_R15 = 15,
	X86_REG_AH = 16, /* bits 15:8 of RAX; CH, DH, BH follow */
	X86_REG_CH,
	X86_REG_DH,
	X86_REG_BH,
	X86_REG_RIP = 20, /* base of a RIP-relative memory operand */
	X86_REG_NONE = 0xff,
};

/* Segment registers, in the encoding order of the SDM. */
enum x86_seg {
	X86_SEG_ES = 0,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
	X86_SEG_NONE = 0xff,
};

/* insn->prefixes bits. Of F2 and F3 only the last one is kept. */
#define X86_PFX_LOCK 0x01     /* F0 */
#define X86_PFX_REP 0x02      /* F3 (REP/REPE) */
#define X86_PFX_REPNE 0x04    /* F2 */
#define X86_PFX_OPSIZE 0x08   /* 66 */
#define X86_PFX_ADDRSIZE 0x10 /* 67 */
#define X86_PFX_SEG 0x20      /* a segment override (insn->seg_override) */
#define X86_PFX_REX 0x40      /* a REX prefix directly before the opcode */

/* REX bits (insn->rex). */
#define X86_REX_B 0x01
#define X86_REX_X 0x02
#define X86_REX_R 0x04
#define X86_REX_W 0x08

/* Operand kinds. */
enum x86_opnd_kind {
	X86_OPND_NONE = 0,
	X86_OPND_REG,
	X86_OPND_MEM, /* described by insn->mem */
	X86_OPND_IMM, /* insn->imm */
};

/* One operand: kind, size in bytes, and the register for X86_OPND_REG. */
struct x86_operand {
	uint8_t kind;
	uint8_t size;
	uint8_t reg;
};

/* The memory operand: seg:[base + index * scale + disp], computed modulo
 * the address size. base is X86_REG_RIP for RIP-relative addressing (disp
 * is then relative to the next instruction). For moffs forms (A0-A3) base
 * and index are NONE and disp is the zero-extended offset. For string
 * instructions base is RSI (or RDI for STOS) with the address size. */
struct x86_mem {
	uint8_t seg;   /* effective segment (override or default) */
	uint8_t base;  /* enum x86_reg or X86_REG_NONE */
	uint8_t index; /* enum x86_reg or X86_REG_NONE */
	uint8_t scale; /* 1, 2, 4 or 8 */
	int64_t disp;
};

/* A decoded instruction. */
struct x86_insn {
	uint8_t len;      /* bytes, 1..15 */
	uint8_t mode;     /* enum x86_mode */
	uint8_t op;       /* enum x86_op (X86_OP_NONE unless supported) */
	uint8_t opsize;   /* operand size in bytes: 1, 2, 4 or 8 */
	uint8_t addrsize; /* address size in bytes: 2, 4 or 8 */
	uint8_t prefixes; /* X86_PFX_* */
	uint8_t seg_override; /* last segment prefix, or X86_SEG_NONE */
	uint8_t rex;      /* the REX byte (0x40-0x4F), 0 if none */
	uint8_t map;      /* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
	uint8_t opcode;   /* the opcode byte in that map */
	bool has_modrm;
	bool has_sib;
	uint8_t modrm;
	uint8_t sib;
	uint8_t disp_size; /* displacement bytes (moffs: the offset) */
	uint8_t imm_size;  /* immediate bytes */
	int64_t imm;       /* sign-extended immediate */
	uint8_t nopnd;     /* operands used: 0, 1 or 2 */
	/* opnd[0]: destination (or first source of CMP/TEST/BT); opnd[1]:
	 * source. MOVS: opnd[0] is the ES:rDI destination and opnd[1] the
	 * source described by mem. */
	struct x86_operand opnd[2];
	struct x86_mem mem; /* valid if an operand is X86_OPND_MEM */
};

/*
 * Decodes the instruction in bytes[0..len) for the given code-segment mode
 * into *out. Never reads past bytes[len - 1] nor past 15 bytes.
 *
 * Returns 0 for a supported instruction (out fully filled), or:
 *   X86_ERR_TRUNCATED   the bytes end before the instruction does;
 *   X86_ERR_INVALID     undefined or malformed: undefined opcode, LOCK on a
 *                       non-lockable form, longer than 15 bytes, register
 *                       ModRM where memory is required, opcode invalid in
 *                       the mode. out->len is its length when known, else 0;
 *   X86_ERR_UNSUPPORTED valid but not emulated; out->len is its length
 *                       (0 for VEX/EVEX/XOP encodings).
 */
int x86_decode(const uint8_t *bytes, size_t len, enum x86_mode mode,
	       struct x86_insn *out);

#endif
