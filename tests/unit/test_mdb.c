/*
 * Unit tests of the mapping database (hypervisor/mdb.c).
 *
 * The hooks that the kernel provides in hypervisor/space.c are replaced by
 * fakes: three fake PDs with one space of each kind, nodes and selector
 * leaves from calloc() with counters and injectable failures, and an
 * install/uninstall record per space (the "hardware": which units are
 * mapped, and one reference per OBJ node on its fake object). After every
 * operation the tests check that the database is a consistent forest, that
 * every space's index is a sorted, balanced AVL tree, that the hardware
 * side follows it exactly and that whatever was uninstalled was flushed
 * once before the operation returned. Revocations run in calls with small
 * work budgets, as the system call restarts them, with checks in between.
 */
#include "unit.h"

#include <pthread.h>

#include "mdb.h"

#define NPD 3
#define NOBJ 16
#define OBJ HV_KIND_OBJ
#define MEM HV_KIND_MEM
#define IO HV_KIND_IO
#define RWX HV_R_MEM_RWX
#define MEM_LIMIT (HV_USER_END >> 12) /* pages */
#define IO_LIMIT 0x10000u

struct fnode;

/* Fake PD: the spaces mdb.c works on, and what the hardware holds of each. */
struct pd {
	struct space spaces[3];
	struct fnode *installed[3]; /* installed nodes of each space */
	unsigned long ninstalled[3];
	unsigned id;
};

/* Fake kernel object: every installed OBJ node holds one reference. */
struct fobj {
	long refs;
};

#define FNODE_MAGIC 0x6d64626eu

/* Every node mdb.c allocates, wrapped so that the test can list the live ones. */
struct fnode {
	struct mdb_node n;
	struct fnode *prev, *next;   /* all live nodes */
	struct fnode *iprev, *inext; /* installed nodes of one space */
	u64 serial;                  /* allocation number, never reused */
	u64 mark;
	u32 magic;
	bool installed, gone;
	struct space *ispace; /* what space_install() saw */
	u64 ibase, itarget;
	unsigned iorder, irights;
};

static struct pd pds[NPD];
static struct fobj objs[NOBJ];
static struct fnode *live;
static unsigned long nlive, node_allocs, node_frees, leaf_allocs, leaf_frees;
static unsigned long installs, uninstalls, flushes, unflushed;
static u64 next_serial, next_mark;
/* Injected failures: -1 never; n >= 0 makes the (n+1)-th next call fail. */
static long fail_node = -1, fail_leaf = -1, fail_install = -1;
static bool in_thread; /* hooks run on a helper thread: no cmocka there */

static void hook_fail(const char *what, int line)
{
	if (in_thread) {
		fprintf(stderr, "test_mdb.c:%d: hook check failed: %s\n", line, what);
		abort();
	}
	fail_msg("hook check failed at line %d: %s", line, what);
}

#define HCHECK(c)                                                            \
	do {                                                                 \
		if (!(c))                                                    \
			hook_fail(#c, __LINE__);                             \
	} while (0)

static bool inject(long *countdown)
{
	if (*countdown < 0)
		return false;
	if (*countdown == 0) {
		*countdown = -1;
		return true;
	}
	(*countdown)--;
	return false;
}

static bool pd_ok(const struct pd *pd) { return pd >= pds && pd < pds + NPD; }

static struct fnode *fnode_of(const struct mdb_node *n)
{
	struct fnode *f = container_of(n, struct fnode, n);
	HCHECK(n && f->magic == FNODE_MAGIC);
	return f;
}

static struct fobj *obj_of(u64 target)
{
	uintptr_t p = (uintptr_t)target, b = (uintptr_t)objs;
	HCHECK(p >= b && p < (uintptr_t)(objs + NOBJ) && (p - b) % sizeof(struct fobj) == 0);
	return (struct fobj *)p;
}

static u64 objt(unsigned i) { return (u64)(uintptr_t)&objs[i]; }

static u64 unit_end(u64 base, unsigned order) { return base + (1ull << order); }

/* ---- the hooks of space.c ---------------------------------------------- */

struct mdb_node *mdb_node_alloc(struct pd *pd)
{
	HCHECK(pd_ok(pd));
	if (inject(&fail_node))
		return NULL;
	struct fnode *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->magic = FNODE_MAGIC;
	f->serial = ++next_serial;
	f->next = live;
	if (live)
		live->prev = f;
	live = f;
	nlive++;
	node_allocs++;
	return &f->n;
}

void mdb_node_free(struct pd *pd, struct mdb_node *n)
{
	struct fnode *f = fnode_of(n);
	HCHECK(pd == n->pd && pd_ok(pd));
	HCHECK(!f->installed);
	HCHECK(!n->parent && !n->child && !n->sibling && !n->prev_sibling);
	struct space *s = &pd->spaces[n->kind];
	HCHECK(n->kind != OBJ || mdb_find(s, n->base) != n);
	for (struct mdb_node *m = mdb_ceil(s, 0); m; m = mdb_next(m))
		HCHECK(m != n);
	HCHECK(!n->kid[0] && !n->kid[1] && !n->up);
	if (f->prev)
		f->prev->next = f->next;
	else
		live = f->next;
	if (f->next)
		f->next->prev = f->prev;
	nlive--;
	node_frees++;
	f->magic = 0;
	free(f);
}

struct mdb_node **mdb_leaf_alloc(struct pd *pd)
{
	HCHECK(pd_ok(pd));
	if (inject(&fail_leaf))
		return NULL;
	struct mdb_node **leaf = calloc(512, sizeof(*leaf));
	if (!leaf)
		abort();
	leaf_allocs++;
	return leaf;
}

void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf)
{
	HCHECK(pd_ok(pd));
	bool owned = false;
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
		owned |= pd->spaces[OBJ].sel_leaf[i] == leaf;
	HCHECK(owned);
	for (unsigned i = 0; i < 512; i++)
		HCHECK(!leaf[i]);
	leaf_frees++;
	free(leaf);
}

struct space *space_of(struct pd *pd, unsigned kind)
{
	HCHECK(pd_ok(pd) && kind <= IO);
	return &pd->spaces[kind];
}

bool space_install(struct space *s, struct mdb_node *n)
{
	struct fnode *f = fnode_of(n);
	HCHECK(pd_ok(s->pd) && s == &s->pd->spaces[s->kind]);
	HCHECK(n->pd == s->pd && n->kind == s->kind && !f->installed);
	if (inject(&fail_install))
		return false;
	u64 end = unit_end(n->base, n->order);
	for (struct fnode *g = s->pd->installed[s->kind]; g; g = g->inext)
		HCHECK(end <= g->ibase || unit_end(g->ibase, g->iorder) <= n->base);
	if (s->kind == OBJ)
		obj_of(n->target)->refs++;
	f->installed = true;
	f->ispace = s;
	f->ibase = n->base;
	f->iorder = n->order;
	f->itarget = n->target;
	f->irights = n->rights;
	f->iprev = NULL;
	f->inext = s->pd->installed[s->kind];
	if (f->inext)
		f->inext->iprev = f;
	s->pd->installed[s->kind] = f;
	s->pd->ninstalled[s->kind]++;
	installs++;
	return true;
}

void space_uninstall(struct space *s, struct mdb_node *n)
{
	struct fnode *f = fnode_of(n);
	HCHECK(f->installed && f->ispace == s);
	HCHECK(f->ibase == n->base && f->iorder == n->order && f->itarget == n->target &&
	       f->irights == n->rights);
	if (s->kind == OBJ) {
		struct fobj *o = obj_of(n->target);
		o->refs--;
		HCHECK(o->refs >= 0);
	}
	if (f->iprev)
		f->iprev->inext = f->inext;
	else
		s->pd->installed[s->kind] = f->inext;
	if (f->inext)
		f->inext->iprev = f->iprev;
	f->installed = false;
	s->pd->ninstalled[s->kind]--;
	uninstalls++;
	unflushed++;
}

void space_flush(void)
{
	flushes++;
	unflushed = 0;
}

/* ---- fixture and invariants --------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	memset(pds, 0, sizeof(pds));
	for (unsigned i = 0; i < NPD; i++) {
		pds[i].id = i;
		for (unsigned k = 0; k < 3; k++) {
			pds[i].spaces[k].kind = k;
			pds[i].spaces[k].pd = &pds[i];
		}
	}
	memset(objs, 0, sizeof(objs));
	live = NULL;
	nlive = node_allocs = node_frees = leaf_allocs = leaf_frees = 0;
	installs = uninstalls = flushes = unflushed = 0;
	fail_node = fail_leaf = fail_install = -1;
	in_thread = false;
	return 0;
}

/* Frees whatever a failed test left behind (a passing one leaves nothing). */
static int teardown(void **state)
{
	(void)state;
	fail_node = fail_leaf = fail_install = -1;
	in_thread = false;
	for (unsigned i = 0; i < NPD; i++)
		for (unsigned k = 0; k < 3; k++)
			mdb_destroy_space(&pds[i].spaces[k]);
	return 0;
}

static struct space *sp(unsigned pd, unsigned kind) { return &pds[pd].spaces[kind]; }

/*
 * Checks the AVL tree below n (hanging from `up`): parent links, bases in
 * [lo, hi), stored heights, balance. Returns its height.
 */
static unsigned check_tree(const struct mdb_node *n, const struct mdb_node *up, u64 lo, u64 hi)
{
	if (!n)
		return 0;
	assert_ptr_equal(n->up, up);
	assert_true(n->base >= lo && n->base < hi);
	unsigned l = check_tree(n->kid[0], n, lo, n->base), r = check_tree(n->kid[1], n, n->base + 1, hi);
	assert_true(l <= r + 1 && r <= l + 1);
	assert_int_equal(n->height, 1 + MAX(l, r));
	return 1 + MAX(l, r);
}

