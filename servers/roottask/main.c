/*
 * The roottask: receives every resource from the kernel (HIP), reads the
 * system configuration and starts each valid domain with exactly what the
 * configuration grants. It then serves the root protocol (service
 * registration, exit) and the exception portals of all domains.
 */
#include "roottask.h"
#include <hv/portio.h>
#include <hv/spinlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct hv_hip *hip;
struct cfg config;
const char *config_name = "system.conf";
struct domain domains[CFG_MAX_DOMAINS];
struct service services[RT_MAX_SERVICES];
unsigned nservices;
struct ralloc ram;

static hv_sel_t root_handler[RT_MAX_CPUS]; /* handler ECs, one per CPU */
static hv_sel_t console_pt[RT_MAX_CPUS];   /* roottask's own console portals */
static hv_spinlock_t log_lock;
static hv_sel_t table_lock; /* semaphore (count 1) guarding domains and services */

/* A blocking lock: a spinning one could wait forever for a holder that a
 * higher-priority domain preempted on the same CPU. */
static void tables_lock(void) { (void)hv_sm_down(table_lock); }
static void tables_unlock(void) { (void)hv_sm_up(table_lock); }

static void uart_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_puts("\r");
		for (unsigned i = 0; i < 100000 && !(hv_inb(0x3fd) & 0x20); i++)
			;
		hv_outb(0x3f8, (unsigned char)*s);
	}
}

/* Writes one line through the console portal of this CPU, or to the UART. */
void rt_log(const char *fmt, ...)
{
	char buf[HV_CONS_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = strlen(buf);
	if (!len || buf[len - 1] != '\n') {
		buf[len++] = '\n';
		buf[len] = 0;
	}
	unsigned cpu = hv_tls()->cpu;
	if (cpu < RT_MAX_CPUS && console_pt[cpu]) {
		struct hv_utcb *u = hv_utcb();
		u->mr[0] = HV_CONS_WRITE;
		u->mr[1] = len;
		memcpy(&u->mr[2], buf, len);
		if (hv_call(console_pt[cpu], HV_TAG(2 + (len + 7) / 8, 0), NULL) == HV_OK)
			return;
	}
	hv_spin_lock(&log_lock);
	uart_puts("[root] ");
	uart_puts(buf);
	hv_spin_unlock(&log_lock);
}

void rt_report(void *ctx, const char *msg)
{
	(void)ctx;
	rt_log("%s", msg);
}

struct service *service_find(const char *name)
{
	for (unsigned i = 0; i < nservices; i++)
		if (!strcmp(services[i].name, name))
			return &services[i];
	return NULL;
}

/* Tells the console the prefix for portal id `id`. */
void console_name(unsigned id, const char *name)
{
	unsigned cpu = hv_tls()->cpu;
	if (cpu >= RT_MAX_CPUS || !console_pt[cpu])
		return;
	struct hv_utcb *u = hv_utcb();
	u->mr[0] = HV_CONS_NAME;
	u->mr[1] = id;
	u->mr[2] = u->mr[3] = 0;
	memcpy(&u->mr[2], name, strnlen(name, CFG_NAME_MAX - 1));
	(void)hv_call(console_pt[cpu], HV_TAG(4, 0), NULL);
}

static struct domain *domain_of(hv_word_t id)
{
	id &= ~(hv_word_t)RT_ID_MAIN;
	return id >= 1 && id <= config.ndom ? &domains[id - 1] : NULL;
}

static hv_word_t name_words(hv_word_t a, hv_word_t b, char *out)
{
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
	out[CFG_NAME_MAX - 1] = 0;
	return 0;
}

/* HV_ROOT_REGISTER from domain d: take its handler ECs, record the service. */
static hv_status_t do_register(struct domain *d, struct hv_utcb *u, unsigned words)
{
	char name[CFG_NAME_MAX];
	name_words(u->mr[2], u->mr[3], name);
	hv_word_t entry = u->mr[1], n = u->mr[4];
	if (words < 5 || n == 0 || n > hip->num_cpus || words < 5 + n)
		return HV_EPARAM;
	bool allowed = false;
	for (unsigned i = 0; i < d->cfg->nprovides; i++)
		allowed |= !strcmp(d->cfg->provides[i], name);
	if (!allowed) {
		rt_log("domain '%s' may not register service '%s' (no 'provides')", d->cfg->name, name);
		return HV_EPERM;
	}
	if (service_find(name) || nservices >= RT_MAX_SERVICES)
		return HV_EBUSY;
	struct service *s = &services[nservices];
	hv_word_t sels[RT_MAX_CPUS];
	memcpy(sels, &u->mr[5], n * sizeof(hv_word_t));
	for (unsigned c = 0; c < n; c++) {
		s->handler[c] = hv_sel_alloc();
		hv_status_t st = hv_delegate(d->pd, HV_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_EC_BIND_PT, 0), sels[c],
					     s->handler[c]);
		if (st != HV_OK) {
			rt_log("domain '%s': handler EC %lu for service '%s': %s", d->cfg->name, sels[c], name,
			       hv_status_str(st));
			return st;
		}
	}
	memcpy(s->name, name, sizeof(name));
	s->provider = d;
	s->entry = entry;
	s->ncpus = (unsigned)n;
	nservices++;
	if (!strcmp(name, "console")) {
		for (unsigned c = 0; c < n; c++) {
			hv_sel_t pt = hv_sel_alloc();
			if (hv_create_pt(pt, HV_SEL_PD, s->handler[c], 0, entry, 0) == HV_OK)
				console_pt[c] = pt;
		}
		console_name(0, "root");
		for (unsigned i = 0; i < config.ndom; i++)
			if (domains[i].state == DOM_RUNNING)
				console_name(domains[i].id, domains[i].cfg->name);
	}
	rt_log("service '%s' registered by '%s' (%lu CPU%s)", name, d->cfg->name, n, n == 1 ? "" : "s");
	return HV_OK;
}

