/*
 * PCI in the roottask: enumeration at boot, granting functions to domains
 * ('device' key: BARs, interrupt, configuration space), the mediated
 * configuration-space protocol (HV_ROOT_PCI_READ/WRITE) and the release of
 * a dead domain's functions.
 *
 * Configuration space: mechanism #1 (ports 0xcf8/0xcfc, which only the
 * roottask holds) for the first 256 bytes; ECAM (HIP pci_ecam_base, the
 * ACPI MCFG window) for the rest, mapped from the roottask's device memory
 * bus by bus. Every access happens with the table lock held (main.c), so
 * the two-port dance of mechanism #1 is never interleaved.
 */
#include "roottask.h"
#include <hv/portio.h>
#include <stdio.h>
#include <string.h>

#define RT_PCI_MAX 64                           /* functions remembered */
#define RT_ECAM_VA 0x0000680000000000ul         /* roottask's ECAM window: bus b at + (b << 20) */
#define RT_MSIX_VA 0x0000690000000000ul         /* MSI-X tables: function i at + (i << 16) */
#define RT_MSIX_SPAN (1ul << 16)                /* 2048 entries (32 KiB) from any offset fit */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_REMAPPABLE 0x10u /* interrupt remapping: the kernel's handle in 19..5 */

static struct pci_fn fns[RT_PCI_MAX];
static unsigned nfns;
static uint8_t ecam_mapped[256 / 8]; /* buses whose ECAM page range is mapped */
static uint8_t ecam_failed[256 / 8]; /* ... or could not be mapped */
static uint32_t msi_addrs[RT_MAX_CPUS]; /* the MSI address of each online CPU */
static uint32_t msi_used;               /* bit n: MSI semaphore n is granted */
static unsigned msi_count;
static bool ecam_off; /* ECAM failed its check at boot */

/* ---- configuration space ------------------------------------------------ */

static uint32_t cf8(unsigned bdf, unsigned off)
{
	return 0x80000000u | bdf << 8 | (off & 0xfcu);
}

/* Maps bus `bus`'s ECAM range for the roottask; false if there is none. */
static bool ecam_map(unsigned bus)
{
	if (ecam_mapped[bus / 8] & (1u << (bus % 8)))
		return true;
	if (ecam_failed[bus / 8] & (1u << (bus % 8)))
		return false;
	if (ecam_off || !hip->pci_ecam_base || bus < hip->pci_bus_first || bus > hip->pci_bus_last)
		return false;
	hv_word_t pa = hip->pci_ecam_base + ((hv_word_t)bus << 20);
	if (pa & ((1ul << 20) - 1) || pa >= (1ul << 45))
		return false;
	hv_status_t st = give_mem(HV_SEL_PD, HV_RT_PHYS_BASE + pa, RT_ECAM_VA + ((hv_word_t)bus << 20), 1ul << 20, 0,
				  HV_R_MEM_R | HV_R_MEM_W);
	if (st != HV_OK) {
		ecam_failed[bus / 8] |= (uint8_t)(1u << (bus % 8));
		rt_log("roottask: pci: cannot map the ECAM of bus %02x at 0x%lx: %s (offsets from 256 up not available)",
		       bus, pa, hv_status_str(st));
		return false;
	}
	ecam_mapped[bus / 8] |= (uint8_t)(1u << (bus % 8));
	return true;
}

static volatile void *ecam_at(unsigned bdf, unsigned off)
{
	return (volatile void *)(RT_ECAM_VA + ((hv_word_t)bdf << 12) + off);
}

/* Reads size (1, 2, 4) bytes at off (aligned; off >= 256 only with ECAM). */
static uint32_t cfg_read(unsigned bdf, unsigned off, unsigned size)
{
	if (off >= PCI_CFG_SIZE) {
		if (!ecam_map(bdf >> 8))
			return ~0u >> (32 - 8 * size);
		if (size == 1)
			return *(volatile uint8_t *)ecam_at(bdf, off);
		if (size == 2)
			return *(volatile uint16_t *)ecam_at(bdf, off);
		return *(volatile uint32_t *)ecam_at(bdf, off);
	}
	hv_outl(0xcf8, cf8(bdf, off));
	if (size == 1)
		return hv_inb((unsigned short)(0xcfc + (off & 3)));
	if (size == 2)
		return hv_inw((unsigned short)(0xcfc + (off & 2)));
	return hv_inl(0xcfc);
}

