/*
 * Echo: IPC test and benchmark, server or client by its module arguments.
 *   server [fault=N]  one handler EC per CPU, registers service "echo",
 *              blocks; a call's untyped words come back incremented by one,
 *              with the same untyped count. With fault=N the handler executes
 *              ud2 in the Nth call (a server whose handler faults: tests).
 *   client [N] [after=MS] [verbose]  N calls (default 1000) with two words
 *              to the "echo" handler, starting MS milliseconds after the
 *              domain starts on its own CPU, checks every reply and exits.
 *   client [N] every=MS [verbose]   the same N calls every MS milliseconds,
 *              forever (a neighbour that keeps answering); every=0: round
 *              after round without a pause (and without the semaphore a
 *              pause needs: no kernel memory after start).
 * A client is quiet unless something fails; with "verbose" it reports its
 * result ("N calls ok", TSC ticks per call) after each round of calls and,
 * with every=, "round R done".
 * The words "server"/"client" may appear anywhere in the arguments (a
 * leading program name is skipped).
 */
#include <stdio.h>
#include <string.h>
#include <hv/hip.h>
#include <hv/runtime.h>

#define DEFAULT_CALLS 1000ul
#define MAX_REPORTED 5

HV_PORTAL_ENTRY(echo_portal, echo_handler);

static unsigned long fault_at, served;
static int verbose; /* client: report results and rounds (else only failures) */

hv_word_t echo_handler(hv_word_t portal_id, hv_word_t tag)
{
	struct hv_utcb *u = hv_utcb();
	unsigned i, n = HV_TAG_UNTYPED(tag);

	(void)portal_id;
	if (__atomic_add_fetch(&served, 1, __ATOMIC_RELAXED) == fault_at)
		__asm__ volatile("ud2");
	for (i = 0; i < n; i++)
		u->mr[i]++;
	return HV_TAG(n, 0);
}

static int run_server(const struct hv_startinfo *si)
{
	hv_sel_t ecs[HV_HIP_MAX_CPUS];
	unsigned c, ncpu = (unsigned)si->num_cpus;
	hv_status_t st;

	if (ncpu == 0 || ncpu > HV_HIP_MAX_CPUS) {
		printf("echo server: bad CPU count %u\n", ncpu);
		return 1;
	}
	for (c = 0; c < ncpu; c++) {
		st = hv_handler_create(c, &ecs[c]);
		if (st != HV_OK) {
			printf("echo server: handler for cpu %u: %s\n", c, hv_status_str(st));
			return 1;
		}
	}
	st = hv_register_service("echo", (hv_word_t)echo_portal, ecs, ncpu);
	if (st != HV_OK) {
		printf("echo server: register: %s\n", hv_status_str(st));
		return 1;
	}
	printf("echo server: ready on %u cpu(s)\n", ncpu);
	hv_block_forever();
}

static int run_client(const struct hv_startinfo *si, unsigned long calls)
{
	struct hv_utcb *u = hv_utcb();
	unsigned cpu = (unsigned)si->cpu;
	unsigned long i, errors = 0;
	hv_word_t t0, t1;
	hv_sel_t pt;
	hv_status_t st;

	st = hv_service("echo", cpu, &pt);
	if (st != HV_OK) {
		printf("echo client on cpu %u: no echo service: %s\n", cpu, hv_status_str(st));
		return 1;
	}
	t0 = hv_rdtsc();
	for (i = 0; i < calls; i++) {
		hv_word_t w0 = i, w1 = ~i ^ 0x5a5a5a5a5a5a5a5aul, rtag = 0;

		u->mr[0] = w0;
		u->mr[1] = w1;
		st = hv_call(pt, HV_TAG(2, 0), &rtag);
		if (st == HV_OK && HV_TAG_UNTYPED(rtag) == 2 && HV_TAG_TYPED(rtag) == 0 &&
		    u->mr[0] == w0 + 1 && u->mr[1] == w1 + 1)
			continue;
		if (errors++ < MAX_REPORTED)
			printf("echo client on cpu %u: call %lu: %s, tag 0x%lx, words 0x%lx 0x%lx\n",
			       cpu, i, hv_status_str(st), rtag, u->mr[0], u->mr[1]);
	}
	t1 = hv_rdtsc();
	if (errors) {
		printf("echo client on cpu %u: %lu of %lu calls failed\n", cpu, errors, calls);
		return 1;
	}
	if (!verbose)
		return 0;
	printf("echo client on cpu %u: %lu calls ok\n", cpu, calls);
	if (calls)
		printf("echo client on cpu %u: %lu TSC ticks per call\n", cpu,
		       (t1 - t0) / calls);
	return 0;
}

int main(const struct hv_startinfo *si)
{
	char args[HV_SI_ARGS + 1], word[32];
	const char *p = args;

	if (!si || si != hv_si())
		return 1; /* not started with a start info */
	memcpy(args, si->args, HV_SI_ARGS);
	args[HV_SI_ARGS] = '\0';

	while (str_next_word(&p, word, sizeof(word))) {
		if (!strcmp(word, "server")) {
			if (str_next_word(&p, word, sizeof(word)) && strncmp(word, "fault=", 6) == 0 &&
			    !str_to_ulong(word + 6, &fault_at)) {
				printf("echo: bad fault count '%s'\n", word + 6);
				return 2;
			}
			return run_server(si);
		}
		if (!strcmp(word, "client")) {
			unsigned long n = DEFAULT_CALLS, ms = 0;
			int every = 0, have_n = 0;

			/* N, after=MS, every=MS, verbose: in any order */
			while (str_next_word(&p, word, sizeof(word))) {
				if (!strncmp(word, "after=", 6) && str_to_ulong(word + 6, &ms)) {
					every = 0;
				} else if (!strncmp(word, "every=", 6) && str_to_ulong(word + 6, &ms)) {
					every = 1;
				} else if (!strcmp(word, "verbose")) {
					verbose = 1;
				} else if (!have_n && str_to_ulong(word, &n)) {
					have_n = 1;
				} else {
					printf("echo: bad client argument '%s'\n", word);
					return 2;
				}
			}
			if (!every) {
				/* start late: e.g. after a neighbour was made to crash */
				if (ms)
					(void)hv_sleep_until(hv_rdtsc() + ms * si->tsc_khz);
				return run_client(si, n);
			}
			for (unsigned long round = 1;; round++) {
				hv_word_t next = hv_rdtsc() + ms * si->tsc_khz;
				if (run_client(si, n))
					return 1;
				if (verbose)
					printf("echo client on cpu %u: round %lu done\n", (unsigned)si->cpu, round);
				if (ms)
					(void)hv_sleep_until(next);
			}
		}
	}
	printf("echo: usage: echo server | echo client [calls]\n");
	return 2;
}