HV_PORTAL_ENTRY(root_entry, root_serve);

/* The root protocol, on the portal every domain has at HV_SI_SEL_ROOT. */
hv_word_t root_serve(hv_word_t id, hv_word_t tag)
{
	struct hv_utcb *u = hv_utcb();
	struct domain *d = domain_of(id);
	unsigned words = HV_TAG_UNTYPED(tag);
	hv_status_t st = HV_EPARAM;
	if (!d || words < 1) {
		u->mr[0] = HV_EPARAM;
		return HV_TAG(1, 0);
	}
	switch (u->mr[0]) {
	case HV_ROOT_REGISTER:
		tables_lock();
		st = do_register(d, u, words);
		hv_status_t reply = st;
		if (st == HV_OK)
			domains_start_ready();
		tables_unlock();
		u = hv_utcb();
		u->mr[0] = reply;
		return HV_TAG(1, 0);
	case HV_ROOT_PCI_READ:
	case HV_ROOT_PCI_WRITE: {
		bool rd = u->mr[0] == HV_ROOT_PCI_READ;
		tables_lock();
		st = pci_serve(d, u, words);
		tables_unlock();
		u->mr[0] = st;
		return HV_TAG(rd && st == HV_OK ? 2 : 1, 0);
	}
	case HV_ROOT_EXIT: {
		long code = words >= 2 ? (long)u->mr[1] : 0l; /* logging reuses the UTCB */
		rt_log("domain '%s' exited with code %ld", d->cfg->name, code);
		tables_lock();
		domain_end(d, code != 0);
		tables_unlock();
		return HV_TAG_STOP;
	}
	}
	u->mr[0] = st;
	return HV_TAG(1, 0);
}

static const char *const exc_name[32] = {
	[0] = "divide error (#DE)", [1] = "debug (#DB)", [3] = "breakpoint (#BP)", [4] = "overflow (#OF)",
	[5] = "bound range (#BR)", [6] = "invalid opcode (#UD)", [7] = "device not available (#NM)",
	[10] = "invalid TSS (#TS)", [11] = "segment not present (#NP)", [12] = "stack fault (#SS)",
	[13] = "general protection (#GP)", [14] = "page fault (#PF)", [16] = "x87 error (#MF)",
	[17] = "alignment check (#AC)", [19] = "SIMD error (#XM)",
};

HV_PORTAL_ENTRY(fault_entry, fault_serve);

