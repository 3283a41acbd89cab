/*
 * Mapping database: derivation trees of capabilities and mappings. Pure
 * logic over struct space; the hardware side lives behind space_install(),
 * space_uninstall() and space_flush(). Also compiled into host unit tests
 * and the host benchmark (bench/mdb.c). A space keeps its (disjoint) nodes
 * in an AVL tree by base: find, insert, remove and free checks are
 * O(log n); object spaces also index selectors directly (sel_leaf).
 *
 * Revocation does bounded work per call and says where to go on. It
 * removes a node with few children at once, moving them up to its parent
 * (being revoked too: nothing leaves the revoked subtree, and the removed
 * node's holder loses nothing more); it steps into nodes with many. The
 * database is consistent between any two steps.
 */
#include "mdb.h"

#define MOVE_MAX 8 /* children moved up at once; a node with more is stepped into */

static u64 node_end(const struct mdb_node *n) { return n->base + (1ull << n->order); }

static struct mdb_node **sel_slot(struct space *s, u64 sel, bool *ok)
{
	*ok = sel < HV_SEL_MAX && s->sel_leaf[sel / 512];
	return *ok ? &s->sel_leaf[sel / 512][sel % 512] : NULL;
}

static unsigned height(const struct mdb_node *n) { return n ? n->height : 0; }

static void update(struct mdb_node *n) { n->height = (u8)(1 + MAX(height(n->kid[0]), height(n->kid[1]))); }

/* Puts `to` where `from` hangs below p (the root if p is NULL). */
static void replace(struct space *s, struct mdb_node *p, struct mdb_node *from, struct mdb_node *to)
{
	if (!p)
		s->root = to;
	else
		p->kid[p->kid[1] == from] = to;
	if (to)
		to->up = p;
}

/* Lifts n's child on side d into n's place; returns it. */
static struct mdb_node *rotate(struct space *s, struct mdb_node *n, unsigned d)
{
	struct mdb_node *c = n->kid[d], *m = c->kid[!d];
	n->kid[d] = m;
	if (m)
		m->up = n;
	replace(s, n->up, n, c);
	c->kid[!d] = n;
	n->up = c;
	update(n);
	update(c);
	return c;
}

/* Restores heights and balance from n up to the root. */
static void rebalance(struct space *s, struct mdb_node *n)
{
	for (; n; n = n->up) {
		int b = (int)height(n->kid[1]) - (int)height(n->kid[0]);
		if (b < -1 || b > 1) {
			unsigned d = b > 0;
			struct mdb_node *c = n->kid[d];
			if (height(c->kid[!d]) > height(c->kid[d]))
				rotate(s, c, !d);
			n = rotate(s, n, d);
		} else {
			update(n);
		}
	}
}

static void tree_insert(struct space *s, struct mdb_node *n)
{
	struct mdb_node *p = NULL, **pp = &s->root;
	while (*pp) {
		p = *pp;
		pp = &p->kid[n->base > p->base];
	}
	*pp = n; /* its links are NULL: new from mdb_node_alloc() */
	n->up = p;
	n->height = 1;
	rebalance(s, p);
}

static void tree_remove(struct space *s, struct mdb_node *n)
{
	struct mdb_node *fix;
	if (n->kid[0] && n->kid[1]) {
		/* its successor (no left child) takes its place */
		struct mdb_node *y = n->kid[1];
		while (y->kid[0])
			y = y->kid[0];
		fix = y;
		if (y->up != n) {
			fix = y->up;
			replace(s, y->up, y, y->kid[1]);
			y->kid[1] = n->kid[1];
			y->kid[1]->up = y;
		}
		y->kid[0] = n->kid[0];
		y->kid[0]->up = y;
		replace(s, n->up, n, y);
	} else {
		fix = n->up;
		replace(s, n->up, n, n->kid[!n->kid[0]]);
	}
	rebalance(s, fix);
	n->kid[0] = n->kid[1] = n->up = NULL;
}

