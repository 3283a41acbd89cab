/*
 * Self-test of the system-call interface: every system call with valid and
 * invalid arguments, object creation, kernel-memory quotas, IPC, delegation
 * and revocation, semaphores, interrupts, exceptions, scheduling, recall.
 *
 * Every check counts as passed or failed; a failure prints one line with
 * what was expected and what came back, a group prints one summary line.
 * The last line is always "selftest: N passed, N failed"; the exit code is
 * 0 only if nothing failed.
 *
 * Needs (configs/selftest.conf): CPU 0, priority PRIO_MAIN, max-priority
 * PRIO_LIMIT, CPUs CPUS_LIMIT, enough memory
 * and kmem, "irq 8" and "ioport 0x70-0x71" (the RTC). Tests that need a
 * second CPU are skipped (and say so) on a single-CPU machine.
 *
 * Every blocking wait of the main thread goes through wait_sm(), which a
 * low-priority watchdog thread on the main CPU cuts short after WAIT_MS:
 * a kernel bug costs a failed check, not a hung test.
 *
 * A few checks make other components log on purpose: the roottask reports
 * the handler that executes ud2 ("kill" group), the kernel reports the ECs
 * it stops for a bad exception-handler reply and for a missing event portal
 * ("exc" group), and it drops most of the lines of a flood of stopped
 * ECs and counts them ("log" group). Those lines are announced before
 * they appear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <hv/console.h>
#include <hv/portio.h>
#include <hv/runtime.h>

#define PRIO_MAIN 20     /* the domain's priority in configs/selftest.conf */
#define PRIO_LIMIT 30    /* its max-priority there */
#define CPUS_LIMIT 0x3ul /* and its cpus */
#define PRIO_HIGH 25     /* threads that run as soon as they are created */
#define PRIO_YIELD 30    /* yield helper */
#define PRIO_LOW_A 12    /* scheduling test: below the main thread */
#define PRIO_LOW_B 14
#define PRIO_WATCHDOG 1
#define WAIT_MS 4000u    /* watchdog limit of one wait */

#define KERNEL_ADDR 0xffffffff80100000ul /* a present kernel page */
#define SEL_OUT HV_SEL_MAX               /* first selector out of range */

typedef int bool_t;

/* ---- Checks ------------------------------------------------------------------ */

static unsigned n_pass, n_fail, g_pass, g_fail;
static const char *group = "init";

static void group_begin(const char *name)
{
	group = name;
	g_pass = g_fail = 0;
}

static void group_end(void)
{
	if (g_fail)
		printf("%s: %u of %u checks FAILED\n", group, g_fail, g_pass + g_fail);
	else
		printf("%s: %u checks passed\n", group, g_pass);
}

static void pass(void)
{
	n_pass++;
	g_pass++;
}

static void failv(unsigned line, const char *fmt, va_list ap)
{
	char buf[200];

	n_fail++;
	g_fail++;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	printf("FAIL [%s] line %u: %s\n", group, line, buf);
}

static void failf(unsigned line, const char *fmt, ...) HV_PRINTF(2, 3);
static void failf(unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(line, fmt, ap);
	va_end(ap);
}

static hv_status_t expect_st(unsigned line, const char *what, hv_status_t got, hv_status_t want)
{
	if (got == want)
		pass();
	else
		failf(line, "%s: expected %s, got %s", what, hv_status_str(want), hv_status_str(got));
	return got;
}

static bool_t check_true(unsigned line, bool_t ok, const char *fmt, ...) HV_PRINTF(3, 4);
static bool_t check_true(unsigned line, bool_t ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		pass();
		return 1;
	}
	va_start(ap, fmt);
	failv(line, fmt, ap);
	va_end(ap);
	return 0;
}

/* A raw system call with all six arguments that must fail with status `want`
 * and blame argument `arg` in RSI (enum hv_arg, docs/abi.md). */
static void expect_blame(unsigned line, const char *what, hv_status_t want, hv_word_t arg, hv_word_t nr,
			 hv_word_t a0, hv_word_t a1, hv_word_t a2, hv_word_t a3, hv_word_t a4, hv_word_t a5)
{
	hv_word_t rsi = ~0ul;
	hv_status_t st = hv_syscall6r(nr, a0, a1, a2, a3, a4, a5, &rsi);

	if (st == want && rsi == arg)
		pass();
	else
		failf(line, "%s: expected %s blaming argument %lu, got %s blaming %lu", what, hv_status_str(want),
		      arg, hv_status_str(st), rsi);
}

/* EXPECT_BLAME(status, arg, nr, six arguments): a failure and whom it blames. */
#define EXPECT_BLAME(want, arg, nr, ...) expect_blame(__LINE__, #nr, want, arg, nr, __VA_ARGS__)

/* EXPECT(call, status): one check of a status. */
#define EXPECT(expr, want) expect_st(__LINE__, #expr, (expr), (want))
/* CHECK(condition, format, ...): one check of a condition; the message says
 * what was expected and what was found. */
#define CHECK(cond, ...) check_true(__LINE__, (cond) ? 1 : 0, __VA_ARGS__)
/* CHECK_EQ(a, b): one check that two words are equal. */
#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		hv_word_t a_ = (hv_word_t)(a), b_ = (hv_word_t)(b);          \
		CHECK(a_ == b_, "%s: expected 0x%lx, got 0x%lx", #a, b_, a_); \
	} while (0)

/* ---- Helpers ----------------------------------------------------------------- */

static const struct hv_startinfo *si;
static unsigned me_cpu, other_cpu, ncpu;
static hv_word_t tsc_khz;
static unsigned my_max_prio; /* the scheduling limits of our PD */
static hv_word_t my_cpus;

/* A PD (a VM PD) with our own scheduling limits. */
static hv_status_t create_pd(hv_sel_t dst, hv_sel_t parent, hv_word_t quota)
{
	return hv_create_pd(dst, parent, quota, my_max_prio, my_cpus);
}

static hv_status_t create_vm(hv_sel_t dst, hv_sel_t parent, hv_word_t quota)
{
	return hv_create_vm(dst, parent, quota, my_max_prio, my_cpus);
}


static void delay_ms(unsigned ms)
{
	hv_word_t end = hv_rdtsc() + ms * tsc_khz;

	while (hv_rdtsc() < end)
		__asm__ volatile("pause");
}

static HV_NORETURN void fatal(const char *what)
{
	printf("FATAL: %s\n", what);
	printf("selftest: %u passed, %u failed\n", n_pass, n_fail + 1);
	hv_exit(1);
}

static hv_sel_t sel(void)
{
	hv_sel_t s = hv_sel_alloc();

	if (s == HV_SEL_NONE)
		fatal("out of selectors");
	return s;
}

static hv_sel_t sel_block(unsigned order)
{
	hv_sel_t s = hv_sel_alloc_order(order);

	if (s == HV_SEL_NONE)
		fatal("out of selectors");
	return s;
}

static hv_word_t va(hv_word_t size)
{
	hv_word_t v = hv_va_alloc(size);

	if (!v)
		fatal("out of virtual address space");
	return v;
}

static void *heap_page(void)
{
	void *p = hv_heap_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);

	if (!p)
		fatal("out of heap");
	return p;
}

static hv_sel_t new_sm(hv_word_t count)
{
	hv_sel_t s = sel();

	if (hv_create_sm(s, HV_SI_SEL_PD, count) != HV_OK)
		fatal("create_sm");
	return s;
}

/* HV_SYS_LOOKUP with both results (item in RSI, node base in RDX). */
static hv_status_t lookup2(unsigned kind, hv_word_t base, hv_word_t *item, hv_word_t *nbase)
{
	hv_word_t rax = HV_SYS_LOOKUP, rsi = base, rdx = 0;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+S"(rsi), "+d"(rdx)
			 : "D"((hv_word_t)kind)
			 : "rcx", "r11", "memory");
	if (item)
		*item = rsi;
	if (nbase)
		*nbase = rdx;
	return (hv_status_t)rax;
}

/* Delegates object capability src to a new selector of the own PD with
 * `rights` (a copy with fewer rights). */
static hv_sel_t copy_cap(hv_sel_t src, unsigned rights)
{
	hv_sel_t d = sel();
	hv_status_t st = hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, rights, 0), src, d);

	if (st != HV_OK)
		failf(__LINE__, "copy of selector %lu with rights 0x%x: %s", src, rights, hv_status_str(st));
	return d;
}

/* Removes capability `s` (and everything derived from it). */
static hv_status_t drop(hv_sel_t s)
{
	return hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, s);
}

static hv_status_t unmap(hv_word_t addr)
{
	return hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, addr);
}

/* Object type and rights of selector s, or ~0 if empty. */
static unsigned cap_type(hv_sel_t s)
{
	hv_word_t item;

	return hv_lookup(HV_KIND_OBJ, s, &item) == HV_OK ? HV_ITEM_TYPE(item) : ~0u;
}

static unsigned cap_rights(hv_sel_t s)
{
	hv_word_t item;

	return hv_lookup(HV_KIND_OBJ, s, &item) == HV_OK ? HV_ITEM_RIGHTS(item) : ~0u;
}

/* ---- Watchdog and yield -------------------------------------------------------- */

static hv_sel_t wd_arm, wd_target;
static volatile hv_word_t wd_deadline;
static int wd_armed;
static volatile unsigned wd_fired;

/* Lowest priority on the main CPU: runs only while everything else there
 * waits; ups the semaphore the main thread waits for once the deadline of
 * an armed wait has passed. */
static void watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		if (hv_sm_down(wd_arm) != HV_OK)
			return;
		while (__atomic_load_n(&wd_armed, __ATOMIC_ACQUIRE) && hv_rdtsc() < wd_deadline)
			__asm__ volatile("pause");
		if (__atomic_exchange_n(&wd_armed, 0, __ATOMIC_ACQ_REL)) {
			wd_fired++;
			(void)hv_sm_up(wd_target);
		}
	}
}

/* sm_down on `sm`, HV_ETIMEOUT if the watchdog had to end the wait. */
static hv_status_t wait_sm(hv_sel_t sm)
{
	hv_status_t st;

	wd_target = sm;
	wd_deadline = hv_rdtsc() + (hv_word_t)WAIT_MS * tsc_khz;
	__atomic_store_n(&wd_armed, 1, __ATOMIC_RELEASE);
	(void)hv_sm_up(wd_arm);
	st = hv_sm_down(sm);
	if (!__atomic_exchange_n(&wd_armed, 0, __ATOMIC_ACQ_REL))
		return HV_ETIMEOUT;
	return st;
}

#define WAIT(sm) EXPECT(wait_sm(sm), HV_OK)

static hv_sel_t yield_sm;

static void yielder(void *arg)
{
	(void)arg;
	for (;;)
		if (hv_sm_down(yield_sm) != HV_OK)
			return;
}

/* Lets the scheduler run once (it destroys objects whose last capability
 * went away): wakes a thread of higher priority, which blocks again. */
static void yield(void)
{
	(void)hv_sm_up(yield_sm);
}

/* Threads whose exceptions go to portals at `evt` of the own PD: the same
 * stack and TLS layout as hv_thread_create() (lib/thread.c). */
void hv_thread_start(void);

static hv_status_t thread_evt(unsigned cpu, void (*fn)(void *), void *arg, unsigned prio, hv_sel_t evt,
			      hv_sel_t *ec_out, hv_sel_t *sc_out)
{
	char *base = hv_heap_alloc(HV_STACK_SIZE, HV_STACK_SIZE);
	struct hv_tls *t;
	hv_word_t sp;
	hv_status_t st;

	if (!base)
		fatal("out of heap for a stack");
	t = (struct hv_tls *)(base + HV_STACK_SIZE) - 1;
	memset(t, 0, sizeof(*t));
	sp = (hv_word_t)t & ~15ul;
	t->utcb = (struct hv_utcb *)va(HV_PAGE_SIZE);
	t->ec = sel();
	t->sc = sel();
	t->cpu = cpu;
	t->entry = fn;
	t->arg = arg;
	st = hv_create_ec(t->ec, HV_SI_SEL_PD, HV_EC_FLAGS(cpu, 1, evt), (hv_word_t)t->utcb, sp,
			  (hv_word_t)hv_thread_start);
	if (st != HV_OK)
		return st;
	if (ec_out)
		*ec_out = t->ec;
	if (sc_out)
		*sc_out = t->sc;
	return hv_create_sc(t->sc, HV_SI_SEL_PD, t->ec, HV_QOS(prio, 0));
}

static hv_sel_t thread(unsigned cpu, void (*fn)(void *), void *arg, unsigned prio)
{
	hv_sel_t ec;
	hv_status_t st = hv_thread_create(cpu, fn, arg, HV_QOS(prio, 0), &ec, NULL);

	if (st != HV_OK) {
		printf("thread on cpu %u: %s\n", cpu, hv_status_str(st));
		fatal("cannot create a thread");
	}
	return ec;
}

static hv_sel_t handler(unsigned cpu)
{
	hv_sel_t ec;

	if (hv_handler_create(cpu, &ec) != HV_OK)
		fatal("cannot create a handler EC");
	return ec;
}

/* ---- Portal handlers ------------------------------------------------------------ */

/* Portal ids: kind in bits 8.., a number below. */
enum {
	ID_ECHO = 0x100,   /* untyped words + 1, reply tag with HV_TAG_NONBLOCK set */
	ID_NEST = 0x200,   /* calls pt_echo */
	ID_SELF = 0x300,   /* calls its own portal */
	ID_HOLD = 0x400,   /* ups hold_in, waits for hold_go */
	ID_BIG = 0x500,    /* replies with too many words */
	ID_STOP = 0x600,   /* replies HV_TAG_STOP */
	ID_FAULT = 0x700,  /* executes ud2 */
	ID_TYPED = 0x800,  /* typed items, mr[0] = TY_* */
	ID_EXC = 0x900,    /* exception portals */
	ID_RECALL = 0xa00, /* recall portals, low bits = index */
	ID_HOLD2 = 0xb00   /* like ID_HOLD with hold2_in / hold2_go */
};
#define ID_KIND(id) ((id) & ~0xfful)

static hv_sel_t pt_echo, pt_self;
static volatile hv_word_t echo_id, echo_tag, exc_tag;
static hv_sel_t hold_in, hold_go, hold2_in, hold2_go;

static hv_word_t typed_serve(struct hv_utcb *u, hv_word_t tag);
static hv_word_t exc_serve(struct hv_utcb *u, hv_word_t id);
static hv_word_t recall_serve(struct hv_utcb *u, hv_word_t id);

HV_PORTAL_ENTRY(st_portal, st_serve);

hv_word_t st_serve(hv_word_t id, hv_word_t tag)
{
	struct hv_utcb *u = hv_utcb();
	unsigned i, n = HV_TAG_UNTYPED(tag);
	hv_word_t v, rt = 0;
	hv_status_t st;

	switch (ID_KIND(id)) {
	case ID_ECHO:
		echo_id = id;
		echo_tag = tag;
		for (i = 0; i < n; i++)
			u->mr[i]++;
		return HV_TAG(n, 0) | HV_TAG_NONBLOCK;
	case ID_NEST:
		v = u->mr[0];
		u->mr[0] = v;
		st = hv_call(pt_echo, HV_TAG(1, 0), &rt);
		v = u->mr[0];
		u->mr[0] = v + 100;
		u->mr[1] = st;
		u->mr[2] = rt;
		return HV_TAG(3, 0);
	case ID_SELF:
		u->mr[0] = hv_call(pt_self, HV_TAG(0, 0), NULL);
		return HV_TAG(1, 0);
	case ID_HOLD:
	case ID_HOLD2:
		v = u->mr[0];
		(void)hv_sm_up(ID_KIND(id) == ID_HOLD ? hold_in : hold2_in);
		st = hv_sm_down(ID_KIND(id) == ID_HOLD ? hold_go : hold2_go);
		u->mr[0] = v + 1;
		u->mr[1] = st;
		return HV_TAG(2, 0);
	case ID_BIG:
		return HV_TAG(255, 123);
	case ID_STOP:
		return HV_TAG_STOP;
	case ID_FAULT:
		__asm__ volatile("ud2");
		return 0;
	case ID_TYPED:
		return typed_serve(u, tag);
	case ID_EXC:
		exc_tag = tag;
		if (!(tag & HV_TAG_EVENT)) /* called like any portal: no exception to serve */
			return HV_TAG(0, 0);
		return exc_serve(u, id);
	case ID_RECALL:
		return recall_serve(u, id);
	}
	return 0;
}

static hv_sel_t portal(hv_sel_t ec, hv_word_t mtd, hv_word_t id)
{
	hv_sel_t pt = sel();
	hv_status_t st = hv_create_pt(pt, HV_SI_SEL_PD, ec, mtd, (hv_word_t)st_portal, id);

	if (st != HV_OK) {
		printf("create_pt: %s\n", hv_status_str(st));
		fatal("cannot create a portal");
	}
	return pt;
}

static void portal_at(hv_sel_t pt, hv_sel_t ec, hv_word_t mtd, hv_word_t id)
{
	if (hv_create_pt(pt, HV_SI_SEL_PD, ec, mtd, (hv_word_t)st_portal, id) != HV_OK)
		fatal("cannot create an event portal");
}

/* ---- 1. Basics and argument checking ------------------------------------------- */

static hv_sel_t h_echo; /* handler EC on the main CPU, used by several groups */