/* Exception portals of every domain: report, then stop the faulting EC. */
hv_word_t fault_serve(hv_word_t id, hv_word_t tag)
{
	if (!(tag & HV_TAG_EVENT)) /* a thread called its exception portal: not a fault */
		return HV_TAG(0, 0);
	const struct hv_cpu_state *st = &hv_utcb()->st;
	struct domain *d = domain_of(id);
	hv_word_t ev = st->event, rip = st->rip, err = st->qual[0], addr = st->qual[1];
	const char *what = ev < 32 && exc_name[ev] ? exc_name[ev] : "exception";
	bool main_ec = id & RT_ID_MAIN;
	const char *result = main_ec ? "domain stopped" : "thread stopped";
	if (ev == 14)
		rt_log("domain '%s': %s at rip %#lx, address %#lx (%s %s) - %s", d ? d->cfg->name : "?", what, rip,
		       addr, err & 2 ? "write" : "read", err & 1 ? "protection" : "not present", result);
	else
		rt_log("domain '%s': %s at rip %#lx, error code %#lx - %s", d ? d->cfg->name : "?", what, rip, err,
		       result);
	if (main_ec && d) {
		tables_lock();
		domain_end(d, true);
		tables_unlock();
	}
	return HV_TAG_STOP;
}

/* A portal for domain `id` on `cpu` into the roottask: protocol or faults. */
hv_sel_t root_portal(unsigned cpu, unsigned id, bool fault)
{
	hv_sel_t pt = hv_sel_alloc();
	hv_word_t mtd = fault ? HV_MTD_RIP_LEN | HV_MTD_RSP | HV_MTD_QUAL : 0;
	hv_word_t ip = fault ? (hv_word_t)fault_entry : (hv_word_t)root_entry;
	if (pt == HV_SEL_NONE || cpu >= RT_MAX_CPUS ||
	    hv_create_pt(pt, HV_SEL_PD, root_handler[cpu], mtd, ip, id) != HV_OK)
		return HV_SEL_NONE;
	return pt;
}

/*
 * MSI delivery without a PCI device: HPET timer 0, where it can send its
 * interrupt as a message (QEMU: -global hpet.msi=on), fires once at MSI
 * semaphore 1 routed to the last CPU; the HPET is left disabled.
 */
static void msi_check(void)
{
	hv_word_t va = hv_va_alloc(HV_PAGE_SIZE), addr, data, cpu = hip->num_cpus - 1;
	volatile hv_word_t *h = (volatile hv_word_t *)va; /* registers: 8-byte words */
	if (hv_delegate(HV_SEL_PD, HV_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0),
			HV_RT_PHYS_BASE + 0xfed00000, va) != HV_OK || !(h[0] >> 32) || (h[0] >> 32) > 100000000 ||
	    !(h[0x100 / 8] & (1ul << 15))) { /* no period, or timer 0 without FSB delivery */
		rt_log("roottask: no HPET timer with MSI delivery: MSI delivery not checked");
		return;
	}
	hv_status_t st = hv_irq_msi(HV_SEL_MSI_BASE + 1, (unsigned)cpu, 0, &addr, &data);
	if (st == HV_OK && (addr & 0x10)) { /* QEMU's HPET sends its MSIs around the IOMMU */
		rt_log("roottask: HPET MSI not checked: interrupts are remapped (address %lx)", addr);
		(void)hv_irq_msi(HV_SEL_MSI_BASE + 1, 0, HV_IRQ_MASK, &addr, &data);
		(void)hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, va);
		return;
	}
	h[0x10 / 8] = 0;                        /* halted */
	h[0x110 / 8] = addr << 32 | data;       /* FSB route: address, data */
	h[0x100 / 8] = 1ul << 14 | 1ul << 2;    /* FSB delivery, enabled, edge, one-shot */
	h[0x108 / 8] = h[0xf0 / 8] + 1000;      /* comparator */
	h[0x10 / 8] = 1;
	if (st == HV_OK)
		st = hv_sm_down(HV_SEL_MSI_BASE + 1);
	hv_status_t again = hv_sm_trydown(HV_SEL_MSI_BASE + 1);
	h[0x10 / 8] = 0;
	h[0x100 / 8] = 0;
	hv_word_t a, d;
	(void)hv_irq_msi(HV_SEL_MSI_BASE + 1, 0, HV_IRQ_MASK, &a, &d);
	(void)hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, va);
	rt_log("roottask: HPET MSI to CPU %lu (address %lx, data %lx): %s", cpu, addr, data,
	       st == HV_OK && again == HV_ETIMEOUT ? "delivered once" : "FAILED");
}

