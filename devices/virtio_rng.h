/*
 * virtio entropy device (virtio 1.x, 5.4) on the PCI transport: one request
 * queue; every buffer the driver makes available comes back filled with
 * bytes from platform_entropy() (RDSEED/RDRAND in the VMM), at most
 * VIRTIO_RNG_MAX_REQ bytes per request. Linux binds virtio_rng (/dev/hwrng).
 */
#ifndef DEVICES_VIRTIO_RNG_H
#define DEVICES_VIRTIO_RNG_H

#include "virtio_pci.h"

#define VIRTIO_ID_ENTROPY 4
#define VIRTIO_RNG_MAX_REQ 4096

struct virtio_rng {
	struct virtio_pci vp;  /* first: the transport (and its PCI function) */
	struct vq_req req;
	uint64_t bytes;        /* entropy given to the guest */
	unsigned failed;       /* requests with buffers outside guest RAM */
};

void virtio_rng_init(struct virtio_rng *r, const struct platform *pf, unsigned devfn);

#endif
