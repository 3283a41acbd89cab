/*
 * Emulation of decoded MMIO instructions (see emulate.h). Flag results
 * follow the SDM's per-instruction "Flags Affected" sections; where the SDM
 * leaves a flag undefined the choice is documented at alu().
 */
#include "emulate.h"

#define PAGE_MASK (~(uint64_t)0xfff)

/* All-ones in the low size bytes. */
static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Sign-extends the low size bytes of v to 64 bits. */
static uint64_t sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - 8 * size;
	return size >= 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}

/* Value of register reg (enum x86_reg) read with the given size. */
static uint64_t get_reg(const struct x86_regs *r, unsigned reg, unsigned size)
{
	if (reg >= X86_REG_AH && reg <= X86_REG_BH)
		return (r->gpr[reg - X86_REG_AH] >> 8) & 0xff;
	return r->gpr[reg & 15] & size_mask(size);
}

/* Writes v to register reg with the given size: 8/16-bit writes keep the
 * other bits, 32-bit writes zero the upper half, 64-bit writes all. */
static void set_reg(struct x86_regs *r, unsigned reg, unsigned size,
		    uint64_t v)
{
	if (reg >= X86_REG_AH && reg <= X86_REG_BH) {
		uint64_t *g = &r->gpr[reg - X86_REG_AH];
		*g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
		return;
	}
	uint64_t *g = &r->gpr[reg & 15];
	if (size >= 4)
		*g = v & size_mask(size);
	else
		*g = (*g & ~size_mask(size)) | (v & size_mask(size));
}

/* The effective address of the memory operand (see emulate.h). */
uint64_t x86_insn_ea(const struct x86_insn *insn, const struct x86_regs *regs)
{
	const struct x86_mem *m = &insn->mem;
	uint64_t ea = (uint64_t)m->disp;

	if (m->base == X86_REG_RIP)
		ea += regs->rip + insn->len;
	else if (m->base != X86_REG_NONE)
		ea += regs->gpr[m->base & 15];
	if (m->index != X86_REG_NONE)
		ea += regs->gpr[m->index & 15] * m->scale;
	if (insn->op >= X86_OP_BT && insn->op <= X86_OP_BTC &&
	    insn->opnd[1].kind == X86_OPND_REG) {
		unsigned sz = insn->opnd[0].size;
		int64_t off = (int64_t)sext(get_reg(regs, insn->opnd[1].reg, sz),
					    sz);
		int64_t unit = off >= 0 ? off / (8 * sz) :
					  -((-(off + 1)) / (8 * sz)) - 1;
		ea += (uint64_t)unit * sz;
	}
	return ea & size_mask(insn->addrsize);
}

/* PF: set if the low byte of v has an even number of ones. */
static uint64_t parity_flag(uint64_t v)
{
	v &= 0xff;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return (v & 1) ? 0 : X86_FLAG_PF;
}

/*
 * Computes d op s with the given operand size; *flags holds RFLAGS on
 * entry (CF is the carry-in of ADC/SBB) and gets the new arithmetic flags.
 * Returns the result; *affected gets the flags the instruction writes.
 * SDM: ADD/ADC/SUB/SBB/CMP/NEG/INC/DEC define OF SF ZF AF PF (and CF, except
 * INC/DEC which keep it); AND/OR/XOR/TEST clear OF and CF, define SF ZF PF,
 * and leave AF undefined: it is cleared here, as current processors do.
 */
static uint64_t alu(unsigned op, unsigned size, uint64_t d, uint64_t s,
		    uint64_t *flags, uint64_t *affected)
{
	uint64_t m = size_mask(size), sign = 1ull << (8 * size - 1);
	uint64_t cin = *flags & X86_FLAG_CF, r, f = 0;

	d &= m;
	s &= m;
	*affected = X86_FLAGS_ARITH;
	switch (op) {
	case X86_OP_INC:
	case X86_OP_ADD:
	case X86_OP_ADC:
		if (op == X86_OP_INC) {
			s = 1;
			cin = 0;
			*affected &= ~(uint64_t)X86_FLAG_CF;
		} else if (op == X86_OP_ADD) {
			cin = 0;
		}
		r = (d + s + cin) & m;
		if (((d & s) | ((d | s) & ~r)) & sign)
			f |= X86_FLAG_CF;
		if ((d ^ r) & (s ^ r) & sign)
			f |= X86_FLAG_OF;
		f |= (d ^ s ^ r) & X86_FLAG_AF;
		break;
	case X86_OP_DEC:
	case X86_OP_NEG:
	case X86_OP_SUB:
	case X86_OP_CMP:
	case X86_OP_SBB:
		if (op == X86_OP_DEC) {
			s = 1;
			*affected &= ~(uint64_t)X86_FLAG_CF;
		} else if (op == X86_OP_NEG) {
			s = d;
			d = 0;
		}
		if (op != X86_OP_SBB)
			cin = 0;
		r = (d - s - cin) & m;
		if (((~d & s) | ((~d | s) & r)) & sign)
			f |= X86_FLAG_CF;
		if ((d ^ s) & (d ^ r) & sign)
			f |= X86_FLAG_OF;
		f |= (d ^ s ^ r) & X86_FLAG_AF;
		break;
	case X86_OP_AND:
	case X86_OP_TEST:
		r = d & s;
		break;
	case X86_OP_OR:
		r = d | s;
		break;
	default: /* X86_OP_XOR */
		r = d ^ s;
		break;
	}
	if (r & sign)
		f |= X86_FLAG_SF;
	if (!r)
		f |= X86_FLAG_ZF;
	f |= parity_flag(r);
	*flags = (*flags & ~*affected) | (f & *affected);
	return r;
}