static void test_basic(void)
{
	hv_word_t t0, t1;
	int i;

	group_begin("basic");
	EXPECT(hv_null(), HV_OK);
	EXPECT(hv_syscall0(HV_SYS_COUNT), HV_ESYS);
	EXPECT(hv_syscall0(255), HV_ESYS);
	EXPECT(hv_syscall0(1ul << 32), HV_ESYS);
	EXPECT(hv_syscall0(~0ul), HV_ESYS);
	/* only portal handlers reply; this is a global EC, so it gets an error */
	EXPECT(hv_syscall2(HV_SYS_REPLY, 0, 0), HV_EPARAM);
	/* user flags that the kernel must not trip over: NT, AC, DF */
	{
		hv_word_t rax = HV_SYS_NULL, fl;

		__asm__ volatile("pushfq\n\torq $0x44400, (%%rsp)\n\tpopfq\n\t"
				 "syscall\n\t"
				 "pushfq\n\tpopq %1\n\t"
				 "pushfq\n\tandq $~0x44400, (%%rsp)\n\tpopfq"
				 : "+a"(rax), "=r"(fl)
				 :
				 : "rcx", "rsi", "r11", "memory", "cc");
		EXPECT((hv_status_t)rax, HV_OK);
		CHECK((fl & 0x44400) == 0x44400, "RFLAGS NT|AC|DF kept across a syscall: got 0x%lx", fl);
	}
	EXPECT(hv_sc_time(HV_SI_SEL_SC, &t0), HV_OK);
	for (i = 0; i < 2000; i++)
		(void)hv_null();
	EXPECT(hv_sc_time(HV_SI_SEL_SC, &t1), HV_OK);
	CHECK(t1 > t0, "sc_time increases: %lu then %lu", t0, t1);
	group_end();
}

static void test_args(void)
{
	hv_sel_t empty = sel(), sm = new_sm(0), pt = portal(h_echo, 0, ID_ECHO);
	hv_sel_t pd_nocreate, pd_nomap, pt_nocall, sm_noup, sm_nodown, sc_noctrl, ec_noctrl;
	hv_sel_t ec_nobindsc, h_nobindpt, irq_nodown = HV_SEL_NONE, irq_sm = HV_SEL_NONE;
	hv_sel_t d = sel(), utcb = va(HV_PAGE_SIZE);
	hv_word_t item;
	unsigned i;

	group_begin("args");
	for (i = 0; i < si->num_irq && i < HV_SI_MAX_IRQ; i++)
		if (si->irq[i].gsi == 8)
			irq_sm = si->irq[i].sel;

	/* copies with one right missing, checked with lookup */
	pd_nocreate = copy_cap(HV_SI_SEL_PD, HV_R_PD_MAP);
	pd_nomap = copy_cap(HV_SI_SEL_PD, HV_R_PD_CREATE);
	pt_nocall = copy_cap(pt, HV_R_ALL & ~HV_R_PT_CALL);
	sm_noup = copy_cap(sm, HV_R_SM_DOWN);
	sm_nodown = copy_cap(sm, HV_R_SM_UP);
	sc_noctrl = copy_cap(HV_SI_SEL_SC, HV_R_ALL & ~HV_R_SC_CTRL);
	ec_noctrl = copy_cap(HV_SI_SEL_EC, HV_R_ALL & ~HV_R_EC_CTRL);
	ec_nobindsc = copy_cap(HV_SI_SEL_EC, HV_R_ALL & ~HV_R_EC_BIND_SC);
	h_nobindpt = copy_cap(h_echo, HV_R_ALL & ~HV_R_EC_BIND_PT);
	if (irq_sm != HV_SEL_NONE)
		irq_nodown = copy_cap(irq_sm, HV_R_SM_UP);
	CHECK_EQ(cap_rights(pd_nocreate), HV_R_PD_MAP);
	CHECK_EQ(cap_type(pd_nocreate), HV_OBJ_PD);
	CHECK_EQ(cap_rights(sm_noup), HV_R_SM_DOWN);
	CHECK_EQ(cap_type(sm_noup), HV_OBJ_SM);
	CHECK_EQ(cap_type(pt_nocall), HV_OBJ_PT);
	CHECK_EQ(cap_type(HV_SI_SEL_EC), HV_OBJ_EC);
	CHECK_EQ(cap_type(HV_SI_SEL_SC), HV_OBJ_SC);

	/* call */
	EXPECT(hv_call(empty, 0, NULL), HV_ECAP);
	EXPECT(hv_call(sm, 0, NULL), HV_ECAP);
	EXPECT(hv_call(pt_nocall, 0, NULL), HV_EPERM);
	EXPECT(hv_call(SEL_OUT, 0, NULL), HV_ECAP);
	EXPECT(hv_call(~0ul, 0, NULL), HV_ECAP);

	/* create_pd */
	EXPECT(create_pd(SEL_OUT, HV_SI_SEL_PD, 16384), HV_EPARAM);
	EXPECT(create_pd(~0ul, HV_SI_SEL_PD, 16384), HV_EPARAM);
	EXPECT(create_pd(sm, HV_SI_SEL_PD, 16384), HV_EBUSY);
	EXPECT(create_pd(d, empty, 16384), HV_ECAP);
	EXPECT(create_pd(d, sm, 16384), HV_ECAP);
	EXPECT(create_pd(d, SEL_OUT, 16384), HV_ECAP);
	EXPECT(create_pd(d, pd_nocreate, 16384), HV_EPERM);
	EXPECT(hv_syscall4(HV_SYS_CREATE_PD, d, HV_SI_SEL_PD, 16384, 2), HV_EPARAM); /* unknown flag */
	EXPECT(hv_syscall4(HV_SYS_CREATE_PD, d, HV_SI_SEL_PD, 16384, ~0ul), HV_EPARAM);

	/* create_ec */
	EXPECT(hv_create_ec(SEL_OUT, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), utcb, 0x1000, 0), HV_EPARAM);
	EXPECT(hv_create_ec(sm, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), utcb, 0x1000, 0), HV_EBUSY);
	EXPECT(hv_create_ec(d, empty, HV_EC_FLAGS(me_cpu, 0, 0), utcb, 0x1000, 0), HV_ECAP);
	EXPECT(hv_create_ec(d, pt, HV_EC_FLAGS(me_cpu, 0, 0), utcb, 0x1000, 0), HV_ECAP);
	EXPECT(hv_create_ec(d, pd_nocreate, HV_EC_FLAGS(me_cpu, 0, 0), utcb, 0x1000, 0), HV_EPERM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0) | (1ul << 18), utcb, 0x1000, 0), HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0) | (1ul << 31), utcb, 0x1000, 0), HV_EPARAM);

	/* create_sc */
	EXPECT(hv_create_sc(SEL_OUT, HV_SI_SEL_PD, HV_SI_SEL_EC, HV_QOS(1, 0)), HV_EPARAM);
	EXPECT(hv_create_sc(sm, HV_SI_SEL_PD, HV_SI_SEL_EC, HV_QOS(1, 0)), HV_EBUSY);
	EXPECT(hv_create_sc(d, empty, HV_SI_SEL_EC, HV_QOS(1, 0)), HV_ECAP);
	EXPECT(hv_create_sc(d, pd_nocreate, HV_SI_SEL_EC, HV_QOS(1, 0)), HV_EPERM);
	EXPECT(hv_create_sc(d, HV_SI_SEL_PD, empty, HV_QOS(1, 0)), HV_ECAP);
	EXPECT(hv_create_sc(d, HV_SI_SEL_PD, sm, HV_QOS(1, 0)), HV_ECAP);
	EXPECT(hv_create_sc(d, HV_SI_SEL_PD, ec_nobindsc, HV_QOS(1, 0)), HV_EPERM);
	EXPECT(hv_create_sc(d, HV_SI_SEL_PD, HV_SI_SEL_EC, HV_QOS(1, 0) | (1ul << 8)), HV_EPARAM);
	EXPECT(hv_create_sc(d, HV_SI_SEL_PD, HV_SI_SEL_EC, HV_QOS(HV_PRIO_MAX + 1, 0)), HV_EPARAM);

	/* create_pt */
	EXPECT(hv_create_pt(SEL_OUT, HV_SI_SEL_PD, h_echo, 0, (hv_word_t)st_portal, 0), HV_EPARAM);
	EXPECT(hv_create_pt(sm, HV_SI_SEL_PD, h_echo, 0, (hv_word_t)st_portal, 0), HV_EBUSY);
	EXPECT(hv_create_pt(d, sm, h_echo, 0, (hv_word_t)st_portal, 0), HV_ECAP);
	EXPECT(hv_create_pt(d, pd_nocreate, h_echo, 0, (hv_word_t)st_portal, 0), HV_EPERM);
	EXPECT(hv_create_pt(d, HV_SI_SEL_PD, empty, 0, (hv_word_t)st_portal, 0), HV_ECAP);
	EXPECT(hv_create_pt(d, HV_SI_SEL_PD, sm, 0, (hv_word_t)st_portal, 0), HV_ECAP);
	EXPECT(hv_create_pt(d, HV_SI_SEL_PD, h_nobindpt, 0, (hv_word_t)st_portal, 0), HV_EPERM);

	/* create_sm */
	EXPECT(hv_create_sm(SEL_OUT, HV_SI_SEL_PD, 0), HV_EPARAM);
	EXPECT(hv_create_sm(sm, HV_SI_SEL_PD, 0), HV_EBUSY);
	EXPECT(hv_create_sm(HV_SI_SEL_PD, HV_SI_SEL_PD, 0), HV_EBUSY);
	EXPECT(hv_create_sm(d, empty, 0), HV_ECAP);
	EXPECT(hv_create_sm(d, sm, 0), HV_ECAP);
	EXPECT(hv_create_sm(d, pd_nocreate, 0), HV_EPERM);
	CHECK(cap_type(d) == ~0u, "failed creations leave the destination empty (type %u)", cap_type(d));

	/* delegate */
	EXPECT(hv_delegate(empty, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, d), HV_ECAP);
	EXPECT(hv_delegate(sm, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, d), HV_ECAP);
	EXPECT(hv_delegate(HV_SI_SEL_PD, sm, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, d), HV_ECAP);
	EXPECT(hv_delegate(pd_nomap, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, d), HV_EPERM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, pd_nomap, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, d), HV_EPERM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0) | (1ul << 16), sm, d),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0) | HV_REVOKE_SELF, sm, d),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_R, 0), HV_SI_HEAP, 0),
	       HV_EPARAM); /* guest-physical memory into a PD that is no VM */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, pt), HV_EBUSY);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), sm, SEL_OUT), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), SEL_OUT, d), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), empty, d), HV_ECAP);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 14), 0, 0), HV_EPARAM);
	/* no rights left after masking (docs/abi.md: HV_EPERM) */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, 0, 0), sm, d), HV_EPERM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0), sm_noup, d), HV_EPERM);
	CHECK(cap_type(d) == ~0u, "failed delegations leave the destination empty (type %u)", cap_type(d));

	/* revoke */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | (1ul << 16), empty), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | (1ul << 25), empty), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_GMEM, 0, 0), 0x1008), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), SEL_OUT), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 1), 257), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 14), 0), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), HV_SI_HEAP + 8), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), HV_USER_END), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_IO, 0, 0), 0x10000), HV_EPARAM);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), empty), HV_OK); /* nothing to do */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, empty), HV_OK);

	/* lookup */
	EXPECT(hv_lookup(HV_KIND_GMEM + 1, 0, NULL), HV_EPARAM);
	EXPECT(hv_lookup(HV_KIND_GMEM, 0, NULL), HV_ECAP); /* no guest-physical space */
	EXPECT(hv_lookup(~0u, 0, NULL), HV_EPARAM);
	EXPECT(hv_lookup(HV_KIND_OBJ, empty, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, SEL_OUT, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, ~0ul, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_MEM, HV_USER_END, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_MEM, ~0ul, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_IO, 0x10000, NULL), HV_ECAP);
	if (EXPECT(hv_lookup(HV_KIND_OBJ, sm, &item), HV_OK) == HV_OK)
		CHECK(HV_ITEM_KIND(item) == HV_KIND_OBJ && HV_ITEM_TYPE(item) == HV_OBJ_SM &&
			      HV_ITEM_RIGHTS(item) == HV_R_ALL && HV_ITEM_ORDER(item) == 0,
		      "lookup of an SM: got item 0x%lx", item);

	/* sm_ctrl */
	EXPECT(hv_sm_ctrl(sm, 3), HV_EPARAM);
	EXPECT(hv_syscall2(HV_SYS_SM_CTRL, sm, 1ul << 32), HV_EPARAM);
	EXPECT(hv_sm_up(empty), HV_ECAP);
	EXPECT(hv_sm_down(empty), HV_ECAP);
	EXPECT(hv_sm_up(pt), HV_ECAP);
	EXPECT(hv_sm_trydown(SEL_OUT), HV_ECAP);
	EXPECT(hv_sm_up(sm_noup), HV_EPERM);
	EXPECT(hv_sm_down(sm_nodown), HV_EPERM);
	EXPECT(hv_sm_trydown(sm_nodown), HV_EPERM);
	EXPECT(hv_sm_up(sm_nodown), HV_OK);
	EXPECT(hv_sm_trydown(sm_noup), HV_OK);

	/* sc_ctrl */
	EXPECT(hv_sc_time(empty, NULL), HV_ECAP);
	EXPECT(hv_sc_time(sm, NULL), HV_ECAP);
	EXPECT(hv_sc_time(SEL_OUT, NULL), HV_ECAP);
	EXPECT(hv_sc_time(sc_noctrl, NULL), HV_EPERM);

	/* ec_ctrl */
	EXPECT(hv_ec_ctrl(HV_SI_SEL_EC, 1), HV_EPARAM);
	EXPECT(hv_ec_ctrl(HV_SI_SEL_EC, ~0u), HV_EPARAM);
	EXPECT(hv_ec_recall(empty), HV_ECAP);
	EXPECT(hv_ec_recall(sm), HV_ECAP);
	EXPECT(hv_ec_recall(SEL_OUT), HV_ECAP);
	EXPECT(hv_ec_recall(ec_noctrl), HV_EPERM);

	/* irq_ctrl */
	EXPECT(hv_irq_ctrl(empty, me_cpu, 0), HV_ECAP);
	EXPECT(hv_irq_ctrl(pt, me_cpu, 0), HV_ECAP);
	EXPECT(hv_irq_ctrl(sm, me_cpu, 0), HV_EPARAM); /* not an interrupt semaphore */
	if (CHECK(irq_sm != HV_SEL_NONE, "start info lists the semaphore of GSI 8")) {
		EXPECT(hv_irq_ctrl(irq_nodown, me_cpu, 0), HV_EPERM);
		EXPECT(hv_irq_ctrl(irq_sm, 99, HV_IRQ_MASK), HV_ECPU);
		EXPECT(hv_irq_ctrl(irq_sm, ncpu, HV_IRQ_MASK), HV_ECPU);
		EXPECT(hv_syscall3(HV_SYS_IRQ_CTRL, irq_sm, ~0ul, HV_IRQ_MASK), HV_ECPU);
		EXPECT(hv_irq_ctrl(irq_sm, me_cpu, HV_IRQ_MASK | 8), HV_EPARAM);
		EXPECT(hv_irq_ctrl(irq_sm, me_cpu, 0x100), HV_EPARAM);
		EXPECT(hv_syscall3(HV_SYS_IRQ_CTRL, irq_sm, me_cpu, 1ul << 40), HV_EPARAM);
	}

	/* the copies are children of the originals: revoking those removes them */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), HV_SI_SEL_PD), HV_OK);
	CHECK(cap_type(pd_nocreate) == ~0u && cap_type(pd_nomap) == ~0u, "PD copies revoked");
	CHECK_EQ(cap_type(HV_SI_SEL_PD), HV_OBJ_PD);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), HV_SI_SEL_EC), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), HV_SI_SEL_SC), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), h_echo), HV_OK);
	CHECK(cap_type(ec_noctrl) == ~0u && cap_type(sc_noctrl) == ~0u && cap_type(h_nobindpt) == ~0u,
	      "EC and SC copies revoked");
	if (irq_sm != HV_SEL_NONE)
		EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), irq_sm), HV_OK);
	EXPECT(drop(pt), HV_OK);
	EXPECT(drop(sm), HV_OK);
	CHECK(cap_type(pt_nocall) == ~0u && cap_type(sm_noup) == ~0u && cap_type(sm_nodown) == ~0u,
	      "revoke with HV_REVOKE_SELF removes the copies too");
	(void)ec_nobindsc;
	group_end();
}

/* Which argument a failed call blames in RSI: each position of each call,
 * and none in particular (docs/abi.md). */
