/*
 * Building a domain from its configuration: PD, memory (ELF image, stack,
 * heap, start info), capabilities (own objects, console, roottask,
 * exception portals, I/O ports, interrupts, services), then its EC and SC.
 * Problems are reported as "FILE:LINE: ..." and leave the domain unstarted.
 */
#include "elf.h"
#include "roottask.h"
#include <stdio.h>
#include <string.h>

#define QUOTA_OVERHEAD (96ul << 10) /* page tables, UTCB, mapping nodes */

/* A module's name: the word after a path, or the path's base name. */
static void module_name(const char *cmdline, char *out, size_t size)
{
	const char *w = cmdline, *end;
	while (*w == ' ')
		w++;
	end = w;
	while (*end && *end != ' ')
		end++;
	bool path = false;
	for (const char *p = w; p < end; p++)
		path |= *p == '/';
	if (path) {
		const char *next = end;
		while (*next == ' ')
			next++;
		if (*next) {
			w = next;
			end = w;
			while (*end && *end != ' ')
				end++;
		} else {
			for (const char *p = w; p < end; p++)
				if (*p == '/')
					w = p + 1;
			if (end - w > 4 && !strncmp(end - 4, ".elf", 4))
				end -= 4;
		}
	}
	size_t n = (size_t)(end - w) < size - 1 ? (size_t)(end - w) : size - 1;
	memcpy(out, w, n);
	out[n] = 0;
}

bool module_find(const char *name, const struct hv_hip_mod **out)
{
	char n[HV_HIP_CMDLINE];
	for (unsigned i = 0; i < hip->num_mods; i++) {
		module_name(hip->mods[i].cmdline, n, sizeof(n));
		if (!strcmp(n, name)) {
			*out = &hip->mods[i];
			return true;
		}
	}
	return false;
}

/* Delegates [src, src+size) of the roottask to [dst, ...) of pd, in aligned chunks. */
hv_status_t give_mem(hv_sel_t pd, hv_word_t src, hv_word_t dst, hv_word_t size, hv_word_t item_flags,
		     unsigned rights)
{
	while (size) {
		unsigned order = 0;
		while (order < 18 && !((src | dst) & ((HV_PAGE_SIZE << (order + 1)) - 1)) &&
		       (HV_PAGE_SIZE << (order + 1)) <= size)
			order++;
		hv_status_t st = hv_delegate(HV_SEL_PD, pd, HV_ITEM(HV_KIND_MEM, rights, order) | item_flags, src, dst);
		if (st != HV_OK)
			return st;
		src += HV_PAGE_SIZE << order;
		dst += HV_PAGE_SIZE << order;
		size -= HV_PAGE_SIZE << order;
	}
	return HV_OK;
}

hv_status_t give_io(hv_sel_t pd, unsigned first, unsigned last)
{
	for (unsigned p = first; p <= last;) {
		unsigned order = 0;
		while (order < 16 && !(p & ((2u << order) - 1)) && p + (2u << order) - 1 <= last)
			order++;
		hv_status_t st = hv_delegate(HV_SEL_PD, pd, HV_ITEM(HV_KIND_IO, HV_R_IO, order), p, p);
		if (st != HV_OK)
			return st;
		p += 1u << order;
	}
	return HV_OK;
}

hv_status_t give_cap(hv_sel_t pd, hv_sel_t src, hv_sel_t dst, unsigned rights)
{
	return hv_delegate(HV_SEL_PD, pd, HV_ITEM(HV_KIND_OBJ, rights, 0), src, dst);
}

/* A portal the roottask made for d: revoked when d ends. */
static hv_sel_t own(struct domain *d, hv_sel_t pt)
{
	if (pt != HV_SEL_NONE && d->nowned < RT_MAX_OWNED)
		d->owned[d->nowned++] = pt;
	return pt;
}

/* Memory the domain pays from its 'memory' budget: zeroed, in the roottask's window. */
/* Records a piece of RAM of d, given back at its end. */
static bool track(struct domain *d, hv_word_t pa, hv_word_t size)
{
	if (d->nmem == RT_MAX_MEM) {
		rt_log("%s:%u: domain '%s': its memory is in too many pieces", config_name, d->cfg->line, d->cfg->name);
		(void)ralloc_free(&ram, pa, size);
		return false;
	}
	d->mem[d->nmem].pa = pa;
	d->mem[d->nmem++].size = size;
	return true;
}

