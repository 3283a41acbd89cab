/*
 * VMRUN and #VMEXIT. The guest's general registers (but RAX and RSP,
 * which the VMCB holds) live in the vCPU's struct regs; the host RSP at
 * VMRUN is the end of that GPR block, so after the exit they are pushed
 * straight back there. Two words past the block, unused by vCPUs, carry
 * the physical addresses of the guest VMCB (regs.vec) and of this CPU's
 * host VMSAVE area (regs.err).
 *
 * Host interrupts: GIF is cleared first and RFLAGS.IF set, so interrupts
 * stay pending until VMRUN and then exit the guest (V_INTR_MASKING); after
 * the exit IF is cleared before GIF is set again, and the kernel takes
 * them at a point of its choosing (vcpu_irq_window).
 */
#include <arch/layout.h>
#include <arch/gprs.S.h>

	.text
/* void svm_enter(struct regs *guest) */
	.globl svm_enter
svm_enter:
	clgi
	sti
	mov %rdi, %rsp
	POP_GPRS
	mov (%rsp), %rax        /* regs.vec: the guest VMCB */
	vmload %rax             /* guest FS, GS, TR, LDTR, KernelGSBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER */
	vmrun %rax
	vmsave %rax
	PUSH_GPRS               /* RAX: the VMCB address, replaced in C by the guest's */
	mov REGS_ERR(%rsp), %rax
	vmload %rax             /* the host's */
	cli
	stgi
	mov %gs:PCPU_KSTACK, %rsp
	xor %ebp, %ebp
	call svm_exit_handler
	ud2