static void test_blame(void)
{
	hv_sel_t empty = sel(), sm = new_sm(0), pt = portal(h_echo, 0, ID_ECHO), d = sel(), ec_g = sel();
	hv_sel_t irq_sm = HV_SEL_NONE, PD = HV_SI_SEL_PD;
	hv_word_t utcb = va(HV_PAGE_SIZE), page = (hv_word_t)heap_page(), sp = page + HV_PAGE_SIZE, rsi = 0;
	hv_word_t obj = HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), ip = (hv_word_t)st_portal;
	unsigned i;

	group_begin("blame");
	for (i = 0; i < si->num_irq && i < HV_SI_MAX_IRQ; i++)
		if (si->irq[i].gsi == 8)
			irq_sm = si->irq[i].sel;
	EXPECT_BLAME(HV_ESYS, HV_ARG_NONE, 255, 0, 0, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_NONE, HV_SYS_REPLY, 0, 0, 0, 0, 0, 0); /* we are no handler */
	EXPECT_BLAME(HV_ECAP, HV_ARG_RDI, HV_SYS_CALL, empty, 0, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RSI, HV_SYS_CALL, pt, HV_TAG(255, 123), 0, 0, 0, 0);

	/* create_pd: dst, parent, quota, flags, max priority, CPU mask */
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDI, HV_SYS_CREATE_PD, SEL_OUT, PD, 16384, 0, 1, 1);
	EXPECT_BLAME(HV_EBUSY, HV_ARG_RDI, HV_SYS_CREATE_PD, sm, PD, 16384, 0, 1, 1);
	EXPECT_BLAME(HV_ECAP, HV_ARG_RSI, HV_SYS_CREATE_PD, d, empty, 16384, 0, 1, 1);
	EXPECT_BLAME(HV_EMEM, HV_ARG_RDX, HV_SYS_CREATE_PD, d, PD, 0, 0, 1, 1);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R10, HV_SYS_CREATE_PD, d, PD, 16384, 2, 1, 1);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R8, HV_SYS_CREATE_PD, d, PD, 16384, 0, HV_PRIO_MAX + 1, 1);
	EXPECT_BLAME(HV_EPERM, HV_ARG_R8, HV_SYS_CREATE_PD, d, PD, 16384, 0, my_max_prio + 1, 1);
	EXPECT_BLAME(HV_EPERM, HV_ARG_R9, HV_SYS_CREATE_PD, d, PD, 16384, 0, 1, HV_CPUS_ALL);

	/* create_ec: dst, PD, flags, UTCB, SP, IP */
	EXPECT_BLAME(HV_ECAP, HV_ARG_RSI, HV_SYS_CREATE_EC, d, sm, HV_EC_FLAGS(me_cpu, 1, 0), utcb, sp, 0x1000);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDX, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(me_cpu, 1, 0) | (1ul << 18), utcb,
		     sp, 0x1000);
	EXPECT_BLAME(HV_ECPU, HV_ARG_RDX, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(ncpu, 1, 0), utcb, sp, 0x1000);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R10, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(me_cpu, 1, 0), utcb + 8, sp, 0x1000);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R8, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(me_cpu, 1, 0), utcb, KERNEL_ADDR,
		     0x1000);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R9, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(me_cpu, 1, 0), utcb, sp, KERNEL_ADDR);
	EXPECT_BLAME(HV_EBUSY, HV_ARG_R10, HV_SYS_CREATE_EC, d, PD, HV_EC_FLAGS(me_cpu, 1, 0), HV_SI_UTCB, sp, 0x1000);

	/* create_sc (ec_g never gets one: it never runs), create_pt, create_sm */
	EXPECT(hv_create_ec(ec_g, PD, HV_EC_FLAGS(me_cpu, 1, 0), utcb, sp, 0x1000), HV_OK);
	EXPECT_BLAME(HV_EBUSY, HV_ARG_RDX, HV_SYS_CREATE_SC, d, PD, HV_SI_SEL_EC, HV_QOS(1, 0), 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R10, HV_SYS_CREATE_SC, d, PD, ec_g, HV_QOS(1, 0) | (1ul << 8), 0, 0);
	EXPECT_BLAME(HV_EPERM, HV_ARG_R10, HV_SYS_CREATE_SC, d, PD, ec_g, HV_QOS(my_max_prio + 1, 0), 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDX, HV_SYS_CREATE_PT, d, PD, ec_g, 0, ip, 0); /* no handler */
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R10, HV_SYS_CREATE_PT, d, PD, h_echo, HV_MTD_ALL + 1, ip, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R8, HV_SYS_CREATE_PT, d, PD, h_echo, 0, KERNEL_ADDR, 0);
	EXPECT_BLAME(HV_EOVERFLOW, HV_ARG_RDX, HV_SYS_CREATE_SM, d, PD, 1ul << 32, 0, 0, 0);
	CHECK(cap_type(d) == ~0u, "nothing created at the destination (type %u)", cap_type(d));

	/* delegate: source PD, destination PD, item, source base, destination base */
	EXPECT_BLAME(HV_ECAP, HV_ARG_RDI, HV_SYS_DELEGATE, sm, PD, obj, sm, d, 0);
	EXPECT_BLAME(HV_ECAP, HV_ARG_RSI, HV_SYS_DELEGATE, PD, sm, obj, sm, d, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDX, HV_SYS_DELEGATE, PD, PD, obj | (1ul << 16), sm, d, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDX, HV_SYS_DELEGATE, PD, PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 14), 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R10, HV_SYS_DELEGATE, PD, PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), page + 8,
		     page, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R8, HV_SYS_DELEGATE, PD, PD, obj, sm, SEL_OUT, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_R8, HV_SYS_DELEGATE, PD, PD, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x71, 0);
	EXPECT_BLAME(HV_EBUSY, HV_ARG_R8, HV_SYS_DELEGATE, PD, PD, obj, sm, pt, 0);
	EXPECT_BLAME(HV_ECAP, HV_ARG_R10, HV_SYS_DELEGATE, PD, PD, obj, empty, d, 0);
	EXPECT_BLAME(HV_EPERM, HV_ARG_RDX, HV_SYS_DELEGATE, PD, PD, HV_ITEM(HV_KIND_OBJ, 0, 0), sm, d, 0);

	/* revoke, lookup, sm_ctrl, sc_ctrl, ec_ctrl, irq_ctrl, pd_ctrl */
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDI, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0) | (1ul << 25), empty, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDI, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 14), 0, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RSI, HV_SYS_REVOKE, HV_ITEM(HV_KIND_MEM, 0, 0), page + 8, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDI, HV_SYS_LOOKUP, HV_KIND_GMEM + 1, 0, 0, 0, 0, 0);
	EXPECT_BLAME(HV_ECAP, HV_ARG_RSI, HV_SYS_LOOKUP, HV_KIND_OBJ, empty, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RSI, HV_SYS_SM_CTRL, sm, 3, 0, 0, 0, 0);
	EXPECT_BLAME(HV_ECAP, HV_ARG_RDI, HV_SYS_SM_CTRL, empty, HV_SM_UP, 0, 0, 0, 0);
	EXPECT_BLAME(HV_ETIMEOUT, HV_ARG_NONE, HV_SYS_SM_CTRL, sm, HV_SM_TRYDOWN, 0, 0, 0, 0);
	EXPECT_BLAME(HV_ETIMEOUT, HV_ARG_NONE, HV_SYS_SM_CTRL, sm, HV_SM_DOWN, 1, 0, 0, 0); /* deadline passed */
	EXPECT_BLAME(HV_ECAP, HV_ARG_RDI, HV_SYS_SC_CTRL, sm, 0, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RSI, HV_SYS_EC_CTRL, HV_SI_SEL_EC, 1, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RDI, HV_SYS_IRQ_CTRL, sm, me_cpu, 0, 0, 0, 0); /* no interrupt's */
	if (irq_sm != HV_SEL_NONE) {
		EXPECT_BLAME(HV_ECPU, HV_ARG_RSI, HV_SYS_IRQ_CTRL, irq_sm, 99, HV_IRQ_MASK, 0, 0, 0);
		EXPECT_BLAME(HV_EPARAM, HV_ARG_RDX, HV_SYS_IRQ_CTRL, irq_sm, me_cpu, HV_IRQ_MASK | 8, 0, 0, 0);
	}
	EXPECT_BLAME(HV_EPARAM, HV_ARG_RSI, HV_SYS_PD_CTRL, PD, HV_PD_LIMITS + 1, 0, 0, 0, 0);
	EXPECT_BLAME(HV_EPERM, HV_ARG_RDI, HV_SYS_PD_CTRL, copy_cap(PD, HV_R_PD_MAP), HV_PD_KMEM, 0, 0, 0, 0);

	/* on success RSI carries the result */
	EXPECT(hv_syscall6r(HV_SYS_LOOKUP, HV_KIND_OBJ, sm, 0, 0, 0, 0, &rsi), HV_OK);
	CHECK(HV_ITEM_TYPE(rsi) == HV_OBJ_SM, "lookup's item in RSI: 0x%lx", rsi);
	EXPECT(drop(ec_g), HV_OK);
	EXPECT(drop(pt), HV_OK);
	EXPECT(drop(sm), HV_OK);
	yield();
	group_end();
}

/* ---- 2. Creation ---------------------------------------------------------------- */

static void block_thread(void *arg)
{
	(void)arg;
	hv_block_forever();
}

/* VM PD, vCPU and guest-physical items: argument checks. A vCPU needs VMX
 * (HV_ECPU without it); if one is created it never gets an SC. */
static void test_vm_args(void)
{
	hv_sel_t vm = sel(), d = sel(), evt = sel_block(8);
	hv_word_t page = (hv_word_t)heap_page(), fl = HV_EC_FLAGS(me_cpu, 1, evt) | HV_EC_VCPU;
	hv_status_t st;

	EXPECT(create_vm(vm, HV_SI_SEL_PD, 64 << 10), HV_OK);
	CHECK_EQ(cap_type(vm), HV_OBJ_PD);
	EXPECT(hv_create_ec(d, vm, HV_EC_FLAGS(me_cpu, 1, 0), va(HV_PAGE_SIZE), 0x1000, 0x1000), HV_EPARAM);
	EXPECT(hv_create_ec(d, vm, HV_EC_FLAGS(me_cpu, 0, 0) | HV_EC_VCPU, 0, 0, 0), HV_EPARAM); /* not global */
	EXPECT(hv_create_ec(d, vm, fl, va(HV_PAGE_SIZE), 0, 0), HV_EPARAM);                      /* a UTCB */
	EXPECT(hv_create_vcpu(d, HV_SI_SEL_PD, me_cpu, evt), HV_EPARAM);                         /* no VM */
	EXPECT(hv_create_vcpu(d, vm, me_cpu, HV_SEL_MAX - HV_VMEVT_COUNT + 1), HV_EPARAM);
	EXPECT(hv_create_vcpu(d, vm, ncpu, evt), HV_ECPU);
	st = hv_create_vcpu(d, vm, me_cpu, evt);
	CHECK(st == HV_OK || st == HV_ECPU, "vCPU: %s (HV_OK with VMX, else HV_ECPU)", hv_status_str(st));
	if (st == HV_OK) {
		CHECK_EQ(cap_type(d), HV_OBJ_EC);
		EXPECT(hv_create_pt(sel(), HV_SI_SEL_PD, d, 0, (hv_word_t)st_portal, 0), HV_EPARAM);
		EXPECT(drop(d), HV_OK);
	}
	/* guest-physical memory: from our memory space into the VM's */
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), page, 0x100000), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), page, 0x100000), HV_EBUSY);
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), page, 0x100800), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), page + 8, 0x101000),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), HV_SI_FREE_VA - HV_PAGE_SIZE,
			   0x101000),
	       HV_ECAP); /* not ours */
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), HV_SI_UTCB, 0x101000), HV_EPERM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_MEM, HV_R_MEM_RWX, 0), page, 0x100000), HV_OK);
	/* revoking our page's children removes the guest-physical mapping too */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), page), HV_OK); /* page is inside a larger node: no-op */
	EXPECT(hv_delegate(HV_SI_SEL_PD, vm, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), page, 0x100000), HV_EBUSY);
	EXPECT(drop(vm), HV_OK);
	yield();
}

static void test_create(void)
{
	hv_sel_t child = sel(), gc = sel(), d = sel(), ec_l = sel(), ec_c = sel();
	hv_sel_t pt = sel(), sc = sel(), sm = sel(), thr;
	hv_word_t utcb = va(HV_PAGE_SIZE), sp = (hv_word_t)heap_page() + HV_PAGE_SIZE;
	hv_word_t q = 64 << 10, item;
	hv_word_t evt_bad = (hv_word_t)HV_SEL_MAX << 32;

	group_begin("create");
	/* PD */
	EXPECT(create_pd(child, HV_SI_SEL_PD, q), HV_OK);
	CHECK_EQ(cap_type(child), HV_OBJ_PD);
	EXPECT(create_pd(d, HV_SI_SEL_PD, ~0ul), HV_EMEM);
	EXPECT(create_pd(d, HV_SI_SEL_PD, si->kmem_quota * 8), HV_EMEM);
	EXPECT(create_pd(d, HV_SI_SEL_PD, 0), HV_EMEM); /* no room for its page table */
	/* the child's quota pays for its PML4 (4 KiB); a grandchild's quota must
	 * leave room for the grandchild PD object itself */
	EXPECT(create_pd(gc, child, q - HV_PAGE_SIZE), HV_EMEM);
	EXPECT(create_pd(gc, child, q + 1), HV_EMEM);
	EXPECT(create_pd(gc, child, 16 << 10), HV_OK);
	CHECK(cap_type(d) == ~0u, "no PD at the destination of failed create_pd");

	/* EC: local and global, own PD and child PD */
	EXPECT(hv_create_ec(ec_l, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), utcb, sp, 0), HV_OK);
	CHECK_EQ(cap_type(ec_l), HV_OBJ_EC);
	if (EXPECT(lookup2(HV_KIND_MEM, utcb, &item, NULL), HV_OK) == HV_OK)
		CHECK(HV_ITEM_RIGHTS(item) == (HV_R_MEM_R | HV_R_MEM_W), "UTCB mapped RW: item 0x%lx", item);
	EXPECT(hv_create_ec(ec_c, child, HV_EC_FLAGS(me_cpu, 1, 0), 0x10000, 0x20000, 0x30000), HV_OK);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(ncpu, 0, 0), va(HV_PAGE_SIZE), sp, 0), HV_ECPU);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(0xffff, 1, 0), va(HV_PAGE_SIZE), sp, 0), HV_ECPU);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 1, 0), va(HV_PAGE_SIZE) + 8, sp, 0), HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), 0, sp, 0), HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), HV_USER_END, sp, 0), HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), 0xffffff8000000000ul, sp, 0), HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 1, 0), va(HV_PAGE_SIZE), KERNEL_ADDR, 0x400000),
	       HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 1, 0), va(HV_PAGE_SIZE), sp, KERNEL_ADDR),
	       HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 1, 0) | evt_bad, va(HV_PAGE_SIZE), sp, 0),
	       HV_EPARAM);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), utcb, sp, 0), HV_EBUSY);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), HV_SI_UTCB, sp, 0), HV_EBUSY);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), HV_SI_HEAP, sp, 0), HV_EBUSY);
	EXPECT(hv_create_ec(d, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, 0), HV_SI_ADDR, sp, 0), HV_EBUSY);
	CHECK(cap_type(d) == ~0u, "no EC at the destination of failed create_ec");

	/* SC */
	thr = thread(me_cpu, block_thread, NULL, PRIO_HIGH);
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, thr, HV_QOS(5, 0)), HV_EBUSY);         /* has one */
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, HV_SI_SEL_EC, HV_QOS(5, 0)), HV_EBUSY); /* has one */
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec_l, HV_QOS(5, 0)), HV_EBUSY);         /* local */
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec_c, HV_QOS(HV_PRIO_MAX + 1, 0)), HV_EPARAM);
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec_c, HV_QOS(255, 0)), HV_EPARAM);
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec_c, HV_QOS(5, 10000001)), HV_EPARAM);
	CHECK(cap_type(sc) == ~0u, "no SC at the destination of failed create_sc");

	/* PT */
	EXPECT(hv_create_pt(pt, HV_SI_SEL_PD, HV_SI_SEL_EC, 0, (hv_word_t)st_portal, 0), HV_EPARAM);
	EXPECT(hv_create_pt(pt, HV_SI_SEL_PD, thr, 0, (hv_word_t)st_portal, 0), HV_EPARAM);
	EXPECT(hv_create_pt(pt, HV_SI_SEL_PD, ec_l, HV_MTD_ALL + 1, (hv_word_t)st_portal, 0), HV_EPARAM);
	EXPECT(hv_create_pt(pt, HV_SI_SEL_PD, ec_l, 1ul << 40, (hv_word_t)st_portal, 0), HV_EPARAM);
	EXPECT(hv_create_pt(pt, HV_SI_SEL_PD, ec_l, 0, KERNEL_ADDR, 0), HV_EPARAM);
	CHECK(cap_type(pt) == ~0u, "no PT at the destination of failed create_pt");
	EXPECT(hv_create_pt(pt, child, ec_l, HV_MTD_ALL, (hv_word_t)st_portal, ~0ul), HV_OK);
	CHECK_EQ(cap_type(pt), HV_OBJ_PT);

	/* SM */
	EXPECT(hv_create_sm(d, HV_SI_SEL_PD, 0x100000000ul), HV_EOVERFLOW);
	EXPECT(hv_create_sm(d, HV_SI_SEL_PD, ~0ul), HV_EOVERFLOW);
	EXPECT(hv_create_sm(sm, HV_SI_SEL_PD, 0xfffffffful), HV_OK);
	EXPECT(hv_sm_up(sm), HV_EOVERFLOW);
	EXPECT(hv_sm_trydown(sm), HV_OK);
	EXPECT(hv_sm_up(sm), HV_OK);
	EXPECT(hv_sm_up(sm), HV_EOVERFLOW);
	EXPECT(drop(sm), HV_OK);
	EXPECT(hv_create_sm(sm, child, 1), HV_OK); /* charged to the child */
	EXPECT(hv_sm_trydown(sm), HV_OK);
	EXPECT(hv_sm_trydown(sm), HV_ETIMEOUT);

	/* VM PDs and vCPUs (arguments only: no vCPU runs here) */
	test_vm_args();

	/* destroying the child PD stops its EC; objects charged to it live on
	 * while capabilities to them exist */
	EXPECT(drop(child), HV_OK);
	yield();
	CHECK(cap_type(child) == ~0u && cap_type(gc) != ~0u, "child PD capability gone, grandchild kept");
	EXPECT(hv_ec_recall(ec_c), HV_EABORT); /* its PD is gone */
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec_c, HV_QOS(5, 0)), HV_EBUSY);
	EXPECT(hv_sm_up(sm), HV_OK);
	EXPECT(hv_sm_trydown(sm), HV_OK);
	EXPECT(drop(gc), HV_OK);
	EXPECT(drop(sm), HV_OK);
	EXPECT(drop(pt), HV_OK);
	EXPECT(drop(ec_c), HV_OK);
	EXPECT(drop(ec_l), HV_OK);
	yield();
	EXPECT(lookup2(HV_KIND_MEM, utcb, NULL, NULL), HV_ECAP); /* UTCB unmapped with its EC */
	group_end();
}

/*
 * Scheduling limits: the maximum priority and the CPUs a PD's creator
 * gives it, never more than the creator's own, checked when ECs and SCs
 * are created - for the caller's PD and for the PD of the EC.
 */
