/*
 * virtio block device (virtio 1.x, 5.2) on a disk image in memory. A
 * request is a 16-byte header (type, reserved, sector) in the readable
 * buffers, then data, and a status byte as the last writable byte
 * (5.2.6). Lengths, sectors and ranges are checked against the disk before
 * anything is copied; a request that is malformed or out of range gets
 * VIRTIO_BLK_S_IOERR (unknown types VIRTIO_BLK_S_UNSUPP), and one without
 * room for a status gets nothing written back.
 */
#include "virtio_blk.h"
#include <string.h>

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define WZ_FLAG_UNMAP 1

/* struct virtio_blk_config offsets */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_SIZE 60

/* Whether sectors [sector, sector + n) are on the disk (no overflow). */
static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->sectors && n <= b->sectors - sector;
}

/* DISCARD and WRITE_ZEROES: segments of (sector, num_sectors, flags). */
static uint8_t zero_ranges(struct virtio_blk *b, const struct virtq *q, const struct vq_req *req, bool discard)
{
	uint64_t len = req->out_len - 16;
	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (len == 0 || len % 16 || len / 16 > VIRTIO_BLK_MAX_RANGES)
		return VIRTIO_BLK_S_UNSUPP;
	uint8_t seg[VIRTIO_BLK_MAX_RANGES][16];
	unsigned n = (unsigned)(len / 16);
	if (!vq_read(q, req, 16, seg, len))
		return VIRTIO_BLK_S_IOERR;
	for (unsigned i = 0; i < n; i++) { /* all checked before any is done */
		uint64_t sector = virtio_get_le(seg[i], 8), num = virtio_get_le(seg[i] + 8, 4), flags = virtio_get_le(seg[i] + 12, 4);
		if (flags & ~(uint64_t)(discard ? 0 : WZ_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP; /* 5.2.6.2: unknown or, for DISCARD, any flag */
		if (num > VIRTIO_BLK_MAX_RANGE_SECTORS || !in_range(b, sector, num))
			return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned i = 0; i < n; i++)
		memset(b->disk + virtio_get_le(seg[i], 8) * VIRTIO_BLK_SECTOR, 0, virtio_get_le(seg[i] + 8, 4) * VIRTIO_BLK_SECTOR);
	return VIRTIO_BLK_S_OK;
}

/* Serves one request; *data is what it wrote into the data buffers. */
static uint8_t request(struct virtio_blk *b, const struct vq_req *req, uint64_t *data)
{
	const struct virtq *q = &b->vp.vq[0];
	uint8_t hdr[16];
	*data = 0;
	if (req->out_len < sizeof(hdr) || !vq_read(q, req, 0, hdr, sizeof(hdr)))
		return VIRTIO_BLK_S_IOERR;
	uint32_t type = (uint32_t)virtio_get_le(hdr, 4);
	uint64_t sector = virtio_get_le(hdr + 8, 8), in = req->in_len - 1, out = req->out_len - sizeof(hdr);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		b->reads++;
		if (in % VIRTIO_BLK_SECTOR || !in_range(b, sector, in / VIRTIO_BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
		if (!vq_write(q, req, 0, b->disk + sector * VIRTIO_BLK_SECTOR, in))
			return VIRTIO_BLK_S_IOERR;
		*data = in;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		b->writes++;
		if (b->ro || out % VIRTIO_BLK_SECTOR || !in_range(b, sector, out / VIRTIO_BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
		return vq_read(q, req, sizeof(hdr), b->disk + sector * VIRTIO_BLK_SECTOR, out) ? VIRTIO_BLK_S_OK
											   : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_FLUSH:
		b->flushes++;
		return VIRTIO_BLK_S_OK; /* the medium is memory: nothing is cached before it */
	case VIRTIO_BLK_T_GET_ID: {
		static const char id[VIRTIO_BLK_ID_BYTES] = "mhv-memdisk";
		uint64_t n = in < VIRTIO_BLK_ID_BYTES ? in : VIRTIO_BLK_ID_BYTES;
		if (!vq_write(q, req, 0, id, n))
			return VIRTIO_BLK_S_IOERR;
		*data = n;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return zero_ranges(b, q, req, type == VIRTIO_BLK_T_DISCARD);
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static uint32_t blk_request(struct virtio_pci *vp, const struct vq_req *req)
{
	struct virtio_blk *b = vp->dev;
	if (req->in_len == 0) { /* no room for a status: nothing to say */
		b->errors++;
		return 0;
	}
	uint64_t data;
	uint8_t status = request(b, req, &data);
	if (status != VIRTIO_BLK_S_OK) {
		b->errors++;
		data = 0;
	}
	if (!vq_write(&vp->vq[0], req, req->in_len - 1, &status, 1))
		return 0;
	return (uint32_t)(data + 1);
}

static void blk_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_blk *b = vp->dev;
	virtio_pci_serve(vp, q, &b->req, blk_request);
}

static const struct virtio_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x01800000u, /* mass storage, other */
	.nqueues = 1,
	.queue_max = VIRTIO_BLK_QUEUE,
	.features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES,
	.cfg_size = CFG_SIZE,
	.notify = blk_notify,
};

static const struct virtio_ops blk_ro_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x01800000u,
	.nqueues = 1,
	.queue_max = VIRTIO_BLK_QUEUE,
	.features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_RO,
	.cfg_size = CFG_SIZE,
	.notify = blk_notify,
};

void virtio_blk_init(struct virtio_blk *b, const struct platform *pf, unsigned devfn, uint8_t *disk, uint64_t size,
		     bool ro)
{
	memset(b, 0, sizeof(*b));
	b->disk = disk;
	b->sectors = size / VIRTIO_BLK_SECTOR;
	b->ro = ro;
	virtio_pci_init(&b->vp, pf, devfn, ro ? &blk_ro_ops : &blk_ops, b);
	uint8_t *c = b->vp.cfg;
	virtio_put_le(c + CFG_CAPACITY, b->sectors, 8);
	virtio_put_le(c + CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX, 4);
	virtio_put_le(c + CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
	virtio_put_le(c + CFG_BLK_SIZE, VIRTIO_BLK_SECTOR, 4);
	virtio_put_le(c + CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_RANGE_SECTORS, 4);
	virtio_put_le(c + CFG_MAX_DISCARD_SEG, VIRTIO_BLK_MAX_RANGES, 4);
	virtio_put_le(c + CFG_DISCARD_ALIGN, 1, 4);
	virtio_put_le(c + CFG_MAX_WZ_SECTORS, VIRTIO_BLK_MAX_RANGE_SECTORS, 4);
	virtio_put_le(c + CFG_MAX_WZ_SEG, VIRTIO_BLK_MAX_RANGES, 4);
}
