/*
 * virtio console device (virtio 1.x, 5.3), one port, no control queues.
 * Transmit requests are device-readable buffers, handed to the output
 * function in pieces; receive requests are device-writable buffers filled
 * with input as it comes (5.3.6.1: the device fills them in order).
 */
#include "virtio_console.h"
#include <string.h>

static uint32_t tx_request(struct virtio_pci *vp, const struct vq_req *req)
{
	struct virtio_console *c = vp->dev;
	uint64_t n = req->out_len < VIRTIO_CONSOLE_MAX_TX ? req->out_len : VIRTIO_CONSOLE_MAX_TX;
	uint8_t buf[256];
	for (uint64_t off = 0; off < n;) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
		if (!vq_read(&vp->vq[VIRTIO_CONSOLE_TXQ], req, off, buf, k)) {
			c->failed++; /* a buffer outside guest RAM: the rest is dropped */
			break;
		}
		c->out(c->out_ctx, buf, k);
		c->tx_bytes += k;
		off += k;
	}
	return 0; /* nothing written into a transmit buffer */
}

static void console_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_console *c = vp->dev;
	if (q == VIRTIO_CONSOLE_TXQ)
		virtio_pci_serve(vp, q, &c->req, tx_request);
	/* receive buffers wait for input */
}

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n)
{
	struct virtio_pci *vp = &c->vp;
	struct virtq *q = &vp->vq[VIRTIO_CONSOLE_RXQ];
	size_t done = 0;
	bool pushed = false;
	while (done < n && virtio_pci_running(vp)) {
		enum vq_status s = vq_pop(q, &c->req);
		if (s == VQ_EMPTY)
			break;
		size_t k = n - done < c->req.in_len ? n - done : (size_t)c->req.in_len;
		if (s == VQ_OK && !vq_write(q, &c->req, 0, buf + done, k)) {
			c->failed++; /* this buffer fails; the input waits for the next */
			k = 0;
		}
		if (s == VQ_BROKEN || !vq_push(q, c->req.head, (uint32_t)k)) {
			virtio_pci_broken(vp);
			return done;
		}
		pushed = true;
		done += k;
	}
	c->rx_bytes += done;
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_CONSOLE_RXQ);
	return done;
}

static void console_reset(struct virtio_pci *vp)
{
	/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr */
	memset(vp->cfg, 0, sizeof(vp->cfg));
	vp->cfg[4] = 1;
}

static const struct virtio_ops console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x07800000u, /* simple communication controller, other */
	.nqueues = 2,
	.queue_max = 64,
	.cfg_size = 12,
	.notify = console_notify,
	.reset = console_reset,
};

void virtio_console_init(struct virtio_console *c, const struct platform *pf, unsigned devfn,
			 void (*out)(void *ctx, const uint8_t *buf, size_t n), void *out_ctx)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	c->out_ctx = out_ctx;
	virtio_pci_init(&c->vp, pf, devfn, &console_ops, c);
}
