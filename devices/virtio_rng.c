/*
 * virtio entropy device (virtio 1.x, 5.4). A request is device-writable
 * buffers only; the device may fill less than all of them (5.4.6.1), so a
 * source that runs dry gives a shorter answer, never a wait.
 */
#include "virtio_rng.h"
#include <string.h>

static uint32_t rng_request(struct virtio_pci *vp, const struct vq_req *req)
{
	struct virtio_rng *r = vp->dev;
	uint64_t want = req->in_len < VIRTIO_RNG_MAX_REQ ? req->in_len : VIRTIO_RNG_MAX_REQ;
	uint32_t done = 0;
	uint8_t buf[64];
	while (done < want) {
		size_t n = want - done < sizeof(buf) ? (size_t)(want - done) : sizeof(buf);
		size_t got = platform_entropy(vp->pf, buf, n);
		if (got > n)
			got = n;
		if (got == 0)
			break;
		if (!vq_write(&vp->vq[0], req, done, buf, got)) {
			r->failed++; /* a buffer outside guest RAM: the request fails */
			done = 0;
			break;
		}
		done += (uint32_t)got;
	}
	memset(buf, 0, sizeof(buf));
	r->bytes += done;
	return done;
}

static void rng_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_rng *r = vp->dev;
	virtio_pci_serve(vp, q, &r->req, rng_request);
}

static const struct virtio_ops rng_ops = {
	.device_id = VIRTIO_ID_ENTROPY,
	.pci_class = 0xff000000u, /* unclassified device */
	.nqueues = 1,
	.queue_max = 64,
	.notify = rng_notify,
};

void virtio_rng_init(struct virtio_rng *r, const struct platform *pf, unsigned devfn)
{
	memset(r, 0, sizeof(*r));
	virtio_pci_init(&r->vp, pf, devfn, &rng_ops, r);
}
