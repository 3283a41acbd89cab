/*
 * PCI host bridge with configuration mechanism #1. Configuration space is a
 * byte array per function; writes go through per-byte masks of the type 0
 * header so read-only fields stay put, BARs keep their type bits and size
 * alignment (sizing reads back the size mask), and status bits are
 * write-1-to-clear. Absent functions read all ones.
 */
#include "pci_host.h"
#include <string.h>

#define CFG_ENABLE 0x80000000u

void pci_set16(struct pci_func *f, unsigned off, uint16_t v)
{
	f->cfg[off & 0xff] = (uint8_t)v;
	f->cfg[(off + 1) & 0xff] = (uint8_t)(v >> 8);
}

void pci_set32(struct pci_func *f, unsigned off, uint32_t v)
{
	pci_set16(f, off, (uint16_t)v);
	pci_set16(f, off + 2, (uint16_t)(v >> 16));
}

uint32_t pci_get32(const struct pci_func *f, unsigned off)
{
	off &= 0xfc;
	return f->cfg[off] | (uint32_t)f->cfg[off + 1] << 8 | (uint32_t)f->cfg[off + 2] << 16 |
	       (uint32_t)f->cfg[off + 3] << 24;
}

bool pci_msi_decode(uint64_t addr, uint32_t data, struct apic_msg *msg)
{
	unsigned mode = data >> 8 & 7;
	if ((addr >> 20) != (PC_LAPIC_BASE >> 20) || mode == 3 || mode == APIC_DM_SIPI)
		return false; /* not an interrupt, or a reserved delivery mode */
	*msg = (struct apic_msg){
		.dest = (uint32_t)(addr >> 12) & 0xff,
		.vector = (uint8_t)data,
		.mode = (uint8_t)mode,
		.logical = addr & (1u << 2),    /* destination mode */
		.level_trig = data & (1u << 15), /* trigger mode */
		.assert = true,
		.src = -1,
	};
	return true;
}

static bool bar_is_io(const struct pci_func *f, unsigned bar)
{
	return f->cfg[PCI_BAR0 + 4 * bar] & PCI_BAR_IO;
}

static bool bar_is_64(const struct pci_func *f, unsigned bar)
{
	return bar < 5 && !bar_is_io(f, bar) && (f->cfg[PCI_BAR0 + 4 * bar] & 6) == PCI_BAR_MEM64;
}

void pci_host_init(struct pci_host *h)
{
	memset(h, 0, sizeof(*h));
	struct pci_func *b = &h->bridge;
	pci_set16(b, PCI_VENDOR_ID, 0x8086);
	pci_set16(b, PCI_DEVICE_ID, 0x29c0);            /* 82G33/P35 DRAM controller */
	pci_set16(b, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	b->cfg[PCI_CLASS_PROG + 2] = 0x06;              /* bridge: host bridge */
	pci_set16(b, PCI_SUBSYS_VENDOR, 0x1af4);
	pci_set16(b, PCI_SUBSYS_ID, 0x1100);
	h->fn[0] = b;
}

bool pci_add(struct pci_host *h, unsigned devfn, struct pci_func *f)
{
	if (devfn >= PCI_MAX_DEVFN || h->fn[devfn] || !f)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		uint32_t s = f->bar_size[i];
		if (s & (s - 1)) { /* not a power of two: round up so masks stay sane */
			while (s & (s - 1))
				s &= s - 1;
			s = s == 0x80000000u ? s : s << 1;
		}
		if (i > 0 && bar_is_64(f, i - 1))
			s = 0; /* the high half of a 64-bit BAR */
		if (s) {
			uint32_t min = f->cfg[PCI_BAR0 + 4 * i] & PCI_BAR_IO ? 4 : 16;
			f->bar_size[i] = s < min ? min : s;
		}
		f->bar_on[i] = false;
		f->bar_addr[i] = 0;
	}
	h->fn[devfn] = f;
	return true;
}

/* Writable bits of configuration byte off (header and BARs). */
static uint8_t wmask(const struct pci_func *f, unsigned off)
{
	switch (off) {
	case PCI_COMMAND:
		return 0x47; /* IO, memory, bus master, parity, ... */
	case PCI_COMMAND + 1:
		return 0x05; /* SERR, INTx disable */
	case 0x0c: /* cache line size */
	case 0x0d: /* latency timer */
	case PCI_INTERRUPT_LINE:
		return 0xff;
	}
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		unsigned bar = (off - PCI_BAR0) / 4, byte = off & 3;
		uint64_t size = f->bar_size[bar];
		if (!size) {
			/* the high half of a 64-bit BAR: all address bits */
			if (bar > 0 && bar_is_64(f, bar - 1) && f->bar_size[bar - 1])
				return 0xff;
			return 0;
		}
		uint32_t m = ~(uint32_t)(size - 1) & (bar_is_io(f, bar) ? ~3u : ~15u);
		return (uint8_t)(m >> (8 * byte));
	}
	return 0;
}

