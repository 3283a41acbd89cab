/*
 * 'report kmem' (docs/config.md): the kernel memory of a domain's life.
 * Before the domain starts, the roottask notes how much of its own quota
 * is in use and how many pages the kernel's pool has free; after the
 * domain has ended, and the kernel has destroyed what it left behind, it
 * reads both again and says whether they came back.
 *
 * The kernel frees a dead domain's objects at its next scheduling point on
 * some CPU, so the second reading is taken by a thread of its own that
 * waits in steps of REPORT_STEP_MS until both figures are back, at most
 * REPORT_STEPS steps, and then reports what it has. The figures are only
 * exact if no other domain starts or ends in between.
 */
#include "roottask.h"
#include <stdio.h>

#define REPORT_STEP_MS 10
#define REPORT_STEPS 100

static hv_sel_t report_sm; /* one up per ended domain to report */

/*
 * The roottask's quota in use, and the pages that are free in the pool or
 * charged to the other running domains: their own slabs and tables may grow
 * or shrink meanwhile (a server's slab page for a client's delegation), but
 * a page that is in neither has leaked.
 */
static void kmem_read(const struct domain *d, hv_word_t *used, hv_word_t *pages)
{
	hv_word_t limit, other;
	if (hv_pd_kmem(HV_SEL_PD, used, &limit, pages) != HV_OK) {
		*used = *pages = 0;
		return;
	}
	for (unsigned i = 0; i < config.ndom; i++)
		if (&domains[i] != d && domains[i].state == DOM_RUNNING &&
		    hv_pd_kmem(domains[i].pd, &other, &limit, NULL) == HV_OK)
			*pages += (other + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE;
}

/* "as before", or how far a figure is from its value before the start. */
static const char *diff(hv_word_t before, hv_word_t after, const char *unit, char *buf, size_t size)
{
	if (before == after)
		return "as before";
	snprintf(buf, size, "%lu %s %s than before", before > after ? before - after : after - before, unit,
		 after > before ? "more" : "fewer");
	return buf;
}

static void report_thread(void *unused)
{
	(void)unused;
	for (;;) {
		if (hv_sm_down(report_sm) != HV_OK)
			return;
		for (unsigned i = 0; i < config.ndom; i++) {
			struct domain *d = &domains[i];
			if (!__atomic_exchange_n(&d->kmem_pending, false, __ATOMIC_ACQ_REL))
				continue;
			hv_word_t used, free_pages;
			for (unsigned step = 0;; step++) {
				(void)hv_sleep_until(hv_rdtsc() + REPORT_STEP_MS * hip->tsc_khz);
				kmem_read(d, &used, &free_pages);
				if ((used == d->kmem_used && free_pages == d->kmem_free) || step == REPORT_STEPS)
					break;
			}
			char b1[48], b2[48];
			rt_log("domain '%s' ended: kernel memory: roottask quota %lu bytes in use (%s), %lu pages free or "
			       "with the other domains (%s)",
			       d->cfg->name, used, diff(d->kmem_used, used, "bytes", b1, sizeof(b1)),
			       free_pages, diff(d->kmem_free, free_pages, "pages", b2, sizeof(b2)));
		}
	}
}

/* The thread and the semaphores it uses, made before any domain starts (so
 * that they are not among the figures). */
bool report_init(void)
{
	report_sm = hv_sel_alloc();
	if (hv_create_sm(report_sm, HV_SEL_PD, 0) != HV_OK)
		return false;
	(void)hv_sleep_until(hv_rdtsc()); /* creates the sleeping semaphore now */
	return hv_thread_create(0, report_thread, NULL, HV_QOS(HV_PRIO_MAX / 2, 0), NULL, NULL) == HV_OK;
}

/* Right before domain d is created: the figures to compare with. */
void report_start(struct domain *d)
{
	if (!d->cfg->report_kmem)
		return;
	kmem_read(d, &d->kmem_used, &d->kmem_free);
	rt_log("domain '%s': kernel memory before its start: roottask quota %lu bytes in use, %lu pages free or "
	       "with the other domains",
	       d->cfg->name, d->kmem_used, d->kmem_free);
}

/* Domain d has ended (its capabilities are revoked): report once it is gone. */
void report_end(struct domain *d)
{
	if (!d->cfg->report_kmem || d->kmem_reported)
		return;
	d->kmem_reported = true;
	__atomic_store_n(&d->kmem_pending, true, __ATOMIC_RELEASE);
	(void)hv_sm_up(report_sm);
}
