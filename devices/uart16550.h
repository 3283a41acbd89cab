#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * A 16550A: the transmitter sends at once (output is collected per line and
 * printed through the VMM's console), the receiver has a FIFO filled by
 * uart16550_receive(). With irq >= 0 the interrupt output (gated by
 * MCR.OUT2, as on a PC) drives that line through platform_irq().
 */
#define UART_RX_FIFO 256

struct uart16550 {
	const struct platform *pf; /* NULL: no interrupt line */
	int irq;                  /* ISA IRQ, or -1: no interrupt line */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;        /* THR-empty interrupt not yet acknowledged */
	bool irq_level;
	unsigned rx_head, rx_count;
	uint8_t rx[UART_RX_FIFO];
	unsigned len;
	char line[160];
	unsigned esc;             /* in a control sequence: 1 after ESC, then 2.. in CSI */
};

void uart16550_init(struct uart16550 *u, const struct platform *pf, int irq);
uint64_t uart16550_read(void *ctx, uint64_t off, unsigned size);
void uart16550_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
/* A byte from the terminal; false if the FIFO is full. */
bool uart16550_receive(struct uart16550 *u, uint8_t b);
/* Print a partial output line (a shell prompt) without ending it. */
void uart16550_flush_partial(struct uart16550 *u);

#endif
