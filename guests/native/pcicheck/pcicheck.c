/*
 * pcicheck: the mediated configuration space as a domain WITH a device sees
 * it (lib/pci.c against the roottask's HV_ROOT_PCI_READ/WRITE): its IDs and
 * class as the start info says, malformed accesses refused (HV_EPARAM),
 * writes outside what the filter allows refused (HV_EPERM), the command
 * register, MSI (enable with the roottask's values; other values, more
 * vectors refused), MSI-X enable (allowed only with HV_SI_IRQ_MSIX, the
 * table pages then left out of the BAR mapping), a power-state write. It also maps
 * what the start info promises: a memory BAR is read, an I/O BAR's first
 * port too. With `fuzz N`, then N random reads and writes (any words) that
 * must leave the header unchanged. Prints one line per failed check and at the end
 * `pcicheck: N checks, M failed`; exits with M.
 */
#include <stdio.h>
#include <string.h>
#include <hv/pci.h>
#include <hv/portio.h>
#include <hv/runtime.h>

static unsigned checks, failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		checks++;                                                    \
		if (!(cond)) {                                               \
			failed++;                                            \
			printf("pcicheck: FAILED: " __VA_ARGS__);            \
			printf("\n");                                        \
		}                                                            \
	} while (0)

static hv_word_t rd(unsigned off, unsigned size)
{
	hv_word_t v = ~0ul;
	hv_status_t st = hv_pci_read(0, off, size, &v);
	CHECK(st == HV_OK, "read of %u bytes at 0x%x: %s", size, off, hv_status_str(st));
	return v;
}

static void expect_write(unsigned off, unsigned size, hv_word_t val, hv_status_t want, const char *what)
{
	hv_status_t st = hv_pci_write(0, off, size, val);
	CHECK(st == want, "%s: write of 0x%lx (%u bytes at 0x%x): %s, expected %s", what, val, size, off,
	      hv_status_str(st), hv_status_str(want));
}