static void test_limits(void)
{
	hv_sel_t child = sel(), d = sel(), ec_c = sel(), sc = sel(), PD = HV_SI_SEL_PD;
	hv_word_t cpus = 0, one_cpu = 1ul << me_cpu;
	unsigned prio = 0;

	group_begin("limits");
	CHECK(my_max_prio == PRIO_LIMIT && my_cpus == CPUS_LIMIT,
	      "our limits (configs/selftest.conf): priority %u, CPUs 0x%lx (expected %u, 0x%lx)", my_max_prio, my_cpus,
	      PRIO_LIMIT, CPUS_LIMIT);
	/* an SC above our limit is refused, one at it is not */
	EXPECT(hv_thread_create(me_cpu, block_thread, NULL, HV_QOS(PRIO_LIMIT + 1, 0), NULL, NULL), HV_EPERM);
	EXPECT(hv_thread_create(me_cpu, block_thread, NULL, HV_QOS(HV_PRIO_MAX, 0), NULL, NULL), HV_EPERM);
	EXPECT(hv_thread_create(me_cpu, block_thread, NULL, HV_QOS(PRIO_LIMIT, 0), NULL, NULL), HV_OK);

	/* a child PD gets no more than we have */
	EXPECT(hv_create_pd(child, PD, 64 << 10, PRIO_LIMIT + 1, my_cpus), HV_EPERM);
	EXPECT(hv_create_pd(child, PD, 64 << 10, PRIO_LIMIT, my_cpus | (my_cpus << 1)), HV_EPERM);
	EXPECT(hv_create_vm(child, PD, 64 << 10, HV_PRIO_MAX, my_cpus), HV_EPERM);
	EXPECT(hv_create_pd(child, PD, 64 << 10, 10, one_cpu), HV_OK);
	EXPECT(hv_pd_limits(child, &prio, &cpus), HV_OK);
	CHECK(prio == 10 && cpus == one_cpu, "the child's limits: priority %u, CPUs 0x%lx", prio, cpus);

	/* its ECs run only on its CPUs, their SCs not above its limit, whoever creates them */
	EXPECT(hv_create_ec(ec_c, child, HV_EC_FLAGS(me_cpu, 1, 0), 0x10000, 0x20000, 0x30000), HV_OK);
	if (ncpu > 1)
		EXPECT(hv_create_ec(d, child, HV_EC_FLAGS(other_cpu, 1, 0), 0x40000, 0x20000, 0x30000), HV_EPERM);
	EXPECT(hv_create_sc(sc, PD, ec_c, HV_QOS(11, 0)), HV_EPERM);
	EXPECT(hv_create_sc(sc, child, ec_c, HV_QOS(PRIO_LIMIT, 0)), HV_EPERM);
	CHECK(cap_type(sc) == ~0u && cap_type(d) == ~0u, "no SC, no EC created beyond the limits");
	EXPECT(drop(ec_c), HV_OK);
	EXPECT(drop(child), HV_OK);
	yield();
	group_end();
}

/* ---- 3. Kernel memory quota --------------------------------------------------------- */

/*
 * A 4 KiB page mapped into a new PD (kind HV_KIND_MEM) or VM (HV_KIND_GMEM)
 * needs a page table; once it is revoked, a 2 MiB page mapped over the
 * same range replaces the emptied table, whose page must go back to the
 * PD's quota. Uses the heap's first 2 MiB (2 MiB aligned in virtual and
 * physical memory, as the roottask hands out large pieces).
 */
static void large_page_over_table(unsigned kind)
{
	hv_sel_t pd = sel();
	hv_word_t item = 0, heap = 0, with_4k = 0, with_2m = 0, alias = va(4ul << 20);
	unsigned rw = HV_R_MEM_R | HV_R_MEM_W;

	alias = (alias + (2ul << 20) - 1) & ~((2ul << 20) - 1);
	EXPECT(lookup2(HV_KIND_MEM, si->heap_base, &item, &heap), HV_OK);
	if (!CHECK(HV_ITEM_ORDER(item) >= 9 && !(heap & ((2ul << 20) - 1)), "the heap starts with a 2 MiB node"))
		return;
	EXPECT(kind == HV_KIND_GMEM ? create_vm(pd, HV_SI_SEL_PD, 64 << 10) : create_pd(pd, HV_SI_SEL_PD, 64 << 10),
	       HV_OK);
	/* an alias of our own, so that revoking its children leaves the heap alone */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, rw, 9), heap, alias), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, pd, HV_ITEM(kind, rw, 0), alias, 0x40000000ul), HV_OK);
	EXPECT(hv_pd_kmem(pd, &with_4k, NULL, NULL), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 9), alias), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, pd, HV_ITEM(kind, rw, 9), alias, 0x40000000ul), HV_OK);
	EXPECT(hv_pd_kmem(pd, &with_2m, NULL, NULL), HV_OK);
	CHECK(with_2m == with_4k - HV_PAGE_SIZE,
	      "%s: a 2 MiB page over an emptied page table frees it: %lu bytes used with the 4 KiB page, %lu "
	      "with the 2 MiB page",
	      kind == HV_KIND_GMEM ? "guest memory" : "host memory", with_4k, with_2m);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 9) | HV_REVOKE_SELF, alias), HV_OK);
	EXPECT(drop(pd), HV_OK);
	yield();
}

static void test_kmem(void)
{
	hv_sel_t small = sel(), block = sel_block(9), pd1 = sel(), pd2 = sel(), x = sel();
	hv_word_t q = si->kmem_quota / 4 * 3;
	unsigned n1 = 0, n2 = 0;
	hv_status_t st = HV_OK;

	group_begin("kmem");
	/* a child's quota comes out of ours and goes back when it is destroyed */
	EXPECT(create_pd(pd1, HV_SI_SEL_PD, q), HV_OK);
	EXPECT(create_pd(pd2, HV_SI_SEL_PD, q), HV_EMEM);
	EXPECT(drop(pd1), HV_OK);
	yield();
	EXPECT(create_pd(pd2, HV_SI_SEL_PD, q), HV_OK);
	EXPECT(drop(pd2), HV_OK);
	yield();

	/* exhaust a 16 KiB quota with semaphores */
	EXPECT(create_pd(small, HV_SI_SEL_PD, 16 << 10), HV_OK);
	{
		hv_word_t used = 1, limit = 0, free_pages = 0, used2 = 0;

		EXPECT(hv_pd_kmem(small, &used, &limit, &free_pages), HV_OK);
		/* its page table root is charged to it */
		CHECK(used == HV_PAGE_SIZE && limit == 16 << 10 && free_pages > 0,
		      "pd_ctrl: a new PD's quota: %lu of %lu bytes used, %lu pages free", used, limit, free_pages);
		EXPECT(hv_create_sm(x, small, 0), HV_OK);
		EXPECT(hv_pd_kmem(small, &used2, NULL, NULL), HV_OK);
		CHECK(used2 > used, "pd_ctrl: a semaphore is charged: %lu then %lu bytes", used, used2);
		EXPECT(drop(x), HV_OK);
		yield();
		EXPECT(hv_pd_kmem(small, &used2, NULL, NULL), HV_OK);
		CHECK(used2 == used, "pd_ctrl: its destruction gives the charge back: %lu bytes", used2);
		EXPECT(hv_syscall2(HV_SYS_PD_CTRL, small, HV_PD_LIMITS + 1), HV_EPARAM);
		EXPECT(hv_syscall2(HV_SYS_PD_CTRL, HV_SI_SEL_SC, HV_PD_KMEM), HV_ECAP);
	}
	while (n1 < 512 && (st = hv_create_sm(block + n1, small, 0)) == HV_OK)
		n1++;
	EXPECT(st, HV_EMEM);
	CHECK(n1 > 0 && n1 < 512, "some semaphores fit into 16 KiB: %u", n1);
	printf("kmem: %u semaphores fit into a 16 KiB quota\n", n1);
	EXPECT(hv_create_ec(x, small, HV_EC_FLAGS(me_cpu, 0, 0), va(HV_PAGE_SIZE), 0x1000, 0), HV_EMEM);
	EXPECT(hv_create_pt(x, small, h_echo, 0, (hv_word_t)st_portal, 0), HV_EMEM);
	EXPECT(create_pd(x, small, 4096), HV_EMEM);
	EXPECT(hv_create_sm(x, small, 0), HV_EMEM);
	/* everything else still works */
	EXPECT(hv_null(), HV_OK);
	EXPECT(hv_create_sm(x, HV_SI_SEL_PD, 0), HV_OK);
	EXPECT(hv_sm_up(block), HV_OK);
	EXPECT(hv_sm_trydown(block), HV_OK);
	/* destroying them gives the quota back: the same number fits again */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 9) | HV_REVOKE_SELF, block), HV_OK);
	CHECK(cap_type(block) == ~0u && cap_type(block + n1 - 1) == ~0u, "semaphores revoked");
	yield();
	while (n2 < 512 && (st = hv_create_sm(block + n2, small, 0)) == HV_OK)
		n2++;
	EXPECT(st, HV_EMEM);
	CHECK(n2 == n1, "quota returned: %u semaphores fit again (first time %u)", n2, n1);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 9) | HV_REVOKE_SELF, block), HV_OK);
	EXPECT(drop(small), HV_OK);
	EXPECT(drop(x), HV_OK);
	yield();
	large_page_over_table(HV_KIND_MEM);
	large_page_over_table(HV_KIND_GMEM);
	group_end();
}

/* ---- 4. IPC ------------------------------------------------------------------------ */

static hv_sel_t pt_echo2, pt_nest, pt_big, pt_stop, pt_hold, pt_cpu1 = HV_SEL_NONE, h_hold;
static volatile hv_word_t b_val, c_val, d_after;
static volatile hv_status_t b_st, c_st;
static hv_sel_t b_done, c_done, d_done;

static void ipc_b(void *arg)
{
	struct hv_utcb *u = hv_utcb();

	u->mr[0] = (hv_word_t)arg;
	b_st = hv_call(pt_hold, HV_TAG(1, 0), NULL);
	b_val = u->mr[0];
	(void)hv_sm_up(b_done);
}

static void ipc_c(void *arg)
{
	struct hv_utcb *u = hv_utcb();

	u->mr[0] = (hv_word_t)arg;
	c_st = hv_call(pt_hold, HV_TAG(1, 0), NULL);
	c_val = u->mr[0];
	(void)hv_sm_up(c_done);
}

static hv_status_t d_st;
static hv_word_t d_tag;

static void ipc_d(void *arg)
{
	(void)arg;
	d_st = hv_call(pt_stop, HV_TAG(0, 0), &d_tag);
	d_after = 1; /* a server cannot stop its callers: only event replies may */
	(void)hv_sm_up(d_done);
}

static void test_ipc(void)
{
	struct hv_utcb *u = hv_utcb();
	hv_sel_t h_nest = handler(me_cpu), h_self = handler(me_cpu), d_ec;
	hv_word_t rt = 0;
	unsigned i;
	bool_t ok;

	group_begin("ipc");
	h_hold = handler(me_cpu);
	pt_echo2 = portal(h_echo, 0, ID_ECHO | 2);
	pt_nest = portal(h_nest, 0, ID_NEST);
	pt_self = portal(h_self, 0, ID_SELF);
	pt_hold = portal(h_hold, 0, ID_HOLD);
	pt_big = portal(h_echo, 0, ID_BIG);
	pt_stop = portal(h_echo, 0, ID_STOP);

	/* 0, 2, 100 and 255 words; reply tag; portal id */
	echo_id = 0;
	EXPECT(hv_call(pt_echo, HV_TAG(0, 0), &rt), HV_OK);
	CHECK_EQ(rt, HV_TAG(0, 0));
	CHECK_EQ(echo_id, ID_ECHO | 1);
	u->mr[0] = 10;
	u->mr[1] = 20;
	EXPECT(hv_call(pt_echo, HV_TAG(2, 0), &rt), HV_OK);
	CHECK_EQ(rt, HV_TAG(2, 0)); /* HV_TAG_NONBLOCK of the reply is not passed on */
	CHECK(u->mr[0] == 11 && u->mr[1] == 21, "2 words echoed +1: got %lu %lu", u->mr[0], u->mr[1]);
	CHECK_EQ(echo_tag, HV_TAG(2, 0));
	for (i = 0; i < 100; i++)
		u->mr[i] = i * 3;
	EXPECT(hv_call(pt_echo, HV_TAG(100, 0), &rt), HV_OK);
	CHECK_EQ(rt, HV_TAG(100, 0));
	for (ok = 1, i = 0; i < 100; i++)
		ok &= u->mr[i] == i * 3 + 1;
	CHECK(ok, "100 words echoed +1");
	for (i = 0; i < 255; i++)
		u->mr[i] = ~(hv_word_t)i;
	EXPECT(hv_call(pt_echo2, HV_TAG(255, 0), &rt), HV_OK);
	CHECK_EQ(rt, HV_TAG(255, 0));
	for (ok = 1, i = 0; i < 255; i++)
		ok &= u->mr[i] == ~(hv_word_t)i + 1;
	CHECK(ok, "255 words echoed +1");
	CHECK_EQ(echo_id, ID_ECHO | 2); /* portal id of the second portal */
	/* NONBLOCK to an idle handler works; the handler sees the tag without it */
	EXPECT(hv_call(pt_echo, HV_TAG(1, 0) | HV_TAG_NONBLOCK, &rt), HV_OK);
	CHECK_EQ(echo_tag, HV_TAG(1, 0));

	/* message size limit u + 2t <= HV_UTCB_MR, for calls and replies */
	memset(u->mr, 0, sizeof(u->mr));
	EXPECT(hv_call(pt_echo, HV_TAG(255, 123), NULL), HV_EPARAM);
	EXPECT(hv_call(pt_echo, HV_TAG(0, 251), NULL), HV_EPARAM);
	EXPECT(hv_call(pt_echo, HV_TAG(255, 255), NULL), HV_EPARAM);
	memset(u->mr, 0, sizeof(u->mr));
	EXPECT(hv_call(pt_echo, HV_TAG(254, 123), &rt), HV_OK); /* exactly 500 words */
	CHECK_EQ(rt, HV_TAG(254, 0));
	EXPECT(hv_call(pt_big, HV_TAG(0, 0), NULL), HV_EPARAM);
	EXPECT_BLAME(HV_EPARAM, HV_ARG_NONE, HV_SYS_CALL, pt_big, 0, 0, 0, 0, 0); /* the reply was bad */
	EXPECT(hv_call(pt_echo, HV_TAG(1, 0), &rt), HV_OK); /* the handler is still usable */

	/* nested call; a call into the own chain */
	u->mr[0] = 5;
	EXPECT(hv_call(pt_nest, HV_TAG(1, 0), &rt), HV_OK);
	CHECK(rt == HV_TAG(3, 0) && u->mr[0] == 106 && u->mr[1] == HV_OK && u->mr[2] == HV_TAG(1, 0),
	      "nested call: tag 0x%lx, words %lu %lu 0x%lx (expected 0x%lx, 106, 0, 0x%lx)", rt, u->mr[0],
	      u->mr[1], u->mr[2], HV_TAG(3, 0), HV_TAG(1, 0));
	EXPECT(hv_call(pt_self, HV_TAG(0, 0), &rt), HV_OK);
	CHECK(rt == HV_TAG(1, 0) && u->mr[0] == HV_EABORT, "handler calling its own portal gets HV_EABORT: %s",
	      hv_status_str((hv_status_t)u->mr[0]));

	/* busy handler: B is in the call; NONBLOCK times out, C waits for it */
	hold_in = new_sm(0);
	hold_go = new_sm(0);
	b_done = new_sm(0);
	c_done = new_sm(0);
	(void)thread(me_cpu, ipc_b, (void *)100ul, PRIO_HIGH);
	WAIT(hold_in);
	u->mr[0] = 1;
	EXPECT(hv_call(pt_hold, HV_TAG(1, 0) | HV_TAG_NONBLOCK, NULL), HV_ETIMEOUT);
	EXPECT_BLAME(HV_ETIMEOUT, HV_ARG_NONE, HV_SYS_CALL, pt_hold, HV_TAG(1, 0) | HV_TAG_NONBLOCK, 0, 0, 0, 0);
	(void)thread(me_cpu, ipc_c, (void *)200ul, PRIO_HIGH); /* blocks on the busy handler */
	EXPECT(hv_sm_trydown(c_done), HV_ETIMEOUT);
	EXPECT(hv_sm_up(hold_go), HV_OK); /* B's call completes, then C's starts */
	WAIT(b_done);
	CHECK(b_st == HV_OK && b_val == 101, "first caller: %s, %lu (expected HV_OK, 101)", hv_status_str(b_st), b_val);
	WAIT(hold_in);
	EXPECT(hv_sm_up(hold_go), HV_OK);
	WAIT(c_done);
	CHECK(c_st == HV_OK && c_val == 201, "waiting caller: %s, %lu (expected HV_OK, 201)", hv_status_str(c_st), c_val);

	/* cross-CPU call */
	if (ncpu > 1) {
		pt_cpu1 = portal(handler(other_cpu), 0, ID_ECHO | 3);
		EXPECT(hv_call(pt_cpu1, HV_TAG(1, 0), NULL), HV_ECPU);
		EXPECT(hv_call(pt_cpu1, HV_TAG(1, 0) | HV_TAG_NONBLOCK, NULL), HV_ECPU);
		EXPECT_BLAME(HV_ECPU, HV_ARG_RDI, HV_SYS_CALL, pt_cpu1, HV_TAG(1, 0), 0, 0, 0, 0);
	} else {
		printf("ipc: one CPU, cross-CPU call skipped\n");
	}

	/* HV_TAG_STOP in the reply to a call means nothing: the caller goes on */
	d_done = new_sm(0);
	d_ec = thread(me_cpu, ipc_d, NULL, PRIO_HIGH);
	CHECK(d_after == 1 && d_st == HV_OK && d_tag == HV_TAG(0, 0),
	      "caller of a server replying HV_TAG_STOP went on: %lu, %s, tag 0x%lx", d_after, hv_status_str(d_st),
	      d_tag);
	EXPECT(hv_sm_trydown(d_done), HV_OK);
	EXPECT(hv_ec_recall(d_ec), HV_OK);
	EXPECT(hv_call(pt_echo, HV_TAG(0, 0), NULL), HV_OK); /* handler fine */
	group_end();
}

