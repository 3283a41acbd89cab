/*
 * Test guest startup. Entered like a boot sector: 16-bit real mode at
 * CS:IP = 0x1000:0000 (linear 0x10000), interrupts off, no BIOS. Switches
 * to 32-bit protected mode, clears .bss, builds identity page tables for
 * the first 4 MiB (2 MiB pages) plus one uncached 4 KiB page for the MMIO
 * test device, enables PAE, EFER.LME and paging, and enters 64-bit mode
 * at guest_main(). Also: the GDT, the interrupt stubs and the stack.
 */

#define LOAD_ADDR 0x10000
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18
#define SEL_UDATA 0x28
#define SEL_UCODE32 0x48
#define PORT_MODE 0x51c
#define PORT_EXIT 0x501
#define MODE_ACLOOP 16
#define CR0_AM 0x00040000
#define MMIO_BASE 0xfeb00000
#define TEST_PAGE 0xfea00000
#define PTE_P 0x01
#define PTE_RW 0x02
#define PTE_US 0x04
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS 0x80
#define CR0_PE 0x00000001
#define CR0_ET 0x00000010
#define CR0_NE 0x00000020
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100

	.section .text.start, "ax"
	.code16
	.globl _start
_start:
	cli
	cld
	movw %cs, %ax			/* 0x1000: offsets below are from 0x10000 */
	movw %ax, %ds
	lgdtl gdt_desc - LOAD_ADDR
	/* absolute values: CD and NW (set at reset) go, caching is on */
	movl $CR0_PE + CR0_ET + CR0_NE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $start32

	.code32
start32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movw $PORT_MODE, %dx
	inl %dx, %eax
	cmpl $-1, %eax			/* no such port: not under a microhv VMM */
	je 1f
	testl $MODE_ACLOOP, %eax
	jnz ac_loop
1:

	/* .bss: page tables, stack, IDT, variables (4-byte multiple) */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0] -> PD for 0-1 GiB, PDPT[3] -> PD for 3-4 GiB;
	 * 0-4 MiB also for CPL 3 (the syscall check) */
	movl $pdpt + PTE_P + PTE_RW + PTE_US, pml4
	movl $pd_low + PTE_P + PTE_RW + PTE_US, pdpt
	movl $pd_high + PTE_P + PTE_RW, pdpt + ((MMIO_BASE >> 30) & 511) * 8
	/* 0-4 MiB identity, write-back */
	movl $0x000000 + PTE_P + PTE_RW + PTE_US + PTE_PS, pd_low
	movl $0x200000 + PTE_P + PTE_RW + PTE_US + PTE_PS, pd_low + 8
	/* the test device: one 4 KiB page, PCD|PWT (PAT entry 3: UC) */
	movl $pt_mmio + PTE_P + PTE_RW, pd_high + ((MMIO_BASE >> 21) & 511) * 8
	movl $MMIO_BASE + PTE_P + PTE_RW + PTE_PWT + PTE_PCD, pt_mmio + ((MMIO_BASE >> 12) & 511) * 8
	/* the VMM's test page, 1 MiB below: ordinary write-back memory */
	movl $TEST_PAGE + PTE_P + PTE_RW, pt_mmio + ((TEST_PAGE >> 12) & 511) * 8

	movl $pml4, %eax
	movl %eax, %cr3
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	movl $EFER_LME, %eax
	xorl %edx, %edx
	wrmsr
	movl $CR0_PG + CR0_WP + CR0_NE + CR0_ET + CR0_PE, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	leaq stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call guest_main
1:	cli
	hlt
	jmp 1b

/*
 * Mode acloop (port 0x51c bit 4), instead of the checks: the #AC loop of
 * CVE-2015-5307 in legacy protected mode. At CPL 3 with CR0.AM, RFLAGS.AC
 * and an odd ESP, a push raises #AC; its handler is a CPL 3 code segment,
 * so the CPU delivers it on that same stack, which raises #AC again, and
 * so on: a CPU left to itself loops there in microcode. If no #AC comes
 * (the CPU does not check alignment) the guest says so and exits.
 */
	.code32
ac_loop:
	movl $stack_top, %esp
	movl $ac_msg_start, %esi
	call puts32
	movl $ac_handler, %eax		/* IDT vector 17: 32-bit interrupt gate to CPL 3 code */
	movw %ax, idt32 + 17 * 8
	movw $SEL_UCODE32, idt32 + 17 * 8 + 2
	movw $0x8e00, idt32 + 17 * 8 + 4
	shrl $16, %eax
	movw %ax, idt32 + 17 * 8 + 6
	lidt idt32_desc
	movl %cr0, %eax
	orl $CR0_AM, %eax
	movl %eax, %cr0
	pushl $SEL_UDATA + 3
	pushl $ac_stack_top - 1		/* odd */
	pushl $0x43002			/* AC, IOPL 3 (for the ports below), IF clear */
	pushl $SEL_UCODE32 + 3
	pushl $ac_user
	iretl
ac_user:				/* CPL 3 */
	pushl %eax			/* #AC here, and in its delivery, for ever */
	movl $ac_msg_none, %esi
	jmp 1f
ac_handler:				/* reached only if the #AC was delivered */
	movl $ac_msg_handler, %esi
1:	call puts32
	movw $PORT_EXIT, %dx
	movb $0, %al
	outb %al, %dx
	jmp .

/* The NUL-terminated string at ESI to the UART (a port 0x3f8 write per byte). */
puts32:
	movw $0x3f8, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	ret
	.code64

/*
 * Interrupt stubs: push a zero error code where the CPU pushes none, then
 * the vector, save the registers (struct frame in guest.h) and call trap(),
 * which may change the saved RIP. The stack is 16-byte aligned at the call:
 * 5 words from the CPU + 2 + 15 = 22 words.
 */
	.text
.macro isr vec
	.balign 16
isr_\vec:
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,48
	isr \v
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,48
	.quad isr_\v
	.endr

	.data
	.balign 16
	.globl gdt
gdt:	/* accessed bits preset: the CPU need not write the table */
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code, base 0, 4 GiB */
	.quad 0x00cf93000000ffff	/* 0x10: data, base 0, 4 GiB */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x20: data (SYSCALL's SS: STAR[47:32] + 8) */
	.quad 0x00cff3000000ffff	/* 0x28: user data (SYSRET's SS: STAR[63:48] + 8) */
	.quad 0x00affb000000ffff	/* 0x30: user 64-bit code (SYSRET's CS: STAR[63:48] + 16) */
	.quad 0, 0			/* 0x38: the 64-bit TSS, filled in by tss_init() */
	.quad 0x00cffb000000ffff	/* 0x48: user 32-bit code (mode acloop) */
gdt_end:
	.balign 4
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.balign 8
idt32:	.skip 18 * 8			/* mode acloop: only vector 17 */
idt32_desc:
	.word 18 * 8 - 1
	.long idt32
ac_msg_start:
	.asciz "test guest: #AC loop at CPL 3 in legacy protected mode\n"
ac_msg_none:
	.asciz "test guest: acloop: no #AC at all: this CPU does not check alignment\n"
ac_msg_handler:
	.asciz "test guest: acloop: FAILED: the #AC was delivered\n"

	.bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
	.globl pd_low
pd_low:	.skip 4096
pd_high: .skip 4096
pt_mmio: .skip 4096
stack:	.skip 8192
stack_top:
ac_stack: .skip 256
ac_stack_top:

	.section .note.GNU-stack, "", @progbits