static void cfg_write(unsigned bdf, unsigned off, unsigned size, uint32_t v)
{
	if (off >= PCI_CFG_SIZE) {
		if (!ecam_map(bdf >> 8))
			return;
		if (size == 1)
			*(volatile uint8_t *)ecam_at(bdf, off) = (uint8_t)v;
		else if (size == 2)
			*(volatile uint16_t *)ecam_at(bdf, off) = (uint16_t)v;
		else
			*(volatile uint32_t *)ecam_at(bdf, off) = v;
		return;
	}
	hv_outl(0xcf8, cf8(bdf, off));
	if (size == 1)
		hv_outb((unsigned short)(0xcfc + (off & 3)), (uint8_t)v);
	else if (size == 2)
		hv_outw((unsigned short)(0xcfc + (off & 2)), (uint16_t)v);
	else
		hv_outl(0xcfc, v);
}

/* ---- enumeration -------------------------------------------------------- */

static void bdf_str(unsigned bdf, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
}

/* Sizes the BARs of f (decode off meanwhile, except on host bridges,
 * which must keep decoding). */
static void size_bars(struct pci_fn *f)
{
	uint32_t orig[PCI_NBARS], sized[PCI_NBARS];
	uint32_t cmd = cfg_read(f->bdf, PCI_COMMAND, 2);
	bool host = f->class >> 8 == 0x0600;

	if (!host)
		cfg_write(f->bdf, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (unsigned i = 0; i < f->nbars; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		orig[i] = cfg_read(f->bdf, off, 4);
		cfg_write(f->bdf, off, 4, ~0u);
		sized[i] = cfg_read(f->bdf, off, 4);
		cfg_write(f->bdf, off, 4, orig[i]);
	}
	if (!host)
		cfg_write(f->bdf, PCI_COMMAND, 2, cmd);
	for (unsigned i = 0; i < f->nbars;)
		i += pci_bar_decode(orig, sized, i, f->nbars, &f->bar[i]);
	memcpy(f->bar_reg, orig, sizeof(orig));
}

/* One line per function: address, IDs, class, BARs, interrupt. */
static void log_fn(const struct pci_fn *f)
{
	char line[240], b[16];
	size_t n;

	bdf_str(f->bdf, b, sizeof(b));
	n = (size_t)snprintf(line, sizeof(line), "roottask: pci %s %04x:%04x class %06x", b, f->vendor, f->device,
			     f->class);
	for (unsigned i = 0; i < f->nbars && n < sizeof(line); i++) {
		const struct pci_bar *r = &f->bar[i];
		if (!r->size)
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " bar%u %s%s 0x%lx+0x%lx", i,
				      r->flags & PCI_BAR_IO ? "io" : r->flags & PCI_BAR_64 ? "mem64" : "mem",
				      r->flags & PCI_BAR_PREFETCH ? " pf" : "", (unsigned long)r->base,
				      (unsigned long)r->size);
	}
	if (f->int_pin >= 1 && f->int_pin <= 4 && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " int %c line %u", 'A' + f->int_pin - 1, f->int_line);
	if (f->caps.msi && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " msi");
	if (f->caps.msix && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " msix %u", f->caps.msix_n);
	rt_log("%s", line);
}

/* Buses to scan: each at most once (a bridge loop or a deep chain of
 * bridges cannot make the scan recurse or repeat). */
struct bus_queue {
	uint8_t seen[256 / 8];
	uint8_t bus[256];
	unsigned n;
};

static void queue_bus(struct bus_queue *q, unsigned bus)
{
	if (bus > 255 || (q->seen[bus / 8] & (1u << (bus % 8))))
		return;
	q->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	q->bus[q->n++] = (uint8_t)bus;
}

/* Records the function at bdf (present), and queues the bus behind it if
 * it is a bridge. */
static void add_fn(unsigned bdf, struct bus_queue *q)
{
	uint8_t cfg[PCI_CFG_SIZE];
	if (nfns == RT_PCI_MAX) {
		char b[16];
		bdf_str(bdf, b, sizeof(b));
		rt_log("roottask: pci %s: more than %u functions, ignored", b, RT_PCI_MAX);
		return;
	}
	for (unsigned off = 0; off < PCI_CFG_SIZE; off += 4) {
		uint32_t v = cfg_read(bdf, off, 4);
		memcpy(&cfg[off], &v, 4);
	}
	struct pci_fn *f = &fns[nfns++];
	*f = (struct pci_fn){ 0 };
	f->bdf = bdf;
	f->vendor = cfg[0] | cfg[1] << 8;
	f->device = cfg[2] | cfg[3] << 8;
	f->class = (unsigned)(cfg[9] | cfg[10] << 8 | cfg[11] << 16);
	f->header = cfg[PCI_HEADER] & 0x7f;
	f->nbars = f->header == 0 ? 6 : f->header == 1 ? 2 : 0;
	f->int_line = cfg[PCI_INT_LINE];
	f->int_pin = cfg[PCI_INT_PIN];
	f->msi_slot = -1;
	f->gsi = PCI_NO_GSI;
	if (f->header <= 1)
		pci_caps_parse(cfg, &f->caps);
	size_bars(f);
	log_fn(f);
	if (f->header == 1 && (f->class >> 8 == 0x0604 || f->class >> 8 == 0x0609) && cfg[PCI_SECONDARY_BUS])
		queue_bus(q, cfg[PCI_SECONDARY_BUS]);
}