/* ---- 5. Delegation, revocation, typed items -------------------------------------- */

/* Whether PD `pd` holds a capability at selector s: delegate it back into
 * the own space (the probe is removed again). HV_OK or the error. */
static hv_status_t probe_cap(hv_sel_t pd, hv_sel_t s)
{
	hv_sel_t p = sel();
	hv_status_t st = hv_delegate(pd, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), s, p);

	if (st == HV_OK)
		(void)drop(p);
	return st;
}

static hv_word_t gone_va; /* an address whose mapping was revoked (for "exc") */

static void test_deleg_obj(void)
{
	hv_sel_t a = new_sm(0), b = sel(), c = sel(), e = sel(), p1 = sel(), p2 = sel(), x = new_sm(0);
	hv_sel_t blk = sel_block(2), blk2 = sel_block(2);
	hv_word_t item;

	/* chain in the own space with fewer rights at each step */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP | HV_R_SM_DOWN, 0), a, b),
	       HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), b, c), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0), c, e), HV_OK);
	CHECK_EQ(cap_rights(b), HV_R_SM_UP | HV_R_SM_DOWN);
	CHECK_EQ(cap_rights(c), HV_R_SM_UP | HV_R_SM_DOWN);
	CHECK_EQ(cap_rights(e), HV_R_SM_UP);
	CHECK_EQ(cap_type(e), HV_OBJ_SM);
	EXPECT(hv_sm_up(e), HV_OK);
	EXPECT(hv_sm_trydown(e), HV_EPERM);
	EXPECT(hv_sm_trydown(c), HV_OK); /* same semaphore */
	/* revoking b's children removes c and e; a and b stay */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), b), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, c, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, e, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, b, NULL), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, a, NULL), HV_OK);
	/* again, from the top */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), b, c), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), a), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, b, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, c, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, a, NULL), HV_OK);
	EXPECT(hv_sm_up(a), HV_OK);
	/* HV_REVOKE_SELF removes a too */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), a, b), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, a), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, a, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, b, NULL), HV_ECAP);
	EXPECT(hv_sm_up(a), HV_ECAP);

	/* chain through two child PDs: own -> pd1 -> pd2, probed by delegating back */
	EXPECT(create_pd(p1, HV_SI_SEL_PD, 32 << 10), HV_OK);
	EXPECT(create_pd(p2, HV_SI_SEL_PD, 32 << 10), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, p1, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), x, 10), HV_OK);
	EXPECT(hv_delegate(p1, p2, HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0), 10, 20), HV_OK);
	EXPECT(hv_delegate(p2, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), 20, b), HV_OK);
	CHECK_EQ(cap_rights(b), HV_R_SM_UP);
	CHECK_EQ(cap_type(b), HV_OBJ_SM);
	EXPECT(hv_delegate(p1, p2, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), 10, 20), HV_EBUSY);
	EXPECT(hv_delegate(p1, p2, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), 11, 21), HV_ECAP);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), x), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, b, NULL), HV_ECAP);
	EXPECT(probe_cap(p1, 10), HV_ECAP);
	EXPECT(probe_cap(p2, 20), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, x, NULL), HV_OK);
	/* revoking a PD capability does not touch what was delegated into it */
	EXPECT(hv_delegate(HV_SI_SEL_PD, p1, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), x, 10), HV_OK);
	EXPECT(probe_cap(p1, 10), HV_OK);

	/* ranges: 4 selectors, 2 of them empty */
	EXPECT(hv_create_sm(blk + 1, HV_SI_SEL_PD, 0), HV_OK);
	EXPECT(hv_create_sm(blk + 3, HV_SI_SEL_PD, 0), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 2), blk, blk2), HV_OK);
	CHECK(cap_type(blk2) == ~0u && cap_type(blk2 + 1) == HV_OBJ_SM && cap_type(blk2 + 2) == ~0u &&
		      cap_type(blk2 + 3) == HV_OBJ_SM,
	      "range delegation copies the used selectors only");
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 2), blk + 1, blk2), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 2), blk, blk2 + 2), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 2), blk, blk2), HV_EBUSY);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 2), blk), HV_OK);
	CHECK(cap_type(blk2 + 1) == ~0u && cap_type(blk2 + 3) == ~0u && cap_type(blk + 1) == HV_OBJ_SM,
	      "range revocation");
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 2) | HV_REVOKE_SELF, blk), HV_OK);
	CHECK(cap_type(blk + 1) == ~0u && cap_type(blk + 3) == ~0u, "range revocation with HV_REVOKE_SELF");
	if (EXPECT(lookup2(HV_KIND_OBJ, HV_SI_SEL_PD, &item, NULL), HV_OK) == HV_OK)
		CHECK_EQ(HV_ITEM_TYPE(item), HV_OBJ_PD);

	EXPECT(drop(p1), HV_OK);
	EXPECT(drop(p2), HV_OK);
	EXPECT(drop(x), HV_OK);
}

static void test_deleg_mem(void)
{
	volatile hv_word_t *p = heap_page(), *v2 = (hv_word_t *)va(HV_PAGE_SIZE);
	volatile hv_word_t *v3 = (hv_word_t *)va(HV_PAGE_SIZE), *v5 = (hv_word_t *)va(HV_PAGE_SIZE);
	hv_word_t two = va(2 * HV_PAGE_SIZE * 2) , item, nbase, free_va = va(HV_PAGE_SIZE);
	hv_sel_t pd1 = sel();
	hv_status_t st;

	two = (two + 2 * HV_PAGE_SIZE - 1) & ~(2 * HV_PAGE_SIZE - 1); /* order-1 aligned */
	/* alias a heap page; write through one address, read through the other */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0),
			   (hv_word_t)p, (hv_word_t)v2),
	       HV_OK);
	p[0] = 0x1234abcd5678ef01ul;
	CHECK_EQ(v2[0], 0x1234abcd5678ef01ul);
	v2[511] = 42;
	CHECK_EQ(p[511], 42);
	if (EXPECT(lookup2(HV_KIND_MEM, (hv_word_t)v2 + 123, &item, &nbase), HV_OK) == HV_OK) {
		CHECK(HV_ITEM_KIND(item) == HV_KIND_MEM && HV_ITEM_RIGHTS(item) == (HV_R_MEM_R | HV_R_MEM_W) &&
			      HV_ITEM_ORDER(item) == 0,
		      "lookup of the alias: item 0x%lx", item);
		CHECK_EQ(nbase, (hv_word_t)v2);
	}
	/* read-only copy of the alias; asking for more rights gives no more */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)v2,
			   (hv_word_t)v3),
	       HV_OK);
	CHECK_EQ(v3[0], 0x1234abcd5678ef01ul);
	if (EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v3, &item), HV_OK) == HV_OK)
		CHECK_EQ(HV_ITEM_RIGHTS(item), HV_R_MEM_R);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_RWX, 0), (hv_word_t)v3,
			   (hv_word_t)v5),
	       HV_OK);
	if (EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v5, &item), HV_OK) == HV_OK)
		CHECK_EQ(HV_ITEM_RIGHTS(item), HV_R_MEM_R);
	/* only rights the source lacks: none left */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_X, 0), (hv_word_t)v2, free_va),
	       HV_EPERM);
	/* revoke v2's children: v3 and v5 go, v2 stays */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), (hv_word_t)v2), HV_OK);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v3, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v5, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v2, NULL), HV_OK);
	CHECK_EQ(v2[0], 0x1234abcd5678ef01ul);
	/* through a child PD and back */
	EXPECT(create_pd(pd1, HV_SI_SEL_PD, 48 << 10), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, pd1, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0), (hv_word_t)v2,
			   0x10000000ul),
	       HV_OK);
	EXPECT(hv_delegate(pd1, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0), 0x10000000ul,
			   (hv_word_t)v3),
	       HV_OK);
	v3[1] = 77;
	CHECK_EQ(p[1], 77);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), (hv_word_t)v2), HV_OK);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v3, NULL), HV_ECAP);
	EXPECT(hv_delegate(pd1, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), 0x10000000ul, (hv_word_t)v5),
	       HV_ECAP);
	gone_va = (hv_word_t)v3; /* the "exc" group touches it: must fault */
	/* HV_REVOKE_SELF removes the alias; the heap page stays */
	EXPECT(unmap((hv_word_t)v2), HV_OK);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)v2, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_MEM, (hv_word_t)p, NULL), HV_OK);
	CHECK_EQ(p[0], 0x1234abcd5678ef01ul);

	/* errors */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), free_va,
			   (hv_word_t)v2),
	       HV_ECAP); /* not mapped: not ours */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p + 8,
			   (hv_word_t)v2),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p,
			   (hv_word_t)v2 + 0x800),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 1), two + HV_PAGE_SIZE,
			   two),
	       HV_EPARAM); /* base not aligned to the order */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p,
			   HV_SI_HEAP),
	       HV_EBUSY); /* overlaps the heap */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p,
			   (hv_word_t)p),
	       HV_EBUSY); /* onto itself */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p,
			   HV_USER_END),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p,
			   0xffff800000000000ul),
	       HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), HV_SI_UTCB,
			   (hv_word_t)v2),
	       HV_EPERM); /* the kernel's UTCB mapping */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, HV_SI_UTCB), HV_OK);
	EXPECT(hv_lookup(HV_KIND_MEM, HV_SI_UTCB, NULL), HV_OK); /* still there */
	/* a range must lie inside one source node */
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)p, two),
	       HV_OK);
	st = hv_delegate(HV_SI_SEL_PD, pd1, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 1), two, 0x10000000ul);
	EXPECT(st, HV_ECAP);
	EXPECT(unmap(two), HV_OK);
	EXPECT(drop(pd1), HV_OK);
}

static void test_deleg_io(void)
{
	hv_sel_t c1 = sel(), c2 = sel();
	hv_word_t item, nbase;

	if (!CHECK(si->num_io >= 1 && si->io[0].first == 0x70, "start info grants ports 0x70-0x71"))
		return;
	if (EXPECT(lookup2(HV_KIND_IO, 0x71, &item, &nbase), HV_OK) == HV_OK)
		CHECK(HV_ITEM_KIND(item) == HV_KIND_IO && HV_ITEM_RIGHTS(item) == HV_R_IO &&
			      HV_ITEM_ORDER(item) == 1 && nbase == 0x70,
		      "lookup of port 0x71: item 0x%lx base 0x%lx", item, nbase);
	EXPECT(hv_lookup(HV_KIND_IO, 0x72, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_IO, 0x3f8, NULL), HV_ECAP);
	EXPECT(create_pd(c1, HV_SI_SEL_PD, 32 << 10), HV_OK);
	EXPECT(create_pd(c2, HV_SI_SEL_PD, 32 << 10), HV_OK);
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 2), 0x70, 0x70), HV_ECAP); /* 4 > ours */
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x70), HV_OK);
	EXPECT(hv_delegate(c1, c2, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x70), HV_OK);
	EXPECT(hv_delegate(c1, c2, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x70), HV_EBUSY);
	EXPECT(hv_delegate(c1, c2, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x71, 0x71), HV_ECAP);
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x60, 0x60), HV_ECAP); /* not ours */
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 1), 0x71, 0x71), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x71, 0x10000), HV_EPARAM);
	/* ports are not renamed: port 0x71 must not become port 0x3f8 (the UART) */
	EXPECT(hv_delegate(HV_SI_SEL_PD, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x71, 0x3f8), HV_EPARAM);
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x71, 0x80), HV_EPARAM);
	EXPECT(hv_lookup(HV_KIND_IO, 0x80, NULL), HV_ECAP);
	/* revoke the children of our node: both children lose the port */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_IO, 0, 1), 0x70), HV_OK);
	EXPECT(hv_delegate(c1, c2, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x70), HV_ECAP);
	EXPECT(hv_delegate(c2, c1, HV_ITEM(HV_KIND_IO, HV_R_IO, 0), 0x70, 0x70), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_IO, 0x70, NULL), HV_OK); /* ours stays */
	EXPECT(drop(c1), HV_OK);
	EXPECT(drop(c2), HV_OK);
}

/* Typed items to and from a handler in the own PD. */
enum { TY_SETWIN = 1, TY_RECV, TY_GIVE, TY_CLOSE };
static hv_sel_t ty_win_sel, ty_give_sm;
static hv_word_t ty_win_va;
static volatile hv_word_t ty_rx[4], ty_rx_tag;
static volatile hv_status_t ty_up_st;

static hv_word_t typed_serve(struct hv_utcb *u, hv_word_t tag)
{
	unsigned un = HV_TAG_UNTYPED(tag), i;

	switch (u->mr[0]) {
	case TY_SETWIN:
		u->rcv[HV_KIND_OBJ].base = ty_win_sel;
		u->rcv[HV_KIND_OBJ].order = 4;
		u->rcv[HV_KIND_MEM].base = ty_win_va;
		u->rcv[HV_KIND_MEM].order = 2;
		return HV_TAG(0, 0);
	case TY_CLOSE:
		memset(u->rcv, 0, sizeof(u->rcv));
		return HV_TAG(0, 0);
	case TY_RECV:
		ty_rx_tag = tag;
		for (i = 0; i < 4; i++)
			ty_rx[i] = i < 2 * HV_TAG_TYPED(tag) ? u->mr[un + i] : 0;
		ty_up_st = HV_ECAP;
		if (ty_rx[0])
			ty_up_st = hv_sm_up(ty_rx[1]);
		if (ty_rx[2])
			*(volatile hv_word_t *)ty_rx[3] = 0xfeedfacecafe0001ul;
		return HV_TAG(0, 0);
	case TY_GIVE:
		u->mr[0] = 77;
		u->mr[1] = HV_ITEM(HV_KIND_OBJ, HV_R_SM_DOWN, 0);
		u->mr[2] = ty_give_sm;
		return HV_TAG(1, 1);
	}
	return HV_TAG(0, 0);
}

static void test_typed(void)
{
	struct hv_utcb *u = hv_utcb();
	hv_sel_t pt = portal(handler(me_cpu), 0, ID_TYPED), sm = new_sm(0), sm_sel, land, mywin = sel_block(3);
	volatile hv_word_t *pg = heap_page();
	hv_word_t pgva = (hv_word_t)pg, item, rt, dva;
	hv_word_t eight = (hv_word_t)hv_heap_alloc(8 * HV_PAGE_SIZE, 8 * HV_PAGE_SIZE);

	ty_win_sel = sel_block(4);
	ty_win_va = va(8 * HV_PAGE_SIZE);
	ty_win_va = (ty_win_va + 4 * HV_PAGE_SIZE - 1) & ~(4 * HV_PAGE_SIZE - 1);
	sm_sel = sm;
	land = ty_win_sel + (sm_sel & 15);
	dva = ty_win_va + (((pgva >> 12) & 3) << 12);

	/* windows closed: items are refused, the call itself works */
	u->mr[0] = TY_RECV;
	u->mr[1] = HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0);
	u->mr[2] = sm_sel;
	EXPECT(hv_call(pt, HV_TAG(1, 1), &rt), HV_OK);
	CHECK(ty_rx[0] == 0 && ty_rx[1] == 0, "item into a closed window refused: 0x%lx 0x%lx", ty_rx[0], ty_rx[1]);
	CHECK_EQ(ty_rx_tag, HV_TAG(1, 1));
	/* open the windows (from inside the handler), send a capability and a page */
	u->mr[0] = TY_SETWIN;
	EXPECT(hv_call(pt, HV_TAG(1, 0), NULL), HV_OK);
	u->mr[0] = TY_RECV;
	u->mr[1] = HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0);
	u->mr[2] = sm_sel;
	u->mr[3] = HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0);
	u->mr[4] = pgva;
	pg[0] = 0;
	EXPECT(hv_call(pt, HV_TAG(1, 2), &rt), HV_OK);
	CHECK(ty_rx[0] == HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0) && ty_rx[1] == land,
	      "capability item arrived as 0x%lx at %lu (expected 0x%lx at %lu)", ty_rx[0], ty_rx[1],
	      HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0), land);
	CHECK(ty_rx[2] == HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0) && ty_rx[3] == dva,
	      "memory item arrived as 0x%lx at 0x%lx (expected 0x%lx at 0x%lx)", ty_rx[2], ty_rx[3],
	      HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0), dva);
	EXPECT(ty_up_st, HV_OK);
	EXPECT(hv_sm_trydown(sm), HV_OK); /* the handler's up through the delegated capability */
	CHECK_EQ(cap_rights(land), HV_R_SM_UP);
	CHECK_EQ(pg[0], 0xfeedfacecafe0001ul); /* written through the delegated page */
	EXPECT(hv_sm_trydown(land), HV_EPERM);
	/* same again: the destinations are taken, so both are refused */
	u->mr[0] = TY_RECV;
	u->mr[1] = HV_ITEM(HV_KIND_OBJ, HV_R_SM_UP, 0);
	u->mr[2] = sm_sel;
	u->mr[3] = HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0);
	u->mr[4] = pgva;
	EXPECT(hv_call(pt, HV_TAG(1, 2), NULL), HV_OK);
	CHECK(ty_rx[0] == 0 && ty_rx[2] == 0, "items onto taken destinations refused: 0x%lx 0x%lx", ty_rx[0],
	      ty_rx[2]);
	/* an item larger than the window is refused */
	if (CHECK(eight != 0, "heap for 8 pages")) {
		u->mr[0] = TY_RECV;
		u->mr[1] = HV_ITEM(HV_KIND_OBJ, 0, 0);
		u->mr[2] = 0;
		u->mr[3] = HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 3);
		u->mr[4] = eight;
		EXPECT(hv_call(pt, HV_TAG(1, 2), NULL), HV_OK);
		CHECK(ty_rx[0] == 0 && ty_rx[2] == 0, "item larger than the window refused: 0x%lx", ty_rx[2]);
	}
	/* a typed item in the reply, into the caller's window */
	ty_give_sm = sm;
	u->rcv[HV_KIND_OBJ].base = mywin;
	u->rcv[HV_KIND_OBJ].order = 3;
	u->mr[0] = TY_GIVE;
	EXPECT(hv_call(pt, HV_TAG(1, 0), &rt), HV_OK);
	CHECK(rt == HV_TAG(1, 1) && u->mr[0] == 77 && u->mr[1] == HV_ITEM(HV_KIND_OBJ, HV_R_SM_DOWN, 0) &&
		      u->mr[2] == mywin + (sm & 7),
	      "reply item: tag 0x%lx, 0x%lx 0x%lx at %lu", rt, u->mr[0], u->mr[1], u->mr[2]);
	CHECK_EQ(cap_rights(mywin + (sm & 7)), HV_R_SM_DOWN);
	memset(u->rcv, 0, sizeof(u->rcv));
	/* the received capabilities and page are children of the originals */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 0), sm), HV_OK);
	EXPECT(hv_lookup(HV_KIND_OBJ, land, NULL), HV_ECAP);
	EXPECT(hv_lookup(HV_KIND_OBJ, mywin + (sm & 7), NULL), HV_ECAP);
	EXPECT(unmap(dva), HV_OK);
	EXPECT(hv_lookup(HV_KIND_MEM, dva, &item), HV_ECAP);
	u->mr[0] = TY_CLOSE;
	EXPECT(hv_call(pt, HV_TAG(1, 0), NULL), HV_OK);
	EXPECT(drop(sm), HV_OK);
}

