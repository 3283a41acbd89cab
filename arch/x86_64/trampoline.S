/*
 * Application-processor start-up code, copied to TRAMP_PHYS below 1 MiB.
 * Real mode -> protected mode -> long mode on the boot page tables, then a
 * jump to ap_entry() on the stack the BSP put into tramp_stack.
 */
#define TRAMP_PHYS 0x8000
#define T(x) ((x) - tramp_start + TRAMP_PHYS)

	.section .rodata
	.globl tramp_start, tramp_end, tramp_cr3, tramp_stack, tramp_entry, tramp_efer
	.code16
tramp_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl T(tramp_gdt_ptr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $T(tramp32)

	.code32
tramp32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov T(tramp_cr3), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	mov T(tramp_efer), %eax /* LME, and NXE as the boot CPU has it: the kernel's pages use NX */
	xor %edx, %edx
	wrmsr
	mov %cr0, %eax
	or $0x80010000, %eax
	mov %eax, %cr0
	ljmp $0x18, $T(tramp64)

	.code64
tramp64:
	mov T(tramp_stack), %rsp
	mov T(tramp_entry), %rax
	jmp *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00af9a000000ffff
tramp_gdt_ptr:
	.short 31
	.long T(tramp_gdt)
	.balign 8
tramp_cr3:
	.quad 0
tramp_stack:
	.quad 0
tramp_entry:
	.quad 0
tramp_efer:
	.quad 0
tramp_end:
