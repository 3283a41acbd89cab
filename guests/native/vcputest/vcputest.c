/*
 * vCPU life-cycle checks: a native task that is a tiny VMM of its own. Its
 * guests are one page of real-mode code (`hlt`); its exit handlers count
 * what arrives. Each check prints "vcputest: NAME: ok" or
 * "vcputest: NAME: FAILED (...)"; the last line is
 * "vcputest: N passed, N failed" and the exit code is the failure count.
 *
 *   startup  two vCPUs whose STARTUP portals lead to one handler, which is
 *            busy (asleep) in the first STARTUP when the second arrives:
 *            each vCPU must get its STARTUP message, then halt.
 *   gdt      after a guest ran on this CPU, no selector beyond the GDT's
 *            real entries is usable at CPL 3 (LAR; VT-x leaves the GDTR
 *            limit at 0xffff after every exit unless the kernel restores it).
 *   remote   a vCPU that ran on CPU 1 is destroyed from CPU 0 (VT-x: its
 *            VMCS must be cleared on CPU 1 first), then a new one runs there.
 *   recycle  more vCPUs created and destroyed than there are VPIDs (VT-x:
 *            65535), then one more runs.
 *
 * Needs (configs/vcputest.conf): CPU 0, 'kmem' for the VM (256K is plenty),
 * 'max-priority' for its vCPUs (PRIO_VCPU).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <hv/runtime.h>
#include <hv/vmexit.h>
#include <hv/vcpu.h>

#define PRIO_MAIN 20         /* the domain's priority in configs/vcputest.conf */
#define PRIO_VCPU 25         /* vCPUs run as soon as they exist */
#define WAIT_MS 5000u        /* how long a guest may take to halt */
#define RECYCLE_COUNT 65600u /* vCPUs created and destroyed by `recycle` */
#define SLOTS 4              /* event-portal windows in the VM PD, one per check */

/* What the exit handlers saw, per window of event portals (slot). */
struct slot {
	volatile unsigned startups, halts, others, last_other;
	hv_sel_t done;    /* upped when a vCPU of this slot stops */
	bool busy_start;  /* `startup`: the first STARTUP sleeps in its handler */
};

static struct slot slots[SLOTS];
static hv_sel_t vm, handler[2];
static const struct hv_startinfo *si;
static unsigned n_pass, n_fail;

static void result(const char *name, bool ok, const char *why)
{
	if (ok) {
		n_pass++;
		printf("vcputest: %s: ok\n", name);
	} else {
		n_fail++;
		printf("vcputest: %s: FAILED (%s)\n", name, why);
	}
}

/* A vCPU's first state: real mode at 0000:0000, where the guest page holds `hlt; jmp .-1`. */
static void startup_state(struct hv_cpu_state *st)
{
	hv_vcpu_real_mode(st, 0, 0);
}

HV_PORTAL_ENTRY(exit_portal, exit_serve);

/* Every exit of every test vCPU: id = slot << 8 | reason. */
hv_word_t exit_serve(hv_word_t id, hv_word_t tag)
{
	(void)tag;
	struct slot *s = &slots[(id >> 8) % SLOTS];
	struct hv_cpu_state *st = &hv_utcb()->st;
	unsigned reason = id & 0xff;
	if (reason == HV_VMEVT_STARTUP) {
		if (s->busy_start && s->startups++ == 0) /* the other vCPU's STARTUP finds this handler busy */
			(void)hv_sleep_until(hv_rdtsc() + 50 * si->tsc_khz);
		else if (!s->busy_start)
			s->startups++;
		startup_state(st);
		return 0;
	}
	if (reason == EXIT_REASON_HLT)
		s->halts++;
	else {
		s->others++;
		s->last_other = reason;
	}
	st->mtd = 0;
	(void)hv_sm_up(s->done);
	return HV_TAG_STOP; /* the vCPU ends here */
}