/* Reads operand o: a register, the memory at addr, or the immediate. */
static int load(const struct x86_insn *in, const struct x86_operand *o,
		const struct x86_regs *regs, uint64_t addr,
		const struct x86_mem_ops *ops, void *ctx, uint64_t *v)
{
	*v = 0;
	switch (o->kind) {
	case X86_OPND_REG:
		*v = get_reg(regs, o->reg, o->size);
		return 0;
	case X86_OPND_MEM:
		if (!ops || !ops->read || ops->read(ctx, addr, o->size, v))
			return X86_ERR_MEMORY;
		*v &= size_mask(o->size);
		return 0;
	case X86_OPND_IMM:
		*v = (uint64_t)in->imm & size_mask(o->size);
		return 0;
	}
	return X86_ERR_UNSUPPORTED;
}

/* Writes v to operand o (a register, or the memory at addr). */
static int store(const struct x86_operand *o, struct x86_regs *regs,
		 uint64_t addr, const struct x86_mem_ops *ops, void *ctx,
		 uint64_t v)
{
	if (o->kind == X86_OPND_REG) {
		set_reg(regs, o->reg, o->size, v);
		return 0;
	}
	if (o->kind != X86_OPND_MEM)
		return X86_ERR_UNSUPPORTED;
	if (!ops || !ops->write ||
	    ops->write(ctx, addr, o->size, v & size_mask(o->size)))
		return X86_ERR_MEMORY;
	return 0;
}

/* Moves RIP past the instruction, wrapping as the code size does. */
static void advance_rip(const struct x86_insn *in, struct x86_regs *regs)
{
	regs->rip += in->len;
	if (in->mode == X86_MODE_32)
		regs->rip &= 0xffffffffull;
	else if (in->mode == X86_MODE_16)
		regs->rip &= 0xffffull;
}

/* Whether [a, a + size) lies in the 4 KiB page of first. */
static bool same_page(uint64_t first, uint64_t a, unsigned size)
{
	return (a & PAGE_MASK) == (first & PAGE_MASK) &&
	       ((a + size - 1) & PAGE_MASK) == (first & PAGE_MASK);
}

/* Steps pointer register reg by step under the address size; returns true
 * if it wrapped around the end of the address space. */
static bool step_ptr(const struct x86_insn *in, struct x86_regs *regs,
		     unsigned reg, int64_t step)
{
	uint64_t am = size_mask(in->addrsize);
	uint64_t old = regs->gpr[reg] & am;
	unsigned size = in->opsize;
	set_reg(regs, reg, in->addrsize, old + (uint64_t)step);
	return step > 0 ? old > am - size : old < size;
}

/* MOVS, STOS, LODS, with or without REP (see emulate.h). */
static int emulate_string(const struct x86_insn *in, struct x86_regs *regs,
			  uint64_t addr, const struct x86_mem_ops *ops,
			  void *ctx)
{
	unsigned size = in->opsize;
	uint64_t am = size_mask(in->addrsize);
	bool rep = in->prefixes & (X86_PFX_REP | X86_PFX_REPNE);
	int64_t step = (regs->rflags & X86_FLAG_DF) ? -(int64_t)size : size;
	uint64_t count = rep ? regs->gpr[X86_REG_RCX] & am : 1;
	uint64_t src = addr, dst = addr, src0, dst0, v;

	if (!ops || !ops->read || !ops->write)
		return X86_ERR_MEMORY;
	if (in->op == X86_OP_MOVS && count) {
		if (!ops->translate)
			return X86_ERR_UNSUPPORTED;
		if (ops->translate(ctx, (enum x86_seg)in->mem.seg,
				   regs->gpr[X86_REG_RSI] & am, false, &src) ||
		    ops->translate(ctx, X86_SEG_ES,
				   regs->gpr[X86_REG_RDI] & am, true, &dst))
			return X86_ERR_MEMORY;
	}
	src0 = src;
	dst0 = dst;
	for (unsigned n = 0; count && n < X86_REP_MAX_ITER; n++) {
		bool wrap = false;
		if (n && (!same_page(src0, src, size) ||
			  !same_page(dst0, dst, size)))
			break;
		if (in->op == X86_OP_STOS) {
			v = regs->gpr[X86_REG_RAX] & size_mask(size);
			if (ops->write(ctx, dst, size, v))
				return X86_ERR_MEMORY;
			wrap = step_ptr(in, regs, X86_REG_RDI, step);
		} else {
			if (ops->read(ctx, src, size, &v))
				return X86_ERR_MEMORY;
			if (in->op == X86_OP_LODS) {
				set_reg(regs, X86_REG_RAX, size, v);
			} else {
				if (ops->write(ctx, dst, size,
					       v & size_mask(size)))
					return X86_ERR_MEMORY;
				wrap = step_ptr(in, regs, X86_REG_RDI, step);
			}
			wrap |= step_ptr(in, regs, X86_REG_RSI, step);
		}
		count--;
		if (rep)
			set_reg(regs, X86_REG_RCX, in->addrsize, count);
		src += (uint64_t)step;
		dst += (uint64_t)step;
		if (wrap)
			break;
	}
	if (count)
		return X86_EMUL_MORE;
	advance_rip(in, regs);
	return 0;
}