/*
 * The kernel's device-assignment calls, checked once at boot: the BIOS
 * reset-vector page (device memory) mapped uncached and write-combining
 * by delegation to itself and read; DMA of RAM granted and revoked; WC of
 * RAM, DMA of device memory, a bad BDF and assign_dev with a PD capability
 * made by create_pd (no HV_R_PD_DEV) refused; MSI semaphore 0 routed (in
 * compatibility or, under interrupt remapping, remappable format); a
 * source BDF without HV_IRQ_SOURCE, and HV_IRQ_SOURCE on a GSI, refused.
 */
static void device_check(void)
{
	hv_word_t va = hv_va_alloc(3 * HV_PAGE_SIZE), r = HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), addr = 0, data = 0, a2, d2;
	hv_word_t dev = HV_RT_PHYS_BASE + 0xfffff000, mem = HV_RT_PHYS_BASE + hip->mem[0].phys;
	hv_sel_t pd = hv_sel_alloc();
	unsigned fail = 0, n = 0, uc = 0, wc = 0;
#define CHECK(cond) (fail |= !(cond) << n++)
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r | HV_ITEM_DMA, dev, va) == HV_EPARAM);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r | HV_ITEM_WC, mem, va) == HV_EPARAM);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r | HV_ITEM_WC | HV_ITEM_DMA, mem, va) == HV_EPARAM);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, HV_ITEM(HV_KIND_IO, HV_R_IO, 0) | HV_ITEM_WC, 0x80, 0x80) == HV_EPARAM);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r, dev, va) == HV_OK && (uc = *(volatile unsigned char *)(va + 0xff0)) == 0xea);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r | HV_ITEM_WC, dev, va + HV_PAGE_SIZE) == HV_OK &&
	      (wc = *(volatile unsigned char *)(va + HV_PAGE_SIZE + 0xff0)) == 0xea);
	CHECK(hv_delegate(HV_SEL_PD, HV_SEL_PD, r | HV_ITEM_DMA, mem, va + 2 * HV_PAGE_SIZE) == HV_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, va + i * HV_PAGE_SIZE) == HV_OK);
	CHECK(hv_assign_dev(HV_SEL_PD, HV_SEL_PD, 0x10000, HV_DEV_ASSIGN) == HV_EPARAM);
	CHECK(hv_assign_dev(HV_SEL_PD, HV_SEL_PD, 0, 2) == HV_EPARAM);
	CHECK(hv_assign_dev(HV_SEL_PD, HV_SEL_PD, HV_BDF(0, 31, 7), HV_DEV_RELEASE) == HV_OK);
	CHECK(hv_create_pd(pd, HV_SEL_PD, 16384, 0, 1) == HV_OK &&
	      hv_assign_dev(pd, HV_SEL_PD, HV_BDF(0, 31, 7), HV_DEV_RELEASE) == HV_EPERM &&
	      hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, pd) == HV_OK);
	CHECK(hv_irq_msi(HV_SEL_MSI_BASE + 1, 0, HV_IRQ_LEVEL, &addr, &data) == HV_EPARAM);
	CHECK(hv_irq_msi(HV_SEL_MSI_BASE, 0, HV_IRQ_MASK, &addr, &data) == HV_OK &&
	      (addr == (0xfee00000 | hip->cpu_apic_id[0] << 12) ? data == 0x60 : addr == (0xfee00000 | 0x40 << 5 | 0x10) && !data));
	CHECK(hv_irq_msi(HV_SEL_MSI_BASE, 0, HV_IRQ_MASK | HV_IRQ_SOURCE_BDF(1), &a2, &d2) == HV_EPARAM);
	CHECK(hv_irq_ctrl(HV_SEL_GSI_BASE + 1, 0, HV_IRQ_MASK | HV_IRQ_SOURCE) == HV_EPARAM); /* MSIs only */
