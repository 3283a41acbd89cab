/*
 * Microbenchmarks of the kernel's hot paths, printed as
 * "BENCH <name> <value> ticks" (TSC ticks; under Bochs with
 * clock: sync=none they count emulated instructions).
 *   bench server  -- registers service "bench": a handler that replies at once
 *   bench client  -- measures null_syscall, ipc_call_reply, sm_up_down
 */
#include <hv/runtime.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 2000

static inline hv_word_t tsc(void)
{
	unsigned lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((hv_word_t)hi << 32) | lo;
}

/* The bench portal: reply with the same two words, nothing else. */
void bench_entry(void);
__asm__(".pushsection .text\n"
	".globl bench_entry\n"
	"bench_entry:\n"
	"\tmov $2, %edi\n" /* HV_TAG(2, 0) */
	"\tmov $1, %eax\n" /* HV_SYS_REPLY */
	"\tsyscall\n"
	"\tud2\n"
	".popsection");

static int server(const struct hv_startinfo *si)
{
	hv_sel_t ecs[16];
	unsigned n = si->num_cpus < 16 ? (unsigned)si->num_cpus : 16;
	for (unsigned c = 0; c < n; c++)
		if (hv_handler_create(c, &ecs[c]) != HV_OK) {
			printf("bench server: cannot create handler on CPU %u\n", c);
			return 1;
		}
	hv_status_t st = hv_register_service("bench", (hv_word_t)bench_entry, ecs, n);
	if (st != HV_OK) {
		printf("bench server: register: %s\n", hv_status_str(st));
		return 1;
	}
	hv_block_forever();
}

static hv_sel_t ping, pong;

static void ponger(void *arg)
{
	(void)arg;
	for (;;) {
		(void)hv_sm_down(ping);
		(void)hv_sm_up(pong);
	}
}

static void report(const char *name, hv_word_t total, hv_word_t n)
{
	printf("BENCH %s %lu ticks\n", name, (total + n / 2) / n);
}

static int client(const struct hv_startinfo *si)
{
	/* warm up caches and TLBs before every measurement */
	for (int i = 0; i < 100; i++)
		(void)hv_null();
	hv_word_t t0 = tsc();
	for (int i = 0; i < ROUNDS; i++)
		(void)hv_null();
	report("null_syscall", tsc() - t0, ROUNDS);

	hv_sel_t pt;
	if (hv_service("bench", (unsigned)si->cpu, &pt) != HV_OK) {
		printf("bench client: no bench service\n");
		return 1;
	}
	struct hv_utcb *u = hv_utcb();
	for (int i = 0; i < 100; i++)
		(void)hv_call(pt, HV_TAG(2, 0), NULL);
	t0 = tsc();
	for (int i = 0; i < ROUNDS; i++) {
		u->mr[0] = (hv_word_t)i;
		u->mr[1] = 7;
		(void)hv_call(pt, HV_TAG(2, 0), NULL);
	}
	report("ipc_call_reply", tsc() - t0, ROUNDS);

	ping = hv_sel_alloc();
	pong = hv_sel_alloc();
	if (hv_create_sm(ping, HV_SI_SEL_PD, 0) != HV_OK || hv_create_sm(pong, HV_SI_SEL_PD, 0) != HV_OK ||
	    hv_thread_create((unsigned)si->cpu, ponger, NULL, HV_QOS(20, 0), NULL, NULL) != HV_OK) {
		printf("bench client: cannot create semaphores or thread\n");
		return 1;
	}
	for (int i = 0; i < 100; i++) {
		(void)hv_sm_up(ping);
		(void)hv_sm_down(pong);
	}
	t0 = tsc();
	for (int i = 0; i < ROUNDS; i++) {
		(void)hv_sm_up(ping);
		(void)hv_sm_down(pong);
	}
	/* each round is two wake-ups: ping wakes the ponger, pong wakes us */
	report("sm_up_down", tsc() - t0, 2 * ROUNDS);
	printf("bench: done\n");
	return 0;
}

int main(const struct hv_startinfo *si)
{
	if (!strncmp(si->args, "server", 6))
		return server(si);
	return client(si);
}