static bool present(unsigned bdf)
{
	uint32_t id = cfg_read(bdf, PCI_VENDOR, 4);
	return (id & 0xffff) != 0xffff && (id & 0xffff) != 0;
}

static void scan_bus(unsigned bus, struct bus_queue *q)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		unsigned bdf = HV_BDF(bus, dev, 0);
		if (!present(bdf))
			continue;
		unsigned nfn = cfg_read(bdf, PCI_HEADER, 1) & 0x80 ? 8 : 1;
		for (unsigned fn = 0; fn < nfn; fn++)
			if (present(bdf | fn))
				add_fn(bdf | fn, q);
	}
}

/* Finds every function on bus 0 and behind its bridges; logs each. */
void pci_init(void)
{
	static struct bus_queue q;
	for (unsigned c = 0; c < hip->num_cpus && c < RT_MAX_CPUS; c++)
		msi_addrs[c] = MSI_ADDR_BASE | (uint32_t)(hip->cpu_apic_id[c] & 0xff) << 12;
	msi_count = hip->num_msi < HV_MSI_COUNT ? (unsigned)hip->num_msi : HV_MSI_COUNT;
	if (hip->pci_ecam_base)
		rt_log("roottask: pci: ECAM at 0x%lx for buses %02lx-%02lx, configuration mechanism #1 below offset 256",
		       hip->pci_ecam_base, hip->pci_bus_first, hip->pci_bus_last);
	else
		rt_log("roottask: pci: configuration mechanism #1 (no ECAM: offsets below 256 only)");
	/* is there a configuration mechanism #1 at all? */
	hv_outl(0xcf8, 0x80000000u);
	if (hv_inl(0xcf8) != 0x80000000u) {
		rt_log("roottask: pci: no configuration mechanism #1: no PCI devices");
		return;
	}
	/* ECAM must show what mechanism #1 shows, or it is not used */
	if (hip->pci_ecam_base && hip->pci_bus_first == 0) {
		uint32_t id = cfg_read(0, PCI_VENDOR, 4);
		uint32_t eid = ecam_map(0) ? *(volatile uint32_t *)ecam_at(0, PCI_VENDOR) : ~0u;
		if (eid != id) {
			rt_log("roottask: pci: ECAM shows %08x at 00:00.0, mechanism #1 %08x: ECAM not used", eid, id);
			ecam_off = true;
		}
	}
	queue_bus(&q, 0);
	for (unsigned i = 0; i < q.n; i++)
		scan_bus(q.bus[i], &q);
	rt_log("roottask: pci: %u function%s, %u MSI semaphore%s, IOMMU: %s", nfns, nfns == 1 ? "" : "s", msi_count,
	       msi_count == 1 ? "" : "s", hip->iommu == HV_IOMMU_VTD ? "VT-d" : "none (devices can reach all memory by DMA)");
}

/* ---- granting ------------------------------------------------------------- */

static struct pci_fn *fn_at(unsigned bdf)
{
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].bdf == bdf)
			return &fns[i];
	return NULL;
}

/* The function a 'device' line names, or NULL (reported). */
static struct pci_fn *resolve(const struct domain *d, unsigned i)
{
	const struct cfg_domain *c = d->cfg;
	const struct cfg_dev *v = &c->dev[i];
	struct pci_fn *f = NULL;
	char what[16];

	if (v->by_id) {
		unsigned found = 0;
		snprintf(what, sizeof(what), "%04x:%04x", v->vendor, v->device);
		for (unsigned j = 0; j < nfns && !f; j++) {
			if (fns[j].vendor != v->vendor || fns[j].device != v->device)
				continue;
			found++;
			if (!fns[j].owner)
				f = &fns[j];
		}
		if (!f) {
			if (found)
				rt_log("%s:%u: device %s: %u function%s with these IDs, all granted already", config_name,
				       c->dev_line[i], what, found, found == 1 ? "" : "s");
			else
				rt_log("%s:%u: device %s: no PCI function with these IDs", config_name, c->dev_line[i],
				       what);
			return NULL;
		}
	} else {
		bdf_str(v->bdf, what, sizeof(what));
		f = fn_at(v->bdf);
		if (!f) {
			rt_log("%s:%u: device %s: no such PCI function", config_name, c->dev_line[i], what);
			return NULL;
		}
	}
	if (f->class >> 16 == 0x06) {
		rt_log("%s:%u: device %s (class %06x) is a bridge: not granted", config_name, c->dev_line[i], what,
		       f->class);
		return NULL;
	}
	if (f->owner) {
		rt_log("%s:%u: device %s is granted to domain '%s' already", config_name, c->dev_line[i], what,
		       f->owner->cfg->name);
		return NULL;
	}
	for (unsigned j = 0; j < d->ndev; j++)
		if (d->dev[j] == f) {
			rt_log("%s:%u: device %s is granted to domain '%s' already", config_name, c->dev_line[i], what,
			       d->cfg->name);
			return NULL;
		}
	return f;
}