/* Checks one space: a balanced tree, sorted, disjoint, installed as listed, indexed. */
static unsigned long check_space(struct space *s, u64 mark, bool finds)
{
	unsigned long cnt = 0;
	u64 prev_end = 0;
	unsigned h = check_tree(s->root, NULL, 0, UINT64_MAX);
	for (struct mdb_node *n = mdb_ceil(s, 0); n; n = mdb_next(n)) {
		struct fnode *f = fnode_of(n);
		assert_true(f->mark != mark); /* in no other list, not twice */
		f->mark = mark;
		assert_ptr_equal(n->pd, s->pd);
		assert_int_equal(n->kind, s->kind);
		assert_true(n->order <= MDB_MAX_ORDER(s->kind));
		assert_int_equal(n->base & ((1ull << n->order) - 1), 0);
		assert_true(n->base >= prev_end);
		prev_end = unit_end(n->base, n->order);
		assert_true(f->installed);
		assert_ptr_equal(f->ispace, s);
		assert_int_equal(f->ibase, n->base);
		assert_int_equal(f->iorder, n->order);
		assert_int_equal(f->itarget, n->target);
		assert_int_equal(f->irights, n->rights);
		if (s->kind == OBJ) {
			assert_int_equal(n->order, 0);
			assert_true(n->base < HV_SEL_MAX);
			assert_ptr_equal(mdb_find(s, n->base), n);
		} else if (finds) {
			assert_ptr_equal(mdb_find(s, n->base), n);
			assert_ptr_equal(mdb_find(s, prev_end - 1), n);
		}
		if (finds) {
			assert_ptr_equal(mdb_ceil(s, n->base), n);
			assert_int_equal(mdb_check_free(s, n->base, 0), HV_EBUSY);
		}
		assert_true(++cnt <= nlive);
	}
	/* an AVL tree of n nodes is at most about 1.44 log2(n) high */
	assert_true(h <= 2 + 3 * (64 - (unsigned)__builtin_clzll(cnt + 1)) / 2);
	assert_int_equal(s->pd->ninstalled[s->kind], cnt);
	unsigned long slots = 0;
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++) {
		if (!s->sel_leaf[i])
			continue;
		assert_int_equal(s->kind, OBJ);
		for (unsigned j = 0; j < 512; j++) {
			struct mdb_node *n = s->sel_leaf[i][j];
			if (!n)
				continue;
			assert_int_equal(fnode_of(n)->mark, mark); /* listed here */
			assert_int_equal(n->base, i * 512 + j);
			slots++;
		}
	}
	if (s->kind == OBJ)
		assert_int_equal(slots, cnt);
	return cnt;
}

/*
 * Checks the whole database: every live node is listed in exactly its
 * space and installed there; parent chains end at a root; child lists
 * match the parent pointers; children have a subset of their parent's
 * rights and a part of its target; object reference counts match.
 * Returns the greatest depth (a root has depth 0).
 */
static unsigned long check_all(bool finds)
{
	u64 mark = ++next_mark;
	unsigned long listed = 0, counted = 0, nonroots = 0, children = 0, maxdepth = 0;
	long refs[NOBJ] = { 0 };
	for (unsigned p = 0; p < NPD; p++)
		for (unsigned k = 0; k < 3; k++)
			listed += check_space(sp(p, k), mark, finds);
	assert_int_equal(listed, nlive);
	for (struct fnode *f = live; f; f = f->next) {
		struct mdb_node *n = &f->n;
		assert_int_equal(f->magic, FNODE_MAGIC);
		assert_int_equal(f->mark, mark);
		assert_true(++counted <= nlive);
		if (n->kind == OBJ)
			refs[obj_of(n->target) - objs]++;
		unsigned long depth = 0;
		for (struct mdb_node *a = n->parent; a; a = a->parent) {
			fnode_of(a);
			assert_true(++depth <= nlive);
		}
		maxdepth = MAX(maxdepth, depth);
		struct mdb_node *p = n->parent;
		if (!p) {
			assert_null(n->sibling);
			assert_null(n->prev_sibling);
		} else {
			nonroots++;
			assert_int_equal(n->kind, p->kind);
			assert_int_equal(n->rights & ~p->rights, 0);
			/* derived memory: MDB_DEVICE as its parent, WC only with it, DMA only without */
			assert_int_equal(n->flags & ~(MDB_DEVICE | MDB_WC | MDB_DMA), 0);
			assert_int_equal(n->flags & MDB_DEVICE, p->flags & MDB_DEVICE);
			assert_int_equal(n->flags & (n->flags & MDB_DEVICE ? MDB_DMA : MDB_WC), 0);
			assert_int_equal(p->flags & MDB_KERNEL, 0);
			if (n->kind == OBJ) {
				assert_int_equal(n->target, p->target);
			} else {
				assert_true(n->target >= p->target);
				assert_true(unit_end(n->target, n->order) <= unit_end(p->target, p->order));
			}
		}
		struct mdb_node *prev = NULL;
		unsigned long c = 0;
		for (struct mdb_node *ch = n->child; ch; prev = ch, ch = ch->sibling) {
			assert_ptr_equal(ch->parent, n);
			assert_ptr_equal(ch->prev_sibling, prev);
			assert_true(++c <= nlive);
		}
		children += c;
	}
	assert_int_equal(counted, nlive);
	assert_int_equal(children, nonroots);
	for (unsigned i = 0; i < NOBJ; i++)
		assert_int_equal(objs[i].refs, refs[i]);
	assert_int_equal(installs - uninstalls, nlive);
	assert_int_equal(node_allocs - node_frees, nlive);
	assert_int_equal(unflushed, 0); /* the operation flushed what it uninstalled */
	return maxdepth;
}

/* Destroys every space and checks that nothing is left and nothing leaked. */
static void finish(void)
{
	check_all(true);
	for (unsigned i = 0; i < NPD; i++)
		for (unsigned k = 0; k < 3; k++)
			mdb_destroy_space(sp(i, k));
	check_all(true);
	assert_int_equal(nlive, 0);
	assert_null(live);
	assert_int_equal(node_allocs, node_frees);
	assert_int_equal(leaf_allocs, leaf_frees);
	assert_int_equal(installs, uninstalls);
	for (unsigned i = 0; i < NPD; i++)
		for (unsigned k = 0; k < 3; k++) {
			assert_null(sp(i, k)->root);
			assert_null(pds[i].installed[k]);
			for (unsigned j = 0; j < HV_SEL_MAX / 512; j++)
				assert_null(sp(i, k)->sel_leaf[j]);
		}
	for (unsigned i = 0; i < NOBJ; i++)
		assert_int_equal(objs[i].refs, 0);
}

static u64 budget_rng = 0x6275646765743031ull;

/*
 * mdb_revoke() as the system call runs it: calls with a small pseudo-random
 * work budget (1..48 units) until the range is done. Checks that every call
 * makes progress, removes at most one node more than its budget, flushes
 * exactly once, and leaves a consistent database.
 */
static hv_status_t revoke(struct space *s, u64 base, unsigned order, bool self)
{
	u64 from = base, end = base + (order < 64 ? 1ull << order : 0);
	for (unsigned long calls = 0;; calls++) {
		budget_rng ^= budget_rng << 13, budget_rng ^= budget_rng >> 7, budget_rng ^= budget_rng << 17;
		unsigned budget = 1 + (unsigned)(budget_rng % 48);
		u64 before = from;
		unsigned long un0 = uninstalls, fl0 = flushes;
		hv_status_t st = mdb_revoke(s, base, order, self, &from, budget);
		if (st != HV_OK) {
			assert_int_equal(from, before);
			return st;
		}
		assert_int_equal(flushes, fl0 + 1);
		assert_true(uninstalls - un0 <= budget + 1);
		assert_true(from >= before && from <= end);
		if (from == end)
			return HV_OK;
		assert_true(uninstalls > un0 || from > before); /* progress */
		if (nlive < 500 || calls % 256 == 0)
			check_all(nlive < 500);
	}
}

static struct mdb_node *find(unsigned pd, unsigned kind, u64 base)
{
	return mdb_find(sp(pd, kind), base);
}

/* The node at pd/kind/base, which must exist with these fields. */
static struct mdb_node *expect_node(unsigned pd, unsigned kind, u64 base, unsigned order,
				    u64 target, unsigned rights, const struct mdb_node *parent)
{
	struct mdb_node *n = find(pd, kind, base);
	assert_non_null(n);
	assert_ptr_equal(n->pd, &pds[pd]);
	assert_int_equal(n->kind, kind);
	assert_int_equal(n->base, base);
	assert_int_equal(n->order, order);
	assert_int_equal(n->target, target);
	assert_int_equal(n->rights, rights);
	assert_ptr_equal(n->parent, parent);
	return n;
}

/* ---- insert_root, find, check_free --------------------------------------- */

