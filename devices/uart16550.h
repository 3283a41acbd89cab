#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdint.h>

/* A 16550A model; output is collected per line and printed by the VMM. */
struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	unsigned len;
	char line[160];
};

uint64_t uart16550_read(void *ctx, uint64_t off, unsigned size);
void uart16550_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

#endif