/* Whether a memory BAR of another function lies in [lo, hi). */
static bool page_shared(const struct pci_fn *self, unsigned b, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < nfns; i++)
		for (unsigned j = 0; j < fns[i].nbars; j++) {
			const struct pci_bar *r = &fns[i].bar[j];
			if ((&fns[i] == self && j == b) || !r->size || (r->flags & PCI_BAR_IO))
				continue;
			if (r->base < hi && lo < r->base + r->size)
				return true;
		}
	return false;
}

/* Maps memory BAR b of f into d at HV_SI_BAR(idx, b), leaving out the
 * pages of the MSI-X table and PBA. */
static bool grant_mem_bar(struct domain *d, unsigned line, const char *what, struct pci_fn *f, unsigned idx,
			  unsigned b, bool wc, struct hv_si_bar *out)
{
	const struct pci_bar *r = &f->bar[b];
	uint64_t lo = r->base & ~(uint64_t)(HV_PAGE_SIZE - 1);
	uint64_t hi = (r->base + r->size + HV_PAGE_SIZE - 1) & ~(uint64_t)(HV_PAGE_SIZE - 1);
	uint64_t limit = hip->phys_bits ? 1ull << hip->phys_bits : 1ull << 45;
	uint64_t hole[2][2] = { { 0, 0 }, { 0, 0 } };

	if (!r->base) {
		rt_log("%s:%u: device %s: bar%u is not assigned an address: left out", config_name, line, what, b);
		return true;
	}
	if (r->size > (1ull << 32) || hi > limit || hi < lo) {
		rt_log("%s:%u: device %s: bar%u at 0x%lx+0x%lx cannot be mapped: left out", config_name, line, what, b,
		       (unsigned long)r->base, (unsigned long)r->size);
		return true;
	}
	if ((r->base & (HV_PAGE_SIZE - 1) || r->size < HV_PAGE_SIZE) && page_shared(f, b, lo, hi)) {
		rt_log("%s:%u: device %s: bar%u at 0x%lx+0x%lx shares its page with another device: left out",
		       config_name, line, what, b, (unsigned long)r->base, (unsigned long)r->size);
		return true;
	}
	if (f->caps.msix && f->caps.msix_bir == b) {
		hole[0][0] = lo + (f->caps.msix_off & ~(uint64_t)(HV_PAGE_SIZE - 1));
		hole[0][1] = (lo + f->caps.msix_off + 16ull * f->caps.msix_n + HV_PAGE_SIZE - 1) &
			     ~(uint64_t)(HV_PAGE_SIZE - 1);
	}
	if (f->caps.msix && f->caps.pba_bir == b) {
		hole[1][0] = lo + (f->caps.pba_off & ~(uint64_t)(HV_PAGE_SIZE - 1));
		hole[1][1] = (lo + f->caps.pba_off + 8ull * ((f->caps.msix_n + 63) / 64) + HV_PAGE_SIZE - 1) &
			     ~(uint64_t)(HV_PAGE_SIZE - 1);
	}
	hv_word_t va = HV_SI_BAR(idx, b);
	hv_word_t flags = wc ? HV_ITEM_WC : 0;
	bool holed = false;
	/* page runs outside the holes */
	for (uint64_t p = lo; p < hi;) {
		uint64_t e = p;
		while (e < hi && !((e >= hole[0][0] && e < hole[0][1]) || (e >= hole[1][0] && e < hole[1][1])))
			e += HV_PAGE_SIZE;
		if (e > p) {
			hv_status_t st = give_mem(d->pd, HV_RT_PHYS_BASE + p, va + (p - lo), e - p, flags,
						  HV_R_MEM_R | HV_R_MEM_W);
			if (st != HV_OK) {
				rt_log("%s:%u: device %s: cannot map bar%u at 0x%lx+0x%lx: %s (the kernel offers no device "
				       "memory there)",
				       config_name, line, what, b, (unsigned long)p, (unsigned long)(e - p),
				       hv_status_str(st));
				return false;
			}
		}
		if (e < hi)
			holed = true;
		p = e;
		while (p < hi && ((p >= hole[0][0] && p < hole[0][1]) || (p >= hole[1][0] && p < hole[1][1])))
			p += HV_PAGE_SIZE;
	}
	out->phys = r->base;
	out->size = r->size;
	out->flags = (r->flags & (PCI_BAR_64 | PCI_BAR_PREFETCH)) | (wc ? HV_SI_BAR_WC : 0) |
		     (holed ? HV_SI_BAR_HOLE : 0);
	out->addr = va + (r->base - lo);
	return true;
}

