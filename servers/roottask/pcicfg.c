/*
 * PCI configuration-space logic: BAR decoding, capability walk, write
 * filter (see pcicfg.h). Pure functions, unit tested in
 * tests/unit/test_pcicfg.c.
 */
#include "pcicfg.h"

#include <stddef.h>

/* Decodes BAR i from its values before and after writing all ones. */
unsigned pci_bar_decode(const uint32_t *orig, const uint32_t *sized,
			unsigned i, unsigned nbars, struct pci_bar *out)
{
	uint32_t lo = orig[i], slo = sized[i];
	uint64_t base, mask, size;
	unsigned used = 1;

	out->base = out->size = 0;
	out->flags = 0;
	if (lo & 1) { /* I/O */
		out->flags = PCI_BAR_IO;
		mask = slo & ~(uint32_t)3;
		if (mask && !(mask & 0xffff0000u))
			mask |= 0xffff0000u; /* 16-bit decode */
		base = lo & ~(uint32_t)3;
		size = mask & (~mask + 1);
		if (!size || (base & (size - 1)) || base > 0x10000 ||
		    size > 0x10000 - base)
			return used;
		out->base = base;
		out->size = size;
		return used;
	}
	switch ((lo >> 1) & 3) {
	case 0: /* 32-bit */
	case 1: /* below 1 MiB (legacy): decoded like 32-bit */
		mask = slo & ~(uint32_t)0xf;
		base = lo & ~(uint32_t)0xf;
		break;
	case 2: /* 64-bit: the next register is the upper half */
		if (i + 1 >= nbars)
			return used;
		used = 2;
		out->flags = PCI_BAR_64;
		mask = (uint64_t)sized[i + 1] << 32 | (slo & ~(uint32_t)0xf);
		base = (uint64_t)orig[i + 1] << 32 | (lo & ~(uint32_t)0xf);
		break;
	default: /* reserved type */
		return used;
	}
	if (lo & 8)
		out->flags |= PCI_BAR_PREFETCH;
	size = mask & (~mask + 1);
	if (!size || (base & (size - 1)) || base > UINT64_MAX - (size - 1))
		return used;
	out->base = base;
	out->size = size;
	return used;
}

/* Walks the capability list: the first PM, MSI and MSI-X capabilities. */
void pci_caps_parse(const uint8_t cfg[PCI_CFG_SIZE], struct pci_caps *out)
{
	unsigned p, n;

	*out = (struct pci_caps){0};
	if (!((cfg[PCI_STATUS] | cfg[PCI_STATUS + 1] << 8) & PCI_STATUS_CAPS))
		return;
	p = cfg[PCI_CAP_PTR] & 0xfcu;
	for (n = 0; n < 48 && p >= 0x40; n++, p = cfg[p + 1] & 0xfcu) {
		unsigned id = cfg[p];
		unsigned ctrl = cfg[p + 2] | cfg[p + 3] << 8;
		if (id == PCI_CAP_PM && !out->pm && p + 8 <= PCI_CFG_SIZE) {
			out->pm = p;
		} else if (id == PCI_CAP_MSI && !out->msi) {
			bool is64 = ctrl & (1u << 7), mask = ctrl & (1u << 8);
			unsigned len = 12u + (is64 ? 4u : 0u) + (mask ? 8u : 0u);
			if (p + len > PCI_CFG_SIZE)
				continue;
			out->msi = p;
			out->msi_64 = is64;
			out->msi_mask = mask;
		} else if (id == PCI_CAP_MSIX && !out->msix && p + 12 <= PCI_CFG_SIZE) {
			uint32_t t = cfg[p + 4] | cfg[p + 5] << 8 | cfg[p + 6] << 16 | (uint32_t)cfg[p + 7] << 24;
			uint32_t b = cfg[p + 8] | cfg[p + 9] << 8 | cfg[p + 10] << 16 | (uint32_t)cfg[p + 11] << 24;
			out->msix = p;
			out->msix_n = (ctrl & 0x7ffu) + 1;
			out->msix_bir = t & 7;
			out->msix_off = t & ~7u;
			out->pba_bir = b & 7;
			out->pba_off = b & ~7u;
		}
	}
}

unsigned pci_msi_data_off(const struct pci_caps *c)
{
	return c->msi + (c->msi_64 ? 12u : 8u);
}

