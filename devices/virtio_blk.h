/*
 * virtio block device (virtio 1.x, 5.2) on the PCI transport, backed by a
 * disk image in the VMM's memory (a boot module copied there): one request
 * queue; reads, writes, FLUSH (nothing to do: memory is the medium),
 * GET_ID, DISCARD and WRITE_ZEROES (both zero the sectors); optionally
 * read-only. Offers VIRTIO_BLK_F_SIZE_MAX, SEG_MAX, BLK_SIZE (512), FLUSH,
 * DISCARD, WRITE_ZEROES and RO. Linux binds virtio_blk (/dev/vda).
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include "virtio_pci.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_QUEUE 128
#define VIRTIO_BLK_SEG_MAX (VIRTIO_BLK_QUEUE - 2) /* data buffers beside header and status */
#define VIRTIO_BLK_SIZE_MAX (1u << 20)           /* bytes per buffer */
#define VIRTIO_BLK_MAX_RANGES 16                  /* DISCARD/WRITE_ZEROES segments per request */
#define VIRTIO_BLK_MAX_RANGE_SECTORS 0x8000       /* sectors per segment */

struct virtio_blk {
	struct virtio_pci vp;  /* first: the transport (and its PCI function) */
	struct vq_req req;
	uint8_t *disk;         /* the image; sectors * VIRTIO_BLK_SECTOR bytes */
	uint64_t sectors;
	bool ro;
	uint64_t reads, writes, flushes, errors; /* requests */
};

/* disk: size bytes (whole sectors are the disk; the rest is ignored). */
void virtio_blk_init(struct virtio_blk *b, const struct platform *pf, unsigned devfn, uint8_t *disk, uint64_t size,
		     bool ro);

#endif