/* The node of s with the greatest base <= unit (below) or the smallest base >= unit, or NULL. */
static struct mdb_node *nearest(struct space *s, u64 unit, bool below)
{
	struct mdb_node *best = NULL;
	for (struct mdb_node *n = s->root; n; n = n->kid[n->base < unit || (below && n->base == unit)])
		if (below ? n->base <= unit : n->base >= unit)
			best = n;
	return best;
}

struct mdb_node *mdb_ceil(struct space *s, u64 unit) { return nearest(s, unit, false); }

/* The next node of n's space by base, or NULL. */
struct mdb_node *mdb_next(struct mdb_node *n)
{
	if (n->kid[1]) {
		for (n = n->kid[1]; n->kid[0]; n = n->kid[0])
			;
		return n;
	}
	while (n->up && n->up->kid[1] == n)
		n = n->up;
	return n->up;
}

/* The node of space s whose range contains unit `base`, or NULL. */
struct mdb_node *mdb_find(struct space *s, u64 base)
{
	if (s->kind == HV_KIND_OBJ) {
		bool ok;
		struct mdb_node **slot = sel_slot(s, base, &ok);
		return ok ? *slot : NULL;
	}
	struct mdb_node *n = nearest(s, base, true);
	return n && base < node_end(n) ? n : NULL;
}

/* HV_OK if no node of s overlaps [base, base + 2^order). */
hv_status_t mdb_check_free(struct space *s, u64 base, unsigned order)
{
	struct mdb_node *n = nearest(s, base + (1ull << order) - 1, true);
	return n && node_end(n) > base ? HV_EBUSY : HV_OK;
}

static bool index_insert(struct space *s, struct mdb_node *n)
{
	if (s->kind != HV_KIND_OBJ)
		return true;
	bool ok;
	struct mdb_node **slot = sel_slot(s, n->base, &ok);
	if (!ok)
		return false;
	*slot = n;
	return true;
}

static void index_remove(struct space *s, struct mdb_node *n)
{
	bool ok;
	struct mdb_node **slot = s->kind == HV_KIND_OBJ ? sel_slot(s, n->base, &ok) : NULL;
	if (slot && *slot == n)
		*slot = NULL;
}

static void link_child(struct mdb_node *parent, struct mdb_node *n)
{
	n->parent = parent;
	if (!parent)
		return;
	n->sibling = parent->child;
	if (parent->child)
		parent->child->prev_sibling = n;
	parent->child = n;
}

static void unlink_child(struct mdb_node *n)
{
	if (!n->parent)
		return;
	if (n->prev_sibling)
		n->prev_sibling->sibling = n->sibling;
	else
		n->parent->child = n->sibling;
	if (n->sibling)
		n->sibling->prev_sibling = n->prev_sibling;
	n->parent = n->sibling = n->prev_sibling = NULL;
}

static hv_status_t add_node(struct space *s, struct mdb_node *parent, u64 base, unsigned order,
			    u64 target, unsigned rights, unsigned flags)
{
	if (s->kind == HV_KIND_OBJ && !s->sel_leaf[base / 512]) {
		s->sel_leaf[base / 512] = mdb_leaf_alloc(s->pd);
		if (!s->sel_leaf[base / 512])
			return HV_EMEM;
	}
	struct mdb_node *n = mdb_node_alloc(s->pd);
	if (!n)
		return HV_EMEM;
	n->pd = s->pd;
	n->base = base;
	n->order = (u8)order;
	n->kind = (u8)s->kind;
	n->target = target;
	n->rights = (u8)rights;
	n->flags = (u8)flags;
	if (!index_insert(s, n) || !space_install(s, n)) {
		index_remove(s, n);
		mdb_node_free(s->pd, n);
		return HV_EMEM;
	}
	tree_insert(s, n);
	link_child(parent, n);
	return HV_OK;
}

