/*
 * Split virtqueues, the device side (virtio 1.x, 2.7). The driver owns the
 * rings and may change them at any time, so every field is read once into
 * a local and checked before use: a head or next index beyond the table, a
 * chain longer than the queue (which is what a loop looks like), an
 * indirect table inside an indirect table or beside NEXT, a readable buffer
 * after a writable one, more entries available than the queue holds, or a
 * ring outside guest RAM make the queue broken (VQ_BROKEN). Buffers outside
 * RAM fail only the request that names them (vq_read/vq_write).
 */
#include "virtqueue.h"
#include <string.h>

#define DESC_SIZE 16

static bool rd16(const struct virtq *q, uint64_t gpa, uint16_t *v)
{
	uint8_t b[2];
	if (!platform_mem_read(q->pf, gpa, b, 2))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

static bool wr16(const struct virtq *q, uint64_t gpa, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return platform_mem_write(q->pf, gpa, b, 2);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

void vq_reset(struct virtq *q, const struct platform *pf, uint16_t max)
{
	memset(q, 0, sizeof(*q));
	q->pf = pf;
	q->size = max;
}

bool vq_valid(const struct virtq *q)
{
	/* split rings need a power of two (2.7); the areas' alignment is 2.7.2's */
	return q->size && !(q->size & (q->size - 1)) && q->size <= VQ_MAX_SIZE && !(q->desc & 15) &&
	       !(q->avail & 1) && !(q->used & 3);
}

/* Walks the chain at head into req. */
static enum vq_status walk(const struct virtq *q, uint16_t head, struct vq_req *req)
{
	uint64_t table = q->desc;
	unsigned tsize = q->size, i = head, steps = 0, n = 0;
	bool nested = false;

	req->nout = req->nin = 0;
	req->out_len = req->in_len = 0;
	for (;;) {
		uint8_t d[DESC_SIZE];
		if (!platform_mem_read(q->pf, table + (uint64_t)i * DESC_SIZE, d, sizeof(d)))
			return VQ_BROKEN;
		uint64_t addr = le(d, 8);
		uint32_t len = (uint32_t)le(d + 8, 4);
		uint16_t flags = (uint16_t)le(d + 12, 2), next = (uint16_t)le(d + 14, 2);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3: one table, not nested, not beside NEXT, whole descriptors */
			if (!q->indirect || nested || (flags & VIRTQ_DESC_F_NEXT) || len == 0 || len % DESC_SIZE ||
			    len / DESC_SIZE > VQ_MAX_SEGS)
				return VQ_BROKEN;
			table = addr;
			tsize = len / DESC_SIZE;
			i = 0;
			steps = 0;
			nested = true;
			continue;
		}
		/* a chain visits each descriptor of its table once at most */
		if (++steps > tsize || n == VQ_MAX_SEGS)
			return VQ_BROKEN;
		if (flags & VIRTQ_DESC_F_WRITE) {
			req->nin++;
			req->in_len += len;
		} else {
			if (req->nin)
				return VQ_BROKEN; /* readable after writable (2.7.4.2) */
			req->nout++;
			req->out_len += len;
		}
		req->seg[n].addr = addr;
		req->seg[n].len = len;
		n++;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return VQ_OK;
		if (next >= tsize)
			return VQ_BROKEN;
		i = next;
	}
}

enum vq_status vq_pop(struct virtq *q, struct vq_req *req)
{
	uint16_t idx, head;
	if (!q->enabled)
		return VQ_EMPTY;
	if (!rd16(q, q->avail + 2, &idx))
		return VQ_BROKEN;
	uint16_t pending = (uint16_t)(idx - q->last_avail);
	if (pending == 0)
		return VQ_EMPTY;
	if (pending > q->size)
		return VQ_BROKEN; /* the driver claims more than the ring holds */
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the entry after the index */
	if (!rd16(q, q->avail + 4 + 2ull * (q->last_avail & (q->size - 1)), &head) || head >= q->size)
		return VQ_BROKEN;
	enum vq_status s = walk(q, head, req);
	if (s != VQ_OK)
		return s;
	req->head = head;
	q->last_avail++;
	return VQ_OK;
}

/* Copies between buf and the bytes [off, off + len) of the request's out
 * (write = false) or in (write = true) buffers. */
static bool copy(const struct virtq *q, const struct vq_req *req, bool in, uint64_t off, void *buf, size_t len)
{
	unsigned first = in ? req->nout : 0, end = in ? req->nout + req->nin : req->nout;
	uint8_t *p = buf;
	for (unsigned i = first; i < end && len; i++) {
		const struct vq_seg *s = &req->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t n = s->len - off < len ? (size_t)(s->len - off) : len;
		if (s->addr + off < s->addr) /* wraps: never RAM */
			return false;
		bool ok = in ? platform_mem_write(q->pf, s->addr + off, p, n) : platform_mem_read(q->pf, s->addr + off, p, n);
		if (!ok)
			return false;
		p += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}

bool vq_read(const struct virtq *q, const struct vq_req *req, uint64_t off, void *buf, size_t len)
{
	return copy(q, req, false, off, buf, len);
}

bool vq_write(const struct virtq *q, const struct vq_req *req, uint64_t off, const void *buf, size_t len)
{
	return copy(q, req, true, off, (void *)buf, len);
}

bool vq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t e[8];
	for (unsigned i = 0; i < 4; i++) {
		e[i] = (uint8_t)(head >> (8 * i));
		e[4 + i] = (uint8_t)(len >> (8 * i));
	}
	if (!platform_mem_write(q->pf, q->used + 4 + 8ull * (q->used_idx & (q->size - 1)), e, sizeof(e)))
		return false;
	__atomic_thread_fence(__ATOMIC_RELEASE); /* the entry before the index */
	if (!wr16(q, q->used + 2, (uint16_t)(q->used_idx + 1)))
		return false;
	q->used_idx++;
	return true;
}

bool vq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled, now = q->used_idx, v;
	q->signalled = now;
	if (old == now)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used->idx before the driver's event/flags */
	if (q->event_idx) {
		/* used_event sits after the available ring (2.7.10) */
		if (!rd16(q, q->avail + 4 + 2ull * q->size, &v))
			return false;
		return (uint16_t)(now - v - 1) < (uint16_t)(now - old);
	}
	return rd16(q, q->avail, &v) && !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vq_enable_notify(struct virtq *q)
{
	uint16_t idx;
	if (!q->enabled)
		return false;
	/* avail_event sits after the used ring */
	if (q->event_idx && !wr16(q, q->used + 4 + 8ull * q->size, q->last_avail))
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return rd16(q, q->avail + 2, &idx) && idx != q->last_avail;
}
