/*
 * virtio console device (virtio 1.x, 5.3) on the PCI transport: one port
 * (no VIRTIO_CONSOLE_F_MULTIPORT, no F_SIZE), receiveq 0 and transmitq 1.
 * Linux binds virtio_console and names the port hvc0. What the guest sends
 * goes to out(out_ctx, bytes, n) (at most VIRTIO_CONSOLE_MAX_TX bytes of
 * one request); input enters with virtio_console_receive().
 */
#ifndef DEVICES_VIRTIO_CONSOLE_H
#define DEVICES_VIRTIO_CONSOLE_H

#include "virtio_pci.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_MAX_TX 65536
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1

struct virtio_console {
	struct virtio_pci vp;  /* first: the transport (and its PCI function) */
	struct vq_req req;
	void (*out)(void *ctx, const uint8_t *buf, size_t n);
	void *out_ctx;
	uint64_t tx_bytes, rx_bytes;
	unsigned failed;       /* requests with buffers outside guest RAM */
};

void virtio_console_init(struct virtio_console *c, const struct platform *pf, unsigned devfn,
			 void (*out)(void *ctx, const uint8_t *buf, size_t n), void *out_ctx);
/* Input for the guest: how many of the n bytes its receive buffers took
 * (0 while it has none available). */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n);

#endif
