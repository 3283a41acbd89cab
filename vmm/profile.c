/*
 * The exit profile: counters per key for the busy exit kinds and the
 * report the guest asks for through PC_PROFILE_PORT (profile.h).
 *
 * Counting runs in every vCPU's exit handler at once: a key takes a slot
 * of its kind's table with a compare-and-swap (open addressing, no
 * removal), counts are atomic adds. A key that finds the table full is
 * counted as "other". Reports run under the platform lock (the port is a
 * bus device) and read the counters while other vCPUs may still add to
 * them: a report is a snapshot, not a transaction.
 */
#include "profile.h"
#include "exits.h"
#include "vmm.h"

#include <stdio.h>
#include <string.h>

#define SLOTS 64 /* keys per kind */
#define TOP 8    /* keys printed per kind */

struct slot {
	uint64_t key; /* key + 1; 0: free */
	uint64_t count, base;
};
static struct slot table[PROF_KINDS][SLOTS];
static uint64_t other[PROF_KINDS], other_base[PROF_KINDS];
static uint64_t exits_base[VMM_MAX_VCPUS][256];

void profile_count(enum prof_kind k, uint64_t key)
{
	uint64_t want = key + 1;
	unsigned h = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 58); /* 6 bits: SLOTS */
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &table[k][(h + i) % SLOTS];
		uint64_t cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE), zero = 0;
		if (cur == 0 && __atomic_compare_exchange_n(&s->key, &zero, want, false, __ATOMIC_ACQ_REL,
							    __ATOMIC_ACQUIRE))
			cur = want;
		else if (cur == 0)
			cur = zero; /* someone else took it: with which key? */
		if (cur == want) {
			__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	__atomic_fetch_add(&other[k], 1, __ATOMIC_RELAXED);
}

/* Starts a new interval: what was counted so far becomes the base. */
static void profile_reset(void)
{
	for (unsigned v = 0; v < vm.nvcpus && v < VMM_MAX_VCPUS; v++)
		memcpy(exits_base[v], vcpus[v].exits, sizeof(exits_base[v]));
	for (unsigned k = 0; k < PROF_KINDS; k++) {
		for (unsigned i = 0; i < SLOTS; i++)
			table[k][i].base = __atomic_load_n(&table[k][i].count, __ATOMIC_RELAXED);
		other_base[k] = __atomic_load_n(&other[k], __ATOMIC_RELAXED);
	}
}

/* Appends " NAME=COUNT" to buf at *n, if it fits. */
static void put(char *buf, size_t size, size_t *n, const char *name, uint64_t count)
{
	int r = snprintf(buf + *n, size - *n, " %s=%lu", name, (unsigned long)count);
	if (r > 0 && (size_t)r < size - *n)
		*n += (size_t)r;
}

static void report_kind(unsigned mark, enum prof_kind k)
{
	static const char *const kname[PROF_KINDS] = {"io", "msr", "mmio"};
	char buf[256] = "", name[24];
	size_t n = 0;
	bool shown[SLOTS] = {0};
	uint64_t total = other[k] - other_base[k];
	for (unsigned i = 0; i < SLOTS; i++)
		total += table[k][i].count - table[k][i].base;
	if (!total)
		return;
	for (unsigned t = 0; t < TOP; t++) { /* the TOP busiest keys, busiest first */
		int best = -1;
		uint64_t bc = 0;
		for (unsigned i = 0; i < SLOTS; i++) {
			uint64_t c = table[k][i].count - table[k][i].base;
			if (table[k][i].key && !shown[i] && c > bc) {
				best = (int)i;
				bc = c;
			}
		}
		if (best < 0)
			break;
		shown[best] = true;
		snprintf(name, sizeof(name), "%#lx", (unsigned long)(table[k][best].key - 1));
		put(buf, sizeof(buf), &n, name, bc);
	}
	printf("vmm: profile %u: %s %lu:%s\n", mark, kname[k], (unsigned long)total, buf);
}

/* Prints the interval that ends now, as "vmm: profile MARK: ..." lines. */
static void profile_report(unsigned mark)
{
	uint64_t sum[256] = {0}, total = 0;
	for (unsigned v = 0; v < vm.nvcpus && v < VMM_MAX_VCPUS; v++)
		for (unsigned r = 0; r < 256; r++) {
			sum[r] += vcpus[v].exits[r] - exits_base[v][r];
			total += vcpus[v].exits[r] - exits_base[v][r];
		}
	char buf[512] = "";
	size_t n = 0;
	for (unsigned r = 0; r < 256; r++)
		if (sum[r])
			put(buf, sizeof(buf), &n, exit_reason_name(r), sum[r]);
	printf("vmm: profile %u: exits %lu:%s\n", mark, (unsigned long)total, buf);
	for (unsigned k = 0; k < PROF_KINDS; k++)
		report_kind(mark, (enum prof_kind)k);
}

void profile_port_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)ctx;
	if (off != 0 || size != 4)
		return; /* only a 32-bit write at the port marks */
	if (val)
		profile_report((unsigned)val);
	profile_reset();
}

uint64_t profile_port_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)off, (void)size;
	return 0;
}
