/*
 * Split virtqueues (virtio 1.x, 2.7) as a device sees them: take a request
 * (a descriptor chain, direct or through an indirect table) from the
 * available ring, copy data out of and into its buffers, put it on the used
 * ring, and decide whether the driver wants an interrupt (EVENT_IDX or
 * NO_INTERRUPT). Everything in guest memory is read through the platform
 * (platform_mem_read/write) and checked: a malformed ring is reported, never
 * followed into a loop or outside guest RAM.
 */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include "platform.h"
#include <stdbool.h>
#include <stdint.h>

#define VQ_MAX_SIZE 256  /* largest queue any model offers */
#define VQ_MAX_SEGS VQ_MAX_SIZE /* a chain may not be longer than the queue (2.7.5.3.1) */

/* Descriptor flags (2.7.5) */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* Ring flags (2.7.6, 2.7.8) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq {
	const struct platform *pf;
	uint16_t size;            /* entries; a power of two once enabled */
	bool enabled;
	bool event_idx, indirect; /* negotiated VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC */
	uint64_t desc, avail, used; /* guest-physical: descriptor table, driver and device areas */
	uint16_t last_avail;      /* the next available-ring entry to take */
	uint16_t used_idx;        /* what the device last wrote to used->idx */
	uint16_t signalled;       /* used_idx when the driver was last interrupted (EVENT_IDX) */
	bool signalled_valid;
};

/* One buffer of a request. */
struct vq_seg {
	uint64_t addr;
	uint32_t len;
};

/* A request: the device-readable buffers first (out), then the
 * device-writable ones (in), as 2.7.4.2 orders them. */
struct vq_req {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len;
	struct vq_seg seg[VQ_MAX_SEGS];
};

enum vq_status {
	VQ_EMPTY = 0,  /* nothing available */
	VQ_OK = 1,     /* *req filled */
	VQ_BROKEN = -1 /* malformed ring: the device needs a reset */
};

/* Power-on state of a queue of at most max entries. */
void vq_reset(struct virtq *q, const struct platform *pf, uint16_t max);
/* Checks size and alignment of an enabled queue: false if unusable. */
bool vq_valid(const struct virtq *q);
/* Takes the next available request. */
enum vq_status vq_pop(struct virtq *q, struct vq_req *req);
/* Copies len bytes at offset off of the request's readable (out) or
 * writable (in) buffers; false if a buffer is not in guest RAM or the
 * request is shorter. */
bool vq_read(const struct virtq *q, const struct vq_req *req, uint64_t off, void *buf, size_t len);
bool vq_write(const struct virtq *q, const struct vq_req *req, uint64_t off, const void *buf, size_t len);
/* Returns request head to the driver with len bytes written; false if the
 * used ring is not in guest RAM (broken). */
bool vq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the last
 * call (VIRTIO_F_EVENT_IDX's used_event, else NO_INTERRUPT); false also if
 * the ring is unreadable. */
bool vq_should_notify(struct virtq *q);
/* With EVENT_IDX: tells the driver to notify once it adds past the
 * entries taken so far, and says whether more arrived meanwhile. */
bool vq_enable_notify(struct virtq *q);

#endif