bool pci_access_ok(uint64_t off, uint64_t size, unsigned limit)
{
	return (size == 1 || size == 2 || size == 4) && !(off & (size - 1)) && off < limit &&
	       off + size <= limit;
}

/* Kinds of the bytes a driver may write. */
enum pci_wkind { W_NONE, W_FREE, W_MSI_CTRL, W_MSI_ADDR, W_MSI_ADDR_HI, W_MSI_DATA, W_MSIX_CTRL };

struct pci_wreg {
	unsigned off, len;
	enum pci_wkind kind;
};

/* The writable registers of a function (at most 10). */
static unsigned pci_wregs(const struct pci_caps *c, struct pci_wreg *r)
{
	unsigned n = 0;

	r[n++] = (struct pci_wreg){PCI_COMMAND, 4, W_FREE}; /* command, status */
	if (c->pm) {
		r[n++] = (struct pci_wreg){c->pm, 2, W_FREE}; /* header: read-only */
		r[n++] = (struct pci_wreg){c->pm + 4, 2, W_FREE}; /* PMCSR */
	}
	if (c->msi) {
		unsigned data = pci_msi_data_off(c);
		r[n++] = (struct pci_wreg){c->msi, 2, W_FREE};
		r[n++] = (struct pci_wreg){c->msi + 2, 2, W_MSI_CTRL};
		r[n++] = (struct pci_wreg){c->msi + 4, 4, W_MSI_ADDR};
		if (c->msi_64)
			r[n++] = (struct pci_wreg){c->msi + 8, 4, W_MSI_ADDR_HI};
		r[n++] = (struct pci_wreg){data, 4, W_MSI_DATA};
		if (c->msi_mask)
			r[n++] = (struct pci_wreg){data + 4, 4, W_FREE}; /* mask bits */
	}
	if (c->msix) {
		r[n++] = (struct pci_wreg){c->msix, 2, W_FREE};
		r[n++] = (struct pci_wreg){c->msix + 2, 2, W_MSIX_CTRL};
	}
	return n;
}

/* Byte `at` of a write of size bytes at off. */
static unsigned byte_of(unsigned off, uint32_t val, unsigned at)
{
	return (val >> (8 * (at - off))) & 0xffu;
}

/* Checks the part of a write that falls into register r. */
static int pci_wreg_check(const struct pci_filter *f, const struct pci_wreg *r, unsigned off,
			  unsigned size, uint32_t val)
{
	unsigned end = off + size;
	bool whole = off == r->off && size == r->len;

	switch (r->kind) {
	case W_MSI_CTRL:
		if (off <= r->off && r->off < end) {
			unsigned b = byte_of(off, val, r->off);
			if ((b & 0x70u) || ((b & 1u) && !f->msi))
				return -1; /* more than one vector, or MSI it does not have */
		}
		return 0;
	case W_MSIX_CTRL:
		if (off <= r->off + 1 && r->off + 1 < end && (byte_of(off, val, r->off + 1) & 0x80u) && !f->msix)
			return -1; /* MSI-X enable, but the semaphore is not delivered by MSI-X */
		return 0;
	case W_MSI_ADDR:
		if (!whole || !f->msi)
			return -1;
		for (unsigned i = 0; i < f->n_addr; i++)
			if (f->msi_addr[i] == val)
				return 0;
		return -1;
	case W_MSI_ADDR_HI:
		return whole && f->msi && val == 0 ? 0 : -1;
	case W_MSI_DATA:
		/* 16 bits of data (and the extended data, which must be 0) */
		if (!f->msi || off != r->off || (size != 2 && size != 4))
			return -1;
		return val == f->msi_data ? 0 : -1;
	default:
		return 0;
	}
}

int pci_write_check(const struct pci_filter *f, unsigned off, unsigned size, uint32_t val)
{
	struct pci_wreg r[12];
	unsigned n = pci_wregs(&f->caps, r);

	if (size < 4 && (val >> (8 * size)))
		return -1;
	/* every byte must be in a writable register */
	for (unsigned at = off; at < off + size; at++) {
		unsigned i;
		for (i = 0; i < n; i++)
			if (at >= r[i].off && at < r[i].off + r[i].len)
				break;
		if (i == n)
			return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (off < r[i].off + r[i].len && r[i].off < off + size &&
		    pci_wreg_check(f, &r[i], off, size, val) != 0)
			return -1;
	return 0;
}