/* Bit test family: CF = the selected bit; BTS/BTR/BTC then set, clear or
 * complement it. The SDM leaves OF SF AF PF undefined (kept here) and ZF
 * unaffected. */
static int emulate_bt(const struct x86_insn *in, struct x86_regs *regs,
		      uint64_t addr, const struct x86_mem_ops *ops, void *ctx)
{
	const struct x86_operand *d = &in->opnd[0];
	uint64_t off, v;
	int rc = load(in, &in->opnd[1], regs, addr, ops, ctx, &off);
	if (!rc)
		rc = load(in, d, regs, addr, ops, ctx, &v);
	if (rc)
		return rc;
	uint64_t bit = 1ull << (off & (8u * d->size - 1));
	uint64_t nv = in->op == X86_OP_BTS ? v | bit :
		      in->op == X86_OP_BTR ? v & ~bit :
		      in->op == X86_OP_BTC ? v ^ bit :
					     v;
	if (in->op != X86_OP_BT && (rc = store(d, regs, addr, ops, ctx, nv)))
		return rc;
	regs->rflags = (regs->rflags & ~(uint64_t)X86_FLAG_CF) |
		       ((v & bit) ? X86_FLAG_CF : 0);
	return 0;
}

/* Executes insn on regs, its memory operand at addr (see emulate.h). */
int x86_emulate(const struct x86_insn *insn, struct x86_regs *regs,
		uint64_t addr, const struct x86_mem_ops *ops, void *ctx)
{
	const struct x86_insn *in = insn;
	const struct x86_operand *d = &in->opnd[0], *s = &in->opnd[1];
	uint64_t dv = 0, sv = 0, r, flags = regs->rflags, affected;
	int rc = 0;

	switch (in->op) {
	case X86_OP_MOVS:
	case X86_OP_STOS:
	case X86_OP_LODS:
		return emulate_string(in, regs, addr, ops, ctx);
	case X86_OP_MOV:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
	case X86_OP_MOVSXD:
		if ((rc = load(in, s, regs, addr, ops, ctx, &sv)))
			return rc;
		if (in->op == X86_OP_MOVSX || in->op == X86_OP_MOVSXD)
			sv = sext(sv, s->size);
		rc = store(d, regs, addr, ops, ctx, sv);
		break;
	case X86_OP_XCHG:
		if ((rc = load(in, d, regs, addr, ops, ctx, &dv)) ||
		    (rc = load(in, s, regs, addr, ops, ctx, &sv)))
			return rc;
		/* memory (d, if any) first: a failed write changes nothing */
		if ((rc = store(d, regs, addr, ops, ctx, sv)))
			return rc;
		rc = store(s, regs, addr, ops, ctx, dv);
		break;
	case X86_OP_BT:
	case X86_OP_BTS:
	case X86_OP_BTR:
	case X86_OP_BTC:
		rc = emulate_bt(in, regs, addr, ops, ctx);
		break;
	case X86_OP_NOT:
		if ((rc = load(in, d, regs, addr, ops, ctx, &dv)))
			return rc;
		rc = store(d, regs, addr, ops, ctx, ~dv);
		break;
	case X86_OP_ADD:
	case X86_OP_OR:
	case X86_OP_ADC:
	case X86_OP_SBB:
	case X86_OP_AND:
	case X86_OP_SUB:
	case X86_OP_XOR:
	case X86_OP_CMP:
	case X86_OP_TEST:
	case X86_OP_INC:
	case X86_OP_DEC:
	case X86_OP_NEG:
		if ((rc = load(in, d, regs, addr, ops, ctx, &dv)))
			return rc;
		if (in->nopnd > 1 &&
		    (rc = load(in, s, regs, addr, ops, ctx, &sv)))
			return rc;
		r = alu(in->op, d->size, dv, sv, &flags, &affected);
		if (in->op != X86_OP_CMP && in->op != X86_OP_TEST &&
		    (rc = store(d, regs, addr, ops, ctx, r)))
			return rc;
		regs->rflags = flags;
		break;
	default:
		return X86_ERR_UNSUPPORTED;
	}
	if (rc)
		return rc;
	advance_rip(in, regs);
	return 0;
}
