/*
 * 16550A UART model (transmit side and the register file a driver probes):
 * the transmitter is always empty, so guests never wait; bytes are
 * collected into lines and printed through the VMM's console.
 */
#include "uart16550.h"
#include <stdio.h>

#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static void uart_flush(struct uart16550 *u)
{
	u->line[u->len] = 0;
	printf("%s\n", u->line);
	u->len = 0;
}

uint64_t uart16550_read(void *ctx, uint64_t off, unsigned size)
{
	struct uart16550 *u = ctx;
	(void)size;
	switch (off) {
	case 0:
		return u->lcr & LCR_DLAB ? u->dll : 0; /* no input */
	case 1:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case 2:
		return 0xc1; /* FIFOs enabled, no interrupt pending */
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		return LSR_THRE | LSR_TEMT;
	case 6:
		return 0xb0; /* DCD, DSR, CTS */
	default:
		return u->scr;
	}
}

void uart16550_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct uart16550 *u = ctx;
	uint8_t b = (uint8_t)val;
	(void)size;
	switch (off) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = b;
		} else if (b == '\n') {
			uart_flush(u);
		} else if (b != '\r') {
			u->line[u->len++] = (b >= 0x20 && b < 0x7f) ? (char)b : '.';
			if (u->len == sizeof(u->line) - 1)
				uart_flush(u);
		}
		break;
	case 1:
		if (u->lcr & LCR_DLAB)
			u->dlm = b;
		else
			u->ier = b & 0xf;
		break;
	case 3:
		u->lcr = b;
		break;
	case 4:
		u->mcr = b & 0x1f;
		break;
	case 7:
		u->scr = b;
		break;
	}
}