static void test_insert_find(void **state)
{
	(void)state;
	struct space *o = sp(0, OBJ), *m = sp(0, MEM), *io = sp(0, IO);

	assert_int_equal(mdb_insert_root(o, 5, 0, objt(1), HV_R_ALL, 0), HV_OK);
	struct mdb_node *n = expect_node(0, OBJ, 5, 0, objt(1), HV_R_ALL, NULL);
	assert_int_equal(n->flags, 0);
	assert_null(n->child);
	assert_int_equal(objs[1].refs, 1);
	assert_int_equal(leaf_allocs, 1);
	assert_null(find(0, OBJ, 4));
	assert_null(find(0, OBJ, 6));
	assert_null(find(0, OBJ, 600));         /* leaf not allocated */
	assert_null(find(0, OBJ, HV_SEL_MAX));  /* beyond the space */
	assert_null(find(0, OBJ, ~0ull));
	assert_null(find(1, OBJ, 5));           /* other PD */

	/* occupied selector: refused, nothing allocated or referenced */
	unsigned long allocs = node_allocs;
	assert_int_equal(mdb_insert_root(o, 5, 0, objt(2), HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(node_allocs, allocs);
	assert_int_equal(objs[2].refs, 0);
	assert_ptr_equal(find(0, OBJ, 5), n);

	/* a second leaf on demand; the last selector */
	assert_int_equal(mdb_insert_root(o, 513, 0, objt(2), 1, 0), HV_OK);
	assert_int_equal(leaf_allocs, 2);
	assert_int_equal(mdb_insert_root(o, HV_SEL_MAX - 1, 0, objt(2), 1, MDB_KERNEL), HV_OK);
	assert_int_equal(find(0, OBJ, HV_SEL_MAX - 1)->flags, MDB_KERNEL);
	assert_int_equal(objs[2].refs, 2);

	/* object nodes cover one selector each */
	assert_int_equal(mdb_insert_root(o, 8, 1, objt(3), 1, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(o, 0, 13, objt(3), 1, 0), HV_EPARAM);

	/* memory: a node covers 2^order pages */
	assert_int_equal(mdb_insert_root(m, 16, 2, 0x1000, RWX, 0), HV_OK);
	n = expect_node(0, MEM, 16, 2, 0x1000, RWX, NULL);
	for (u64 p = 16; p < 20; p++)
		assert_ptr_equal(find(0, MEM, p), n);
	assert_null(find(0, MEM, 15));
	assert_null(find(0, MEM, 20));
	assert_int_equal(mdb_insert_root(m, 18, 1, 0, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_insert_root(m, 19, 0, 0, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_insert_root(m, 0, 5, 0, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_insert_root(m, 20, 2, 0x2000, HV_R_MEM_R, 0), HV_OK); /* touching */
	assert_int_equal(mdb_insert_root(m, 12, 2, 0x3000, HV_R_MEM_R, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m, 0, 3, 0x4000, HV_R_MEM_R, 0), HV_OK);
	/* the list is sorted by base */
	u64 bases[] = { 0, 12, 16, 20 };
	unsigned i = 0;
	for (struct mdb_node *l = mdb_ceil(m, 0); l; l = mdb_next(l), i++)
		assert_int_equal(l->base, bases[i]);
	assert_int_equal(i, 4);

	/* bounds of the memory space */
	assert_int_equal(mdb_insert_root(m, MEM_LIMIT - 1, 0, 1, RWX, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m, MEM_LIMIT, 0, 1, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(m, MEM_LIMIT - 2, 1, 1, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_insert_root(m, MEM_LIMIT - 4, 3, 1, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(1, MEM), 0, 35, 0, RWX, 0), HV_OK); /* all of it */
	assert_int_equal(mdb_insert_root(sp(2, MEM), 0, 36, 0, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(2, MEM), 0, 37, 0, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(2, MEM), 0, 200, 0, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(2, MEM), 0x11, 1, 0, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(2, MEM), ~0ull, 0, 0, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(2, MEM), ~0ull << 4, 4, 0, RWX, 0), HV_EPARAM);

	/* I/O: the whole port space in one node, as the roottask gets it */
	assert_int_equal(mdb_insert_root(io, 0, 16, 0, HV_R_IO, 0), HV_OK);
	assert_ptr_equal(find(0, IO, 0xffff), find(0, IO, 0));
	assert_null(find(0, IO, 0x10000));
	assert_int_equal(mdb_insert_root(io, 0x80, 0, 0, HV_R_IO, 0), HV_EBUSY);
	assert_int_equal(mdb_insert_root(sp(1, IO), 0, 17, 0, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(1, IO), 0x10000, 0, 0, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(1, IO), 0xfff8, 3, 0, HV_R_IO, 0), HV_OK);
	assert_int_equal(mdb_insert_root(sp(1, IO), 0xfff8, 4, 0, HV_R_IO, 0), HV_EPARAM);

	/* the remaining OBJ bounds */
	assert_int_equal(mdb_insert_root(sp(1, OBJ), HV_SEL_MAX, 0, objt(0), 1, 0), HV_EPARAM);
	assert_int_equal(mdb_insert_root(sp(1, OBJ), 0, 14, objt(0), 1, 0), HV_EPARAM);
	assert_int_equal(objs[0].refs, 0);
	finish();
}

static void test_check_free(void **state)
{
	(void)state;
	struct space *o = sp(0, OBJ), *m = sp(0, MEM);

	assert_int_equal(mdb_check_free(o, 0, 13), HV_OK); /* no leaves at all */
	assert_int_equal(mdb_check_free(m, 0, 35), HV_OK);
	assert_int_equal(mdb_insert_root(o, 6, 0, objt(0), 1, 0), HV_OK);
	assert_int_equal(mdb_check_free(o, 0, 2), HV_OK);
	assert_int_equal(mdb_check_free(o, 4, 1), HV_OK);
	assert_int_equal(mdb_check_free(o, 4, 2), HV_EBUSY);
	assert_int_equal(mdb_check_free(o, 6, 0), HV_EBUSY);
	assert_int_equal(mdb_check_free(o, 6, 1), HV_EBUSY);
	assert_int_equal(mdb_check_free(o, 0, 3), HV_EBUSY);
	assert_int_equal(mdb_check_free(o, 0, 13), HV_EBUSY);
	assert_int_equal(mdb_check_free(o, 7, 0), HV_OK);
	assert_int_equal(mdb_check_free(o, 512, 9), HV_OK);

	assert_int_equal(mdb_insert_root(m, 8, 3, 0, RWX, 0), HV_OK);
	assert_int_equal(mdb_check_free(m, 0, 3), HV_OK);  /* just before */
	assert_int_equal(mdb_check_free(m, 16, 3), HV_OK); /* just after */
	assert_int_equal(mdb_check_free(m, 7, 0), HV_OK);
	assert_int_equal(mdb_check_free(m, 16, 0), HV_OK);
	assert_int_equal(mdb_check_free(m, 8, 0), HV_EBUSY);
	assert_int_equal(mdb_check_free(m, 15, 0), HV_EBUSY);
	assert_int_equal(mdb_check_free(m, 12, 2), HV_EBUSY);
	assert_int_equal(mdb_check_free(m, 0, 4), HV_EBUSY);  /* contains it */
	assert_int_equal(mdb_check_free(m, 0, 35), HV_EBUSY);
	assert_int_equal(mdb_check_free(sp(1, MEM), 8, 3), HV_OK); /* other PD */
	finish();
}

/* ---- delegation ----------------------------------------------------------- */

static void test_delegate_obj(void **state)
{
	(void)state;
	struct space *o0 = sp(0, OBJ), *o1 = sp(1, OBJ), *o2 = sp(2, OBJ);

	assert_int_equal(mdb_insert_root(o0, 8, 0, objt(0), HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_insert_root(o0, 10, 0, objt(1), 0x3, 0), HV_OK);
	assert_int_equal(mdb_insert_root(o0, 11, 0, objt(2), HV_R_ALL, MDB_KERNEL), HV_OK);
	struct mdb_node *a = find(0, OBJ, 8), *b = find(0, OBJ, 10);

	/* a range, selector by selector: the hole (9) and the kernel node (11) are skipped */
	assert_int_equal(mdb_delegate(o0, 8, 2, o1, 16, HV_R_ALL, 0), HV_OK);
	struct mdb_node *a1 = expect_node(1, OBJ, 16, 0, objt(0), HV_R_ALL, a);
	expect_node(1, OBJ, 18, 0, objt(1), 0x3, b);
	assert_null(find(1, OBJ, 17));
	assert_null(find(1, OBJ, 19));
	assert_int_equal(objs[0].refs, 2);
	assert_int_equal(objs[1].refs, 2);
	assert_int_equal(objs[2].refs, 1);
	check_all(true);

	/* rights: child = parent & mask */
	assert_int_equal(mdb_delegate(o0, 8, 0, o2, 0, 0x5, 0), HV_OK);
	expect_node(2, OBJ, 0, 0, objt(0), 0x5, a);
	assert_int_equal(mdb_delegate(o1, 18, 0, o2, 1, 0x6, 0), HV_OK);
	expect_node(2, OBJ, 1, 0, objt(1), 0x2, find(1, OBJ, 18));
	/* from a delegated node: a deeper level, never more rights */
	assert_int_equal(mdb_delegate(o2, 0, 0, o1, 100, HV_R_ALL, 0), HV_OK);
	struct mdb_node *c = expect_node(1, OBJ, 100, 0, objt(0), 0x5, find(2, OBJ, 0));
	assert_ptr_equal(c->parent->parent, a);

	unsigned long allocs = node_allocs;
	/* no rights left, a kernel node, nothing there */
	assert_int_equal(mdb_delegate(o0, 10, 0, o2, 2, 0x4, 0), HV_EPERM);
	assert_int_equal(mdb_delegate(o0, 11, 0, o2, 3, HV_R_ALL, 0), HV_EPERM);
	assert_int_equal(mdb_delegate(o0, 8, 0, o2, 3, 0, 0), HV_EPERM);
	assert_int_equal(mdb_delegate(o0, 12, 2, o2, 4, HV_R_ALL, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(o0, 9, 0, o2, 4, HV_R_ALL, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(o0, 4000, 0, o2, 4, HV_R_ALL, 0), HV_ECAP); /* no leaf */
	/* a range where only some selectors are refused still delegates the rest */
	assert_int_equal(mdb_delegate(o0, 8, 2, o2, 12, 0x4, 0), HV_OK);
	expect_node(2, OBJ, 12, 0, objt(0), 0x4, a);
	assert_null(find(2, OBJ, 14));
	allocs++;
	/* destination in use, even in part */
	assert_int_equal(mdb_delegate(o0, 8, 0, o1, 16, HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(o0, 8, 2, o1, 16, HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(o0, 8, 1, o1, 18, HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(o0, 8, 3, o1, 16, HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(o0, 8, 0, o0, 8, HV_R_ALL, 0), HV_EBUSY);
	/* malformed */
	assert_int_equal(mdb_delegate(o0, 9, 1, o2, 20, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, 8, 1, o2, 21, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, 8, 0, o2, HV_SEL_MAX, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, HV_SEL_MAX, 0, o2, 20, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, 0, 14, o2, 0, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, 8, 0, sp(1, MEM), 8, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(o0, 8, 0, sp(1, IO), 8, HV_R_ALL, 0), HV_EPARAM);
	assert_int_equal(node_allocs, allocs);

	/* into another leaf, and within one space */
	assert_int_equal(mdb_delegate(o0, 8, 0, o1, 1000, 1, 0), HV_OK);
	expect_node(1, OBJ, 1000, 0, objt(0), 1, a);
	assert_int_equal(mdb_delegate(o0, 8, 0, o0, 9, 0x3, 0), HV_OK);
	expect_node(0, OBJ, 9, 0, objt(0), 0x3, a);
	/* the whole space at once */
	assert_int_equal(mdb_delegate(o1, 0, 13, o2, 0, HV_R_ALL, 0), HV_EBUSY);
	assert_int_equal(objs[0].refs, 7);
	assert_int_equal(revoke(o2, 0, 13, true), HV_OK); /* takes pd1's 100 along */
	assert_null(o2->root);
	assert_null(find(1, OBJ, 100));
	assert_int_equal(objs[0].refs, 4);
	assert_int_equal(mdb_delegate(o1, 0, 13, o2, 0, HV_R_ALL, 0), HV_OK);
	expect_node(2, OBJ, 16, 0, objt(0), HV_R_ALL, a1);
	expect_node(2, OBJ, 18, 0, objt(1), 0x3, find(1, OBJ, 18));
	expect_node(2, OBJ, 1000, 0, objt(0), 1, find(1, OBJ, 1000));
	assert_int_equal(objs[0].refs, 6);
	finish();
}

static void test_delegate_mem_io(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *m2 = sp(2, MEM);

	assert_int_equal(mdb_insert_root(m0, 0x100, 4, 0x5000, HV_R_MEM_R | HV_R_MEM_W, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x110, 0, 0x9000, RWX, 0), HV_OK);
	struct mdb_node *r = find(0, MEM, 0x100);

	/* the whole node; rights are masked */
	assert_int_equal(mdb_delegate(m0, 0x100, 4, m1, 0x200, RWX, 0), HV_OK);
	struct mdb_node *c = expect_node(1, MEM, 0x200, 4, 0x5000, HV_R_MEM_R | HV_R_MEM_W, r);
	/* a part: the target follows the offset */
	assert_int_equal(mdb_delegate(m0, 0x104, 2, m1, 0x40, HV_R_MEM_R, 0), HV_OK);
	expect_node(1, MEM, 0x40, 2, 0x5004, HV_R_MEM_R, r);
	assert_int_equal(mdb_delegate(m1, 0x20c, 2, m2, 0x8, HV_R_MEM_W | HV_R_MEM_X, 0), HV_OK);
	expect_node(2, MEM, 0x8, 2, 0x500c, HV_R_MEM_W, c);
	assert_int_equal(mdb_delegate(m1, 0x20f, 0, m2, 0x7fff, RWX, 0), HV_OK);
	expect_node(2, MEM, 0x7fff, 0, 0x500f, HV_R_MEM_R | HV_R_MEM_W, c);

	unsigned long allocs = node_allocs;
	/* the source range must lie in one node */
	assert_int_equal(mdb_delegate(m0, 0x100, 5, m2, 0x100, RWX, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(m0, 0x110, 1, m2, 0x100, RWX, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(m0, 0x108, 4, m2, 0x100, RWX, 0), HV_EPARAM); /* misaligned */
	assert_int_equal(mdb_delegate(m0, 0x300, 0, m2, 0x100, RWX, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(m0, 0xf0, 4, m2, 0x100, RWX, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(m0, 0x0, 12, m2, 0x1000, RWX, 0), HV_ECAP);
	/* rights */
	assert_int_equal(mdb_delegate(m0, 0x110, 0, m2, 0x50, 0, 0), HV_EPERM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m2, 0x50, HV_R_MEM_X, 0), HV_EPERM);
	assert_int_equal(mdb_insert_root(m0, 0x400, 0, 0x7777, HV_R_MEM_R | HV_R_MEM_W, MDB_KERNEL), HV_OK);
	allocs++;
	assert_int_equal(mdb_delegate(m0, 0x400, 0, m2, 0x50, RWX, 0), HV_EPERM);
	/* destination */
	assert_int_equal(mdb_delegate(m0, 0x110, 0, m1, 0x20f, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(m0, 0x100, 4, m1, 0x200, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(m0, 0x100, 3, m1, 0x208, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(m0, 0x100, 4, m1, 0x1f0, RWX, 0), HV_OK); /* touching */
	allocs++;
	assert_int_equal(mdb_delegate(m0, 0x100, 4, m0, 0x108, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 4, m0, 0x100, RWX, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(m0, 0x100, 2, m2, 0x1002, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m2, MEM_LIMIT, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 2, m2, MEM_LIMIT - 4, RWX, 0), HV_OK);
	allocs++;
	assert_int_equal(mdb_delegate(m0, 0x100, 0, sp(2, IO), 0x100, RWX, 0), HV_EPARAM);
	assert_int_equal(node_allocs, allocs);

	/* I/O ports */
	struct space *i0 = sp(0, IO), *i1 = sp(1, IO), *i2 = sp(2, IO);
	assert_int_equal(mdb_insert_root(i0, 0, 16, 0, HV_R_IO, 0), HV_OK);
	assert_int_equal(mdb_delegate(i0, 0x3f8, 3, i1, 0x3f8, HV_R_IO, 0), HV_OK);
	struct mdb_node *p = expect_node(1, IO, 0x3f8, 3, 0x3f8, HV_R_IO, find(0, IO, 0));
	assert_int_equal(pds[1].installed[IO]->ibase, 0x3f8);
	assert_int_equal(pds[1].installed[IO]->iorder, 3);
	assert_int_equal(mdb_delegate(i1, 0x3f8, 3, i2, 0x3f8, 0, 0), HV_EPERM);
	assert_int_equal(mdb_delegate(i1, 0x3f8, 4, i2, 0x3f0, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(i1, 0x3f0, 4, i2, 0x3f0, HV_R_IO, 0), HV_ECAP);
	assert_int_equal(mdb_delegate(i1, 0x3fc, 1, i2, 0x3fc, HV_R_IO, 0), HV_OK);
	expect_node(2, IO, 0x3fc, 1, 0x3fc, HV_R_IO, p);
	/* ports keep their numbers: the bitmap follows the base */
	assert_int_equal(mdb_delegate(i1, 0x3f8, 1, i2, 0x60, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(i1, 0x3f8, 1, i2, 0x3fc, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(i1, 0x3f8, 0, i2, 0x10000, HV_R_IO, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(i0, 0, 16, i2, 0, HV_R_IO, 0), HV_EBUSY);
	assert_int_equal(mdb_delegate(i0, 0, 17, i2, 0, HV_R_IO, 0), HV_EPARAM);
	finish();
}

/* Device memory and the memory flags: MDB_DEVICE is inherited, MDB_WC is for
 * device memory only, MDB_DMA for RAM only, neither nor MDB_NOMAP is
 * inherited, and device memory never goes into a guest-physical space. */
static void test_delegate_device(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *m2 = sp(2, MEM);
	struct space guest = { .kind = HV_KIND_GMEM, .pd = &pds[2] };
	assert_int_equal(mdb_insert_root(m0, 0x100, 4, 0xfe000, HV_R_MEM_R | HV_R_MEM_W, MDB_DEVICE | MDB_NOMAP),
			 HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x200, 4, 0x5000, RWX, 0), HV_OK);
	unsigned long allocs = node_allocs;
	assert_int_equal(mdb_delegate(m0, 0x200, 0, m1, 0x10, RWX, MDB_WC), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m1, 0x10, RWX, MDB_DMA), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m1, 0x10, RWX, MDB_DMA | MDB_WC), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x200, 0, m1, 0x10, RWX, MDB_DMA | MDB_WC), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x200, 0, m1, 0x10, RWX, MDB_KERNEL), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m1, 0x10, RWX, MDB_NOMAP), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, m1, 0x10, RWX, MDB_DEVICE), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 0, &guest, 0x10, RWX, 0), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x100, 1, &guest, 0x10, RWX, MDB_WC), HV_EPARAM);
	assert_int_equal(mdb_delegate(m0, 0x300, 0, m1, 0x10, RWX, MDB_WC), HV_ECAP); /* nothing there */
	assert_int_equal(node_allocs, allocs);
	check_all(false);

	/* device memory: uncached, or WC on request; only MDB_DEVICE is inherited */
	assert_int_equal(mdb_delegate(m0, 0x100, 2, m1, 0x10, RWX, 0), HV_OK);
	assert_int_equal(find(1, MEM, 0x10)->flags, MDB_DEVICE);
	assert_int_equal(find(1, MEM, 0x10)->rights, HV_R_MEM_R | HV_R_MEM_W);
	assert_int_equal(mdb_delegate(m0, 0x104, 2, m1, 0x20, HV_R_MEM_R, MDB_WC), HV_OK);
	assert_int_equal(find(1, MEM, 0x20)->flags, MDB_DEVICE | MDB_WC);
	assert_int_equal(mdb_delegate(m1, 0x20, 0, m2, 0x30, RWX, 0), HV_OK);
	assert_int_equal(find(2, MEM, 0x30)->flags, MDB_DEVICE);
	assert_int_equal(mdb_delegate(m1, 0x21, 0, m2, 0x31, RWX, MDB_DMA), HV_EPARAM);
	/* RAM: DMA on request, not inherited */
	assert_int_equal(mdb_delegate(m0, 0x200, 1, m1, 0x40, RWX, MDB_DMA), HV_OK);
	assert_int_equal(find(1, MEM, 0x40)->flags, MDB_DMA);
	assert_int_equal(mdb_delegate(m1, 0x40, 0, m2, 0x50, RWX, 0), HV_OK);
	assert_int_equal(find(2, MEM, 0x50)->flags, 0);
	assert_int_equal(mdb_delegate(m1, 0x41, 0, m2, 0x51, HV_R_MEM_R, MDB_DMA), HV_OK);
	assert_int_equal(find(2, MEM, 0x51)->flags, MDB_DMA);
	/* IPC-style delegation of objects ignores the flags of memory */
	assert_int_equal(mdb_insert_root(sp(0, OBJ), 8, 0, objt(0), HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_delegate(sp(0, OBJ), 8, 0, sp(1, OBJ), 9, HV_R_ALL, 0), HV_OK);
	assert_int_equal(find(1, OBJ, 9)->flags, 0);
	finish();
}

static void test_delegate_emem(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *o0 = sp(0, OBJ), *o1 = sp(1, OBJ);

	/* insert_root */
	fail_node = 0;
	assert_int_equal(mdb_insert_root(m0, 0x10, 0, 1, RWX, 0), HV_EMEM);
	fail_install = 0;
	assert_int_equal(mdb_insert_root(m0, 0x10, 0, 1, RWX, 0), HV_EMEM);
	assert_int_equal(node_allocs, 1);
	assert_int_equal(node_frees, 1);
	assert_null(m0->root);
	fail_leaf = 0;
	assert_int_equal(mdb_insert_root(o0, 3, 0, objt(0), 1, 0), HV_EMEM);
	assert_null(o0->sel_leaf[0]);
	fail_install = 0;
	assert_int_equal(mdb_insert_root(o0, 3, 0, objt(0), 1, 0), HV_EMEM);
	assert_null(find(0, OBJ, 3)); /* not left in the index */
	assert_int_equal(mdb_check_free(o0, 3, 0), HV_OK);
	assert_int_equal(objs[0].refs, 0);
	check_all(true);
	assert_int_equal(mdb_insert_root(m0, 0x10, 0, 1, RWX, 0), HV_OK);
	for (u64 s = 0; s < 4; s++)
		assert_int_equal(mdb_insert_root(o0, s, 0, objt(s), HV_R_ALL, 0), HV_OK);

	/* memory delegation: nothing changes on failure */
	unsigned long live0 = nlive, inst0 = installs;
	fail_node = 0;
	assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x20, RWX, 0), HV_EMEM);
	fail_install = 0;
	assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x20, RWX, 0), HV_EMEM);
	assert_int_equal(nlive, live0);
	assert_int_equal(installs, inst0);
	assert_null(find(0, MEM, 0x10)->child);
	assert_null(find(1, MEM, 0x20));
	check_all(true);

	/* object ranges: no leaf, nothing; a late failure keeps what was done */
	fail_leaf = 0;
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 0, HV_R_ALL, 0), HV_EMEM);
	assert_int_equal(nlive, live0);
	fail_node = 2;
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 0, HV_R_ALL, 0), HV_EMEM);
	assert_non_null(find(1, OBJ, 0));
	assert_non_null(find(1, OBJ, 1));
	assert_null(find(1, OBJ, 2));
	assert_null(find(1, OBJ, 3));
	fail_install = 1;
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 4, HV_R_ALL, 0), HV_EMEM);
	assert_non_null(find(1, OBJ, 4));
	assert_null(find(1, OBJ, 5));
	assert_int_equal(objs[1].refs, 2);
	check_all(true);

	/* and it works once memory is back */
	assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x20, RWX, 0), HV_OK);
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 8, HV_R_ALL, 0), HV_OK);
	assert_int_equal(objs[3].refs, 2);
	finish();
}

/* ---- revocation ---------------------------------------------------------- */

static void test_revoke_self(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *m2 = sp(2, MEM);

	assert_int_equal(mdb_insert_root(m0, 0x10, 0, 0x77, RWX, 0), HV_OK);
	struct mdb_node *a = find(0, MEM, 0x10);
	assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x20, RWX, 0), HV_OK);
	/* children only: the node stays, with its mapping */
	unsigned long un = uninstalls;
	assert_int_equal(revoke(m0, 0x10, 0, false), HV_OK);
	assert_int_equal(uninstalls, un + 1);
	assert_ptr_equal(find(0, MEM, 0x10), a);
	assert_null(a->child);
	assert_null(find(1, MEM, 0x20));
	assert_int_equal(pds[0].ninstalled[MEM], 1);
	assert_int_equal(pds[1].ninstalled[MEM], 0);
	/* nothing to revoke, and empty ranges, are fine */
	assert_int_equal(revoke(m0, 0x10, 0, false), HV_OK);
	assert_int_equal(revoke(m1, 0, 20, true), HV_OK);
	assert_int_equal(uninstalls, un + 1);

	/* self: the node goes too, with everything below it */
	assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x20, RWX, 0), HV_OK);
	assert_int_equal(mdb_delegate(m1, 0x20, 0, m2, 0x30, HV_R_MEM_R, 0), HV_OK);
	assert_int_equal(revoke(m0, 0x10, 0, true), HV_OK);
	assert_int_equal(nlive, 0);
	check_all(true);

	/* revoking a child with self leaves the parent intact */
	struct space *o0 = sp(0, OBJ), *o1 = sp(1, OBJ);
	assert_int_equal(mdb_insert_root(o0, 3, 0, objt(5), HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_delegate(o0, 3, 0, o1, 4, HV_R_ALL, 0), HV_OK);
	assert_int_equal(revoke(o1, 4, 0, false), HV_OK);
	assert_non_null(find(1, OBJ, 4));
	assert_int_equal(objs[5].refs, 2);
	assert_int_equal(revoke(o1, 4, 0, true), HV_OK);
	assert_null(find(1, OBJ, 4));
	assert_null(find(0, OBJ, 3)->child);
	assert_int_equal(objs[5].refs, 1);

	/* malformed ranges */
	assert_int_equal(revoke(o0, 3, 1, true), HV_EPARAM);
	assert_int_equal(revoke(o0, 0, 14, true), HV_EPARAM);
	assert_int_equal(revoke(o0, HV_SEL_MAX, 0, true), HV_EPARAM);
	assert_int_equal(revoke(m0, 0x11, 1, true), HV_EPARAM);
	assert_int_equal(revoke(m0, MEM_LIMIT, 0, true), HV_EPARAM);
	assert_int_equal(revoke(m0, 0, 36, true), HV_EPARAM);
	assert_int_equal(revoke(sp(0, IO), 0, 17, true), HV_EPARAM);
	assert_int_equal(revoke(sp(0, IO), 0x10000, 0, true), HV_EPARAM);
	assert_int_equal(objs[5].refs, 1);
	finish();
}

/* A -> B -> C -> D over the three PDs' memory spaces. */
static void build_chain(void)
{
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *m2 = sp(2, MEM);
	if (!find(1, MEM, 0x10))
		assert_int_equal(mdb_delegate(m0, 0x10, 0, m1, 0x10, RWX, 0), HV_OK);
	if (!find(2, MEM, 0x10))
		assert_int_equal(mdb_delegate(m1, 0x10, 0, m2, 0x10, HV_R_MEM_R | HV_R_MEM_W, 0), HV_OK);
	if (!find(0, MEM, 0x11))
		assert_int_equal(mdb_delegate(m2, 0x10, 0, m0, 0x11, HV_R_MEM_R, 0), HV_OK);
	assert_int_equal(check_all(true), 3);
}

static void test_revoke_chain(void **state)
{
	(void)state;
	assert_int_equal(mdb_insert_root(sp(0, MEM), 0x10, 0, 0x99, RWX, 0), HV_OK);
	struct mdb_node *a = find(0, MEM, 0x10);
	build_chain();
	struct mdb_node *b = find(1, MEM, 0x10);

	/* B's children: C and D go */
	assert_int_equal(revoke(sp(1, MEM), 0x10, 0, false), HV_OK);
	assert_ptr_equal(find(1, MEM, 0x10), b);
	assert_null(b->child);
	assert_null(find(2, MEM, 0x10));
	assert_null(find(0, MEM, 0x11));
	assert_ptr_equal(a->child, b);
	assert_int_equal(nlive, 2);
	check_all(true);

	/* B itself: B, C, D go */
	build_chain();
	assert_int_equal(revoke(sp(1, MEM), 0x10, 0, true), HV_OK);
	assert_null(a->child);
	assert_int_equal(nlive, 1);
	check_all(true);

	/* C itself: A -> B stays */
	build_chain();
	assert_int_equal(revoke(sp(2, MEM), 0x10, 0, true), HV_OK);
	assert_int_equal(nlive, 2);
	assert_null(find(1, MEM, 0x10)->child);
	check_all(true);

	/* D: a leaf; children-only revocation of it is a no-op */
	build_chain();
	assert_int_equal(revoke(sp(0, MEM), 0x11, 0, false), HV_OK);
	assert_int_equal(nlive, 4);
	assert_int_equal(revoke(sp(0, MEM), 0x11, 0, true), HV_OK);
	assert_int_equal(nlive, 3);

	/* A's children, through a range that also holds D's old place */
	build_chain();
	assert_int_equal(revoke(sp(0, MEM), 0x10, 1, false), HV_OK);
	assert_int_equal(nlive, 1);
	assert_null(a->child);
	finish();
}

static void test_revoke_wide(void **state)
{
	(void)state;
	struct space *o0 = sp(0, OBJ), *o1 = sp(1, OBJ), *o2 = sp(2, OBJ);

	assert_int_equal(mdb_insert_root(o0, 0, 0, objt(0), HV_R_ALL, 0), HV_OK);
	struct mdb_node *a = find(0, OBJ, 0);
	for (u64 i = 0; i < 100; i++) {
		assert_int_equal(mdb_delegate(o0, 0, 0, o1, i, HV_R_ALL, 0), HV_OK);
		assert_int_equal(mdb_delegate(o0, 0, 0, o2, i, 1 + i % HV_R_ALL, 0), HV_OK);
		assert_int_equal(mdb_delegate(o1, i, 0, o0, 1000 + i, HV_R_ALL, 0), HV_OK);
	}
	assert_int_equal(objs[0].refs, 301);
	assert_int_equal(check_all(true), 2);

	/* pd1's selectors 0..63 with self: those and their children go */
	assert_int_equal(revoke(o1, 0, 6, true), HV_OK);
	assert_int_equal(objs[0].refs, 1 + 36 + 100 + 36);
	assert_null(find(1, OBJ, 63));
	assert_non_null(find(1, OBJ, 64));
	assert_null(find(0, OBJ, 1063));
	assert_non_null(find(0, OBJ, 1064));
	assert_non_null(find(2, OBJ, 0));
	check_all(true);

	/* pd1's 64..127, children only: the grandchildren in pd0 go */
	assert_int_equal(revoke(o1, 64, 6, false), HV_OK);
	assert_int_equal(objs[0].refs, 1 + 36 + 100);
	assert_non_null(find(1, OBJ, 99));
	check_all(true);

	/* A's children: everything but A */
	assert_int_equal(revoke(o0, 0, 0, false), HV_OK);
	assert_int_equal(objs[0].refs, 1);
	assert_null(a->child);
	assert_int_equal(nlive, 1);
	finish();
}

static void test_revoke_range(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM), *m1 = sp(1, MEM), *m2 = sp(2, MEM);

	assert_int_equal(mdb_insert_root(m0, 0x0, 2, 0x100, RWX, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x4, 0, 0x200, RWX, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x5, 0, 0x300, RWX, MDB_KERNEL), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x8, 3, 0x400, RWX, 0), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x20, 0, 0x500, RWX, 0), HV_OK);
	u64 roots[] = { 0x0, 0x4, 0x8, 0x20 };
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(mdb_delegate(m0, roots[i], 0, m1, 0x100 + i, RWX, 0), HV_OK);
		assert_int_equal(mdb_delegate(m1, 0x100 + i, 0, m2, 0x200 + i, RWX, 0), HV_OK);
	}
	assert_int_equal(nlive, 13);

	/* children of the nodes inside [0, 16): 0x0, 0x4, 0x8 */
	assert_int_equal(revoke(m0, 0, 4, false), HV_OK);
	assert_int_equal(nlive, 7);
	assert_non_null(find(1, MEM, 0x103));
	assert_non_null(find(2, MEM, 0x203));
	assert_null(find(2, MEM, 0x200));
	for (unsigned i = 0; i < 3; i++)
		assert_null(find(0, MEM, roots[i])->child);
	check_all(true);

	/* a range that covers only part of a node leaves the node alone */
	assert_int_equal(mdb_delegate(m0, 0x8, 3, m1, 0x8, RWX, 0), HV_OK);
	assert_int_equal(revoke(m0, 0x8, 2, true), HV_OK);
	assert_int_equal(revoke(m0, 0xc, 2, false), HV_OK);
	assert_non_null(find(0, MEM, 0x8));
	assert_non_null(find(1, MEM, 0x8));

	/* self over [0, 32): all but the kernel node; 0x20 is outside */
	assert_int_equal(revoke(m0, 0, 5, true), HV_OK);
	assert_null(find(0, MEM, 0x0));
	assert_null(find(0, MEM, 0x4));
	assert_null(find(0, MEM, 0x8));
	assert_null(find(1, MEM, 0x8));
	assert_non_null(find(0, MEM, 0x5));
	assert_non_null(find(0, MEM, 0x20));
	assert_non_null(find(2, MEM, 0x203));
	assert_int_equal(nlive, 4);
	/* kernel nodes stay even when named alone */
	assert_int_equal(revoke(m0, 0x5, 0, true), HV_OK);
	assert_non_null(find(0, MEM, 0x5));
	check_all(true);

	/* object ranges: several nodes, a kernel one among them */
	struct space *o0 = sp(0, OBJ), *o1 = sp(1, OBJ);
	for (u64 s = 0; s < 8; s++) {
		assert_int_equal(mdb_insert_root(o0, s, 0, objt(s), HV_R_ALL, s == 2 ? MDB_KERNEL : 0), HV_OK);
		if (s != 2)
			assert_int_equal(mdb_delegate(o0, s, 0, o1, s, HV_R_ALL, 0), HV_OK);
	}
	assert_int_equal(revoke(o0, 0, 2, false), HV_OK); /* 0..3 */
	assert_null(find(1, OBJ, 0));
	assert_null(find(1, OBJ, 3));
	assert_non_null(find(1, OBJ, 4));
	assert_int_equal(revoke(o0, 0, 3, true), HV_OK); /* 0..7 */
	for (u64 s = 0; s < 8; s++)
		assert_int_equal(objs[s].refs, s == 2);
	assert_non_null(find(0, OBJ, 2));
	assert_int_equal(find(0, OBJ, 2)->flags, MDB_KERNEL);
	finish();
}