static bool take_ram(struct domain *d, hv_word_t size, hv_word_t *budget, hv_word_t *phys)
{
	const struct cfg_domain *c = d->cfg;
	if (size > *budget) {
		rt_log("%s:%u: domain '%s' needs more than 'memory %luK'", config_name,
		       c->memory_line ? c->memory_line : c->line, c->name, (unsigned long)(c->memory >> 10));
		return false;
	}
	/* large, aligned pieces map with few nodes and large pages */
	hv_word_t align = HV_PAGE_SIZE;
	while (align < (2ul << 20) && align * 2 <= size)
		align *= 2;
	if (!ralloc_alloc(&ram, size, align, phys) && !ralloc_alloc(&ram, size, HV_PAGE_SIZE, phys)) {
		rt_log("%s:%u: not enough free RAM for domain '%s'", config_name,
		       c->memory_line ? c->memory_line : c->line, c->name);
		return false;
	}
	*budget -= size;
	memset((void *)(HV_RT_PHYS_BASE + *phys), 0, size);
	return track(d, *phys, size);
}

/* 'dma' memory: physically contiguous, from the domain's 'memory' budget. */
static bool take_dma(struct domain *d, hv_word_t *budget, hv_word_t *phys)
{
	const struct cfg_domain *c = d->cfg;
	hv_word_t align = HV_PAGE_SIZE;
	while (align < (2ul << 20) && align < c->dma)
		align *= 2;
	if (c->dma > *budget) {
		rt_log("%s:%u: domain '%s': dma %luK does not fit in what is left of 'memory %luK'", config_name,
		       c->dma_line, c->name, (unsigned long)(c->dma >> 10), (unsigned long)(c->memory >> 10));
		return false;
	}
	if (!ralloc_alloc(&ram, c->dma, align, phys) && !ralloc_alloc(&ram, c->dma, HV_PAGE_SIZE, phys)) {
		rt_log("%s:%u: not enough contiguous free RAM for dma %luK of domain '%s'", config_name, c->dma_line,
		       (unsigned long)(c->dma >> 10), c->name);
		return false;
	}
	*budget -= c->dma;
	memset((void *)(HV_RT_PHYS_BASE + *phys), 0, c->dma);
	return track(d, *phys, c->dma);
}

#define FAIL(line, ...)                                                      \
	do {                                                                 \
		rt_log(__VA_ARGS__);                                         \
		(void)(line);                                                \
		pci_release(d);                                              \
		d->state = DOM_FAILED;                                       \
		return false;                                                \
	} while (0)

static bool load_image(struct domain *d, const struct hv_hip_mod *m, hv_word_t *budget, hv_word_t *entry)
{
	const struct cfg_domain *c = d->cfg;
	struct elf_image img;
	char err[96];
	if (!elf_check((const void *)(HV_RT_PHYS_BASE + m->phys), m->size, &img, err, sizeof(err)))
		FAIL(0, "%s:%u: module '%s': %s", config_name, c->module_line, c->module, err);
	for (unsigned i = 0; i < img.nseg; i++) {
		const struct elf_segment *s = &img.seg[i];
		hv_word_t va = s->vaddr & ~(HV_PAGE_SIZE - 1), off = s->vaddr - va;
		hv_word_t size = (off + s->memsz + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1), pa;
		if (!take_ram(d, size, budget, &pa))
			FAIL(0, "%s:%u: domain '%s' not started", config_name, c->line, c->name);
		memcpy((void *)(HV_RT_PHYS_BASE + pa + off), (const void *)(HV_RT_PHYS_BASE + m->phys + s->offset),
		       s->filesz);
		unsigned r = HV_R_MEM_R | (s->flags & ELF_SEG_W ? HV_R_MEM_W : 0) | (s->flags & ELF_SEG_X ? HV_R_MEM_X : 0);
		hv_status_t st = give_mem(d->pd, HV_RT_PHYS_BASE + pa, va, size, 0, r);
		if (st != HV_OK)
			FAIL(0, "%s:%u: module '%s': cannot map segment at %#lx: %s", config_name, c->module_line,
			     c->module, va, hv_status_str(st));
	}
	*entry = img.entry;
	return true;
}

