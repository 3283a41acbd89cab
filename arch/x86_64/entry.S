/*
 * Kernel entry and exit. User state is saved straight into the current
 * EC's struct regs (TSS.RSP0 and PCPU_FRAME_TOP point at its end); the C
 * handlers then run on the per-CPU kernel stack and never return: they
 * leave through ret_user_iret / ret_user_sysret or the idle loop. NMI,
 * #DF and #MC arrive on stacks of their own (IST) and never go that way.
 */
#include <arch/layout.h>

#include <arch/gprs.S.h>

/* One 16-byte stub per vector: push a zero error code where the CPU pushes none. */
	.text
	.balign 16
vectors_start:
	.set v, 0
	.rept 256
	.balign 16
	.if (v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30)
	.else
	pushq $0
	.endif
	pushq $v
	.if v == 2
	jmp trap_nmi
	.elseif v == 8 || v == 18
	jmp trap_ist
	.else
	jmp trap_common
	.endif
	.set v, v + 1
	.endr

	.section .rodata
	.balign 8
	.globl entry_vectors
entry_vectors:
	.set v, 0
	.rept 256
	.quad vectors_start + v * 16
	.set v, v + 1
	.endr
verw_sel:
	.short SEL_KDATA

	.text
trap_common:
	testb $3, 24(%rsp)      /* CS of the interrupted context */
	jz 1f
	swapgs
	PUSH_GPRS
	mov %gs:PCPU_KSTACK, %rsp
	pushq $2                /* RFLAGS: the user's DF and AC must not reach C code */
	popfq
	xor %ebp, %ebp
	call trap_user          /* does not return */
	ud2
1:	PUSH_GPRS
	mov %rsp, %rdi
	call trap_kernel
	POP_GPRS
	add $16, %rsp
	iretq

/* NMI, from anywhere (even before SWAPGS or re-raised after a VM exit): only a panic
 * sends them, so it reads that flag, touches no register and takes no lock. */
trap_nmi:
	cmpl $0, cpus_stopping(%rip)
	jne 1f
	add $16, %rsp
	iretq
1:	lock incl cpus_stopped(%rip)
2:	hlt                     /* NMIs stay blocked: no IRET */
	jmp 2b

/* #DF and #MC: fatal in any mode; trap_fatal() does not rely on GS */
trap_ist:
	PUSH_GPRS
	mov %rsp, %rdi
	call trap_fatal
	ud2

	.globl syscall_entry
	.balign 16
syscall_entry:
	swapgs
	mov %rsp, %gs:PCPU_SCRATCH
	mov %gs:PCPU_FRAME_TOP, %rsp
	pushq $SEL_UDATA
	pushq %gs:PCPU_SCRATCH
	pushq %r11
	pushq $SEL_UCODE
	pushq %rcx
	pushq $0
	pushq $VEC_SYSCALL
	PUSH_GPRS
	mov %gs:PCPU_KSTACK, %rsp
	xor %ebp, %ebp
	call syscall_handler    /* does not return */
	ud2

/* VERW clears the CPU buffers (MDS) where cpu_init() found that needed */
.macro VERW_USER
	testb $1, cpu_verw(%rip)
	jz 1f
	verw verw_sel(%rip)
1:
.endm

/* void ret_user_iret(struct regs *r) */
	.globl ret_user_iret
ret_user_iret:
	mov %rdi, %rsp
	POP_GPRS
	add $16, %rsp
	VERW_USER
	swapgs
	iretq

/* void ret_user_sysret(struct regs *r): RIP must be canonical (checked in C) */
	.globl ret_user_sysret
ret_user_sysret:
	mov %rdi, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	add $8, %rsp            /* r11: becomes RFLAGS */
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	add $8, %rsp            /* rcx: becomes RIP */
	pop %rbx
	pop %rax
	mov 16(%rsp), %rcx      /* rip */
	mov 32(%rsp), %r11      /* rflags */
	mov 40(%rsp), %rsp      /* user rsp */
	VERW_USER
	swapgs
	sysretq

/* NORETURN void cpu_continue(void (*fn)(void *), void *arg): fn(arg) on this CPU's empty kernel stack */
	.globl cpu_continue
cpu_continue:
	mov %gs:PCPU_KSTACK, %rsp
	xor %ebp, %ebp
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	ud2

/* void cpu_idle_on_kstack(void): reset to the kernel stack, enter idle_loop */
	.globl cpu_idle_on_kstack
cpu_idle_on_kstack:
	lea idle_loop(%rip), %rdi
	jmp cpu_continue