/* The domain's INTx GSI for f: valid only where the interrupt-line register
 * holds the routing (the i440FX/PIIX platforms of QEMU 'pc' and Bochs). */
static bool grant_intx(struct domain *d, unsigned line, const char *what, struct pci_fn *f, struct hv_si_dev *sd,
		       hv_sel_t *next)
{
	const struct pci_fn *host = fn_at(0);
	bool piix = host && host->vendor == 0x8086 &&
		    (host->device == 0x1237 || host->device == 0x7190 || host->device == 0x7192);
	unsigned gsi = f->int_line;

	if (!piix) {
		rt_log("%s:%u: device %s has no usable MSI, and its INTx routing on this chipset (host bridge "
		       "%04x:%04x) needs ACPI _PRT, which the roottask does not read: not granted",
		       config_name, line, what, host ? host->vendor : 0xffff, host ? host->device : 0xffff);
		return false;
	}
	if (gsi == 0 || gsi == 0xff || gsi >= hip->num_gsi || gsi >= 64) {
		rt_log("%s:%u: device %s: interrupt line %u is not a usable GSI: not granted", config_name, line, what,
		       gsi);
		return false;
	}
	for (unsigned i = 0; i < nfns; i++)
		if (fns[i].owner && fns[i].owner != d && fns[i].gsi == gsi) {
			char o[16];
			bdf_str(fns[i].bdf, o, sizeof(o));
			rt_log("%s:%u: device %s: its GSI %u is shared with device %s of domain '%s': not granted",
			       config_name, line, what, gsi, o, fns[i].owner->cfg->name);
			return false;
		}
	for (unsigned i = 0; i < config.ndom; i++) {
		const struct cfg_domain *o = &config.dom[i];
		for (unsigned j = 0; o != d->cfg && o->valid && j < o->nirq; j++)
			if (o->irq[j] == gsi) {
				rt_log("%s:%u: device %s: its GSI %u is granted to domain '%s' by 'irq' (line %u): not "
				       "granted",
				       config_name, line, what, gsi, o->name, o->irq_line[j]);
				return false;
			}
	}
	hv_status_t st = give_cap(d->pd, HV_SEL_GSI_BASE + gsi, *next, HV_R_SM_UP | HV_R_SM_DOWN);
	if (st == HV_OK)
		st = hv_irq_ctrl(HV_SEL_GSI_BASE + gsi, d->cfg->cpu, HV_IRQ_LEVEL);
	if (st != HV_OK) {
		rt_log("%s:%u: device %s: GSI %u: %s", config_name, line, what, gsi, hv_status_str(st));
		return false;
	}
	f->gsi = gsi;
	sd->gsi = gsi;
	sd->irq_sel = (*next)++;
	return true;
}

/* Writes f's MSI address and data into its capability, disabled, one
 * vector: the driver enables it. */
static void msi_program(const struct pci_fn *f)
{
	unsigned m = f->caps.msi;
	uint32_t ctrl = cfg_read(f->bdf, m + 2, 2);
	cfg_write(f->bdf, m + 2, 2, ctrl & ~0x71u);
	cfg_write(f->bdf, m + 4, 4, f->msi_addr);
	if (f->caps.msi_64)
		cfg_write(f->bdf, m + 8, 4, 0);
	cfg_write(f->bdf, pci_msi_data_off(&f->caps), 2, f->msi_data);
}

/* Maps f's MSI-X table (BAR msix_bir + msix_off, 16 bytes an entry) for
 * the roottask, uncached; false (logged) if the BAR cannot hold it. */
