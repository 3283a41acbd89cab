/*
 * Entry of every domain program. The creator has set RSP (the main stack,
 * HV_SI_STACK_SIZE bytes below it); the start info (the HIP for the
 * roottask) is at the fixed address HV_SI_ADDR.
 *   hv_main_stack_lo = RSP - HV_SI_STACK_SIZE   (hv_tls() main-thread test)
 *   hv_runtime_init(rdi); exit code = main(rdi); hv_exit(code)
 * and, should hv_exit ever return, spin on a blocking sm-down of an invalid
 * selector (fails at once; never falls off the end).
 */
#define HV_SI_STACK_SIZE 0x10000 /* <hv/startinfo.h> */
#define HV_SYS_SM_CTRL 10        /* <hv/abi.h> */
#define HV_SM_DOWN 1

	.section .text._start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	movabs	$0x00007f0000000000, %rdi	/* HV_SI_ADDR (= HV_HIP_ADDR) */
	mov	%rsp, %rax
	sub	$HV_SI_STACK_SIZE, %rax
	mov	%rax, hv_main_stack_lo(%rip)
	xor	%ebp, %ebp
	and	$-16, %rsp
	mov	%rdi, %rbx		/* callee-saved across the calls */
	call	hv_runtime_init
	mov	%rbx, %rdi
	call	main
	mov	%eax, %edi
	call	hv_exit
1:	mov	$HV_SYS_SM_CTRL, %eax
	mov	$-1, %rdi
	mov	$HV_SM_DOWN, %esi
	syscall
	pause
	jmp	1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