/* Reports BARs whose decoding changed to the owner. */
static void bars_changed(struct pci_func *f)
{
	if (!f->bar_update)
		return;
	uint16_t cmd = f->cfg[PCI_COMMAND] | f->cfg[PCI_COMMAND + 1] << 8;
	for (unsigned i = 0; i < 6; i++) {
		if (!f->bar_size[i])
			continue;
		bool io = bar_is_io(f, i);
		uint64_t addr = pci_get32(f, PCI_BAR0 + 4 * i) & (io ? ~3u : ~15u);
		if (bar_is_64(f, i))
			addr |= (uint64_t)pci_get32(f, PCI_BAR0 + 4 * (i + 1)) << 32;
		bool on = cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		/* a BAR at 0 or being sized (all ones: beyond the space) is unusable */
		uint64_t limit = io ? 0x10000 : bar_is_64(f, i) ? 1ull << 48 : 1ull << 32;
		uint32_t sizing = ~(f->bar_size[i] - 1) & (io ? ~3u : ~15u);
		if (addr == 0 || addr == sizing || addr >= limit || f->bar_size[i] > limit - addr)
			on = false;
		if (on != f->bar_on[i] || (on && addr != f->bar_addr[i])) {
			f->bar_on[i] = on;
			f->bar_addr[i] = addr;
			f->bar_update(f, i, addr, on);
		}
	}
}

static struct pci_func *lookup(struct pci_host *h, unsigned devfn)
{
	return devfn < PCI_MAX_DEVFN ? h->fn[devfn] : NULL;
}

uint32_t pci_cfg_read(struct pci_host *h, unsigned devfn, unsigned off, unsigned size)
{
	struct pci_func *f = lookup(h, devfn);
	if (size != 1 && size != 2 && size != 4)
		return ~0u;
	if (f && f->cfg_read && off >= 0x40 && off + size <= 256)
		return f->cfg_read(f, off, size);
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)(f && off + i < 256 ? f->cfg[off + i] : 0xff) << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_host *h, unsigned devfn, unsigned off, unsigned size, uint32_t val)
{
	struct pci_func *f = lookup(h, devfn);
	if (!f || (size != 1 && size != 2 && size != 4) || off + size > 256)
		return;
	if (off >= 0x40) {
		if (f->cfg_write)
			f->cfg_write(f, off, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o == PCI_STATUS + 1) { /* error bits: write 1 to clear */
			f->cfg[o] &= (uint8_t)~(b & 0xf9);
			continue;
		}
		uint8_t m = wmask(f, o);
		f->cfg[o] = (uint8_t)((f->cfg[o] & ~m) | (b & m));
	}
	if (off < PCI_BAR0 + 24 && off + size > PCI_COMMAND)
		bars_changed(f);
}

static bool addr_target(const struct pci_host *h, unsigned *devfn, unsigned *reg)
{
	if (!(h->addr & CFG_ENABLE) || ((h->addr >> 16) & 0xff) != 0)
		return false; /* only bus 0 exists */
	*devfn = (h->addr >> 8) & 0xff;
	*reg = h->addr & 0xfc;
	return true;
}

uint64_t pci_host_addr_read(void *ctx, uint64_t off, unsigned size)
{
	struct pci_host *h = ctx;
	if (off != 0 || size != 4)
		return ~0ull;
	return h->addr;
}

void pci_host_addr_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_host *h = ctx;
	if (off == 0 && size == 4)
		h->addr = (uint32_t)val & 0x80fffffcu;
}

uint64_t pci_host_data_read(void *ctx, uint64_t off, unsigned size)
{
	struct pci_host *h = ctx;
	unsigned devfn, reg;
	uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
	if (off > 3 || off + size > 4 || !addr_target(h, &devfn, &reg))
		return ones;
	return pci_cfg_read(h, devfn, reg + (unsigned)off, size);
}

void pci_host_data_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_host *h = ctx;
	unsigned devfn, reg;
	if (off > 3 || off + size > 4 || !addr_target(h, &devfn, &reg))
		return;
	pci_cfg_write(h, devfn, reg + (unsigned)off, size, (uint32_t)val);
}