/* Grants of the configuration: I/O ports, interrupts, services. */
static bool grant(struct domain *d, struct hv_startinfo *si, hv_sel_t *next)
{
	const struct cfg_domain *c = d->cfg;
	for (unsigned i = 0; i < c->nio; i++) {
		hv_status_t st = give_io(d->pd, c->io[i].first, c->io[i].last);
		if (st != HV_OK)
			FAIL(0, "%s:%u: ioport %#x-%#x: %s", config_name, c->io_line[i], c->io[i].first, c->io[i].last,
			     hv_status_str(st));
		si->io[si->num_io].first = c->io[i].first;
		si->io[si->num_io++].last = c->io[i].last;
	}
	for (unsigned i = 0; i < c->nirq; i++) {
		if (c->irq[i] >= hip->num_gsi)
			FAIL(0, "%s:%u: irq %u: this machine has GSIs 0..%lu", config_name, c->irq_line[i], c->irq[i],
			     hip->num_gsi - 1);
		hv_status_t st = give_cap(d->pd, HV_SEL_GSI_BASE + c->irq[i], *next, HV_R_SM_UP | HV_R_SM_DOWN);
		if (st != HV_OK)
			FAIL(0, "%s:%u: irq %u: %s", config_name, c->irq_line[i], c->irq[i], hv_status_str(st));
		si->irq[si->num_irq].gsi = c->irq[i];
		si->irq[si->num_irq++].sel = (*next)++;
	}
	hv_word_t fva = HV_SI_FILES;
	for (unsigned i = 0; i < c->nfiles; i++) {
		const struct hv_hip_mod *m;
		if (!module_find(c->files[i], &m))
			FAIL(0, "%s:%u: file '%s' not found among the boot modules", config_name, c->file_line[i],
			     c->files[i]);
		hv_word_t b = m->phys & ~(HV_PAGE_SIZE - 1);
		hv_word_t e = (m->phys + m->size + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1);
		hv_status_t st = give_mem(d->pd, HV_RT_PHYS_BASE + b, fva, e - b, 0, HV_R_MEM_R);
		if (st != HV_OK)
			FAIL(0, "%s:%u: file '%s': %s", config_name, c->file_line[i], c->files[i], hv_status_str(st));
		struct hv_si_file *f = &si->files[si->num_files++];
		memcpy(f->name, c->files[i], sizeof(f->name));
		f->addr = fva + (m->phys - b);
		f->size = m->size;
		fva += e - b + HV_PAGE_SIZE;
	}
	for (unsigned i = 0; i < c->ncalls; i++) {
		struct service *s = service_find(c->calls[i]);
		struct hv_si_service *e = &si->svc[si->num_svc++];
		memcpy(e->name, s->name, sizeof(e->name));
		e->sel = *next;
		e->num_cpus = s->ncpus;
		for (unsigned cpu = 0; cpu < s->ncpus; cpu++) {
			hv_sel_t pt = hv_sel_alloc();
			hv_status_t st = hv_create_pt(pt, HV_SEL_PD, s->handler[cpu], 0, s->entry, d->id);
			if (st == HV_OK)
				st = give_cap(d->pd, own(d, pt), *next + cpu, HV_R_PT_CALL);
			if (st != HV_OK)
				FAIL(0, "%s:%u: call %s: %s", config_name, c->call_line[i], s->name, hv_status_str(st));
		}
		*next += s->ncpus;
	}
	return true;
}