/* The exit portals of `slot` (handler on `cpu`) at slot * 256 + reason in the VM PD. */
static hv_status_t slot_setup(unsigned slot, unsigned cpu)
{
	static const unsigned reasons[] = { HV_VMEVT_STARTUP, HV_VMEVT_RECALL, EXIT_REASON_HLT,
					    EXIT_REASON_EPT_VIOLATION, EXIT_REASON_TRIPLE_FAULT };
	slots[slot].done = hv_sel_alloc();
	hv_status_t st = hv_create_sm(slots[slot].done, HV_SI_SEL_PD, 0);
	for (unsigned i = 0; i < sizeof(reasons) / sizeof(reasons[0]) && st == HV_OK; i++) {
		hv_sel_t pt = hv_sel_alloc();
		st = hv_create_pt(pt, HV_SI_SEL_PD, handler[cpu], HV_MTD_RIP_LEN | HV_MTD_QUAL,
				  (hv_word_t)exit_portal, slot << 8 | reasons[i]);
		if (st == HV_OK)
			st = hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_OBJ, HV_R_PT_CALL, 0), pt,
					 slot * 256 + reasons[i]);
	}
	return st;
}

/* A vCPU of `slot` on `cpu`, running (with an SC) if sc is given. */
static hv_status_t vcpu_start(unsigned slot, unsigned cpu, hv_sel_t *ec, hv_sel_t *sc)
{
	*ec = hv_sel_alloc();
	hv_status_t st = hv_create_vcpu(*ec, vm, cpu, slot * 256);
	if (st == HV_OK && sc) {
		*sc = hv_sel_alloc();
		st = hv_create_sc(*sc, HV_SI_SEL_PD, *ec, HV_QOS(PRIO_VCPU, 0));
	}
	return st;
}

/* Waits until n vCPUs of `slot` stopped; false on timeout. */
static bool wait_stopped(unsigned slot, unsigned n)
{
	hv_word_t deadline = hv_rdtsc() + WAIT_MS * si->tsc_khz;
	for (unsigned i = 0; i < n; i++)
		if (hv_sm_down_until(slots[slot].done, deadline) != HV_OK)
			return false;
	return true;
}

/* n vCPUs of `slot` each got one STARTUP and halted; says what went wrong in why. */
static bool slot_ok(unsigned slot, unsigned n, char *why, size_t size)
{
	struct slot *s = &slots[slot];
	if (s->startups == n && s->halts == n && !s->others)
		return true;
	snprintf(why, size, "%u STARTUP messages, %u halts, %u other exits (last: reason %u), expected %u, %u, 0",
		 s->startups, s->halts, s->others, s->last_other, n, n);
	return false;
}

static void check_startup(void)
{
	char why[160] = "";
	hv_sel_t ec[2], sc[2];
	slots[1].busy_start = true;
	hv_status_t st = vcpu_start(1, 0, &ec[0], &sc[0]);
	if (st == HV_OK)
		st = vcpu_start(1, 0, &ec[1], &sc[1]);
	if (st != HV_OK)
		snprintf(why, sizeof(why), "create: %s", hv_status_str(st));
	else if (!wait_stopped(1, 2))
		snprintf(why, sizeof(why), "the vCPUs did not halt");
	result("startup", !why[0] && slot_ok(1, 2, why, sizeof(why)), why);
}

/* LAR at CPL 3 on every GDT selector from index `first` on: how many are usable. */
static unsigned lar_usable(unsigned first)
{
	unsigned n = 0;
	for (unsigned i = first; i < 8192; i++) {
		unsigned char z;
		unsigned ar;
		__asm__ volatile("lar %w2, %0; setz %1" : "=r"(ar), "=q"(z) : "r"(i << 3 | 3) : "cc");
		n += z;
	}
	return n;
}

static void check_gdt(void)
{
	char why[120] = "";
	hv_sel_t ec, sc;
	hv_status_t st = vcpu_start(0, 0, &ec, &sc);
	if (st != HV_OK || !wait_stopped(0, 1) || !slot_ok(0, 1, why, sizeof(why))) {
		result("gdt", false, st != HV_OK ? hv_status_str(st) : why[0] ? why : "the guest did not halt");
		return;
	}
	unsigned real = lar_usable(0) - lar_usable(7), beyond = lar_usable(7);
	if (beyond)
		snprintf(why, sizeof(why), "%u selectors beyond the GDT's 7 entries usable at CPL 3", beyond);
	else if (real != 2)
		snprintf(why, sizeof(why), "%u of the GDT's entries usable at CPL 3, expected 2 (user code, data)", real);
	result("gdt", !why[0], why);
}

