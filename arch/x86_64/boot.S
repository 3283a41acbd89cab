/*
 * Entry from a Multiboot v1 or Multiboot2 loader: 32-bit protected mode,
 * paging off, EAX = loader magic, EBX = physical address of the boot info.
 * Builds nothing at run time: the boot page tables are static data.
 */
#include <arch/layout.h>

#define V2P(x) ((x) - KERNEL_VBASE)

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* align mods, mem info, a.out kludge */
#define MB2_MAGIC 0xe85250d6

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80
#define PTE_PWT 0x8
#define PTE_PCD 0x10

	.section .boot.header, "a"
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long V2P(mb1_header)   /* header_addr */
	.long V2P(_image_start) /* load_addr */
	.long V2P(_data_end)    /* load_end_addr */
	.long V2P(_bss_end)     /* bss_end_addr */
	.long V2P(_start32)     /* entry_addr */

	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0 /* i386 */
	.long mb2_end - mb2_header
	.long -(MB2_MAGIC + (mb2_end - mb2_header))
	/* entry address tag */
	.short 3, 0
	.long 12
	.long V2P(_start32)
	.long 0 /* pad to 8 */
	/* module alignment tag */
	.short 6, 0
	.long 8
	/* end tag */
	.short 0, 0
	.long 8
mb2_end:

	.section .boot.text, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	mov %eax, %edi
	mov %ebx, %esi
	mov $V2P(boot_stack_top), %esp

	/* Long mode present? Otherwise say so on COM1 and stop. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode

	mov %cr4, %eax
	or $0x20, %eax          /* PAE */
	mov %eax, %cr4
	mov $V2P(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx   /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax    /* PG | WP | PE */
	mov %eax, %cr0
	lgdt V2P(boot_gdt_ptr)
	ljmp $SEL_KCODE, $V2P(start64_low)

no_long_mode:
	mov $V2P(msg_no_lm), %ebx
1:	movb (%ebx), %al
	test %al, %al
	jz 3f
	mov $0x3fd, %dx
2:	inb %dx, %al
	test $0x20, %al
	jz 2b
	movb (%ebx), %al
	mov $0x3f8, %dx
	outb %al, %dx
	inc %ebx
	jmp 1b
3:	hlt
	jmp 3b

	.code64
start64_low:
	movabs $start64, %rax
	jmp *%rax

	.text
start64:
	mov $SEL_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	movabs $boot_stack_top, %rsp
	/* clear .bss (the loader may not have); the stack is in it, unused yet */
	mov %rdi, %r12
	mov %rsi, %r13
	movabs $_bss_start, %rdi
	movabs $_bss_end, %rcx
	sub %rdi, %rcx
	shr $3, %rcx
	xor %eax, %eax
	rep stosq
	mov %r12d, %edi
	mov %r13d, %esi
	call kernel_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
msg_no_lm:
	.asciz "hypervisor: this CPU has no 64-bit long mode\r\n"

	.data
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff /* 0x10 kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long V2P(boot_gdt)

/*
 * Boot page tables: phys 0..4 GiB in 2 MiB pages at DMAP_BASE (direct
 * map), phys 0..1 GiB at KERNEL_VBASE (the image) and phys 0..2 MiB at 0
 * (identity, for the switch to long mode and AP start-up). The top GiB
 * (MMIO) is uncached. paging.c narrows these to what each part needs.
 */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad V2P(boot_pdpt_ident) + PTE_P + PTE_W
	.fill 255, 8, 0
	.quad V2P(boot_pdpt_low) + PTE_P + PTE_W /* 256: DMAP_BASE */
	.fill 254, 8, 0
	.quad V2P(boot_pdpt_high) + PTE_P + PTE_W /* 511 */
boot_pdpt_low:
	.quad V2P(boot_pd + 0x0000) + PTE_P + PTE_W
	.quad V2P(boot_pd + 0x1000) + PTE_P + PTE_W
	.quad V2P(boot_pd + 0x2000) + PTE_P + PTE_W
	.quad V2P(boot_pd + 0x3000) + PTE_P + PTE_W
	.fill 508, 8, 0
	.globl boot_pdpt_high
boot_pdpt_high:
	.fill 510, 8, 0
	.quad V2P(boot_pd) + PTE_P + PTE_W /* -2 GiB -> phys 0 */
	.quad 0
boot_pdpt_ident:
	.quad V2P(boot_pd_ident) + PTE_P + PTE_W
	.fill 511, 8, 0
boot_pd_ident:
	.quad PTE_P + PTE_W + PTE_PS
	.fill 511, 8, 0
	.globl boot_pd
boot_pd:
	.set i, 0
	.rept 1536
	.quad (i << 21) + PTE_P + PTE_W + PTE_PS
	.set i, i + 1
	.endr
	.rept 512
	.quad (i << 21) + PTE_P + PTE_W + PTE_PS + PTE_PCD + PTE_PWT
	.set i, i + 1
	.endr

	.bss
	.balign 16
boot_stack: /* until cpu_init() maps the boot CPU's kernel stack */
	.skip 8192
	.globl boot_stack_top
boot_stack_top:
