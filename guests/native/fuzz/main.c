/*
 * The system-call fuzzer's start and summary (README.md in this folder).
 * Module arguments: seed=N calls=N [threads=N per CPU, default 2]
 * [prio=N, the domain's priority, default 10]. The workers share the
 * calls; the main thread waits for them, printing progress, then prints
 * calls per system call, a status histogram and calls/s (TSC), and exits.
 */
#include "fuzz.h"
#include <stdio.h>
#include <string.h>

unsigned fz_ncpus, fz_nworkers, fz_vm_ok, fz_prio = 10, fz_vm_field = 20, fz_ops = ~0u, fz_max_prio;
hv_word_t fz_cpus;
hv_word_t fz_tsc_khz, fz_part_size, fz_scratch, fz_guest;
uint64_t fz_seed = 1;

static struct fz_ctx workers[FZ_MAX_WORKERS];
static uint64_t budget[FZ_MAX_WORKERS];
static hv_sel_t done_sm, park_sm;

static const char *const sys_names[HV_SYS_COUNT + 1] = {
	"call", "reply", "create_pd", "create_ec", "create_sc", "create_pt", "create_sm", "delegate", "revoke",
	"lookup", "sm_ctrl", "sc_ctrl", "ec_ctrl", "irq_ctrl", "null", "pd_ctrl", "assign_dev", "(bad number)",
};
static const char *const ev_names[FZ_EV_COUNT] = {
	"victims", "VMs", "exceptions", "VM exits", "calls served", "stops", "storms", "cycles", "faults", "anomalies",
};

/* The value of "key=" in args (decimal or 0x hex), or dflt. */
static uint64_t arg(const char *args, const char *key, uint64_t dflt)
{
	size_t kl = strlen(key);
	for (const char *p = args; *p; p++) {
		if ((p != args && p[-1] != ' ') || strncmp(p, key, kl) || p[kl] != '=')
			continue;
		p += kl + 1;
		uint64_t v = 0, base = 10;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			base = 16;
			p += 2;
		}
		for (;; p++) {
			unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
				     : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10)
				     : *p >= 'A' && *p <= 'F' ? (unsigned)(*p - 'A' + 10) : 99;
			if (d >= base)
				break;
			v = v * base + d;
		}
		return v;
	}
	return dflt;
}

static void worker_main(void *arg)
{
	struct fz_ctx *c = arg;
	c->utcb = hv_utcb();
	while (c->calls < budget[c->worker])
		fz_op(c);
	(void)hv_sm_up(done_sm);
	for (;;)
		(void)hv_sm_down(park_sm);
}

/* Whether this machine runs vCPUs (VT-x or AMD-V): one made and dropped. */
static unsigned probe_vm(void)
{
	hv_sel_t pd = hv_sel_alloc(), ec = hv_sel_alloc();
	unsigned ok = hv_create_vm(pd, HV_SI_SEL_PD, 64 << 10, fz_max_prio, fz_cpus) == HV_OK &&
		      hv_create_vcpu(ec, pd, 0, 0) == HV_OK;
	(void)hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, ec);
	(void)hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, pd);
	return ok;
}

static uint64_t total_calls(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i <= HV_SYS_COUNT; i++)
		for (unsigned s = 0; s <= HV_STATUS_COUNT; s++)
			n += __atomic_load_n(&fz_stats[i][s], __ATOMIC_RELAXED);
	return n;
}

static void summary(uint64_t worker_calls, uint64_t ticks)
{
	uint64_t all = total_calls();
	uint64_t ms = fz_tsc_khz ? ticks / fz_tsc_khz : 0;
	printf("fuzz: done: %lu worker calls, %lu calls in all in %lu ms (%lu TSC ticks): %lu calls/s\n",
	       worker_calls, all, ms, ticks, ms ? all * 1000 / ms : 0);
	for (unsigned i = 0; i <= HV_SYS_COUNT; i++) {
		char line[256];
		uint64_t n = 0;
		int len = 0;
		for (unsigned s = 0; s <= HV_STATUS_COUNT; s++)
			n += fz_stats[i][s];
		if (!n)
			continue;
		len = snprintf(line, sizeof(line), "fuzz: %-12s %8lu, %7lu ticks each:", sys_names[i], n, fz_ticks[i] / n);
		for (unsigned s = 0; s <= HV_STATUS_COUNT && len < (int)sizeof(line); s++)
			if (fz_stats[i][s])
				len += snprintf(line + len, sizeof(line) - (size_t)len, " %s %lu",
						s < HV_STATUS_COUNT ? hv_status_str((hv_status_t)s) + 3 : "other",
						fz_stats[i][s]);
		printf("%s\n", line);
	}
	char line[256];
	int len = snprintf(line, sizeof(line), "fuzz: events:");
	for (unsigned e = 0; e < FZ_EV_COUNT && len < (int)sizeof(line); e++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s %s %lu", e ? "," : "", ev_names[e],
				fz_events[e]);
	printf("%s\n", line);
}