static bool msix_map(struct pci_fn *f, unsigned line, const char *what)
{
	unsigned b = f->caps.msix_bir;
	const struct pci_bar *r = b < f->nbars ? &f->bar[b] : NULL;
	uint64_t len = 16ull * f->caps.msix_n;

	if (f->msix_tab)
		return true;
	if (!r || !r->base || !r->size || (r->flags & PCI_BAR_IO) || f->caps.msix_off >= r->size ||
	    len > r->size - f->caps.msix_off) {
		rt_log("%s:%u: device %s: its MSI-X table (bar%u+0x%x, %u entries) is not in a usable memory BAR",
		       config_name, line, what, b, f->caps.msix_off, f->caps.msix_n);
		return false;
	}
	uint64_t pa = r->base + f->caps.msix_off;
	uint64_t lo = pa & ~(uint64_t)(HV_PAGE_SIZE - 1);
	uint64_t hi = (pa + len + HV_PAGE_SIZE - 1) & ~(uint64_t)(HV_PAGE_SIZE - 1);
	uint64_t limit = hip->phys_bits ? 1ull << hip->phys_bits : 1ull << 45;
	hv_word_t va = RT_MSIX_VA + (hv_word_t)(f - fns) * RT_MSIX_SPAN;
	if (hi > limit || hi - lo > RT_MSIX_SPAN) {
		rt_log("%s:%u: device %s: its MSI-X table at 0x%lx cannot be mapped", config_name, line, what,
		       (unsigned long)pa);
		return false;
	}
	hv_status_t st = give_mem(HV_SEL_PD, HV_RT_PHYS_BASE + lo, va, hi - lo, 0, HV_R_MEM_R | HV_R_MEM_W);
	if (st != HV_OK) {
		rt_log("%s:%u: device %s: cannot map its MSI-X table at 0x%lx: %s", config_name, line, what,
		       (unsigned long)pa, hv_status_str(st));
		return false;
	}
	f->msix_tab = (volatile uint32_t *)(va + (pa - lo));
	return true;
}

/* Writes f's MSI address and data into MSI-X table entry 0 and masks every
 * other entry; MSI-X disabled, the function mask clear: the driver enables
 * it. Memory decode is on while the table is written. */
static void msix_program(const struct pci_fn *f)
{
	unsigned m = f->caps.msix;
	uint32_t cmd = cfg_read(f->bdf, PCI_COMMAND, 2);
	cfg_write(f->bdf, m + 2, 2, cfg_read(f->bdf, m + 2, 2) & ~0xc000u);
	cfg_write(f->bdf, PCI_COMMAND, 2, cmd | PCI_CMD_MEM);
	for (unsigned e = 0; e < f->caps.msix_n; e++) {
		volatile uint32_t *t = f->msix_tab + 4 * e;
		t[3] = 1; /* masked */
		t[0] = e ? 0 : f->msi_addr;
		t[1] = 0;
		t[2] = e ? 0 : f->msi_data;
	}
	f->msix_tab[3] = 0; /* entry 0 unmasked */
	(void)f->msix_tab[3]; /* the writes have reached the device */
	cfg_write(f->bdf, PCI_COMMAND, 2, cmd);
}

/* After a power-state change (D3hot -> D0 may reset the function): puts
 * back BARs that lost their addresses, and the MSI values (or MSI-X table). */
static void restore_after_pm(const struct pci_fn *f)
{
	bool reset = false;
	for (unsigned i = 0; i < f->nbars; i++)
		if (cfg_read(f->bdf, PCI_BAR0 + 4 * i, 4) != f->bar_reg[i]) {
			cfg_write(f->bdf, PCI_BAR0 + 4 * i, 4, f->bar_reg[i]);
			reset = true;
		}
	if (reset && f->msi_slot >= 0 && f->msix_on)
		msix_program(f);
	else if (reset && f->msi_slot >= 0)
		msi_program(f);
}

/* An MSI semaphore for f, routed to the domain's CPU, delivered by MSI or
 * (msix) by MSI-X table entry 0; false if none is free, the table cannot
 * be mapped or the kernel refuses (then INTx is tried). */
static bool grant_msi(struct domain *d, unsigned line, const char *what, struct pci_fn *f, struct hv_si_dev *sd,
		      hv_sel_t *next, bool msix)
{
	unsigned n;
	hv_word_t addr, data;

	for (n = 0; n < msi_count && (msi_used >> n & 1); n++)
		;
	if (n == msi_count) {
		rt_log("%s:%u: device %s: no MSI semaphore left (%u)", config_name, line, what, msi_count);
		return false;
	}
	if (msix && !msix_map(f, line, what))
		return false;
	hv_sel_t sm = HV_SEL_MSI_BASE + n;
	/* only f may send it (where the kernel remaps interrupts); compatibility or remappable format */
	hv_status_t st = hv_irq_msi(sm, d->cfg->cpu, HV_IRQ_SOURCE | (unsigned)HV_IRQ_SOURCE_BDF(f->bdf), &addr, &data);
	if (st == HV_OK && ((addr & ~0xffff0ul) != MSI_ADDR_BASE || data > 0xffff))
		st = HV_EPARAM;
	for (unsigned k = 0; st == HV_OK && k < 1024 && hv_sm_trydown(sm) == HV_OK; k++)
		; /* nothing left over from an earlier user */
	if (st == HV_OK)
		st = give_cap(d->pd, sm, *next, HV_R_SM_UP | HV_R_SM_DOWN);
	if (st != HV_OK) {
		rt_log("%s:%u: device %s: MSI semaphore %u: %s", config_name, line, what, n, hv_status_str(st));
		(void)hv_irq_msi(sm, 0, HV_IRQ_MASK, &addr, &data);
		return false;
	}
	msi_used |= 1u << n;
	f->msi_slot = (int)n;
	f->msi_addr = (uint32_t)addr;
	f->msi_data = (uint32_t)data;
	f->msix_on = msix;
	if (msix)
		msix_program(f);
	else
		msi_program(f);
	sd->msi_addr = addr;
	sd->msi_data = data;
	sd->irq_flags = msix ? HV_SI_IRQ_MSIX : 0;
	sd->irq_sel = (*next)++;
	return true;
}