static void test_deleg(void)
{
	group_begin("deleg");
	test_deleg_obj();
	test_deleg_mem();
	test_deleg_io();
	test_typed();
	group_end();
}

/* ---- 6. Semaphores ----------------------------------------------------------------- */

static hv_sel_t sm_x, sm_ready, sm_y, sm_fifo, sm_log_done;
static volatile hv_status_t t1_st, w4_st;
static volatile unsigned sm_log[8], sm_log_n;

static void sm_t1(void *arg)
{
	(void)arg;
	(void)hv_sm_up(sm_ready);
	t1_st = hv_sm_down(sm_x); /* woken by the main thread on the other CPU */
	(void)hv_sm_up(sm_y);
}

static void sm_t2(void *arg)
{
	(void)arg;
	delay_ms(2);
	(void)hv_sm_up(sm_x); /* wakes the main thread on the other CPU */
}

static void sm_waiter(void *arg)
{
	hv_status_t st = hv_sm_down(sm_fifo);

	sm_log[__atomic_fetch_add(&sm_log_n, 1, __ATOMIC_RELAXED) & 7] = (unsigned)(hv_word_t)arg + (st ? 100 : 0);
}

static hv_sel_t sm_dead;
static void sm_w4(void *arg)
{
	(void)arg;
	w4_st = hv_sm_down(sm_dead);
	(void)hv_sm_up(sm_log_done);
}

static void test_sm(void)
{
	hv_sel_t s = new_sm(0), c3 = new_sm(3);
	unsigned i;

	group_begin("sm");
	EXPECT(hv_sm_trydown(s), HV_ETIMEOUT);
	EXPECT(hv_sm_up(s), HV_OK);
	EXPECT(hv_sm_down(s), HV_OK); /* count 1: does not block */
	EXPECT(hv_sm_trydown(s), HV_ETIMEOUT);
	for (i = 0; i < 3; i++)
		EXPECT(hv_sm_trydown(c3), HV_OK);
	EXPECT(hv_sm_trydown(c3), HV_ETIMEOUT);
	for (i = 0; i < 5; i++)
		EXPECT(hv_sm_up(s), HV_OK);
	for (i = 0; i < 5; i++)
		EXPECT(hv_sm_trydown(s), HV_OK);
	EXPECT(hv_sm_trydown(s), HV_ETIMEOUT);

	/* cross-CPU: a thread on the other CPU blocked in down, woken from here;
	 * then the main thread blocked, woken from the other CPU */
	sm_x = new_sm(0);
	sm_y = new_sm(0);
	sm_ready = new_sm(0);
	if (ncpu > 1) {
		(void)thread(other_cpu, sm_t1, NULL, PRIO_HIGH);
		WAIT(sm_ready);
		delay_ms(2); /* let it block */
		EXPECT(hv_sm_up(sm_x), HV_OK);
		WAIT(sm_y);
		EXPECT(t1_st, HV_OK);
		(void)thread(other_cpu, sm_t2, NULL, PRIO_HIGH);
		WAIT(sm_x);
	} else {
		printf("sm: one CPU, cross-CPU wake-up skipped\n");
	}

	/* waiters are woken in FIFO order */
	sm_fifo = new_sm(0);
	sm_log_n = 0;
	for (i = 1; i <= 3; i++)
		(void)thread(me_cpu, sm_waiter, (void *)(hv_word_t)i, PRIO_HIGH); /* each blocks at once */
	CHECK(sm_log_n == 0, "waiters blocked: %u woke early", sm_log_n);
	for (i = 0; i < 3; i++)
		EXPECT(hv_sm_up(sm_fifo), HV_OK); /* each up runs the woken waiter at once */
	CHECK(sm_log_n == 3 && sm_log[0] == 1 && sm_log[1] == 2 && sm_log[2] == 3,
	      "FIFO wake-up: %u woke, order %u %u %u (expected 1 2 3)", sm_log_n, sm_log[0], sm_log[1], sm_log[2]);
	EXPECT(hv_sm_trydown(sm_fifo), HV_ETIMEOUT);

	/* destroying a semaphore wakes its waiters with HV_EABORT */
	sm_dead = new_sm(0);
	sm_log_done = new_sm(0);
	w4_st = HV_OK;
	(void)thread(me_cpu, sm_w4, NULL, PRIO_HIGH);
	EXPECT(drop(sm_dead), HV_OK);
	WAIT(sm_log_done);
	EXPECT(w4_st, HV_EABORT);
	EXPECT(hv_sm_up(sm_dead), HV_ECAP);
	group_end();
}

/* ---- 7. Interrupts ------------------------------------------------------------------ */

static unsigned char cmos_read(unsigned char reg)
{
	hv_outb(0x70, reg);
	return hv_inb(0x71);
}

static void cmos_write(unsigned char reg, unsigned char v)
{
	hv_outb(0x70, reg);
	hv_outb(0x71, v);
}

/* Waits for n RTC interrupts routed to `cpu`; returns how many came. */
static unsigned rtc_irqs(hv_sel_t irq, unsigned cpu, unsigned n)
{
	unsigned got = 0, flags = 0;
	unsigned char b;

	while (hv_sm_trydown(irq) == HV_OK)
		;
	if (EXPECT(hv_irq_ctrl(irq, cpu, 0), HV_OK) != HV_OK)
		return 0;
	cmos_write(0x0a, (unsigned char)((cmos_read(0x0a) & 0xf0) | 0x06)); /* 1024 Hz */
	(void)cmos_read(0x0c);
	b = cmos_read(0x0b);
	cmos_write(0x0b, (unsigned char)(b | 0x40)); /* periodic interrupt on */
	while (got < n) {
		if (wait_sm(irq) != HV_OK)
			break;
		flags |= cmos_read(0x0c); /* acknowledge: the RTC raises the next one */
		got++;
	}
	cmos_write(0x0b, (unsigned char)(b & ~0x40));
	(void)cmos_read(0x0c);
	EXPECT(hv_irq_ctrl(irq, cpu, HV_IRQ_MASK), HV_OK);
	CHECK(!got || (flags & 0x40), "RTC register C reported the periodic flag: 0x%x", flags);
	delay_ms(2); /* one raised before the mask may still be on its way to the other CPU */
	while (hv_sm_trydown(irq) == HV_OK)
		;
	return got;
}

static hv_sel_t far_sm, far_done;
static volatile hv_status_t far_st = HV_EABORT;

/* Waits with a deadline near 2^64: for the up, not for the deadline. */
static void far_waiter(void *arg)
{
	(void)arg;
	far_st = hv_sm_down_until(far_sm, ~0ul - 1);
	(void)hv_sm_up(far_done);
}

static void test_irq(void)
{
	hv_sel_t irq = HV_SEL_NONE;
	hv_word_t item;
	unsigned i, got;

	group_begin("irq");
	for (i = 0; i < si->num_irq && i < HV_SI_MAX_IRQ; i++)
		if (si->irq[i].gsi == 8)
			irq = si->irq[i].sel;
	if (!CHECK(irq != HV_SEL_NONE, "start info lists GSI 8") ||
	    EXPECT(hv_lookup(HV_KIND_IO, 0x70, &item), HV_OK) != HV_OK) {
		group_end();
		return;
	}
	EXPECT(hv_irq_ctrl(irq, ncpu, 0), HV_ECPU);
	EXPECT(hv_irq_ctrl(irq, me_cpu, 0x10), HV_EPARAM);
	got = rtc_irqs(irq, me_cpu, 5);
	CHECK(got == 5, "RTC interrupts on CPU %u: %u of 5", me_cpu, got);
	if (ncpu > 1) {
		got = rtc_irqs(irq, other_cpu, 3); /* delivered there, wakes us here */
		CHECK(got == 3, "RTC interrupts on CPU %u: %u of 3", other_cpu, got);
		/* that CPU idles while a thread there waits until TSC 2^64-2: its timer
		 * must be armed within range (a deadline that wrapped into the past
		 * fired at once and again, and the storm starved its interrupts) */
		far_sm = new_sm(0);
		far_done = new_sm(0);
		(void)thread(other_cpu, far_waiter, NULL, PRIO_HIGH);
		delay_ms(5);
		got = rtc_irqs(irq, other_cpu, 3);
		CHECK(got == 3, "RTC interrupts on CPU %u beside a wait until TSC 2^64-2: %u of 3", other_cpu, got);
		EXPECT(hv_sm_up(far_sm), HV_OK);
		WAIT(far_done);
		EXPECT(far_st, HV_OK);
	}
	/* masked: nothing arrives */
	delay_ms(5);
	EXPECT(hv_sm_trydown(irq), HV_ETIMEOUT);
	group_end();
}

/* ---- 8. Exceptions -------------------------------------------------------------------- */

/* Faulting instructions with labels before (at) and after them. */
hv_word_t ex_do_ud(void);
void ex_do_write(volatile hv_word_t *p, hv_word_t v);
hv_word_t ex_do_read(hv_word_t addr);
hv_word_t ex_do_div(void);
void ex_do_cli(void);
void ex_do_hlt(void);
void ex_do_in(void);
extern const char ex_ud_at[], ex_ud_after[], ex_wr_at[], ex_wr_after[], ex_rd_at[], ex_rd_after[];
extern const char ex_de_at[], ex_de_after[], ex_cli_at[], ex_cli_after[], ex_hlt_at[], ex_hlt_after[];
extern const char ex_in_at[];
__asm__(".pushsection .text\n"
	".globl ex_do_ud\nex_do_ud:\n\tmov $0x1111, %eax\n"
	".globl ex_ud_at\nex_ud_at:\n\tud2\n"
	".globl ex_ud_after\nex_ud_after:\n\tret\n"
	".globl ex_do_write\nex_do_write:\n"
	".globl ex_wr_at\nex_wr_at:\n\tmov %rsi, (%rdi)\n"
	".globl ex_wr_after\nex_wr_after:\n\tret\n"
	".globl ex_do_read\nex_do_read:\n\tmov $0x77, %eax\n"
	".globl ex_rd_at\nex_rd_at:\n\tmov (%rdi), %rax\n"
	".globl ex_rd_after\nex_rd_after:\n\tret\n"
	".globl ex_do_div\nex_do_div:\n\tmov $1, %eax\n\txor %edx, %edx\n\txor %ecx, %ecx\n"
	".globl ex_de_at\nex_de_at:\n\tdiv %rcx\n"
	".globl ex_de_after\nex_de_after:\n\tmov $0x5555, %eax\n\tret\n"
	".globl ex_do_cli\nex_do_cli:\n"
	".globl ex_cli_at\nex_cli_at:\n\tcli\n"
	".globl ex_cli_after\nex_cli_after:\n\tret\n"
	".globl ex_do_hlt\nex_do_hlt:\n"
	".globl ex_hlt_at\nex_hlt_at:\n\thlt\n"
	".globl ex_hlt_after\nex_hlt_after:\n\tret\n"
	".globl ex_do_in\nex_do_in:\n\tmov $0x80, %edx\n"
	".globl ex_in_at\nex_in_at:\n\tinb %dx, %al\n\tret\n"
	".popsection");

struct exc_rec {
	hv_word_t event, rip, err, addr, rsp, mtd;
};

#define EXC_LOG 16
static struct exc_rec exc_log[EXC_LOG];
static volatile unsigned exc_n;
static volatile int exc_bad_rip, exc_set_nt, exc_race;
static struct hv_utcb *volatile race_utcb;
static hv_word_t pf_va, ro_va, pf_page;
static hv_sel_t exc_stopped;

static const struct {
	const char *at, *after;
} exc_skip[] = {
	{ ex_ud_at, ex_ud_after },   { ex_wr_at, ex_wr_after },   { ex_rd_at, ex_rd_after },
	{ ex_de_at, ex_de_after },   { ex_cli_at, ex_cli_after }, { ex_hlt_at, ex_hlt_after },
};

static hv_word_t exc_serve(struct hv_utcb *u, hv_word_t id)
{
	struct hv_cpu_state *s = &u->st;
	unsigned i;

	(void)id;
	if (exc_n < EXC_LOG)
		exc_log[exc_n] = (struct exc_rec){ s->event, s->rip, s->qual[0], s->qual[1], s->rsp, s->mtd };
	exc_n++;
	if (exc_race)
		race_utcb = u; /* the racer on the other CPU writes into this UTCB */
	if (s->event == 6 && exc_bad_rip) {
		s->rip = KERNEL_ADDR; /* the kernel must stop the EC instead */
		s->mtd = HV_MTD_RIP_LEN;
		return HV_TAG(0, 0);
	}
	if (s->event == 14 && s->qual[1] == pf_va) {
		/* map the page and let the instruction run again */
		(void)hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0),
				  pf_page, pf_va);
		s->mtd = 0;
		return HV_TAG(0, 0);
	}
	if (s->event == 6)
		s->rax = 0x2222; /* visible to the faulting code */
	for (i = 0; i < sizeof(exc_skip) / sizeof(exc_skip[0]); i++)
		if (s->rip == (hv_word_t)exc_skip[i].at) {
			s->rip = (hv_word_t)exc_skip[i].after;
			s->mtd = HV_MTD_RIP_LEN | (s->event == 6 ? HV_MTD_GPR_ACDB : 0);
			if (exc_set_nt) { /* RFLAGS with NT (and IOPL 3, also not the user's) */
				s->rflags = 0x4000 | 0x3000 | 0x202;
				s->mtd |= HV_MTD_RFLAGS;
			}
			return HV_TAG(0, 0);
		}
	(void)hv_sm_up(exc_stopped);
	return HV_TAG_STOP;
}

static volatile hv_word_t ex_res[8];
static volatile unsigned ex_step, ex_after_stop;
static hv_sel_t ex_progress;

static void ex_child(void *arg)
{
	(void)arg;
	ex_step = 1;
	ex_res[0] = ex_do_ud();
	ex_step = 2;
	ex_do_write((hv_word_t *)pf_va, 0x1234);
	ex_res[1] = *(volatile hv_word_t *)pf_va;
	ex_step = 3;
	ex_do_write((hv_word_t *)ro_va, 0x5678);
	ex_step = 4;
	ex_do_write((hv_word_t *)gone_va, 0x9abc);
	ex_step = 5;
	ex_res[2] = ex_do_read(KERNEL_ADDR);
	ex_step = 6;
	ex_res[3] = ex_do_div();
	ex_step = 7;
	ex_do_cli();
	ex_step = 8;
	ex_do_hlt();
	ex_step = 9;
	(void)hv_sm_up(ex_progress);
	ex_do_in(); /* port 0x80 was never granted: #GP, the handler stops us */
	ex_after_stop = 1;
	(void)hv_sm_up(ex_progress);
}

/* One #UD: the handler resumes it (RAX = 0x2222), or, with exc_bad_rip,
 * replies an invalid RIP; with an event base without portals the kernel
 * stops it. */
static void ex_child2(void *arg)
{
	(void)arg;
	ex_res[4] = ex_do_ud();
	ex_after_stop = 1;
}