#undef CHECK
	rt_log("roottask: device memory (%lu-bit), reset vector %x/%x, MSI 0 at %lx data %lx, %lu MSIs, IOMMU %lu, ECAM %lx: "
	       "%s (%x)", hip->phys_bits, uc, wc, addr, data, hip->num_msi, hip->iommu, hip->pci_ecam_base,
	       fail ? "FAILED" : "ok", fail);
	msi_check();
}

static void load_config(void)
{
	const char *arg = NULL;
	static char name[64];
	for (const char *p = hip->cmdline; *p && !arg; p++)
		if (!strncmp(p, "config=", 7) && (p == hip->cmdline || p[-1] == ' '))
			arg = p;
	if (arg) {
		size_t i = 0;
		for (arg += 7; arg[i] && arg[i] != ' ' && i + 1 < sizeof(name); i++)
			name[i] = arg[i];
		name[i] = 0;
		config_name = name;
	}
	const struct hv_hip_mod *m;
	if (!module_find(config_name, &m)) {
		rt_log("no configuration module '%s': nothing to start", config_name);
		return;
	}
	cfg_parse((const char *)(HV_RT_PHYS_BASE + m->phys), m->size, config_name, &config, rt_report, NULL);
}

int main(const struct hv_startinfo *unused)
{
	(void)unused;
	hip = (const struct hv_hip *)HV_HIP_ADDR;
	struct ralloc_range rr[HV_HIP_MAX_MEM];
	for (unsigned i = 0; i < hip->num_mem; i++)
		rr[i] = (struct ralloc_range){ hip->mem[i].phys, hip->mem[i].size };
	hv_word_t heap;
	if (!ralloc_init(&ram, rr, (unsigned)hip->num_mem) || !ralloc_alloc(&ram, 4ul << 20, 4096, &heap)) {
		rt_log("cannot set up memory");
		return 1;
	}
	hv_sel_t first = HV_SI_SEL_GRANTS(hip->num_cpus); /* above the kernel's GSI and MSI semaphores */
	hv_alloc_init(first > HV_SEL_MSI_BASE + HV_MSI_COUNT ? first : HV_SEL_MSI_BASE + HV_MSI_COUNT, HV_SI_FREE_VA,
		      HV_RT_PHYS_BASE + heap, 4ul << 20);
	rt_log("roottask: %lu CPUs, %lu modules, %lu KiB kernel memory, TSC %lu kHz", hip->num_cpus,
	       hip->num_mods, hip->kmem_quota >> 10, hip->tsc_khz);
	device_check();
	table_lock = hv_sel_alloc();
	hv_sel_t idle = hv_sel_alloc(); /* the main thread waits on it for good once domains are started */
	if (hv_create_sm(table_lock, HV_SEL_PD, 1) != HV_OK || hv_create_sm(idle, HV_SEL_PD, 0) != HV_OK) {
		rt_log("cannot create the table lock");
		return 1;
	}
	if (!report_init()) {
		rt_log("cannot start the kernel-memory reports");
		return 1;
	}
	for (unsigned c = 0; c < hip->num_cpus && c < RT_MAX_CPUS; c++)
		if (hv_handler_create(c, &root_handler[c]) != HV_OK) {
			rt_log("cannot create handler on CPU %u", c);
			return 1;
		}
	pci_init();
	load_config();
	for (unsigned i = 0; i < config.ndom; i++) {
		domains[i].cfg = &config.dom[i];
		domains[i].id = i + 1;
		domains[i].state = config.dom[i].valid ? DOM_WAITING : DOM_INVALID;
	}
	links_init();
	tables_lock();
	domains_start_ready();
	unsigned waiting = 0;
	for (unsigned i = 0; i < config.ndom; i++)
		waiting += domains[i].state == DOM_WAITING;
	tables_unlock();
	rt_log("roottask: %u domain%s configured, %u with errors, %u waiting for services", config.ndom,
	       config.ndom == 1 ? "" : "s", config.nerrors ? config.nerrors : 0, waiting);
	for (;;)
		(void)hv_sm_down(idle);
}