static hv_status_t drop(hv_sel_t s) { return hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, s); }

static void check_remote(void)
{
	char why[160] = "";
	hv_sel_t ec, sc;
	if (si->num_cpus < 2) {
		printf("vcputest: remote: one CPU only, skipped\n");
		return;
	}
	hv_status_t st = vcpu_start(2, 1, &ec, &sc);
	if (st == HV_OK && !wait_stopped(2, 1))
		snprintf(why, sizeof(why), "the first vCPU did not halt");
	if (st == HV_OK && !why[0] && (st = drop(ec)) == HV_OK && (st = drop(sc)) == HV_OK)
		st = vcpu_start(2, 1, &ec, &sc);
	if (st != HV_OK)
		snprintf(why, sizeof(why), "%s", hv_status_str(st));
	else if (!why[0] && !wait_stopped(2, 1))
		snprintf(why, sizeof(why), "the second vCPU did not halt");
	result("remote", !why[0] && slot_ok(2, 2, why, sizeof(why)), why);
}

static void check_recycle(void)
{
	char why[160] = "";
	unsigned done = 0, retries = 0;
	hv_sel_t ec = hv_sel_alloc(), sc;
	while (done < RECYCLE_COUNT && retries < 100) {
		hv_status_t st = hv_create_vcpu(ec, vm, 0, 3 * 256);
		if (st == HV_EMEM) { /* destroyed vCPUs are freed when this CPU schedules */
			retries++;
			(void)hv_sleep_until(hv_rdtsc() + si->tsc_khz);
			continue;
		}
		if (st == HV_OK)
			st = drop(ec);
		if (st != HV_OK) {
			snprintf(why, sizeof(why), "vCPU %u: %s", done, hv_status_str(st));
			break;
		}
		done++;
		retries = 0;
	}
	if (!why[0] && done < RECYCLE_COUNT)
		snprintf(why, sizeof(why), "no more vCPUs after %u (HV_EMEM)", done);
	hv_status_t st = why[0] ? HV_OK : vcpu_start(3, 0, &ec, &sc);
	if (st != HV_OK)
		snprintf(why, sizeof(why), "after %u: %s", done, hv_status_str(st));
	else if (!why[0] && !wait_stopped(3, 1))
		snprintf(why, sizeof(why), "the vCPU after %u did not halt", done);
	if (!why[0])
		printf("vcputest: recycle: %u vCPUs created and destroyed, then one ran\n", done);
	result("recycle", !why[0] && slot_ok(3, 1, why, sizeof(why)), why);
}

int main(const struct hv_startinfo *start)
{
	si = start;
	/* the guest: one page at guest-physical 0 with `hlt; jmp .-1` */
	unsigned char *page = hv_heap_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);
	unsigned max_prio;
	hv_word_t cpus;
	vm = hv_sel_alloc();
	hv_status_t st = page ? hv_pd_limits(HV_SI_SEL_PD, &max_prio, &cpus) : HV_EMEM;
	if (st == HV_OK)
		st = hv_create_vm(vm, HV_SI_SEL_PD, 256 << 10, max_prio, cpus);
	if (st == HV_OK) {
		memset(page, 0, HV_PAGE_SIZE);
		memcpy(page, "\xf4\xeb\xfd", 3);
		st = hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), (hv_word_t)page, 0);
	}
	for (unsigned c = 0; c < 2 && c < si->num_cpus && st == HV_OK; c++)
		st = hv_handler_create(c, &handler[c]);
	for (unsigned s = 0; s < SLOTS && st == HV_OK; s++)
		st = slot_setup(s, s == 2 && si->num_cpus > 1 ? 1 : 0);
	if (st != HV_OK) {
		printf("vcputest: setup: %s\n", hv_status_str(st));
		return 1;
	}
	check_gdt();
	check_startup();
	check_remote();
	check_recycle();
	printf("vcputest: %u passed, %u failed\n", n_pass, n_fail);
	return (int)n_fail;
}