/* Creates and starts domain d; false (reported) if anything is impossible. */
bool domain_start(struct domain *d)
{
	const struct cfg_domain *c = d->cfg;
	const struct hv_hip_mod *m;
	d->state = DOM_STARTING;
	if (!module_find(c->module, &m))
		FAIL(0, "%s:%u: module '%s' not found among the boot modules", config_name, c->module_line, c->module);
	if (c->cpu >= hip->num_cpus)
		FAIL(0, "%s:%u: cpu %u: this machine has CPUs 0..%lu", config_name, c->cpu_line, c->cpu,
		     hip->num_cpus - 1);
	report_start(d);
	d->pd = hv_sel_alloc();
	hv_status_t st = hv_create_pd(d->pd, HV_SEL_PD, c->kmem + QUOTA_OVERHEAD + c->memory / 256, c->max_prio,
				      c->cpus);
	if (st != HV_OK)
		FAIL(0, "%s:%u: domain '%s': cannot create its PD: %s", config_name, c->kmem_line ? c->kmem_line : c->line,
		     c->name, hv_status_str(st));

	hv_word_t budget = c->memory, entry, pa;
	if (!load_image(d, m, &budget, &entry))
		return false;
	if (!take_ram(d, HV_SI_STACK_SIZE, &budget, &pa) ||
	    give_mem(d->pd, HV_RT_PHYS_BASE + pa, HV_SI_STACK_TOP - HV_SI_STACK_SIZE, HV_SI_STACK_SIZE,
		     0, HV_R_MEM_R | HV_R_MEM_W) != HV_OK)
		FAIL(0, "%s:%u: domain '%s': no room for its stack", config_name, c->line, c->name);
	hv_word_t si_pa;
	if (!take_ram(d, HV_PAGE_SIZE, &budget, &si_pa))
		FAIL(0, "%s:%u: domain '%s': no room for its start info", config_name, c->line, c->name);
	struct hv_startinfo *si = (struct hv_startinfo *)(HV_RT_PHYS_BASE + si_pa);
	/* 'dma': contiguous, aligned to its size up to 2 MiB; mapped once the devices are assigned */
	hv_word_t dma_pa = 0;
	if (c->dma && !take_dma(d, &budget, &dma_pa))
		FAIL(0, "%s:%u: domain '%s' not started", config_name, c->dma_line, c->name);
	hv_word_t heap = budget & ~(HV_PAGE_SIZE - 1);
	if (heap && (!take_ram(d, heap, &budget, &pa) ||
		     give_mem(d->pd, HV_RT_PHYS_BASE + pa, HV_SI_HEAP, heap, 0, HV_R_MEM_RWX) != HV_OK))
		FAIL(0, "%s:%u: domain '%s': cannot map its heap", config_name, c->line, c->name);

	si->magic = HV_SI_MAGIC;
	memcpy(si->name, c->name, sizeof(si->name));
	memcpy(si->args, c->args, sizeof(si->args));
	si->cpu = c->cpu;
	si->num_cpus = hip->num_cpus;
	si->tsc_khz = hip->tsc_khz;
	si->heap_base = HV_SI_HEAP;
	si->heap_size = heap;
	si->kmem_quota = c->kmem;
	si->restarts = d->restarts;

	/* own PD, console, roottask protocol, exception portals */
	hv_sel_t next = HV_SI_SEL_GRANTS(hip->num_cpus);
	st = give_cap(d->pd, d->pd, HV_SI_SEL_PD, HV_R_PD_CREATE | HV_R_PD_MAP);
	struct service *cons = service_find("console");
	if (st == HV_OK && cons && cons->provider != d) {
		hv_sel_t pt = hv_sel_alloc();
		st = hv_create_pt(pt, HV_SEL_PD, cons->handler[c->cpu < cons->ncpus ? c->cpu : 0], 0, cons->entry, d->id);
		if (st == HV_OK)
			st = give_cap(d->pd, own(d, pt), HV_SI_SEL_CONSOLE, HV_R_PT_CALL);
		console_name(d->id, c->name);
	}
	hv_sel_t rpt = own(d, root_portal(c->cpu, d->id, false)), mpt = own(d, root_portal(c->cpu, d->id | RT_ID_MAIN, true));
	if (st == HV_OK && (rpt == HV_SEL_NONE || mpt == HV_SEL_NONE))
		st = HV_EMEM;
	if (st == HV_OK)
		st = give_cap(d->pd, rpt, HV_SI_SEL_ROOT, HV_R_PT_CALL);
	for (unsigned e = 0; st == HV_OK && e < 32; e++)
		st = give_cap(d->pd, mpt, HV_SI_SEL_EVT_MAIN + e, HV_R_PT_CALL);
	/* the other threads' exceptions, on whichever CPU they run */
	for (unsigned cpu = 0; st == HV_OK && cpu < hip->num_cpus && cpu < RT_MAX_CPUS; cpu++) {
		hv_sel_t fpt = own(d, root_portal(cpu, d->id, true));
		if (fpt == HV_SEL_NONE)
			st = HV_EMEM;
		for (unsigned e = 0; st == HV_OK && e < 32; e++)
			st = give_cap(d->pd, fpt, HV_SI_SEL_EVT(cpu) + e, HV_R_PT_CALL);
	}
	if (st != HV_OK)
		FAIL(0, "%s:%u: domain '%s': cannot set up its capabilities: %s", config_name, c->line, c->name,
		     hv_status_str(st));
	if (!grant(d, si, &next))
		return false;
	if (!links_grant(d, si, &next)) {
		d->state = DOM_FAILED;
		return false;
	}
	if (!pci_grant(d, si, &next)) {
		pci_release(d);
		d->state = DOM_FAILED;
		return false;
	}
	if (c->dma) {
		st = give_mem(d->pd, HV_RT_PHYS_BASE + dma_pa, HV_SI_DMA, c->dma, HV_ITEM_DMA, HV_R_MEM_R | HV_R_MEM_W);
		if (st != HV_OK) {
			rt_log("%s:%u: domain '%s': cannot map its DMA memory: %s%s", config_name, c->dma_line, c->name,
			       hv_status_str(st), st == HV_EPARAM ? " (the kernel refuses HV_ITEM_DMA)" : "");
			pci_release(d);
			d->state = DOM_FAILED;
			return false;
		}
		si->dma_addr = HV_SI_DMA;
		si->dma_phys = dma_pa;
		si->dma_size = c->dma;
	}
	si->first_free_sel = next;
	if (give_mem(d->pd, HV_RT_PHYS_BASE + si_pa, HV_SI_ADDR, HV_PAGE_SIZE, 0, HV_R_MEM_R) != HV_OK)
		FAIL(0, "%s:%u: domain '%s': cannot map its start info", config_name, c->line, c->name);

	/* its first thread, and the SC that starts it */
	d->ec = hv_sel_alloc();
	d->sc = hv_sel_alloc();
	st = hv_create_ec(d->ec, d->pd, HV_EC_FLAGS(c->cpu, 1, HV_SI_SEL_EVT_MAIN), HV_SI_UTCB, HV_SI_STACK_TOP,
			  entry);
	if (st == HV_OK)
		st = give_cap(d->pd, d->ec, HV_SI_SEL_EC, HV_R_ALL);
	if (st == HV_OK)
		st = hv_create_sc(d->sc, d->pd, d->ec, HV_QOS(c->prio, c->quantum_us));
	if (st == HV_OK)
		st = give_cap(d->pd, d->sc, HV_SI_SEL_SC, HV_R_ALL);
	if (st != HV_OK)
		FAIL(0, "%s:%u: domain '%s': cannot create its thread: %s", config_name, c->line, c->name,
		     hv_status_str(st));
	d->state = DOM_RUNNING;
	return true;
}