static void test_exc(void)
{
	hv_sel_t evt = sel_block(6), empty_evt = sel_block(6), hx = handler(me_cpu), ec1, ec2, ec3;
	hv_word_t mtd = HV_MTD_RIP_LEN | HV_MTD_QUAL | HV_MTD_GPR_ACDB | HV_MTD_RSP;
	volatile hv_word_t *ro_src = heap_page();
	static const hv_word_t want_ev[] = { 6, 14, 14, 14, 14, 0, 13, 13, 13 };
	unsigned i, n;

	group_begin("exc");
	pf_page = (hv_word_t)heap_page();
	pf_va = va(HV_PAGE_SIZE);
	ro_va = va(HV_PAGE_SIZE);
	ro_src[0] = 0x600d;
	EXPECT(hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R, 0), (hv_word_t)ro_src, ro_va),
	       HV_OK);
	if (!gone_va)
		gone_va = va(HV_PAGE_SIZE);
	portal_at(evt + 0, hx, mtd, ID_EXC);
	portal_at(evt + 6, hx, mtd, ID_EXC);
	portal_at(evt + 13, hx, mtd, ID_EXC);
	portal_at(evt + 14, hx, mtd, ID_EXC);
	exc_stopped = new_sm(0);
	ex_progress = new_sm(0);

	EXPECT(thread_evt(me_cpu, ex_child, NULL, PRIO_HIGH, evt, &ec1, NULL), HV_OK);
	WAIT(ex_progress);
	WAIT(exc_stopped);
	CHECK(ex_step == 9 && !ex_after_stop, "child reached step %u (expected 9), went on after stop: %u", ex_step,
	      ex_after_stop);
	EXPECT(hv_sm_trydown(ex_progress), HV_ETIMEOUT);
	CHECK(exc_tag == HV_TAG_EVENT, "an exception message's tag: 0x%lx (HV_TAG_EVENT)", exc_tag);
	EXPECT(hv_call(evt + 6, HV_TAG(0, 0) | HV_TAG_EVENT, NULL), HV_OK);
	CHECK(exc_tag == 0, "a call to an exception portal is no exception, whatever its tag says: 0x%lx", exc_tag);
	n = exc_n;
	CHECK(n == sizeof(want_ev) / sizeof(want_ev[0]), "%u exceptions delivered (expected %u)", n,
	      (unsigned)(sizeof(want_ev) / sizeof(want_ev[0])));
	for (i = 0; i < n && i < sizeof(want_ev) / sizeof(want_ev[0]); i++)
		CHECK(exc_log[i].event == want_ev[i] && exc_log[i].mtd == mtd, "exception %u: event %lu mtd 0x%lx (expected %lu)",
		      i, exc_log[i].event, exc_log[i].mtd, want_ev[i]);
	if (n >= 9) {
		CHECK_EQ(exc_log[0].rip, (hv_word_t)ex_ud_at);
		CHECK_EQ(ex_res[0], 0x2222); /* RAX written back */
		CHECK(exc_log[0].rsp - si->heap_base < si->heap_size, "RSP reported (a heap stack): 0x%lx",
		      exc_log[0].rsp);
		CHECK(exc_log[1].addr == pf_va && (exc_log[1].err & 7) == 6,
		      "#PF on an unmapped page: addr 0x%lx err 0x%lx (expected 0x%lx, 6)", exc_log[1].addr,
		      exc_log[1].err, pf_va);
		CHECK_EQ(exc_log[1].rip, (hv_word_t)ex_wr_at);
		CHECK_EQ(ex_res[1], 0x1234); /* the write was retried after mapping */
		CHECK(exc_log[2].addr == ro_va && (exc_log[2].err & 7) == 7,
		      "#PF writing a read-only page: addr 0x%lx err 0x%lx (expected 0x%lx, 7)", exc_log[2].addr,
		      exc_log[2].err, ro_va);
		CHECK_EQ(ro_src[0], 0x600d);
		CHECK(exc_log[3].addr == gone_va && (exc_log[3].err & 1) == 0,
		      "#PF on a revoked page: addr 0x%lx err 0x%lx (expected 0x%lx, not present)", exc_log[3].addr,
		      exc_log[3].err, gone_va);
		CHECK(exc_log[4].addr == KERNEL_ADDR && (exc_log[4].err & 7) == 5,
		      "#PF reading kernel memory: addr 0x%lx err 0x%lx (expected 5)", exc_log[4].addr, exc_log[4].err);
		CHECK_EQ(ex_res[2], 0x77);
		CHECK_EQ(exc_log[5].rip, (hv_word_t)ex_de_at);
		CHECK_EQ(ex_res[3], 0x5555);
		CHECK_EQ(exc_log[6].rip, (hv_word_t)ex_cli_at);
		CHECK_EQ(exc_log[7].rip, (hv_word_t)ex_hlt_at);
		CHECK_EQ(exc_log[8].rip, (hv_word_t)ex_in_at);
	}
	EXPECT(hv_ec_recall(ec1), HV_EABORT); /* stopped */
	EXPECT(unmap(ro_va), HV_OK);
	EXPECT(unmap(pf_va), HV_OK);

	/* an invalid RIP in the reply, and a missing portal, stop the EC */
	printf("exc: the kernel now reports two ECs it stops (bad handler reply, no #UD portal)\n");
	cons_flush();
	exc_bad_rip = 1;
	ex_after_stop = 0;
	n = exc_n;
	EXPECT(thread_evt(me_cpu, ex_child2, NULL, PRIO_HIGH, evt, &ec2, NULL), HV_OK);
	CHECK(exc_n == n + 1 && !ex_after_stop, "bad RIP: %u exception(s), went on: %u", exc_n - n, ex_after_stop);
	EXPECT(hv_ec_recall(ec2), HV_EABORT);
	exc_bad_rip = 0;
	EXPECT(thread_evt(me_cpu, ex_child2, NULL, PRIO_HIGH, empty_evt, &ec3, NULL), HV_OK);
	CHECK(!ex_after_stop && exc_n == n + 1, "EC without #UD portal: went on %u, handler called %u time(s)",
	      ex_after_stop, exc_n - n - 1);
	EXPECT(hv_ec_recall(ec3), HV_EABORT);
	/* the handler still serves */
	ex_res[4] = 0;
	EXPECT(thread_evt(me_cpu, ex_child2, NULL, PRIO_HIGH, evt, &ec3, NULL), HV_OK);
	CHECK(ex_after_stop && ex_res[4] == 0x2222 && exc_n == n + 2, "#UD after the stops: went on %u, RAX 0x%lx",
	      ex_after_stop, ex_res[4]);
	group_end();
}

/* ---- 9. Scheduling ------------------------------------------------------------------- */

static volatile char sched_log[8];
static volatile unsigned sched_n;
static hv_sel_t sched_done, sched_go;

static void log_char(char c)
{
	unsigned i = __atomic_fetch_add(&sched_n, 1, __ATOMIC_RELAXED);

	if (i < sizeof(sched_log) - 1)
		sched_log[i] = c;
}

static void sched_simple(void *arg)
{
	log_char((char)(hv_word_t)arg);
	(void)hv_sm_up(sched_done);
}

static void sched_h2(void *arg)
{
	(void)arg;
	(void)hv_sm_down(sched_go);
	log_char('b');
}

static void sched_l2(void *arg)
{
	(void)arg;
	log_char('a');
	(void)hv_sm_up(sched_go); /* wakes the higher thread: it runs at once */
	log_char('c');
	(void)hv_sm_up(sched_done);
}

static void test_sched(void)
{
	hv_sel_t sc_l, sc_h;
	hv_word_t t_l = 0, t_h = 0, t0, t1;

	group_begin("sched");
	sched_done = new_sm(0);
	sched_go = new_sm(0);
	/* both below the main thread: they wait until it blocks; the lower one
	 * is created (and becomes ready) first */
	memset((void *)sched_log, 0, sizeof(sched_log));
	sched_n = 0;
	EXPECT(hv_thread_create(me_cpu, sched_simple, (void *)'L', HV_QOS(PRIO_LOW_A, 0), NULL, &sc_l), HV_OK);
	EXPECT(hv_thread_create(me_cpu, sched_simple, (void *)'H', HV_QOS(PRIO_LOW_B, 0), NULL, &sc_h), HV_OK);
	CHECK(sched_n == 0, "lower-priority threads ran before the main thread blocked");
	WAIT(sched_done);
	WAIT(sched_done);
	CHECK(sched_n == 2 && sched_log[0] == 'H' && sched_log[1] == 'L', "run order '%s' (expected 'HL')",
	      (const char *)sched_log);
	EXPECT(hv_sc_time(sc_h, &t_h), HV_OK);
	EXPECT(hv_sc_time(sc_l, &t_l), HV_OK);
	CHECK(t_h > 0 && t_l > 0, "threads consumed time: %lu %lu", t_h, t_l);
	EXPECT(hv_sc_time(sc_h, &t0), HV_OK);
	CHECK(t0 == t_h, "a blocked thread's time stays: %lu then %lu", t_h, t0);

	/* preemption: the low thread wakes a higher one, which runs before it goes on */
	memset((void *)sched_log, 0, sizeof(sched_log));
	sched_n = 0;
	(void)thread(me_cpu, sched_h2, NULL, PRIO_LOW_B);
	(void)thread(me_cpu, sched_l2, NULL, PRIO_LOW_A);
	WAIT(sched_done);
	CHECK(sched_n == 3 && !strcmp((const char *)sched_log, "abc"), "preemption order '%s' (expected 'abc')",
	      (const char *)sched_log);

	/* the main thread's own time grows */
	EXPECT(hv_sc_time(HV_SI_SEL_SC, &t0), HV_OK);
	delay_ms(2);
	EXPECT(hv_sc_time(HV_SI_SEL_SC, &t1), HV_OK);
	CHECK(t1 > t0 && t1 - t0 >= tsc_khz, "2 ms of work accounted: %lu ticks (TSC %lu kHz)", t1 - t0, tsc_khz);
	group_end();
}

/* ---- 10. Recall ------------------------------------------------------------------------ */

static volatile unsigned rc_count[4];
static volatile hv_word_t rc_event[4], rc_rip[4];
static hv_sel_t rc_sm[4];
static volatile int r1_stop;
static volatile hv_word_t r1_spins;
static hv_sel_t r_ready, r_go[4], r_done[4];
static volatile unsigned r_seen[4];

static hv_word_t recall_serve(struct hv_utcb *u, hv_word_t id)
{
	unsigned k = (unsigned)(id & 3);

	rc_event[k] = u->st.event;
	rc_rip[k] = u->st.rip;
	rc_count[k]++;
	u->st.mtd = 0;
	(void)hv_sm_up(rc_sm[k]);
	return HV_TAG(0, 0);
}

static void recall_spin(void *arg)
{
	(void)arg;
	(void)hv_sm_up(r_ready);
	while (!r1_stop)
		r1_spins++; /* no system calls: only an interrupt gets it into the kernel */
}

/* Blocks on r_go[k]; the recall must come before it runs on. */
static void recall_blocked(void *arg)
{
	unsigned k = (unsigned)(hv_word_t)arg;

	(void)hv_sm_up(r_ready);
	(void)hv_sm_down(r_go[k]);
	r_seen[k] = rc_count[k];
	(void)hv_sm_up(r_done[k]);
}

static void test_recall(void)
{
	hv_sel_t evt1 = sel_block(6), evt2 = sel_block(6), evt3 = sel_block(6), ec1, ec2, ec3;
	hv_word_t mtd = HV_MTD_RIP_LEN | HV_MTD_QUAL;
	unsigned k;

	group_begin("recall");
	r_ready = new_sm(0);
	for (k = 0; k < 4; k++) {
		rc_sm[k] = new_sm(0);
		r_go[k] = new_sm(0);
		r_done[k] = new_sm(0);
	}

	if (ncpu > 1) {
		/* a thread spinning on the other CPU: the recall needs an IPI */
		portal_at(evt1 + HV_EVT_RECALL, handler(other_cpu), mtd, ID_RECALL | 0);
		EXPECT(thread_evt(other_cpu, recall_spin, NULL, PRIO_HIGH, evt1, &ec1, NULL), HV_OK);
		WAIT(r_ready);
		EXPECT(hv_ec_recall(ec1), HV_OK);
		WAIT(rc_sm[0]);
		CHECK(rc_count[0] == 1 && rc_event[0] == HV_EVT_RECALL, "recall of a running thread: %u event(s), event %lu",
		      rc_count[0], rc_event[0]);
		CHECK(rc_rip[0] - (hv_word_t)recall_spin < 256, "recall reports the thread's RIP: 0x%lx (function at %p)",
		      rc_rip[0], (void *)recall_spin);
		r1_stop = 1;
	} else {
		printf("recall: one CPU, recall of a running thread skipped\n");
	}

	/* a blocked thread: the recall comes before it next returns to user mode */
	portal_at(evt2 + HV_EVT_RECALL, handler(me_cpu), mtd, ID_RECALL | 1);
	EXPECT(thread_evt(me_cpu, recall_blocked, (void *)1, PRIO_HIGH, evt2, &ec2, NULL), HV_OK);
	WAIT(r_ready);
	EXPECT(hv_ec_recall(ec2), HV_OK);
	CHECK(rc_count[1] == 0, "recall of a blocked thread delivered while it is blocked");
	EXPECT(hv_sm_up(r_go[1]), HV_OK);
	WAIT(r_done[1]);
	CHECK(r_seen[1] == 1, "recall delivered before the woken thread ran on: %u (expected 1)", r_seen[1]);
	CHECK(rc_count[1] == 1 && rc_event[1] == HV_EVT_RECALL, "recall of a blocked thread: %u event(s), event %lu",
	      rc_count[1], rc_event[1]);

	/* the recall portal's handler is busy (in another thread's call): the
	 * recall waits for it and is not lost */
	portal_at(evt3 + HV_EVT_RECALL, h_hold, mtd, ID_RECALL | 2);
	(void)thread(me_cpu, ipc_b, (void *)300ul, PRIO_HIGH); /* h_hold now waits for hold_go */
	WAIT(hold_in);
	EXPECT(thread_evt(me_cpu, recall_blocked, (void *)2, PRIO_HIGH, evt3, &ec3, NULL), HV_OK);
	WAIT(r_ready);
	EXPECT(hv_ec_recall(ec3), HV_OK);
	EXPECT(hv_sm_up(r_go[2]), HV_OK); /* it wakes, finds the handler busy, waits */
	CHECK(rc_count[2] == 0 && r_seen[2] == 0, "recall handler busy: %u event(s), thread went on: %u", rc_count[2],
	      r_seen[2]);
	EXPECT(hv_sm_up(hold_go), HV_OK);
	WAIT(b_done);
	CHECK(b_st == HV_OK && b_val == 301, "call that kept the handler busy: %s, %lu", hv_status_str(b_st), b_val);
	WAIT(r_done[2]);
	CHECK(r_seen[2] == 1 && rc_count[2] == 1 && rc_event[2] == HV_EVT_RECALL,
	      "recall after the busy handler became idle: seen %u, %u event(s), event %lu", r_seen[2], rc_count[2],
	      rc_event[2]);
	for (k = 0; k < 4; k++)
		while (hv_sm_trydown(rc_sm[k]) == HV_OK)
			;
	group_end();
}

/* ---- 11. Stopping and destroying ECs ------------------------------------------------------ */

static volatile hv_status_t k_st;
static volatile hv_word_t k_val, k_spins;
static hv_sel_t k_done, pt_hold2;

static void kill_caller(void *arg)
{
	struct hv_utcb *u = hv_utcb();

	(void)arg;
	u->mr[0] = 1;
	k_st = hv_call(pt_hold2, HV_TAG(1, 0), NULL);
	(void)hv_sm_up(k_done);
}

static void kill_spinner(void *arg)
{
	(void)arg;
	for (;;)
		k_spins++;
}

static void test_kill(void)
{
	hv_sel_t h_fault = handler(me_cpu), pt_fault = portal(h_fault, 0, ID_FAULT), h2 = handler(me_cpu);
	hv_sel_t d = sel(), ec, sc;
	hv_word_t s1, s2;

	group_begin("kill");
	/* a handler that faults is stopped by the roottask; its caller gets EABORT */
	printf("kill: the roottask now reports a stopped handler (invalid opcode)\n");
	cons_flush();
	EXPECT(hv_call(pt_fault, HV_TAG(0, 0), NULL), HV_EABORT);
	EXPECT(hv_call(pt_fault, HV_TAG(0, 0), NULL), HV_EABORT); /* dead handler */
	EXPECT(hv_create_pt(d, HV_SI_SEL_PD, h_fault, 0, (hv_word_t)st_portal, 0), HV_EABORT);
	EXPECT(hv_ec_recall(h_fault), HV_EABORT);

	/* a handler destroyed while its caller waits for the reply */
	hold2_in = new_sm(0);
	hold2_go = new_sm(0);
	k_done = new_sm(0);
	pt_hold2 = portal(h2, 0, ID_HOLD2);
	k_st = HV_OK;
	(void)thread(me_cpu, kill_caller, NULL, PRIO_HIGH);
	WAIT(hold2_in);
	EXPECT(drop(pt_hold2), HV_OK);
	EXPECT(drop(h2), HV_OK);
	WAIT(k_done);
	EXPECT(k_st, HV_EABORT);

	/* a thread spinning on the other CPU stops when its EC and SC go */
	if (ncpu > 1) {
		EXPECT(hv_thread_create(other_cpu, kill_spinner, NULL, HV_QOS(PRIO_HIGH, 1000), &ec, &sc), HV_OK);
		/* up to 2 s: an emulator on a loaded host may run the other CPU late */
		for (unsigned i = 0; i < 400 && !k_spins; i++)
			delay_ms(5);
		s1 = k_spins;
		CHECK(s1 > 0, "spinning thread on CPU %u runs: %lu", other_cpu, s1);
		EXPECT(drop(ec), HV_OK);
		EXPECT(drop(sc), HV_OK);
		yield();
		delay_ms(30);
		s1 = k_spins;
		delay_ms(10);
		s2 = k_spins;
		CHECK(s1 == s2, "thread stopped after its EC and SC were revoked: %lu then %lu", s1, s2);
		EXPECT(hv_ec_recall(ec), HV_ECAP);
	}
	EXPECT(hv_null(), HV_OK);
	group_end();
}

/* ---- 12. Hardening: waits, stacks and replies under attack ------------------------------ */

/* A local EC with its own event base that starts at `ip` on every call; its
 * stack is never used (chain_entry faults at once). */
static hv_sel_t handler_evt(hv_sel_t ec, hv_sel_t evt)
{
	if (hv_create_ec(ec, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 0, evt), va(HV_PAGE_SIZE), 0x1000, 0) != HV_OK)
		fatal("cannot create a chain handler");
	return ec;
}

void chain_entry(void);
__asm__(".pushsection .text\n.globl chain_entry\nchain_entry:\n\tud2\n.popsection");

static hv_sel_t hd_sm, hd_all, h2_storm;
static volatile unsigned hd_woke, hd_ran;
static volatile hv_word_t hd_flags;

static void hd_waiter(void *arg)
{
	(void)arg;
	if (hv_sm_down(hd_sm) == HV_OK)
		hd_woke++;
}

