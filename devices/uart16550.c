/*
 * 16550A UART model. The transmitter is always empty, so guests never
 * wait; bytes are collected into lines and printed through the VMM's
 * console. Terminal control sequences (ESC and the CSI sequences ESC [
 * ... final byte, e.g. a shell's cursor-position query ESC [ 6 n) are
 * dropped: the console is line-based and would show them as garbage.
 * The receiver FIFO holds terminal input. Interrupts: receive data
 * available and THR empty, with the 16550's IIR priorities.
 */
#include "uart16550.h"
#include "platform.h"
#include <stdio.h>
#include <string.h>

#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDI 0x01
#define IER_THRI 0x02
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define FCR_ENABLE 0x01

void uart16550_init(struct uart16550 *u, const struct platform *pf, int irq)
{
	memset(u, 0, sizeof(*u));
	u->pf = pf;
	u->irq = pf ? irq : -1;
}

static void out_line(struct uart16550 *u, bool end)
{
	u->line[u->len] = 0;
	printf(end ? "%s\n" : "%s", u->line);
	u->len = 0;
}

void uart16550_flush_partial(struct uart16550 *u)
{
	if (u->len)
		out_line(u, false);
}

static unsigned iir(const struct uart16550 *u)
{
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	return IIR_NONE;
}

static void update_irq(struct uart16550 *u)
{
	bool level = iir(u) != IIR_NONE && (u->mcr & MCR_OUT2);
	if (u->irq >= 0 && level != u->irq_level) {
		u->irq_level = level;
		platform_irq(u->pf, (unsigned)u->irq, level);
	}
}

bool uart16550_receive(struct uart16550 *u, uint8_t b)
{
	if (u->rx_count == UART_RX_FIFO)
		return false;
	u->rx[(u->rx_head + u->rx_count++) % UART_RX_FIFO] = b;
	update_irq(u);
	return true;
}

#define ESC_MAX 32 /* a longer "sequence" is text after all */

/* Drops terminal control sequences; true if b was part of one. */
static bool escape(struct uart16550 *u, uint8_t b)
{
	if (b == 0x1b) {
		u->esc = 1;
		return true;
	}
	if (!u->esc)
		return false;
	if (b < 0x20 || u->esc > ESC_MAX) { /* a control character ends any sequence */
		u->esc = 0;
		return false;
	}
	if (u->esc == 1)
		u->esc = b == '[' ? 2 : 0; /* ESC [ starts CSI; ESC x is a two-byte sequence */
	else if (b >= 0x40 && b <= 0x7e)
		u->esc = 0; /* CSI final byte */
	else
		u->esc++; /* CSI parameter or intermediate byte */
	return true;
}

static void transmit(struct uart16550 *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		(void)uart16550_receive(u, b);
		return;
	}
	if (escape(u, b))
		return;
	if (b == '\n') {
		out_line(u, true);
	} else if (b != '\r') {
		u->line[u->len++] = (b >= 0x20 && b < 0x7f) || b == '\t' ? (char)b : '.';
		if (u->len == sizeof(u->line) - 1)
			out_line(u, true);
	}
}

uint64_t uart16550_read(void *ctx, uint64_t off, unsigned size)
{
	struct uart16550 *u = ctx;
	uint64_t v;
	(void)size;
	switch (off) {
	case 0:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		v = 0;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
			u->rx_count--;
			update_irq(u);
		}
		return v;
	case 1:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case 2:
		v = iir(u);
		if (v == IIR_THRI) { /* reading IIR acknowledges THR empty */
			u->thre_pending = false;
			update_irq(u);
		}
		return v | (u->fcr & FCR_ENABLE ? 0xc0 : 0);
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case 6:
		if (u->mcr & MCR_LOOP) /* loopback: the modem inputs are the MCR outputs */
			return ((u->mcr & 0x2) << 3) | ((u->mcr & 0x1) << 5) | ((u->mcr & 0x4) << 4) |
			       ((u->mcr & 0x8) << 4);
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
		} else {
			transmit(u, b);
			u->thre_pending = true; /* sent at once: THR empty again */
		}
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = b;
		} else {
			if ((b & IER_THRI) && !(u->ier & IER_THRI))
				u->thre_pending = true;
			u->ier = b & 0xf;
		}
		break;
	case 2:
		u->fcr = b & 0xc9;
		if (b & 0x02) /* clear the receive FIFO */
			u->rx_count = 0;
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
	update_irq(u);
}
