/*
 * VM entry and exit. The guest's general registers live in the vCPU's
 * struct regs; HOST_RSP points at its end of the GPR block, so the exit
 * path pushes them straight back there (like the user entry path).
 */
#include <arch/layout.h>
#include <arch/gprs.S.h>

.macro GUEST_POP
	mov %rdi, %rsp
	POP_GPRS
.endm

	.text
/* void vmx_launch(struct regs *guest): returns only if VMLAUNCH fails */
	.globl vmx_launch
vmx_launch:
	GUEST_POP
	vmlaunch
	jmp vmx_entry_failed_stub

/* void vmx_resume(struct regs *guest) */
	.globl vmx_resume
vmx_resume:
	GUEST_POP
	vmresume
vmx_entry_failed_stub:
	mov %gs:PCPU_KSTACK, %rsp
	call vmx_entry_failed
	ud2

	.globl vmx_exit_entry
vmx_exit_entry:
	PUSH_GPRS
	mov %gs:PCPU_KSTACK, %rsp
	call vmx_exit_handler
	ud2
