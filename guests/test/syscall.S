/*
 * SYSCALL/SYSRET round trip for check_syscall (cpu.c). From CPL 0 an IRETQ
 * enters CPL 3 (selectors 0x33/0x2b, RFLAGS 0x402: DF set, IF clear, so no
 * interrupt can arrive). The
 * user code makes two SYSCALLs: the first records what the CPU loaded and
 * returns with SYSRETQ, the second comes back to CPL 0 for good. Needs
 * STAR, LSTAR (syscall_entry), FMASK and EFER.SCE set up by the caller.
 * user_run takes the same way with other user code and RFLAGS (an
 * exception at CPL 3 goes through the TSS, main.c); RFLAGS are restored.
 */
#define USER_CS 0x33
#define USER_SS 0x2b
#define USER_RFLAGS 0x402
#define LEAVE 0x4c45415645	/* "LEAVE" */
#define R_RCX 0
#define R_R11 8
#define R_CS 16
#define R_SS 24
#define R_RFLAGS 32
#define R_GS_BASE 40
#define R_USER_CS 48
#define R_USER_SS 56
#define R_USER_RFLAGS 64
#define R_RET_RIP 72
#define R_ENTRIES 80

	.text
/* void syscall_roundtrip(struct syscall_result *r) */
	.globl syscall_roundtrip
syscall_roundtrip:
	leaq user_code(%rip), %rsi
	movl $USER_RFLAGS, %edx
/* void user_run(struct syscall_result *r, void (*code)(void), uint64_t rflags) */
	.globl user_run
user_run:
	pushfq
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kernel_rsp(%rip)
	movq %rdi, result(%rip)
	leaq 1f(%rip), %rax
	movq %rax, R_RET_RIP(%rdi)
	pushq $USER_SS
	leaq user_stack_top(%rip), %rax
	pushq %rax
	pushq %rdx
	pushq $USER_CS
	pushq %rsi
	iretq

user_code:			/* CPL 3 */
	xorl %eax, %eax
	syscall
1:	movq result(%rip), %rdi
	movq %cs, %rax
	movq %rax, R_USER_CS(%rdi)
	movq %ss, %rax
	movq %rax, R_USER_SS(%rdi)
	pushfq
	popq %rax
	movq %rax, R_USER_RFLAGS(%rdi)
	movabsq $LEAVE, %rax
	syscall
	ud2

/* LSTAR: CPL 0, still on the user stack */
	.globl syscall_entry
syscall_entry:
	movq result(%rip), %rdi
	incq R_ENTRIES(%rdi)
	movabsq $LEAVE, %rdx
	cmpq %rdx, %rax
	je 2f
	movq %rcx, R_RCX(%rdi)
	movq %r11, R_R11(%rdi)
	movq %cs, %rax
	movq %rax, R_CS(%rdi)
	movq %ss, %rax
	movq %rax, R_SS(%rdi)
	pushfq
	popq %rax
	movq %rax, R_RFLAGS(%rdi)
	movq %rcx, %r8		/* rdmsr takes RCX */
	swapgs			/* GS base <- KERNEL_GS_BASE */
	movl $0xc0000101, %ecx
	rdmsr
	swapgs
	shlq $32, %rdx
	movl %eax, %eax
	orq %rdx, %rax
	movq %rax, R_GS_BASE(%rdi)
	movq %r8, %rcx
	sysretq
2:	movl $0x10, %eax	/* SYSCALL left SS = 0x20 (equivalent): back to ours */
	movl %eax, %ss
	movq kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popfq
	ret

/* CPL 3 with RFLAGS.AC (check_ac): three misaligned loads of 2 bytes each, then back */
	.globl user_ac, user_ac_loads
user_ac:
	leaq ac_words+1(%rip), %rbx
user_ac_loads:
	movl (%rbx), %eax
	movl (%rbx), %ecx
	movl (%rbx), %edx
	movabsq $LEAVE, %rax
	syscall
	ud2

	.bss
	.balign 8
ac_words:	.skip 16
kernel_rsp:	.skip 8
result:		.skip 8
	.balign 16
user_stack:	.skip 1024
user_stack_top:

	.section .note.GNU-stack, "", @progbits
