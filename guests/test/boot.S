/*
 * QEMU wrapper only (not part of the guest): a floppy boot sector that
 * makes SeaBIOS start the test guest the way the VMM does. Loaded at 0x7c00
 * by the BIOS; reads GUEST_SECTORS sectors from LBA 1 of the boot drive to
 * 0x1000:0000 with int 13h, enables A20, and jumps to 0x1000:0000 in real
 * mode with interrupts off and FLAGS = 0x0002.
 * Geometry: 1.44 MB floppy, 18 sectors per track, 2 heads.
 */
#ifndef GUEST_SECTORS
#error "GUEST_SECTORS: size of the guest binary in 512-byte sectors"
#endif

#define SPT 18
#define LOAD_SEG 0x1000

	.code16
	.text
	.globl boot
boot:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7c00, %sp
	ljmp $0, $1f			/* CS:IP = 0000:7cxx, whatever the BIOS used */
1:	sti
	cld
	movb %dl, drive

	inb $0x92, %al			/* fast A20 gate on, no reset */
	orb $2, %al
	andb $0xfe, %al
	outb %al, $0x92

	movw $LOAD_SEG, %ax
	movw %ax, %es
	movw $1, %si			/* LBA */
	movw $GUEST_SECTORS, %di	/* sectors left */
next:
	movw $3, %bp			/* tries */
retry:
	movw %si, %ax
	xorw %dx, %dx
	movw $SPT, %cx
	divw %cx			/* ax = track, dx = sector - 1 */
	movb %dl, %cl
	incb %cl
	movb %al, %dh
	andb $1, %dh			/* head */
	shrw $1, %ax
	movb %al, %ch			/* cylinder */
	movb drive, %dl
	xorw %bx, %bx			/* es:bx = buffer */
	movw $0x0201, %ax		/* read 1 sector */
	int $0x13
	jnc 2f
	xorb %ah, %ah			/* reset the drive, try again */
	movb drive, %dl
	int $0x13
	decw %bp
	jnz retry
	movw $msg_error, %si
	jmp die
2:	movw %es, %ax
	addw $512 / 16, %ax
	movw %ax, %es
	incw %si
	decw %di
	jnz next

	cli
	pushw $0x0002
	popfw
	ljmp $LOAD_SEG, $0

die:	/* message to COM1 (polled), then stop */
	lodsb
	testb %al, %al
	jz 4f
	movb %al, %bl
	movw $0x3fd, %dx
3:	inb %dx, %al
	testb $0x20, %al
	jz 3b
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp die
4:	cli
	hlt
	jmp 4b

drive:	.byte 0
msg_error:
	.asciz "boot: disk read error\n"

	.org 510
	.word 0xaa55

	.section .note.GNU-stack, "", @progbits