int main(const struct hv_startinfo *si)
{
	fz_seed = arg(si->args, "seed", 1);
	uint64_t calls = arg(si->args, "calls", 10000);
	unsigned threads = (unsigned)arg(si->args, "threads", 2);
	fz_prio = (unsigned)arg(si->args, "prio", 10);
	fz_tsc_khz = si->tsc_khz;
	if (hv_pd_limits(HV_SI_SEL_PD, &fz_max_prio, &fz_cpus) != HV_OK) {
		printf("fuzz: cannot read the PD's scheduling limits\n");
		return 2;
	}
	fz_ncpus = si->num_cpus < FZ_MAX_CPUS ? (unsigned)si->num_cpus : FZ_MAX_CPUS;
	if (threads < 1 || threads > FZ_MAX_THREADS || fz_ncpus * threads > FZ_MAX_WORKERS || fz_prio < 1 ||
	    fz_prio > HV_PRIO_MAX) {
		printf("fuzz: threads=1..%u per CPU, prio=1..63\n", FZ_MAX_THREADS);
		return 2;
	}
	fz_nworkers = fz_ncpus * threads;
	for (fz_part_size = FZ_SEL_PLAY_N; fz_part_size * fz_nworkers > FZ_SEL_PLAY_N;)
		fz_part_size /= 2;
	fz_scratch = (hv_word_t)hv_heap_alloc(FZ_SCRATCH_PAGES * HV_PAGE_SIZE, FZ_SCRATCH_PAGES * HV_PAGE_SIZE);
	fz_guest = (hv_word_t)hv_heap_alloc(FZ_GUEST_PAGES * HV_PAGE_SIZE, FZ_GUEST_PAGES * HV_PAGE_SIZE);
	done_sm = hv_sel_alloc();
	park_sm = hv_sel_alloc();
	hv_status_t st = HV_EMEM;
	if (fz_scratch && fz_guest && hv_create_sm(done_sm, HV_SI_SEL_PD, 0) == HV_OK &&
	    hv_create_sm(park_sm, HV_SI_SEL_PD, 0) == HV_OK)
		st = fz_handlers_init();
	for (unsigned i = 0; st == HV_OK && i < fz_nworkers; i++) {
		struct fz_ctx *c = &workers[i];
		c->rng.s = fz_seed_of(fz_seed, i);
		c->role = FZ_WORKER;
		c->cpu = i % fz_ncpus;
		c->worker = i;
		c->prio = fz_prio;
		c->part = FZ_SEL_PLAY + i * fz_part_size;
		c->stack_pages = (hv_word_t)hv_heap_alloc(FZ_VICTIM_SLOTS * HV_PAGE_SIZE, HV_PAGE_SIZE);
		c->nap = hv_sel_alloc();
		if (!c->stack_pages || hv_create_sm(c->nap, HV_SI_SEL_PD, 0) != HV_OK)
			st = HV_EMEM;
		budget[i] = calls / fz_nworkers + (i < calls % fz_nworkers);
	}
	if (st != HV_OK) {
		printf("fuzz: cannot set up: %s\n", hv_status_str(st));
		return 1;
	}
	fz_guest_init();
	fz_vm_ok = arg(si->args, "vm", 1) && probe_vm();
	fz_vm_field = (unsigned)arg(si->args, "vmfield", 20);
	fz_ops = (unsigned)arg(si->args, "ops", ~0u);
	printf("fuzz: seed %lu, %lu calls, %u workers (%u per CPU, priority %u), virtual machines: %s\n", fz_seed,
	       calls, fz_nworkers, threads, fz_prio, fz_vm_ok ? "yes" : "no (no VT-x or AMD-V)");

	hv_word_t t0 = hv_rdtsc();
	for (unsigned i = 0; i < fz_nworkers; i++) {
		st = hv_thread_create(workers[i].cpu, worker_main, &workers[i], HV_QOS(fz_prio, 0), NULL, NULL);
		if (st != HV_OK) {
			printf("fuzz: cannot start worker %u: %s\n", i, hv_status_str(st));
			return 1;
		}
	}
	/* progress every 5 s of TSC time; the end is the workers' semaphore ups */
	for (unsigned finished = 0; finished < fz_nworkers;) {
		hv_status_t w = hv_sm_down_until(done_sm, hv_rdtsc() + 5000 * fz_tsc_khz);
		if (w == HV_OK) {
			finished++;
			continue;
		}
		uint64_t n = 0;
		for (unsigned i = 0; i < fz_nworkers; i++)
			n += __atomic_load_n(&workers[i].calls, __ATOMIC_RELAXED);
		printf("fuzz: %lu of %lu worker calls, %u of %u workers finished\n", n, calls, finished, fz_nworkers);
	}
	hv_word_t t1 = hv_rdtsc();
	uint64_t n = 0;
	for (unsigned i = 0; i < fz_nworkers; i++)
		n += workers[i].calls;
	summary(n, t1 - t0);
	if (fz_events[FZ_EV_ANOMALY])
		printf("fuzz: ANOMALY: %lu results outside the ABI (statuses per call above)\n", fz_events[FZ_EV_ANOMALY]);
	printf("fuzz: seed %lu finished\n", fz_seed);
	return 0;
}
