/*
 * Host benchmark of the mapping database (hypervisor/mdb.c): 100,000
 * single pages delegated from one PD's memory space into another's, looked
 * up, revoked one by one, delegated again and revoked all at once from
 * their parent, each phase in a shuffled order. Prints the processor time
 * per operation, `BENCH mdb_<op> <ns> ns`. The kernel's hooks (space.c)
 * are replaced by ones that only allocate, so the figures are the
 * database's own work. Built and run by `make mdb-bench` (optimised, no
 * sanitizers). A revoke runs in calls of MDB_BUDGET units of work, as the
 * system call does. An argument sets another number of pages (at most
 * 100,000), to see how the times grow with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mdb.h"

#define NPAGES 100000u
#define ROOT_ORDER 17 /* 131,072 pages: room for all of them */

struct pd {
	struct space spaces[4];
};

static struct pd pds[2];

struct mdb_node *mdb_node_alloc(struct pd *pd) { return calloc(1, sizeof(struct mdb_node)); }
void mdb_node_free(struct pd *pd, struct mdb_node *n) { free(n); }
struct mdb_node **mdb_leaf_alloc(struct pd *pd) { return calloc(512, sizeof(struct mdb_node *)); }
void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf) { free(leaf); }
bool space_install(struct space *s, struct mdb_node *n) { return true; }
void space_uninstall(struct space *s, struct mdb_node *n) {}
void space_flush(void) {}
struct space *space_of(struct pd *pd, unsigned kind) { return &pd->spaces[kind]; }

static u64 order_of[NPAGES];
static unsigned npages = NPAGES;

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* the machine is shared: count our own time */
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void fail(const char *what, unsigned i, int st)
{
	fprintf(stderr, "mdb-bench: %s of page %u: status %d\n", what, i, st);
	exit(1);
}

static void delegate_all(struct space *src, struct space *dst)
{
	for (unsigned i = 0; i < npages; i++) {
		hv_status_t st = mdb_delegate(src, order_of[i], 0, dst, order_of[i], HV_R_MEM_RWX, 0);
		if (st != HV_OK)
			fail("delegate", i, st);
	}
}

/* mdb_revoke() in calls of MDB_BUDGET units, as the system call restarts it. */
static hv_status_t revoke(struct space *s, u64 base, unsigned order, bool self)
{
	hv_status_t st = HV_OK;
	for (u64 from = base; st == HV_OK && from < base + (1ull << order);)
		st = mdb_revoke(s, base, order, self, &from, MDB_BUDGET);
	return st;
}

static void report(const char *name, double t0, unsigned ops)
{
	printf("BENCH mdb_%s %.0f ns\n", name, (now_ns() - t0) / ops);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc > 1 && (npages = (unsigned)strtoul(argv[1], NULL, 0)) - 1 >= NPAGES) {
		fprintf(stderr, "usage: mdb-bench [pages: 1..%u]\n", NPAGES);
		return 2;
	}
	for (unsigned p = 0; p < 2; p++)
		for (unsigned k = 0; k < 4; k++) {
			pds[p].spaces[k].kind = k;
			pds[p].spaces[k].pd = &pds[p];
		}
	struct space *src = &pds[0].spaces[HV_KIND_MEM], *dst = &pds[1].spaces[HV_KIND_MEM];
	/* a fixed shuffle (xorshift), so every run sees the same order */
	u64 x = 0x6d64622d62656e63ull;
	for (unsigned i = 0; i < npages; i++)
		order_of[i] = i;
	for (unsigned i = npages - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned j = (unsigned)(x % (i + 1));
		u64 t = order_of[i];
		order_of[i] = order_of[j], order_of[j] = t;
	}
	if (mdb_insert_root(src, 0, ROOT_ORDER, 0x100000, HV_R_MEM_RWX, 0) != HV_OK)
		fail("insert_root", 0, -1);

	double t0 = now_ns();
	delegate_all(src, dst);
	report("delegate", t0, npages);

	t0 = now_ns();
	for (unsigned i = 0; i < npages; i++)
		if (!mdb_find(dst, order_of[i]))
			fail("lookup", i, -1);
	report("lookup", t0, npages);

	t0 = now_ns();
	for (unsigned i = 0; i < npages; i++) {
		hv_status_t st = revoke(dst, order_of[i], 0, true);
		if (st != HV_OK)
			fail("revoke", i, st);
	}
	report("revoke", t0, npages);

	delegate_all(src, dst);
	t0 = now_ns();
	hv_status_t st = revoke(src, 0, ROOT_ORDER, false);
	if (st != HV_OK || mdb_find(dst, 0))
		fail("revoke_all", 0, st);
	report("revoke_all", t0, npages);
	return 0;
}