static bool range_ok(unsigned kind, u64 base, unsigned order)
{
	if (order > MDB_MAX_ORDER(kind) || (base & ((1ull << order) - 1)))
		return false;
	u64 limit = kind == HV_KIND_OBJ ? HV_SEL_MAX : kind == HV_KIND_IO ? 0x10000
		  : kind == HV_KIND_GMEM ? MDB_GMEM_PAGES : HV_USER_END >> 12;
	return base < limit && base + (1ull << order) <= limit;
}

/* Whether [base, +2^order) is an aligned range inside a space of `kind`. */
bool mdb_range_ok(unsigned kind, u64 base, unsigned order) { return range_ok(kind, base, order); }

/*
 * A node without parent: a capability or mapping the kernel hands out.
 * Object nodes cover one selector each (the selector index has one slot
 * per node).
 */
hv_status_t mdb_insert_root(struct space *s, u64 base, unsigned order, u64 target,
			    unsigned rights, unsigned flags)
{
	if (!range_ok(s->kind, base, order) || (s->kind == HV_KIND_OBJ && order))
		return HV_EPARAM;
	if (mdb_check_free(s, base, order) != HV_OK)
		return HV_EBUSY;
	return add_node(s, NULL, base, order, target, rights, flags);
}

/*
 * Derives [dst_base, +2^order) in dst from [src_base, +2^order) in src with
 * the rights masked by `rights`. Object ranges are delegated selector by
 * selector (empty selectors are skipped); memory and I/O ranges must lie
 * inside one source node; I/O ports keep their numbers (dst = src).
 * Validates everything before changing anything, except that an object
 * range can stop half-way when memory runs out. A memory node gets
 * `flags` (MDB_DMA for RAM, MDB_WC for device memory, else HV_EPARAM) and
 * inherits MDB_DEVICE; device memory never goes into a guest (HV_EPARAM).
 */
hv_status_t mdb_delegate(struct space *src, u64 src_base, unsigned order, struct space *dst,
			 u64 dst_base, unsigned rights, unsigned flags)
{
	/* host memory may also be delegated into a guest-physical space */
	bool to_guest = src->kind == HV_KIND_MEM && dst->kind == HV_KIND_GMEM;
	if ((src->kind != dst->kind && !to_guest) || !range_ok(src->kind, src_base, order) ||
	    !range_ok(dst->kind, dst_base, order))
		return HV_EPARAM;
	if (src->kind == HV_KIND_IO && src_base != dst_base)
		return HV_EPARAM; /* the I/O bitmap follows the base: ports keep their numbers */
	if (mdb_check_free(dst, dst_base, order) != HV_OK)
		return HV_EBUSY;
	u64 count = 1ull << order;
	if (src->kind == HV_KIND_OBJ) {
		unsigned done = 0, refused = 0;
		for (struct mdb_node *n = mdb_ceil(src, src_base), *next; n && n->base < src_base + count; n = next) {
			next = mdb_next(n); /* before dst (maybe src itself) grows */
			if ((n->flags & MDB_KERNEL) || !(n->rights & rights)) {
				refused++;
				continue;
			}
			hv_status_t st = add_node(dst, n, dst_base + (n->base - src_base), 0, n->target,
						  n->rights & rights, 0);
			if (st != HV_OK)
				return st;
			done++;
		}
		return done ? HV_OK : refused ? HV_EPERM : HV_ECAP;
	}
	struct mdb_node *n = mdb_find(src, src_base);
	if (!n || src_base + count > node_end(n))
		return HV_ECAP;
	if (n->flags & MDB_KERNEL)
		return HV_EPERM;
	if (!(n->rights & rights))
		return HV_EPERM;
	unsigned dev = n->flags & MDB_DEVICE;
	if ((flags & ~(MDB_DMA | MDB_WC)) || (flags & (dev ? MDB_DMA : MDB_WC)) || (dev && to_guest))
		return HV_EPARAM;
	return add_node(dst, n, dst_base, order, n->target + (src_base - n->base), n->rights & rights, dev | flags);
}

