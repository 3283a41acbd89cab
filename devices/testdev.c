/* The test guest's device: test ports, an exit port, a timer, an MMIO page. */
#include "testdev.h"

static uint64_t mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }

/* Ports 0x500..0x523, offsets from 0x500. */
uint64_t testdev_pio_read(void *ctx, uint64_t off, unsigned size)
{
	struct testdev *t = ctx;
	switch (off) {
	case 0x08:
		return t->vect_exits & mask(size);
	case 0x0c:
		return t->last_vect & mask(size);
	case 0x10:
		return 0x12345678u & mask(size);
	case 0x14:
		return t->last_out & mask(size);
	case 0x1c:
		return t->mode & mask(size);
	case 0x20:
		return t->host_code & mask(size);
	default:
		return ~0ull & mask(size);
	}
}

void testdev_pio_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct testdev *t = ctx;
	if (off == 0x01)
		t->exit_code = (int)(val & mask(size));
	else if (off == 0x04)
		t->nmi_requests++;
	else if (off == 0x08)
		t->page_cmd = (uint32_t)(val & mask(size));
	else if (off == 0x10)
		t->last_out = val & mask(size);
	else if (off == 0x18)
		t->timer_us = (val & mask(size)) ? val & mask(size) : 1;
}

uint64_t testdev_mmio_read(void *ctx, uint64_t off, unsigned size)
{
	struct testdev *t = ctx;
	uint64_t v = 0;
	if (off < 8)
		v = t->scratch >> (off * 8);
	else if (off < 16)
		v = 0xfeedfacecafebeefull >> ((off - 8) * 8);
	else if (off < 24)
		v = t->writes >> ((off - 16) * 8);
	return v & mask(size);
}

void testdev_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct testdev *t = ctx;
	t->writes++;
	if (off < 8) {
		unsigned sh = (unsigned)off * 8;
		uint64_t m = mask(size) << sh;
		t->scratch = (t->scratch & ~m) | ((val << sh) & m);
	}
}