/* ---- destroy and remove ------------------------------------------------------ */

static void test_destroy_space(void **state)
{
	(void)state;
	struct space *o0 = sp(0, OBJ), *o1 = sp(1, OBJ), *o2 = sp(2, OBJ);

	for (u64 s = 0; s < 4; s++)
		assert_int_equal(mdb_insert_root(o0, s, 0, objt(s), HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_insert_root(o1, 7000, 0, objt(4), HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 4, HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_delegate(o1, 4, 2, o2, 600, HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_delegate(o2, 600, 1, o0, 100, 1, 0), HV_OK);
	assert_int_equal(mdb_delegate(o1, 4, 0, o1, 3000, HV_R_ALL, 0), HV_OK);    /* same space */
	assert_int_equal(mdb_delegate(o1, 3000, 0, o1, 1, HV_R_ALL, 0), HV_OK);    /* below its parent */
	assert_int_equal(mdb_delegate(o1, 7000, 0, o0, 50, HV_R_ALL, 0), HV_OK);
	assert_int_equal(mdb_insert_root(sp(1, MEM), 0, 0, 1, RWX, 0), HV_OK);
	assert_int_equal(mdb_insert_root(sp(1, IO), 0, 0, 1, HV_R_IO, 0), HV_OK);
	assert_int_equal(check_all(true), 3);
	unsigned long leaves = leaf_allocs, freed = leaf_frees;
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
		leaves -= o1->sel_leaf[i] != NULL;

	mdb_destroy_space(o1);
	assert_null(o1->root);
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
		assert_null(o1->sel_leaf[i]);
	assert_int_equal(leaf_allocs - leaf_frees, leaves - freed);
	assert_null(o2->root);         /* all of it came from pd1 */
	assert_null(find(0, OBJ, 100));
	assert_null(find(0, OBJ, 50));
	for (u64 s = 0; s < 4; s++) {
		assert_non_null(find(0, OBJ, s));
		assert_null(find(0, OBJ, s)->child);
		assert_int_equal(objs[s].refs, 1);
	}
	assert_int_equal(objs[4].refs, 0);
	assert_non_null(find(1, MEM, 0));
	assert_non_null(find(1, IO, 0));
	check_all(true);

	/* the space can be used again */
	assert_int_equal(mdb_delegate(o0, 0, 2, o1, 4, HV_R_ALL, 0), HV_OK);
	mdb_destroy_space(sp(1, MEM));
	assert_null(sp(1, MEM)->root);
	mdb_destroy_space(o0);
	assert_null(o1->root);
	assert_int_equal(nlive, 1);
	finish();
}

static void test_remove(void **state)
{
	(void)state;
	struct space *m0 = sp(0, MEM);

	/* a kernel node (an EC's UTCB going away) */
	assert_int_equal(mdb_insert_root(m0, 0x50, 0, 0x1234, RWX, MDB_KERNEL), HV_OK);
	assert_int_equal(mdb_insert_root(m0, 0x10, 0, 0x99, RWX, 0), HV_OK);
	mdb_remove(find(0, MEM, 0x50));
	assert_null(find(0, MEM, 0x50));
	assert_int_equal(pds[0].ninstalled[MEM], 1);

	/* a middle node: its subtree goes, the rest stays */
	build_chain();
	assert_int_equal(mdb_delegate(sp(1, MEM), 0x10, 0, sp(2, MEM), 0x40, HV_R_MEM_R, 0), HV_OK);
	mdb_remove(find(1, MEM, 0x10));
	assert_int_equal(nlive, 1);
	assert_null(find(0, MEM, 0x10)->child);
	check_all(true);

	/* a root with children */
	build_chain();
	mdb_remove(find(0, MEM, 0x10));
	assert_int_equal(nlive, 0);
	finish();
}

/* ---- deep chains --------------------------------------------------------- */

#define CHAIN 10000
#define SMALL_STACK (128 * 1024)

struct job {
	enum { JOB_REVOKE, JOB_DESTROY, JOB_REMOVE } what;
	struct space *s;
	u64 base;
	bool self;
	struct mdb_node *n;
	hv_status_t st;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	switch (j->what) {
	case JOB_REVOKE: /* in calls of 100 units, without checks (no cmocka on this thread) */
		for (u64 from = j->base; from == j->base;)
			j->st = mdb_revoke(j->s, j->base, 0, j->self, &from, 100);
		break;
	case JOB_DESTROY:
		mdb_destroy_space(j->s);
		break;
	case JOB_REMOVE:
		mdb_remove(j->n);
		break;
	}
	return NULL;
}

/* Runs j on a thread with a small stack: recursion over the chain would overflow it. */
static void run_small_stack(struct job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
	in_thread = true;
	assert_int_equal(pthread_create(&t, &attr, job_run, j), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	in_thread = false;
	pthread_attr_destroy(&attr);
}

/* Link i of the chain is unit i of PD i % 3's space of `kind` (unit i / 3 for OBJ). */
static u64 link_base(unsigned kind, unsigned i) { return kind == OBJ ? i / 3 : i; }

static void build_long_chain(unsigned kind)
{
	unsigned r = kind == OBJ ? HV_R_ALL : kind == MEM ? RWX : HV_R_IO;
	u64 t = kind == OBJ ? objt(7) : 0x1000;
	assert_int_equal(mdb_insert_root(sp(0, kind), 0, 0, t, r, 0), HV_OK);
	for (unsigned i = 1; i < CHAIN; i++)
		assert_int_equal(mdb_delegate(sp((i - 1) % 3, kind), link_base(kind, i - 1), 0,
					      sp(i % 3, kind), link_base(kind, i), r, 0),
				 HV_OK);
	assert_int_equal(nlive, CHAIN);
}

static void test_long_chain(void **state)
{
	(void)state;
	for (unsigned kind = OBJ; kind <= MEM; kind++) {
		build_long_chain(kind);
		assert_int_equal(check_all(false), CHAIN - 1);

		struct job j = { .what = JOB_REVOKE, .s = sp(0, kind), .base = 0, .self = false };
		run_small_stack(&j);
		assert_int_equal(j.st, HV_OK);
		assert_int_equal(nlive, 1);
		assert_null(find(0, kind, 0)->child);
		check_all(true);
		mdb_remove(find(0, kind, 0));

		/* the whole chain, root included */
		build_long_chain(kind);
		j = (struct job){ .what = JOB_DESTROY, .s = sp(0, kind) };
		run_small_stack(&j);
		assert_int_equal(nlive, 0);

		/* from the middle */
		build_long_chain(kind);
		j = (struct job){ .what = JOB_REMOVE, .n = find(CHAIN / 2 % 3, kind, link_base(kind, CHAIN / 2)) };
		run_small_stack(&j);
		assert_int_equal(nlive, CHAIN / 2);
		check_all(false);
		j = (struct job){ .what = JOB_REVOKE, .s = sp(0, kind), .base = 0, .self = true };
		run_small_stack(&j);
		assert_int_equal(j.st, HV_OK);
		assert_int_equal(nlive, 0);
		finish();
	}
}

/* ---- preemptible revocation, batched flushes, the tree index ------------------- */

/* Revokes with a fixed budget until done; returns the number of calls (each checked). */
static unsigned long revoke_calls(struct space *s, u64 base, unsigned order, bool self, unsigned budget,
				  unsigned long max_calls)
{
	u64 from = base, end = base + (1ull << order);
	unsigned long calls = 0;
	while (from < end && calls < max_calls) {
		u64 before = from;
		unsigned long un0 = uninstalls, fl0 = flushes;
		assert_int_equal(mdb_revoke(s, base, order, self, &from, budget), HV_OK);
		assert_int_equal(flushes, fl0 + 1);
		assert_true(uninstalls - un0 <= budget + 1);
		assert_true(uninstalls > un0 || from > before);
		calls++;
	}
	return calls;
}

/* Root 0 of pd0's memory; 200 children in pd1, each with 20 children in pd2. */
static struct mdb_node *build_fanout(void)
{
	assert_int_equal(mdb_insert_root(sp(0, MEM), 0, 12, 0x1000, RWX, 0), HV_OK);
	for (u64 i = 0; i < 200; i++) {
		assert_int_equal(mdb_delegate(sp(0, MEM), i, 0, sp(1, MEM), i, RWX, 0), HV_OK);
		for (u64 j = 0; j < 20; j++)
			assert_int_equal(mdb_delegate(sp(1, MEM), i, 0, sp(2, MEM), i * 20 + j, HV_R_MEM_R, 0), HV_OK);
	}
	assert_int_equal(nlive, 1 + 200 + 4000);
	return find(0, MEM, 0);
}

static void test_revoke_budget(void **state)
{
	(void)state;
	/* a deep chain: bounded work per call, O(n) calls in all; the work starts
	 * at the top (the far end is never searched for: it is still there) */
	build_long_chain(MEM);
	assert_int_equal(revoke_calls(sp(0, MEM), 0, 0, false, 16, 1), 1);
	assert_non_null(find((CHAIN - 1) % 3, MEM, CHAIN - 1));
	assert_null(find(1, MEM, 1));
	unsigned long calls = 1 + revoke_calls(sp(0, MEM), 0, 0, false, 16, ~0ul);
	assert_int_equal(nlive, 1);
	assert_true(calls >= (CHAIN - 1) / 17 && calls <= (CHAIN - 1) / 8 + 2);
	check_all(true);
	mdb_remove(find(0, MEM, 0));

	/* a wide tree: the same */
	struct mdb_node *r = build_fanout();
	calls = revoke_calls(sp(0, MEM), 0, 12, false, 16, ~0ul);
	assert_null(r->child);
	assert_int_equal(nlive, 1);
	assert_true(calls >= 4200 / 17 && calls <= 2 * 4200 / 16 + 2);
	check_all(true);
	mdb_remove(r);

	/* a range of 3000 childless nodes and 30 with a child: the scan goes on where it stopped */
	for (u64 i = 0; i < 3000; i++) {
		assert_int_equal(mdb_insert_root(sp(0, MEM), i, 0, i, RWX, 0), HV_OK);
		if (i % 100 == 0)
			assert_int_equal(mdb_delegate(sp(0, MEM), i, 0, sp(1, MEM), i, RWX, 0), HV_OK);
	}
	calls = revoke_calls(sp(0, MEM), 0, 12, false, 16, ~0ul);
	assert_true(calls >= 3000 / 17 && calls <= 3030 / 16 + 2);
	assert_int_equal(nlive, 3000);
	assert_null(sp(1, MEM)->root);
	/* with self, the same range in one call per budget's worth */
	calls = revoke_calls(sp(0, MEM), 0, 12, true, 100, ~0ul);
	assert_true(calls >= 3000 / 101 && calls <= 3000 / 100 + 2);
	assert_int_equal(nlive, 0);
	finish();
}

/* A revoke that stops half-way (its EC died) leaves a consistent database, and nothing escapes it. */
static void test_revoke_abandoned(void **state)
{
	(void)state;
	struct mdb_node *r = build_fanout();
	assert_int_equal(revoke_calls(sp(0, MEM), 0, 12, false, 16, 40), 40);
	assert_true(nlive > 1000 && nlive < 4201);
	check_all(true);
	for (struct fnode *f = live; f; f = f->next) {
		struct mdb_node *a = &f->n;
		while (a->parent)
			a = a->parent;
		assert_ptr_equal(a, r); /* still below the revoked node */
	}
	/* a revoke of the same range finishes the work */
	assert_int_equal(revoke(sp(0, MEM), 0, 12, false), HV_OK);
	assert_int_equal(nlive, 1);
	finish();
}

/* One flush per operation, however much it removes. */
static void test_flush_batched(void **state)
{
	(void)state;
	build_fanout();
	unsigned long f0 = flushes;
	u64 from = 0;
	assert_int_equal(mdb_revoke(sp(0, MEM), 0, 12, false, &from, ~0u), HV_OK);
	assert_int_equal(from, 1u << 12);
	assert_int_equal(nlive, 1);
	assert_int_equal(flushes, f0 + 1);
	for (u64 i = 0; i < 200; i++)
		assert_int_equal(mdb_delegate(sp(0, MEM), i, 0, sp(1, MEM), i, RWX, 0), HV_OK);
	f0 = flushes;
	mdb_destroy_space(sp(1, MEM));
	assert_int_equal(flushes, f0 + 1);
	assert_int_equal(mdb_delegate(sp(0, MEM), 0, 0, sp(1, MEM), 7, RWX, 0), HV_OK);
	assert_int_equal(mdb_delegate(sp(1, MEM), 7, 0, sp(2, MEM), 7, RWX, 0), HV_OK);
	f0 = flushes;
	mdb_remove(find(1, MEM, 7));
	assert_int_equal(flushes, f0 + 1);
	/* delegation uninstalls nothing and needs no flush */
	f0 = flushes;
	assert_int_equal(mdb_delegate(sp(0, MEM), 0, 0, sp(1, MEM), 7, RWX, 0), HV_OK);
	assert_int_equal(flushes, f0);
	finish();
}

/* The index stays balanced whatever the order of insertions and removals. */
static void test_tree(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 0x74726565);
	for (u64 i = 0; i < 2000; i++) { /* ascending, descending, shuffled */
		assert_int_equal(mdb_insert_root(sp(0, MEM), 2 * i, 0, i, RWX, 0), HV_OK);
		assert_int_equal(mdb_insert_root(sp(1, MEM), 2 * (2000 - i), 1, i, RWX, 0), HV_OK);
		hv_status_t st = mdb_insert_root(sp(2, OBJ), unit_rng_below(&r, HV_SEL_MAX), 0, objt(1), 1, 0);
		assert_true(st == HV_OK || st == HV_EBUSY);
	}
	check_all(true);
	/* holes: odd pages of pd0 are free, each even one is found, the next one is its successor */
	for (u64 i = 0; i < 4000; i++) {
		struct mdb_node *n = find(0, MEM, i);
		assert_true(i % 2 ? !n : n && n->base == i);
		assert_int_equal(mdb_check_free(sp(0, MEM), i, 0), i % 2 ? HV_OK : HV_EBUSY);
		if (i < 3999)
			assert_int_equal(mdb_ceil(sp(0, MEM), i)->base, (i + 1) & ~1ull);
	}
	assert_null(mdb_ceil(sp(0, MEM), 3999));
	assert_int_equal(mdb_check_free(sp(0, MEM), 4000, 10), HV_OK);
	assert_int_equal(mdb_check_free(sp(0, MEM), 2048, 10), HV_EBUSY);
	/* remove every third in a scattered order, then the rest */
	for (u64 i = 0; i < 2000; i += 3)
		assert_int_equal(revoke(sp(0, MEM), 2 * ((i * 7) % 2000), 0, true), HV_OK);
	check_all(true);
	assert_int_equal(revoke(sp(1, MEM), 0, 12, true), HV_OK);
	assert_null(sp(1, MEM)->root);
	check_all(true);
	finish();
}

/* ---- randomized operations against a model --------------------------------- */

/* The model: the rules of the ABI, computed from the live nodes alone. */
static u64 space_limit(unsigned kind)
{
	return kind == OBJ ? HV_SEL_MAX : kind == IO ? IO_LIMIT : MEM_LIMIT;
}

static bool model_range_ok(unsigned kind, u64 base, unsigned order)
{
	unsigned max = kind == OBJ ? 13 : kind == IO ? 16 : 36;
	if (order > max)
		return false;
	u64 size = 1ull << order, limit = space_limit(kind);
	return base % size == 0 && size <= limit && base <= limit - size;
}

static bool in_space(const struct mdb_node *n, const struct space *s)
{
	return n->pd == s->pd && n->kind == s->kind;
}

static struct fnode *model_find(const struct space *s, u64 unit)
{
	for (struct fnode *f = live; f; f = f->next)
		if (in_space(&f->n, s) && f->n.base <= unit && unit < unit_end(f->n.base, f->n.order))
			return f;
	return NULL;
}

static bool model_free(const struct space *s, u64 base, unsigned order)
{
	u64 end = unit_end(base, order);
	for (struct fnode *f = live; f; f = f->next)
		if (in_space(&f->n, s) && f->n.base < end && unit_end(f->n.base, f->n.order) > base)
			return false;
	return true;
}

/* A node the operation is expected to create. */
struct want {
	struct pd *pd;
	unsigned kind, order, rights, flags;
	u64 base, target, parent; /* parent: its serial, 0 for a root */
	bool seen;
};

static struct want wants[HV_SEL_MAX];
static unsigned nwants;

static void add_want(struct pd *pd, unsigned kind, u64 base, unsigned order, u64 target,
		     unsigned rights, unsigned flags, u64 parent)
{
	wants[nwants++] = (struct want){ pd, kind, order, rights, flags, base, target, parent, false };
}

static hv_status_t model_insert(struct space *s, u64 base, unsigned order, u64 target,
				unsigned rights, unsigned flags)
{
	if (!model_range_ok(s->kind, base, order) || (s->kind == OBJ && order))
		return HV_EPARAM;
	if (!model_free(s, base, order))
		return HV_EBUSY;
	add_want(s->pd, s->kind, base, order, target, rights, flags, 0);
	return HV_OK;
}

static hv_status_t model_delegate(struct space *src, u64 sb, unsigned order, struct space *dst,
				  u64 db, unsigned rights)
{
	if (src->kind != dst->kind || !model_range_ok(src->kind, sb, order) ||
	    !model_range_ok(dst->kind, db, order) || (src->kind == IO && sb != db))
		return HV_EPARAM;
	if (!model_free(dst, db, order))
		return HV_EBUSY;
	u64 count = 1ull << order;
	if (src->kind == OBJ) {
		unsigned refused = 0;
		for (u64 i = 0; i < count; i++) {
			struct fnode *f = model_find(src, sb + i);
			if (!f)
				continue;
			if ((f->n.flags & MDB_KERNEL) || !(f->n.rights & rights)) {
				refused++;
				continue;
			}
			add_want(dst->pd, OBJ, db + i, 0, f->n.target, f->n.rights & rights, 0, f->serial);
		}
		return nwants ? HV_OK : refused ? HV_EPERM : HV_ECAP;
	}
	struct fnode *f = model_find(src, sb);
	if (!f || sb + count > unit_end(f->n.base, f->n.order))
		return HV_ECAP;
	if ((f->n.flags & MDB_KERNEL) || !(f->n.rights & rights))
		return HV_EPERM;
	add_want(dst->pd, dst->kind, db, order, f->n.target + (sb - f->n.base), f->n.rights & rights,
		 0, f->serial);
	return HV_OK;
}

/* Marks the nodes that have an ancestor (or, with self, are a node) for which pick() holds. */
static unsigned long mark_gone(bool (*pick)(const struct mdb_node *, const void *), const void *arg,
			       bool self)
{
	unsigned long n = 0;
	for (struct fnode *f = live; f; f = f->next) {
		f->gone = false;
		for (struct mdb_node *a = self ? &f->n : f->n.parent; a && !f->gone; a = a->parent)
			f->gone = pick(a, arg);
		n += f->gone;
	}
	return n;
}

struct revoke_arg {
	const struct space *s;
	u64 base, end;
};

static bool pick_revoke(const struct mdb_node *n, const void *arg)
{
	const struct revoke_arg *r = arg;
	return in_space(n, r->s) && n->base >= r->base && unit_end(n->base, n->order) <= r->end &&
	       !(n->flags & MDB_KERNEL);
}

static bool pick_node(const struct mdb_node *n, const void *arg) { return n == arg; }

static bool pick_space(const struct mdb_node *n, const void *arg) { return in_space(n, arg); }

/*
 * After an operation: the old nodes marked gone (`ngone` of `nlive0`, all
 * older than serial `serial0`) are gone and the rest are still there; every
 * new node is a wanted one, and with `all` every wanted one exists.
 */
static void expect_change(u64 serial0, unsigned long nlive0, unsigned long ngone, bool all)
{
	unsigned long old = 0, fresh = 0;
	for (struct fnode *f = live; f; f = f->next) {
		if (f->serial <= serial0) {
			assert_false(f->gone);
			old++;
			continue;
		}
		fresh++;
		struct mdb_node *n = &f->n;
		u64 parent = n->parent ? fnode_of(n->parent)->serial : 0;
		bool found = false;
		for (unsigned i = 0; i < nwants && !found; i++) {
			struct want *w = &wants[i];
			if (!w->seen && w->pd == n->pd && w->kind == n->kind && w->base == n->base &&
			    w->order == n->order && w->target == n->target && w->rights == n->rights &&
			    w->flags == n->flags && w->parent == parent)
				w->seen = found = true;
		}
		if (!found)
			fail_msg("unexpected node pd%u kind %u base 0x%llx order %u rights 0x%x",
				 n->pd->id, n->kind, (unsigned long long)n->base, n->order, n->rights);
	}
	assert_int_equal(old, nlive0 - ngone);
	if (all)
		assert_int_equal(fresh, nwants);
}

static u64 rnd(struct unit_rng *r, u64 n) { return unit_rng_below(r, n); }

static unsigned rights_mask(unsigned kind) { return kind == OBJ ? HV_R_ALL : kind == MEM ? RWX : HV_R_IO; }

/* A base for a range of 2^order units: mostly small and aligned, sometimes not. */
static u64 rnd_base(struct unit_rng *r, unsigned kind, unsigned order)
{
	if (rnd(r, 40) == 0) {
		u64 lim = space_limit(kind);
		switch (rnd(r, 5)) {
		case 0:
			return lim;
		case 1:
			return lim - 1;
		case 2:
			return lim - (1ull << MIN(order, 40u));
		case 3:
			return unit_rng_next(r);
		default:
			return 0;
		}
	}
	u64 b = kind == OBJ && rnd(r, 8) == 0 ? 500 + rnd(r, 24) : rnd(r, kind == OBJ ? 40 : 96);
	if (rnd(r, 16))
		b &= ~((1ull << order) - 1);
	return b;
}

static unsigned rnd_order(struct unit_rng *r, unsigned kind)
{
	if (rnd(r, 40) == 0)
		return (unsigned)rnd(r, 40);
	return (unsigned)rnd(r, kind == OBJ ? 3 : 5);
}

static struct fnode *rnd_live(struct unit_rng *r)
{
	if (!nlive)
		return NULL;
	u64 i = rnd(r, nlive);
	struct fnode *f = live;
	while (i--)
		f = f->next;
	return f;
}

enum { OP_INSERT, OP_DELEGATE, OP_REVOKE, OP_REMOVE, OP_DESTROY, NOPS };
#define NSTATUS (HV_EOVERFLOW + 1)

static void test_random(void **state)
{
	(void)state;
	struct unit_rng r;
	unsigned long stats[NOPS][NSTATUS] = { { 0 } }, removed = 0, emem_partial = 0;
	unsigned long maxdepth = 0, maxlive = 0;
	unit_rng_seed(&r, 0x6d64622d72616e64ull);

	for (unsigned step = 0; step < 8000; step++) {
		unsigned op, x = (unsigned)rnd(&r, 100);
		op = x < 18 ? OP_INSERT : x < 70 ? OP_DELEGATE : x < 94 ? OP_REVOKE : x < 99 ? OP_REMOVE : OP_DESTROY;
		unsigned kind = (unsigned)rnd(&r, 3);
		struct space *s = sp((unsigned)rnd(&r, NPD), kind);
		u64 serial0 = next_serial;
		unsigned long nlive0 = nlive, ngone = 0;
		hv_status_t want = HV_OK, st = HV_OK;
		long *fail = NULL;
		nwants = 0;
		for (struct fnode *f = live; f; f = f->next)
			f->gone = false;
		if ((op == OP_INSERT || op == OP_DELEGATE) && rnd(&r, 12) == 0) {
			long *fails[] = { &fail_node, &fail_leaf, &fail_install };
			fail = fails[rnd(&r, 3)];
			*fail = (long)rnd(&r, 3);
		}

		if (op == OP_INSERT) {
			unsigned order = rnd_order(&r, kind);
			if (kind == OBJ && rnd(&r, 4))
				order = 0;
			u64 base = rnd_base(&r, kind, order);
			u64 target = kind == OBJ ? objt((unsigned)rnd(&r, NOBJ)) : rnd(&r, 1ull << 24);
			unsigned rights = 1 + (unsigned)rnd(&r, rights_mask(kind));
			unsigned flags = rnd(&r, 8) == 0 ? MDB_KERNEL : 0;
			want = model_insert(s, base, order, target, rights, flags);
			st = mdb_insert_root(s, base, order, target, rights, flags);
		} else if (op == OP_DELEGATE) {
			unsigned order = rnd_order(&r, kind);
			u64 sb = rnd_base(&r, kind, order);
			struct fnode *f = rnd(&r, 4) ? rnd_live(&r) : NULL;
			if (f) {
				/* mostly from something that is there: a part of a node */
				kind = f->n.kind;
				s = space_of(f->n.pd, kind);
				order = kind == OBJ ? (unsigned)rnd(&r, 6) : (unsigned)rnd(&r, f->n.order + 1u);
				sb = f->n.base + (rnd(&r, 1ull << f->n.order) & ~((1ull << order) - 1));
				if (kind == OBJ)
					sb &= ~((1ull << order) - 1);
			}
			unsigned dkind = rnd(&r, 100) == 0 ? (unsigned)rnd(&r, 3) : kind;
			struct space *d = sp((unsigned)rnd(&r, NPD), dkind);
			u64 db = rnd_base(&r, dkind, order);
			if (dkind == IO && rnd(&r, 8))
				db = sb;
			unsigned rights = (unsigned)rnd(&r, 4 * rights_mask(kind) + 1) & rights_mask(kind);
			if (rnd(&r, 3))
				rights |= (unsigned)rnd(&r, rights_mask(kind) + 1);
			want = model_delegate(s, sb, order, d, db, rights);
			st = mdb_delegate(s, sb, order, d, db, rights, 0);
		} else if (op == OP_REVOKE) {
			unsigned order = rnd_order(&r, kind);
			u64 base = rnd_base(&r, kind, order);
			bool self = rnd(&r, 2);
			if (model_range_ok(kind, base, order)) {
				struct revoke_arg a = { s, base, unit_end(base, order) };
				ngone = mark_gone(pick_revoke, &a, self);
			} else {
				want = HV_EPARAM;
			}
			st = revoke(s, base, order, self);
		} else if (op == OP_REMOVE) {
			struct fnode *f = rnd_live(&r);
			if (f) {
				ngone = mark_gone(pick_node, &f->n, true);
				mdb_remove(&f->n);
			}
		} else {
			ngone = mark_gone(pick_space, s, true);
			mdb_destroy_space(s);
			for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
				assert_null(s->sel_leaf[i]);
		}
		bool all = true;
		if (fail && want == HV_OK && st == HV_EMEM) {
			all = false;
			emem_partial += nlive > nlive0;
		} else if (st != want) {
			fail_msg("step %u op %u kind %u: status %d, expected %d", step, op, kind, st, want);
		}
		if (fail)
			*fail = -1;
		expect_change(serial0, nlive0, ngone, all);
		removed += ngone;
		stats[op][st]++;
		maxlive = MAX(maxlive, nlive);
		maxdepth = MAX(maxdepth, check_all(step % 8 == 0));
	}

	print_message("random: max %lu nodes, depth %lu, %lu removed; delegate ok %lu ebusy %lu "
		      "ecap %lu eperm %lu eparam %lu emem %lu (%lu partial)\n",
		      maxlive, maxdepth, removed, stats[OP_DELEGATE][HV_OK], stats[OP_DELEGATE][HV_EBUSY],
		      stats[OP_DELEGATE][HV_ECAP], stats[OP_DELEGATE][HV_EPERM],
		      stats[OP_DELEGATE][HV_EPARAM], stats[OP_DELEGATE][HV_EMEM], emem_partial);
	/* the run covered what it is meant to cover */
	for (unsigned st = HV_OK; st < NSTATUS; st++) {
		bool expected = st == HV_OK || st == HV_EBUSY || st == HV_EPARAM || st == HV_EMEM ||
				st == HV_ECAP || st == HV_EPERM;
		if (expected)
			assert_true(stats[OP_DELEGATE][st] >= 5);
		else
			assert_int_equal(stats[OP_DELEGATE][st], 0);
	}
	assert_true(stats[OP_INSERT][HV_OK] >= 100);
	assert_true(stats[OP_INSERT][HV_EBUSY] >= 5);
	assert_true(stats[OP_INSERT][HV_EPARAM] >= 5);
	assert_true(stats[OP_INSERT][HV_EMEM] >= 5);
	assert_true(stats[OP_REVOKE][HV_EPARAM] >= 5);
	assert_true(removed >= 1000);
	assert_true(maxdepth >= 5);
	assert_true(emem_partial >= 1);
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_obj, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_mem_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_emem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_abandoned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