static void remove_node(struct mdb_node *n)
{
	struct space *s = space_of(n->pd, n->kind);
	space_uninstall(s, n);
	index_remove(s, n);
	tree_remove(s, n);
	unlink_child(n);
	mdb_node_free(n->pd, n);
}

/* Hangs n's children (`last` is the last of them) below n's parent. */
static void move_children_up(struct mdb_node *n, struct mdb_node *last)
{
	struct mdb_node *p = n->parent;
	for (struct mdb_node *c = n->child; c; c = c->sibling)
		c->parent = p;
	last->sibling = p->child;
	p->child->prev_sibling = last; /* n is one of p's children */
	p->child = n->child;
	n->child = NULL;
}

/*
 * Removes descendants of top until none is left or *work is used up (at
 * least one): one unit per removal and per child moved up. Steps down are
 * free: each passes a node of more than MOVE_MAX children, so there are
 * at most log to the base MOVE_MAX + 1 of the node count per removal.
 */
static void remove_subtree(struct mdb_node *top, s64 *work)
{
	struct mdb_node *n = top->child;
	while (n && *work > 0) {
		struct mdb_node *last = NULL;
		unsigned k = 0;
		for (struct mdb_node *c = n->child; c && k <= MOVE_MAX; c = c->sibling, k++)
			last = c;
		if (k > MOVE_MAX) {
			n = n->child;
			continue;
		}
		struct mdb_node *p = n->parent;
		if (k)
			move_children_up(n, last);
		remove_node(n);
		*work -= 1 + k;
		n = p == top ? top->child : p;
	}
}

/*
 * Revokes, for every node of s inside [*from, base + 2^order), everything
 * derived from it; with `self` also the node itself. Kernel nodes stay.
 * Stops after about `budget` units of work (a node passed, a removal, a
 * child moved up), always making progress, and leaves in *from where to
 * go on (the range's end when done). HV_EPARAM: bad range or *from.
 */
hv_status_t mdb_revoke(struct space *s, u64 base, unsigned order, bool self, u64 *from, unsigned budget)
{
	if (!range_ok(s->kind, base, order))
		return HV_EPARAM;
	u64 end = base + (1ull << order);
	if (*from < base || *from > end)
		return HV_EPARAM;
	s64 work = budget;
	struct mdb_node *n = mdb_ceil(s, *from);
	while (n && node_end(n) <= end && work > 0) {
		if ((n->flags & MDB_KERNEL) || !(n->child || self)) {
			work--;
			n = mdb_next(n);
			continue;
		}
		remove_subtree(n, &work);
		if (n->child)
			break; /* out of work inside its subtree: go on with n */
		u64 next = node_end(n);
		if (self) {
			remove_node(n);
			work--;
		}
		n = mdb_ceil(s, next); /* its subtree may have held the node after it */
	}
	*from = n && node_end(n) <= end ? n->base : end;
	space_flush();
	return HV_OK;
}

/* Removes n with its whole subtree, however long that takes. */
static void remove_all(struct mdb_node *n)
{
	s64 work = INT64_MAX;
	remove_subtree(n, &work);
	remove_node(n);
}

/* Removes all nodes of a space (its PD is going away), with their subtrees. */
void mdb_destroy_space(struct space *s)
{
	while (s->root)
		remove_all(s->root);
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
		if (s->sel_leaf[i]) {
			mdb_leaf_free(s->pd, s->sel_leaf[i]);
			s->sel_leaf[i] = NULL;
		}
	space_flush();
}

/* Removes one node (kernel nodes included) with everything derived from it. */
void mdb_remove(struct mdb_node *n)
{
	remove_all(n);
	space_flush();
}
