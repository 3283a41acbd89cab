/*
 * Emulation of the x86 instructions guests use to access MMIO, after an
 * EPT-violation VM exit: the VMM decodes the instruction at the guest RIP
 * with x86_decode() and calls x86_emulate() with the address of the memory
 * operand; the access goes to the device model through read/write
 * callbacks, and the guest's registers and flags are updated as the
 * instruction would (Intel SDM vol. 2 and vol. 1 section 3.4.3 for the
 * flags).
 *
 * Not checked (the hardware did before the exit, or the VMM must): segment
 * limits and rights, canonical form, alignment (#AC), privilege. LOCKed
 * read-modify-write forms are a read followed by a write: the VMM must keep
 * other vCPUs from accessing the device in between (MMIO is not cached, so
 * serializing the device model is enough).
 *
 * Freestanding: only <stdint.h>, <stddef.h>, <stdbool.h> and <string.h>.
 */
#ifndef VMM_X86_EMULATE_H
#define VMM_X86_EMULATE_H

#include "decode.h"

/* RFLAGS bits. */
#define X86_FLAG_CF (1u << 0)
#define X86_FLAG_PF (1u << 2)
#define X86_FLAG_AF (1u << 4)
#define X86_FLAG_ZF (1u << 6)
#define X86_FLAG_SF (1u << 7)
#define X86_FLAG_DF (1u << 10)
#define X86_FLAG_OF (1u << 11)
#define X86_FLAGS_ARITH                                                      \
	(X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF |             \
	 X86_FLAG_SF | X86_FLAG_OF)

/* x86_emulate() result: a REP string instruction is not finished. */
#define X86_EMUL_MORE 1

/* REP string instructions do at most this many iterations per call. */
#define X86_REP_MAX_ITER 4096u

/* Guest general registers (index enum x86_reg 0-15), RIP and RFLAGS. */
struct x86_regs {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
};

/* Memory access callbacks. Each returns 0 on success; anything else stops
 * the emulation with X86_ERR_MEMORY. size is 1, 2, 4 or 8; values are in
 * the low bits (read: the emulator ignores the bits above size). */
struct x86_mem_ops {
	int (*read)(void *ctx, uint64_t addr, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t addr, unsigned size, uint64_t val);
	/* Optional, needed only by MOVS (two memory operands): the address,
	 * in the space of read/write, of seg:offset (offset already reduced
	 * to the address size). Without it MOVS is X86_ERR_UNSUPPORTED. */
	int (*translate)(void *ctx, enum x86_seg seg, uint64_t offset,
			 bool write, uint64_t *addr);
};

/*
 * Executes the decoded instruction insn (x86_decode() returned 0) on regs.
 *
 * addr is the address, in the space of the callbacks (normally the
 * faulting guest-physical address), of the memory the instruction accesses:
 * its ModRM or moffs operand; for BT/BTS/BTR/BTC with a register bit
 * offset, the operand-size unit holding the bit (the effective address plus
 * opsize * floor(offset / (8 * opsize)), which is what the access faults
 * on); for STOS the element at ES:rDI, for LODS the one at seg:rSI. It is
 * unused by register-only forms and by MOVS (which uses ops->translate).
 *
 * REP string forms run while rCX != 0, each element staying in the same
 * 4 KiB page (of the callbacks' space) as the first one, and at most
 * X86_REP_MAX_ITER times. If rCX is not yet 0 they return X86_EMUL_MORE with
 * rSI/rDI/rCX updated and RIP unchanged: resuming the guest re-executes the
 * instruction, exactly as after an interrupted REP string instruction.
 *
 * Returns 0 when done (RIP advanced by insn->len), X86_EMUL_MORE, or
 * X86_ERR_UNSUPPORTED, or X86_ERR_MEMORY when a callback failed: the
 * registers are then unchanged (string forms: the iterations before the
 * failing one are complete). A write that failed after its read (XCHG, ALU
 * with memory destination) leaves the device read.
 */
int x86_emulate(const struct x86_insn *insn, struct x86_regs *regs,
		uint64_t addr, const struct x86_mem_ops *ops, void *ctx);

/*
 * Effective address (offset in insn->mem.seg, reduced to the address size)
 * of the memory the instruction accesses, as defined for x86_emulate()'s
 * addr (BT bit-offset displacement included; string forms: rSI, or rDI for
 * STOS). For a VMM that translates guest-linear addresses itself.
 */
uint64_t x86_insn_ea(const struct x86_insn *insn, const struct x86_regs *regs);

#endif