/* Counts itself (its recall came first), then blocks for good. */
static void hd_storm(void *arg)
{
	if (__atomic_add_fetch(&hd_ran, 1, __ATOMIC_ACQ_REL) == (unsigned)(hv_word_t)arg)
		(void)hv_sm_up(hd_all);
	(void)hv_sm_down(hd_sm);
}

static void hd_hold(void *arg)
{
	(void)hv_call((hv_sel_t)(hv_word_t)arg, HV_TAG(1, 0), NULL);
}

static void hd_release(void *arg)
{
	(void)arg;
	(void)hv_sm_up(hold2_go);
}

/* #UD, resumed by exc_serve with RFLAGS NT set in the reply: what came back. */
static void hd_nt(void *arg)
{
	hv_word_t fl;

	(void)arg;
	(void)ex_do_ud();
	__asm__ volatile("pushfq; popq %0" : "=r"(fl));
	hd_flags = fl | 1ul << 63;
}

/* Writes a non-canonical RIP into the exception handler's UTCB and the
 * right one back, over and over, while the handler replies. */
static volatile int race_stop;
static volatile hv_word_t race_rounds;

static hv_sel_t race_ready;

static void hd_racer(void *arg)
{
	(void)arg;
	(void)hv_sm_up(race_ready);
	while (!race_stop) {
		struct hv_utcb *u = race_utcb;

		if (u) {
			u->st.rip = 0x8000000000000000ul;
			u->st.rip = (hv_word_t)ex_ud_after;
			race_rounds++;
		}
	}
}

static volatile unsigned race_done;

/* Faults `arg` times while the racer runs (its first fault lets it start). */
static volatile hv_word_t race_faults;

static void hd_race_child(void *arg)
{
	while (race_faults < (hv_word_t)arg) {
		(void)ex_do_ud();
		if (race_rounds)
			race_faults++;
	}
	race_done++;
}

#define HD_CHAIN 10 /* exception handlers, each faulting in its predecessor's exception */
#define HD_STORM 100 /* threads with a pending recall queued at one busy handler */

static void test_harden(void)
{
	hv_sel_t ec, sc, sc2, copies[8], evt, chain, last, p, pts, ecs[HD_STORM], scs[HD_STORM];
	hv_word_t item, mtd = HV_MTD_RIP_LEN | HV_MTD_QUAL;
	unsigned i, bad = 0;

	group_begin("harden");
	/* an EC blocked on an SM whose SC is destroyed: the wake-up must not
	 * use the freed SC (its memory now holds capabilities) */
	hd_sm = new_sm(0);
	EXPECT(hv_thread_create(me_cpu, hd_waiter, NULL, HV_QOS(PRIO_HIGH, 0), &ec, &sc), HV_OK);
	EXPECT(drop(sc), HV_OK);
	yield();
	for (i = 0; i < 8; i++)
		copies[i] = copy_cap(hd_sm, HV_R_SM_UP);
	EXPECT(hv_sm_up(hd_sm), HV_OK);
	yield();
	for (i = 0; i < 8; i++)
		if (hv_lookup(HV_KIND_OBJ, copies[i], &item) != HV_OK || HV_ITEM_ORDER(item) != 0 ||
		    HV_ITEM_TYPE(item) != HV_OBJ_SM)
			bad++;
	CHECK(bad == 0, "capabilities intact after waking an EC whose SC was destroyed (%u changed)", bad);
	CHECK(hd_woke == 0, "a woken EC without SC does not run");
	sc2 = sel();
	EXPECT(hv_create_sc(sc2, HV_SI_SEL_PD, ec, HV_QOS(PRIO_HIGH, 0)), HV_OK); /* now it runs */
	CHECK(hd_woke == 1, "it runs once it has an SC again: %u", hd_woke);
	for (i = 0; i < 8; i++)
		EXPECT(drop(copies[i]), HV_OK);
	EXPECT(drop(sc2), HV_OK);
	EXPECT(drop(ec), HV_OK);

	/* a thread whose EC and SC capabilities go while it is in a call: the
	 * handler runs on for it; it dies at the reply (nothing is freed under
	 * the handler, which keeps serving) */
	hold2_in = new_sm(0);
	hold2_go = new_sm(0);
	pts = portal(h2_storm = handler(me_cpu), 0, ID_HOLD2);
	EXPECT(hv_thread_create(me_cpu, hd_hold, (void *)pts, HV_QOS(PRIO_HIGH, 0), &ec, &sc), HV_OK);
	WAIT(hold2_in);
	EXPECT(drop(ec), HV_OK);
	EXPECT(drop(sc), HV_OK);
	yield();
	for (i = 0; i < 8; i++) /* capabilities and objects on the memory the caller had */
		copies[i] = copy_cap(hd_sm, HV_R_SM_UP);
	EXPECT(hv_sm_up(hold2_go), HV_OK); /* the handler finishes the call and replies */
	yield();
	for (i = 0, bad = 0; i < 8; i++)
		if (hv_lookup(HV_KIND_OBJ, copies[i], &item) != HV_OK || HV_ITEM_TYPE(item) != HV_OBJ_SM)
			bad++;
	CHECK(bad == 0, "capabilities intact after the reply to a destroyed caller (%u changed)", bad);
	(void)thread(me_cpu, hd_hold, (void *)pts, PRIO_HIGH); /* the handler serves a new call */
	WAIT(hold2_in);
	EXPECT(hv_sm_up(hold2_go), HV_OK);
	yield();
	for (i = 0; i < 8; i++)
		EXPECT(drop(copies[i]), HV_OK);

	/* RFLAGS from an exception handler: NT is not a flag user code may set */
	exc_set_nt = 1;
	evt = sel_block(6);
	portal_at(evt + 6, handler(me_cpu), HV_MTD_RIP_LEN | HV_MTD_QUAL | HV_MTD_RSP | HV_MTD_GPR_ACDB, ID_EXC);
	EXPECT(thread_evt(me_cpu, hd_nt, NULL, PRIO_HIGH, evt, &ec, &sc), HV_OK);
	exc_set_nt = 0;
	CHECK(hd_flags >> 63 && !(hd_flags & 0x7000) && (hd_flags & 0x200),
	      "RFLAGS after a reply that sets NT and IOPL: 0x%lx (both clear, IF set)", hd_flags & ~(1ul << 63));
	EXPECT(drop(ec), HV_OK);
	EXPECT(drop(sc), HV_OK);

	/* the handler's reply state is read once: a sibling planting a
	 * non-canonical RIP in its UTCB while it replies ends (at worst) the
	 * faulting thread, never the kernel */
	if (ncpu > 1) {
		unsigned killed = 0;

		exc_race = 1;
		race_ready = new_sm(0);
		(void)thread(other_cpu, hd_racer, NULL, PRIO_HIGH);
		WAIT(race_ready);
		for (i = 0; i < 20 && !race_done; i++) {
			EXPECT(thread_evt(me_cpu, hd_race_child, (void *)5000ul, PRIO_HIGH, evt, &ec, &sc), HV_OK);
			if (!race_done)
				killed++;
			(void)drop(ec);
			(void)drop(sc);
		}
		race_stop = 1;
		exc_race = 0;
		printf("harden: UTCB race: %lu faults, %u thread(s) stopped for a bad RIP, %lu racer rounds\n", race_faults,
		       killed, race_rounds);
		CHECK(race_done || killed == 20, "threads finished or were stopped: %u done, %u stopped", race_done, killed);
		EXPECT(hv_null(), HV_OK);
	}

	/* HD_STORM threads with a pending recall, all ready when their recall
	 * handler is busy: each queues there in turn (the kernel stack must not
	 * grow with them), and each recall is delivered once the handler is free */
	hold2_in = new_sm(0);
	hold2_go = new_sm(0);
	hd_all = new_sm(0);
	hd_ran = 0;
	rc_count[3] = 0;
	evt = sel_block(6);
	pts = portal(h2_storm = handler(me_cpu), 0, ID_HOLD2);
	portal_at(evt + HV_EVT_RECALL, h2_storm, mtd, ID_RECALL | 3);
	(void)thread(me_cpu, hd_hold, (void *)pts, PRIO_HIGH); /* h2_storm now waits for hold2_go */
	WAIT(hold2_in);
	for (i = 0; i < HD_STORM; i++) {
		if (thread_evt(me_cpu, hd_storm, (void *)(hv_word_t)HD_STORM, PRIO_LOW_A, evt, &ecs[i], &scs[i]) != HV_OK)
			fatal("cannot create a storm thread");
		EXPECT(hv_ec_recall(ecs[i]), HV_OK);
	}
	(void)thread(me_cpu, hd_release, NULL, PRIO_WATCHDOG + 1); /* runs once all of them wait */
	WAIT(hd_all);
	CHECK(hd_ran == HD_STORM && rc_count[3] == HD_STORM, "%u threads ran on after %u recalls (expected %u)", hd_ran,
	      rc_count[3], HD_STORM);
	for (i = 0; i < HD_STORM; i++) {
		(void)drop(ecs[i]);
		(void)drop(scs[i]);
	}

	/* a chain of HD_CHAIN exception handlers, each faulting while handling its
	 * predecessor's #UD, the last without a portal: stopping it stops them all.
	 * The portals keep the handler ECs; only the last one keeps a capability. */
	printf("harden: the kernel now reports %u ECs it stops (a chain of faulting exception handlers)\n",
	       HD_CHAIN + 1);
	cons_flush();
	last = sel();
	chain = sel(); /* the portal to handler 0; handler i's event base puts #UD on the next portal */
	for (i = 0, p = chain; i < HD_CHAIN; i++) {
		hv_sel_t next = i + 1 < HD_CHAIN ? sel() : evt + 6; /* evt: no #UD portal */
		hv_sel_t h = handler_evt(last, next - 6);
		if (hv_create_pt(p, HV_SI_SEL_PD, h, mtd, (hv_word_t)chain_entry, 0) != HV_OK)
			fatal("cannot create a chain portal");
		if (i + 1 < HD_CHAIN)
			(void)drop(h);
		p = next;
	}
	EXPECT(thread_evt(me_cpu, hd_nt, NULL, PRIO_HIGH, chain - 6, &ec, &sc), HV_OK);
	EXPECT(hv_ec_recall(ec), HV_EABORT); /* stopped with the whole chain */
	EXPECT(hv_null(), HV_OK);
	EXPECT(hv_create_pt(p, HV_SI_SEL_PD, last, 0, (hv_word_t)st_portal, 0), HV_EABORT);
	for (p = chain; p < chain + HD_CHAIN; p++) /* the portals took consecutive selectors */
		(void)drop(p);
	EXPECT(drop(last), HV_OK);
	EXPECT(drop(ec), HV_OK);
	EXPECT(drop(sc), HV_OK);
	EXPECT(hv_null(), HV_OK);
	group_end();
}

/* ---- 13. Long revocations are preempted and restarted ------------------------------------ */

#define RV_ORDER 11
#define RV_N (1u << RV_ORDER)
static hv_sel_t rv_block, rv_sm, rv_done;
static volatile unsigned rv_looks, rv_partial;
static volatile int rv_stop;

/* HV_SYS_REVOKE starting `done` units into the range (what the kernel puts in RDX when it restarts the call). */
static hv_status_t revoke_from(hv_word_t item, hv_word_t base, hv_word_t done)
{
	hv_word_t rax = HV_SYS_REVOKE;

	__asm__ volatile("syscall" : "+a"(rax), "+d"(done), "+S"(base) : "D"(item) : "rcx", "r11", "memory");
	return (hv_status_t)rax;
}

/*
 * Above the main thread on its CPU, waking from a short timeout again and
 * again: it can see the revoke half done (the first selector gone, the last
 * still there) only if the kernel stops the call and lets it run; a revoke
 * done in one piece holds the kernel until it is complete.
 */
static void rv_watch(void *arg)
{
	(void)arg;
	while (!rv_stop) {
		(void)hv_sm_down_until(rv_sm, hv_rdtsc() + 20000);
		rv_looks++;
		if (cap_type(rv_block) == ~0u && cap_type(rv_block + RV_N - 1) != ~0u)
			rv_partial++;
	}
	(void)hv_sm_up(rv_done);
	hv_block_forever();
}

static void test_revoke_long(void)
{
	hv_sel_t src = new_sm(0);
	unsigned n = 0;

	group_begin("revoke");
	rv_block = sel_block(RV_ORDER);
	rv_sm = new_sm(0);
	rv_done = new_sm(0);
	for (unsigned i = 0; i < RV_N; i++)
		n += hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), src, rv_block + i) == HV_OK;
	CHECK_EQ(n, RV_N);
	/* nothing below them: a revoke of their children passes over all of them, in several calls */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, RV_ORDER), rv_block), HV_OK);
	CHECK(cap_type(rv_block) == HV_OBJ_SM && cap_type(rv_block + RV_N - 1) == HV_OBJ_SM, "children-only revoke keeps them");
	/* RDX says where to start; beyond the range it is refused */
	EXPECT(revoke_from(HV_ITEM(HV_KIND_OBJ, 0, RV_ORDER) | HV_REVOKE_SELF, rv_block, RV_N), HV_EPARAM);
	EXPECT(revoke_from(HV_ITEM(HV_KIND_OBJ, 0, RV_ORDER) | HV_REVOKE_SELF, rv_block, 1ul << 40), HV_EPARAM);
	EXPECT(revoke_from(HV_ITEM(HV_KIND_OBJ, 0, RV_ORDER) | HV_REVOKE_SELF, rv_block, RV_N - 2), HV_OK);
	CHECK(cap_type(rv_block + RV_N - 3) == HV_OBJ_SM && cap_type(rv_block + RV_N - 2) == ~0u &&
		      cap_type(rv_block + RV_N - 1) == ~0u,
	      "a revoke from RDX = n leaves the first n");
	for (unsigned i = RV_N - 2; i < RV_N; i++)
		n += hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_ALL, 0), src, rv_block + i) == HV_OK;
	/* the whole block with a watcher above us */
	(void)thread(me_cpu, rv_watch, NULL, PRIO_HIGH);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, RV_ORDER) | HV_REVOKE_SELF, rv_block), HV_OK);
	rv_stop = 1;
	WAIT(rv_done);
	CHECK(cap_type(rv_block) == ~0u && cap_type(rv_block + RV_N / 2) == ~0u && cap_type(rv_block + RV_N - 1) == ~0u,
	      "all %u capabilities revoked", RV_N);
	CHECK(rv_partial > 0, "the revoke of %u capabilities was preempted: %u of %u looks saw it half done", RV_N,
	      rv_partial, rv_looks);
	EXPECT(drop(src), HV_OK);
	group_end();
}

/* ---- 14. Kernel messages are rate-limited ------------------------------------------------- */

#define LOG_FLOOD 64

/* A thread that faults at once (RIP 0) with no portal for the fault: the kernel stops it and says so. */
static void faulting_thread(hv_sel_t ec, hv_sel_t sc, hv_sel_t evt)
{
	EXPECT(hv_create_ec(ec, HV_SI_SEL_PD, HV_EC_FLAGS(me_cpu, 1, evt), va(HV_PAGE_SIZE), 0, 0), HV_OK);
	EXPECT(hv_create_sc(sc, HV_SI_SEL_PD, ec, HV_QOS(PRIO_HIGH, 0)), HV_OK); /* runs, faults, is stopped */
}

static void test_log(void)
{
	hv_sel_t ecs = sel_block(7), scs = sel_block(7), evt = sel_block(6);

	group_begin("log");
	printf("log: %u threads fault without a handler; the kernel reports some and counts the rest\n", LOG_FLOOD + 1);
	cons_flush();
	for (unsigned i = 0; i < LOG_FLOOD; i++)
		faulting_thread(ecs + i, scs + i, evt);
	delay_ms(500); /* the kernel's message budget refills */
	faulting_thread(ecs + LOG_FLOOD, scs + LOG_FLOOD, evt); /* its line comes after the count of the others */
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 7) | HV_REVOKE_SELF, scs), HV_OK);
	EXPECT(hv_revoke(HV_ITEM(HV_KIND_OBJ, 0, 7) | HV_REVOKE_SELF, ecs), HV_OK);
	yield();
	group_end();
}

/* ---- Main ------------------------------------------------------------------------------ */

int main(const struct hv_startinfo *start)
{
	hv_word_t t0 = hv_rdtsc();

	si = start;
	me_cpu = (unsigned)si->cpu;
	ncpu = (unsigned)si->num_cpus;
	other_cpu = ncpu > 1 ? (me_cpu + 1) % ncpu : me_cpu;
	tsc_khz = si->tsc_khz ? si->tsc_khz : 1000000;
	printf("selftest: %u CPU(s), main thread on CPU %u, TSC %lu kHz, kmem %lu KiB\n", ncpu, me_cpu, tsc_khz,
	       si->kmem_quota >> 10);

	if (hv_pd_limits(HV_SI_SEL_PD, &my_max_prio, &my_cpus) != HV_OK)
		fatal("pd_ctrl HV_PD_LIMITS of our own PD");
	wd_arm = new_sm(0);
	yield_sm = new_sm(0);
	(void)thread(me_cpu, watchdog, NULL, PRIO_WATCHDOG);
	(void)thread(me_cpu, yielder, NULL, PRIO_YIELD);
	h_echo = handler(me_cpu);
	pt_echo = portal(h_echo, 0, ID_ECHO | 1);

	test_basic();
	test_args();
	test_blame();
	test_kmem();
	test_create();
	test_limits();
	test_ipc();
	test_deleg();
	test_sm();
	test_irq();
	test_exc();
	test_sched();
	test_recall();
	test_kill();
	test_revoke_long();
	test_log();
	test_harden();

	if (wd_fired)
		printf("watchdog ended %u wait(s)\n", wd_fired);
	printf("selftest: done in %lu ms\n", (hv_rdtsc() - t0) / tsc_khz);
	printf("selftest: %u passed, %u failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