static void params(const struct hv_startinfo *si)
{
	hv_word_t v;
	struct {
		unsigned d, off, size;
	} bad[] = {
		{ 0, 0, 3 }, { 0, 0, 8 }, { 0, 0, 0 }, { 0, 2, 4 }, { 0, 1, 2 }, { 0, 4096, 1 }, { 0, 4095, 2 },
		{ (unsigned)si->num_dev, 0, 4 }, { ~0u, 0, 4 }, { HV_SI_MAX_DEV, 0, 4 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hv_status_t st = hv_pci_read(bad[i].d, bad[i].off, bad[i].size, &v);
		CHECK(st == HV_EPARAM, "read dev %u off 0x%x size %u: %s, expected HV_EPARAM", bad[i].d, bad[i].off,
		      bad[i].size, hv_status_str(st));
	}
	expect_write(HV_PCI_COMMAND, 1, 0x100, HV_EPARAM, "value wider than the access");
	expect_write(HV_PCI_COMMAND, 2, 0x10000, HV_EPARAM, "value wider than the access");
	/* a short message: no offset or size */
	struct hv_utcb *u = hv_utcb();
	u->mr[0] = HV_ROOT_PCI_READ;
	u->mr[1] = 0;
	hv_word_t tag;
	hv_status_t st = hv_call(HV_SI_SEL_ROOT, HV_TAG(2, 0), &tag);
	CHECK(st == HV_OK && u->mr[0] == HV_EPARAM, "a two-word read message: %s / %s", hv_status_str(st),
	      hv_status_str((hv_status_t)u->mr[0]));
}

static void header(const struct hv_si_dev *dev)
{
	hv_word_t id = rd(0, 4);
	CHECK(id == (dev->device << 16 | dev->vendor), "IDs 0x%lx, start info %04lx:%04lx", id, dev->vendor,
	      dev->device);
	CHECK(rd(0, 2) == dev->vendor && rd(2, 2) == dev->device && rd(1, 1) == (dev->vendor >> 8),
	      "IDs by smaller reads");
	CHECK((rd(8, 4) >> 8) == dev->class, "class 0x%lx, start info %06lx", rd(8, 4) >> 8, dev->class);
	for (unsigned b = 0; b < HV_SI_MAX_BAR; b++)
		expect_write(0x10 + 4 * b, 4, 0xffffffffu, HV_EPERM, "BAR");
	expect_write(0x00, 4, 0, HV_EPERM, "IDs");
	expect_write(0x0c, 1, 0x10, HV_EPERM, "cache line size");
	expect_write(0x0e, 1, 0x80, HV_EPERM, "header type");
	expect_write(0x30, 4, 0xfffff800u, HV_EPERM, "expansion ROM");
	expect_write(0x34, 1, 0x40, HV_EPERM, "capability pointer");
	expect_write(0x3c, 1, 5, HV_EPERM, "interrupt line");
	/* command: bus master on and off again */
	hv_word_t cmd = rd(HV_PCI_COMMAND, 2);
	CHECK(hv_pci_command(0, HV_PCI_CMD_MASTER, 0) == HV_OK && (rd(HV_PCI_COMMAND, 2) & HV_PCI_CMD_MASTER),
	      "bus master on");
	CHECK(hv_pci_command(0, 0, HV_PCI_CMD_MASTER) == HV_OK && !(rd(HV_PCI_COMMAND, 2) & HV_PCI_CMD_MASTER),
	      "bus master off");
	CHECK((rd(HV_PCI_COMMAND, 2) & 3) == (cmd & 3), "decode as the roottask left it");
}

static void msi(const struct hv_startinfo *si, const struct hv_si_dev *dev)
{
	unsigned p = hv_pci_find_cap(0, HV_PCI_CAP_MSI);
	if (!p) {
		CHECK(!dev->msi_addr || (dev->irq_flags & HV_SI_IRQ_MSIX), "MSI in the start info, no MSI capability");
		return;
	}
	hv_word_t ctrl = rd(p + 2, 2);
	unsigned data = p + (ctrl & 0x80 ? 12 : 8);
	if (!dev->msi_addr || (dev->irq_flags & HV_SI_IRQ_MSIX)) { /* INTx or MSI-X: no MSI for this domain */
		expect_write(p + 2, 2, (ctrl & ~0x70ul) | 1, HV_EPERM, "MSI enable without an MSI semaphore");
		expect_write(p + 4, 4, 0xfee00000u, HV_EPERM, "MSI address without an MSI semaphore");
		expect_write(data, 2, dev->msi_data, HV_EPERM, "MSI data without an MSI semaphore");
		CHECK(hv_pci_msi_enable(0, 1) == HV_EPERM, "MSI enable by lib/pci.c without an MSI semaphore");
		return;
	}
	CHECK(rd(p + 4, 4) == dev->msi_addr, "MSI address 0x%lx, start info 0x%lx", rd(p + 4, 4), dev->msi_addr);
	CHECK(rd(data, 2) == dev->msi_data, "MSI data 0x%lx, start info 0x%lx", rd(data, 2), dev->msi_data);
	expect_write(data, 2, dev->msi_data ^ 1, HV_EPERM, "other MSI data");
	expect_write(data, 2, dev->msi_data, HV_OK, "the MSI data");
	expect_write(p + 4, 4, 0xfee00000u | 0xfful << 12, HV_EPERM, "MSI address of no CPU");
	expect_write(p + 4, 4, 0x00001000u, HV_EPERM, "MSI address in RAM");
	expect_write(p + 4, 2, dev->msi_addr & 0xffff, HV_EPERM, "half an MSI address");
	expect_write(p + 4, 4, dev->msi_addr, HV_OK, "the MSI address");
	if (ctrl & 0x80) {
		expect_write(p + 8, 4, 1, HV_EPERM, "MSI address above 4 GiB");
		expect_write(p + 8, 4, 0, HV_OK, "MSI upper address 0");
	}
	expect_write(p + 2, 2, (ctrl & ~0x70ul) | 0x11, HV_EPERM, "two MSI vectors");
	CHECK(hv_pci_msi_enable(0, 1) == HV_OK && (rd(p + 2, 2) & 1), "MSI enable");
	CHECK(hv_pci_msi_enable(0, 0) == HV_OK && !(rd(p + 2, 2) & 1), "MSI disable");
	(void)si;
}

/* MSI-X: enable only where the start info says the semaphore comes that
 * way (the roottask wrote table entry 0); the table pages are not mapped. */
static void msix(const struct hv_si_dev *dev)
{
	unsigned p = hv_pci_find_cap(0, HV_PCI_CAP_MSIX);
	int x = (dev->irq_flags & HV_SI_IRQ_MSIX) != 0;
	CHECK(p || !x, "MSI-X in the start info, no MSI-X capability");
	if (!p)
		return;
	hv_word_t ctrl = rd(p + 2, 2), tab = rd(p + 4, 4);
	expect_write(p + 2, 2, ctrl | 0x8000, x ? HV_OK : HV_EPERM, "MSI-X enable");
	expect_write(p + 3, 1, (ctrl >> 8 | 0x80) & 0xff, x ? HV_OK : HV_EPERM, "MSI-X enable (one byte)");
	expect_write(p + 2, 2, (ctrl | 0x4000) & ~0x8000ul, HV_OK, "MSI-X function mask");
	expect_write(p + 4, 4, 0, HV_EPERM, "MSI-X table offset");
	expect_write(p + 8, 4, 0, HV_EPERM, "MSI-X PBA offset");
	if (x) {
		CHECK(dev->msi_addr && dev->irq_sel, "MSI-X without a semaphore in the start info");
		CHECK(hv_pci_msix_enable(0, 1) == HV_OK && (rd(p + 2, 2) & 0xc000) == 0x8000, "MSI-X enable");
		CHECK(hv_pci_msix_enable(0, 0) == HV_OK && !(rd(p + 2, 2) & 0x8000), "MSI-X disable");
		unsigned b = tab & 7;
		CHECK(b < HV_SI_MAX_BAR && (dev->bar[b].flags & HV_SI_BAR_HOLE), "MSI-X table bar%u mapped whole", b);
		printf("pcicheck: MSI-X: enable allowed, table in bar%u+0x%lx left out of the mapping\n", b,
		       tab & ~7ul);
	} else {
		CHECK(hv_pci_msix_enable(0, 1) == HV_EPERM, "MSI-X enable by lib/pci.c without MSI-X");
	}
}

static void other_caps(void)
{
	unsigned p;
	p = hv_pci_find_cap(0, HV_PCI_CAP_PM);
	if (p) {
		hv_word_t csr = rd(p + 4, 2);
		expect_write(p + 4, 2, csr & ~3ul, HV_OK, "power state D0");
		expect_write(p + 2, 2, 0, HV_EPERM, "power-management capabilities");
	}
}

/* What the start info says is mapped: read it. */
static void bars(const struct hv_si_dev *dev)
{
	for (unsigned b = 0; b < HV_SI_MAX_BAR; b++) {
		const struct hv_si_bar *r = &dev->bar[b];
		if (!r->phys || !r->size)
			continue;
		if (r->flags & HV_SI_BAR_IO) {
			(void)hv_inb((unsigned short)r->phys); /* a fault would stop the domain */
			printf("pcicheck: bar%u: port 0x%lx readable\n", b, r->phys);
		} else {
			CHECK(r->addr >= HV_SI_BAR(0, b) && r->addr < HV_SI_BAR(0, b) + HV_PAGE_SIZE,
			      "bar%u mapped at 0x%lx", b, r->addr);
			if (!(r->flags & HV_SI_BAR_HOLE) || r->addr != HV_SI_BAR(0, b)) {
				(void)*(volatile unsigned *)r->addr;
				printf("pcicheck: bar%u: 0x%lx+0x%lx readable at 0x%lx%s\n", b, r->phys, r->size, r->addr,
				       r->flags & HV_SI_BAR_WC ? " (write-combining)" : "");
			}
		}
	}
}

/* 'fuzz N': N random reads and writes of its own device (any words); the
 * header (IDs, BARs, capability pointer, interrupt line) must not change. */
static void fuzz(unsigned long n)
{
	unsigned before[16], after[16];
	hv_word_t v, x = 0x9e3779b97f4a7c15ul;
	unsigned ok = 0, perm = 0, param = 0;

	for (unsigned i = 0; i < 16; i++)
		before[i] = (unsigned)rd(4 * i, 4);
	for (unsigned long k = 0; k < n; k++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		hv_word_t r = x * 0x2545f4914f6cdd1dul;
		unsigned size = 1u << (r & 3);         /* 1, 2, 4, 8 */
		unsigned off = (unsigned)(r >> 2) & 0x1ff; /* also beyond 256 */
		if (r >> 40 & 3) /* mostly aligned */
			off &= ~(size - 1);
		unsigned d = (r >> 11 & 15) == 0 ? (unsigned)(r >> 15) : 0;
		hv_word_t val = r >> 20;
		if (r >> 63)
			val &= size >= 8 ? ~0ul : (1ul << (8 * size)) - 1;
		if (off == HV_PCI_COMMAND || off == HV_PCI_COMMAND + 1)
			val &= ~(hv_word_t)(HV_PCI_CMD_MEM | HV_PCI_CMD_IO); /* keep its own BARs decoding */
		hv_status_t st = (r >> 62 & 1) ? hv_pci_write(d, off, size, val) : hv_pci_read(d, off, size, &v);
		ok += st == HV_OK;
		perm += st == HV_EPERM;
		param += st == HV_EPARAM;
		CHECK(st == HV_OK || st == HV_EPERM || st == HV_EPARAM, "fuzz call %lu: %s", k, hv_status_str(st));
	}
	for (unsigned i = 0; i < 16; i++) {
		after[i] = (unsigned)rd(4 * i, 4);
		if (i == 1) /* command and status may change */
			continue;
		CHECK(after[i] == before[i], "fuzz: header dword 0x%x 0x%x, before 0x%x", 4 * i, after[i], before[i]);
	}
	printf("pcicheck: fuzz: %lu calls: %u done, %u refused (HV_EPERM), %u malformed (HV_EPARAM)\n", n, ok, perm,
	       param);
	(void)hv_pci_msi_enable(0, 0);
}

int main(const struct hv_startinfo *si)
{
	if (!si || si->num_dev < 1 || si->num_dev > HV_SI_MAX_DEV) {
		printf("pcicheck: needs a 'device'\n");
		return 1;
	}
	const struct hv_si_dev *dev = &si->dev[0];
	printf("pcicheck: device %02lx:%02lx.%lx %04lx:%04lx, interrupt %s\n", dev->bdf >> 8, (dev->bdf >> 3) & 0x1f,
	       dev->bdf & 7, dev->vendor, dev->device,
	       dev->irq_flags & HV_SI_IRQ_MSIX ? "MSI-X" : dev->msi_addr ? "MSI" : dev->irq_sel ? "INTx" : "none");
	params(si);
	header(dev);
	msi(si, dev);
	msix(dev);
	other_caps();
	hv_word_t v;
	hv_status_t st = hv_pci_read(0, 0x100, 4, &v);
	printf("pcicheck: extended configuration space (offset 0x100): %s\n",
	       st == HV_OK ? "readable (ECAM)" : hv_status_str(st));
	CHECK(st == HV_OK || st == HV_EPARAM, "offset 0x100: %s", hv_status_str(st));
	bars(dev);
	const char *f = NULL;
	for (unsigned i = 0; i + 5 < HV_SI_ARGS && si->args[i] && !f; i++)
		if (!strncmp(&si->args[i], "fuzz ", 5))
			f = &si->args[i];
	if (f) {
		unsigned long n = 0;
		for (f += 5; f < si->args + HV_SI_ARGS && *f >= '0' && *f <= '9' && n < 10000000; f++)
			n = n * 10 + (unsigned long)(*f - '0');
		fuzz(n);
	}
	printf("pcicheck: %u checks, %u failed\n", checks, failed);
	return (int)failed;
}
