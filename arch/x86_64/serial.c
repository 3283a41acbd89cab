/*
 * Kernel log output on the first 16550 UART (COM1). The console server
 * drives the same UART from user space; the kernel only writes whole
 * lines under a lock, polling the transmitter.
 */
#include <arch/cpu.h>
#include <arch/serial.h>

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

/* 115200 8N1, FIFOs on; the console server reprograms it later. */
void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80);
	outb(COM1 + 0, 1);
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03);
	outb(COM1 + UART_FCR, 0x07);
	outb(COM1 + UART_MCR, 0x03);
}

void serial_putc(char c)
{
	unsigned spins = 0;
	while (!(inb(COM1 + UART_LSR) & LSR_THRE) && ++spins < 100000)
		;
	outb(COM1 + UART_THR, (u8)c);
}