/* Grants d's 'device' lines: BARs, interrupt, DMA through d's IOMMU space. */
bool pci_grant(struct domain *d, struct hv_startinfo *si, hv_sel_t *next)
{
	const struct cfg_domain *c = d->cfg;
	for (unsigned i = 0; i < c->ndev; i++) {
		unsigned line = c->dev_line[i];
		struct pci_fn *f = resolve(d, i);
		char what[16];
		if (!f)
			return false;
		bdf_str(f->bdf, what, sizeof(what));
		struct hv_si_dev *sd = &si->dev[d->ndev];
		if (!hip->phys_bits) { /* a kernel that fills no device fields in the HIP */
			rt_log("%s:%u: device %s: this kernel does not support device assignment (no phys_bits in the "
			       "HIP)",
			       config_name, line, what);
			return false;
		}
		if (c->dev[i].msix && !f->caps.msix) {
			rt_log("%s:%u: device %s has no MSI-X capability: not granted", config_name, line, what);
			return false;
		}
		/* before anything can reach the device: DMA only into d's space */
		hv_status_t st = hv_assign_dev(HV_SEL_PD, d->pd, f->bdf, HV_DEV_ASSIGN);
		if (st != HV_OK) {
			rt_log("%s:%u: device %s: the kernel does not assign it to domain '%s' (assign_dev: %s)",
			       config_name, line, what, c->name, hv_status_str(st));
			return false;
		}
		f->owner = d;
		d->dev[d->ndev++] = f;
		si->num_dev = d->ndev;
		sd->bdf = f->bdf;
		sd->vendor = f->vendor;
		sd->device = f->device;
		sd->class = f->class;
		uint32_t cmd = cfg_read(f->bdf, PCI_COMMAND, 2) & ~(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
		for (unsigned b = 0; b < f->nbars; b++) {
			const struct pci_bar *r = &f->bar[b];
			if (!r->size)
				continue;
			if (r->flags & PCI_BAR_IO) {
				uint64_t last = r->base + r->size - 1;
				if (r->base <= 0xcff && last >= 0xcf8) {
					rt_log("%s:%u: device %s: bar%u covers the configuration ports: not granted",
					       config_name, line, what, b);
					return false;
				}
				st = give_io(d->pd, (unsigned)r->base, (unsigned)last);
				if (st != HV_OK) {
					rt_log("%s:%u: device %s: bar%u ports 0x%lx-0x%lx: %s", config_name, line, what, b,
					       (unsigned long)r->base, (unsigned long)last, hv_status_str(st));
					return false;
				}
				sd->bar[b] = (struct hv_si_bar){ r->base, r->size, HV_SI_BAR_IO, 0 };
				cmd |= PCI_CMD_IO;
			} else {
				if (!grant_mem_bar(d, line, what, f, d->ndev - 1, b, c->dev[i].wc, &sd->bar[b]))
					return false;
				if (sd->bar[b].size)
					cmd |= PCI_CMD_MEM;
			}
		}
		/* MSI where the function has it, unless the line says msix */
		bool msix = f->caps.msix && (c->dev[i].msix || !f->caps.msi);
		bool irq = (f->caps.msi || msix) && grant_msi(d, line, what, f, sd, next, msix);
		if (!irq && f->int_pin >= 1 && f->int_pin <= 4 && !grant_intx(d, line, what, f, sd, next))
			return false;
		cfg_write(f->bdf, PCI_COMMAND, 2, cmd);
		char irqs[32] = "none";
		if (f->msi_slot >= 0)
			snprintf(irqs, sizeof(irqs), "%s (data 0x%x)", f->msix_on ? "MSI-X" : "MSI", f->msi_data);
		else if (f->gsi != PCI_NO_GSI)
			snprintf(irqs, sizeof(irqs), "INTx (GSI %u)", f->gsi);
		rt_log("domain '%s': device %s (%04x:%04x) granted, interrupt %s, DMA %s", c->name, what, f->vendor,
		       f->device, irqs,
		       hip->iommu == HV_IOMMU_VTD ? "confined by VT-d" : "not confined (no IOMMU: it can reach all memory)");
	}
	return true;
}

/* d has ended (or failed to start): quiesce and release its functions. */
void pci_release(struct domain *d)
{
	for (unsigned i = 0; i < d->ndev; i++) {
		struct pci_fn *f = d->dev[i];
		uint32_t cmd = cfg_read(f->bdf, PCI_COMMAND, 2);
		if (f->msix_on && f->msi_slot >= 0) { /* entry 0 masked, while the table still decodes */
			cfg_write(f->bdf, PCI_COMMAND, 2, cmd | PCI_CMD_MEM);
			f->msix_tab[3] = 1;
			(void)f->msix_tab[3];
		}
		cfg_write(f->bdf, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER));
		if (f->caps.msi)
			cfg_write(f->bdf, f->caps.msi + 2, 2, cfg_read(f->bdf, f->caps.msi + 2, 2) & ~0x71u);
		if (f->caps.msix)
			cfg_write(f->bdf, f->caps.msix + 2, 2, cfg_read(f->bdf, f->caps.msix + 2, 2) & ~0x8000u);
		(void)hv_assign_dev(HV_SEL_PD, d->pd, f->bdf, HV_DEV_RELEASE);
		if (f->msi_slot >= 0) {
			hv_sel_t sm = HV_SEL_MSI_BASE + (unsigned)f->msi_slot;
			hv_word_t addr, data;
			(void)hv_irq_msi(sm, 0, HV_IRQ_MASK, &addr, &data);
			(void)hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), sm); /* the domain's copy */
			for (unsigned k = 0; k < 1024 && hv_sm_trydown(sm) == HV_OK; k++)
				; /* no stale interrupt for the next owner */
			msi_used &= ~(1u << f->msi_slot);
			f->msi_slot = -1;
			f->msix_on = false;
		}
		if (f->gsi != PCI_NO_GSI)
			(void)hv_irq_ctrl(HV_SEL_GSI_BASE + f->gsi, 0, HV_IRQ_MASK);
		f->gsi = PCI_NO_GSI;
		f->owner = NULL;
		char b[16];
		bdf_str(f->bdf, b, sizeof(b));
		rt_log("domain '%s': device %s released (bus master and decode off, DMA blocked)", d->cfg->name, b);
	}
	d->ndev = 0;
}

