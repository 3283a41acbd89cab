/*
 * VM entry and exit. The guest's general registers live in the vCPU's
 * struct regs; HOST_RSP points at its end of the GPR block, so the exit
 * path pushes them straight back there (like the user entry path).
 */
#include <arch/layout.h>

.macro GUEST_POP
	mov %rdi, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
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
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %gs:PCPU_KSTACK, %rsp
	call vmx_exit_handler
	ud2