/*
 * Ends domain d: revoking the roottask's capabilities to its PD, EC and SC
 * removes everything derived from them; the kernel then destroys the PD
 * with its threads, its mappings and every object only it held (a VMM's
 * VM and vCPUs, for example). The portals the roottask made for it go
 * too. Its RAM is not reused yet.
 */
void domain_stop(struct domain *d)
{
	hv_sel_t sels[3] = { d->sc, d->ec, d->pd };
	pci_release(d); /* first: no DMA or interrupt after this */
	for (unsigned i = 0; i < 3; i++)
		if (sels[i])
			(void)hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, sels[i]);
	for (unsigned i = 0; i < d->nowned; i++)
		(void)hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, d->owned[i]);
	d->nowned = 0;
	d->state = DOM_FAILED;
	report_end(d);
	/* its PD is gone: nothing maps its RAM but the roottask (devices were stopped first) */
	for (unsigned i = 0; i < d->nmem; i++)
		(void)ralloc_free(&ram, d->mem[i].pa, d->mem[i].size);
	d->nmem = 0;
	d->pd = d->ec = d->sc = 0;
}

/* d has ended (exit: crash false unless its code is not 0; a fault of its
 * main thread: crash true). Stops it and starts it again where its
 * 'restart' line asks and its budget allows; else it stays ended. */
void domain_end(struct domain *d, bool crash)
{
	const struct cfg_domain *c = d->cfg;
	domain_stop(d);
	d->state = crash ? DOM_FAILED : DOM_EXITED;
	if (c->restart == CFG_RESTART_NEVER || (c->restart == CFG_RESTART_ON_CRASH && !crash))
		return;
	if (d->restarts >= c->restart_max) {
		rt_log("domain '%s': restart budget of %u used up: not restarted", c->name, c->restart_max);
		return;
	}
	d->restarts++;
	rt_log("domain '%s' %s: restarting (%u of %u)", c->name, crash ? "crashed" : "ended", d->restarts,
	       c->restart_max);
	links_reset(d);
	if (domain_start(d))
		rt_log("domain '%s' started again on CPU %u", c->name, c->cpu);
}

/* Whether every service d calls (and the console, if any) is registered. */
bool domain_ready(const struct domain *d)
{
	const struct cfg_domain *c = d->cfg;
	for (unsigned i = 0; i < c->ncalls; i++)
		if (!service_find(c->calls[i]))
			return false;
	int cons = cfg_find_provider(&config, "console");
	return cons < 0 || &domains[cons] == d || service_find("console");
}

/* Starts every waiting domain whose services are there, in file order. */
void domains_start_ready(void)
{
	for (unsigned i = 0; i < config.ndom; i++) {
		struct domain *d = &domains[i];
		if (d->state == DOM_WAITING && domain_ready(d) && domain_start(d))
			rt_log("domain '%s' started on CPU %u (priority %u, %luK memory)", d->cfg->name, d->cfg->cpu,
			       d->cfg->prio, (unsigned long)(d->cfg->memory >> 10));
	}
}