/* ---- the configuration-space protocol ------------------------------------- */

/* HV_ROOT_PCI_READ / HV_ROOT_PCI_WRITE from domain d (see <hv/startinfo.h>). */
hv_status_t pci_serve(struct domain *d, struct hv_utcb *u, unsigned words)
{
	bool wr = u->mr[0] == HV_ROOT_PCI_WRITE;
	if (words < (wr ? 5u : 4u))
		return HV_EPARAM;
	hv_word_t idx = u->mr[1], off = u->mr[2], size = u->mr[3], val = wr ? u->mr[4] : 0;
	if (d->state != DOM_RUNNING || idx >= d->ndev)
		return HV_EPARAM;
	struct pci_fn *f = d->dev[idx];
	unsigned limit = ecam_map(f->bdf >> 8) ? PCI_ECAM_SIZE : PCI_CFG_SIZE;
	if (!pci_access_ok(off, size, limit) || (wr && size < 8 && val >> (8 * size)))
		return HV_EPARAM;
	if (!wr) {
		u->mr[1] = cfg_read(f->bdf, (unsigned)off, (unsigned)size);
		return HV_OK;
	}
	struct pci_filter flt = {
		.caps = f->caps,
		.msi = f->msi_slot >= 0 && !f->msix_on,
		.msix = f->msi_slot >= 0 && f->msix_on,
		.msi_data = f->msi_data,
		.msi_addr = f->msi_addr & MSI_ADDR_REMAPPABLE ? &f->msi_addr : msi_addrs, /* remapped: only its own */
		.n_addr = f->msi_addr & MSI_ADDR_REMAPPABLE ? 1
			  : hip->num_cpus < RT_MAX_CPUS ? (unsigned)hip->num_cpus : RT_MAX_CPUS,
	};
	if (pci_write_check(&flt, (unsigned)off, (unsigned)size, (uint32_t)val) != 0)
		return HV_EPERM;
	cfg_write(f->bdf, (unsigned)off, (unsigned)size, (uint32_t)val);
	if (f->caps.pm && off < f->caps.pm + 6 && off + size > f->caps.pm + 4)
		restore_after_pm(f);
	return HV_OK;
}
