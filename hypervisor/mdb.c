/*
 * Mapping database: derivation trees of capabilities and mappings. Pure
 * logic over struct space; the hardware side lives behind space_install()
 * and space_uninstall(). Compiled into the kernel and into host unit tests.
 */
#include "mdb.h"

static u64 node_end(const struct mdb_node *n) { return n->base + (1ull << n->order); }

static struct mdb_node **sel_slot(struct space *s, u64 sel, bool *ok)
{
	*ok = sel < HV_SEL_MAX && s->sel_leaf[sel / 512];
	return *ok ? &s->sel_leaf[sel / 512][sel % 512] : NULL;
}

/* The node of space s whose range contains unit `base`, or NULL. */
struct mdb_node *mdb_find(struct space *s, u64 base)
{
	if (s->kind == HV_KIND_OBJ) {
		bool ok;
		struct mdb_node **slot = sel_slot(s, base, &ok);
		return ok ? *slot : NULL;
	}
	for (struct mdb_node *n = s->list; n && n->base <= base; n = n->snext)
		if (base < node_end(n))
			return n;
	return NULL;
}

/* HV_OK if no node of s overlaps [base, base + 2^order). */
hv_status_t mdb_check_free(struct space *s, u64 base, unsigned order)
{
	u64 end = base + (1ull << order);
	if (s->kind == HV_KIND_OBJ) {
		for (u64 sel = base; sel < end; sel++)
			if (mdb_find(s, sel))
				return HV_EBUSY;
		return HV_OK;
	}
	for (struct mdb_node *n = s->list; n && n->base < end; n = n->snext)
		if (node_end(n) > base)
			return HV_EBUSY;
	return HV_OK;
}

static void list_insert(struct space *s, struct mdb_node *n)
{
	struct mdb_node **pp = &s->list;
	while (*pp && (*pp)->base < n->base)
		pp = &(*pp)->snext;
	n->snext = *pp;
	*pp = n;
}

static void list_remove(struct space *s, struct mdb_node *n)
{
	for (struct mdb_node **pp = &s->list; *pp; pp = &(*pp)->snext)
		if (*pp == n) {
			*pp = n->snext;
			return;
		}
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
	list_insert(s, n);
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
 * range can stop half-way when memory runs out.
 */
hv_status_t mdb_delegate(struct space *src, u64 src_base, unsigned order, struct space *dst,
			 u64 dst_base, unsigned rights)
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
		for (u64 i = 0; i < count; i++) {
			struct mdb_node *n = mdb_find(src, src_base + i);
			if (!n)
				continue;
			if ((n->flags & MDB_KERNEL) || !(n->rights & rights)) {
				refused++;
				continue;
			}
			hv_status_t st = add_node(dst, n, dst_base + i, 0, n->target, n->rights & rights, 0);
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
	return add_node(dst, n, dst_base, order, n->target + (src_base - n->base), n->rights & rights, 0);
}

static void remove_node(struct mdb_node *n)
{
	struct space *s = space_of(n->pd, n->kind);
	space_uninstall(s, n);
	index_remove(s, n);
	list_remove(s, n);
	unlink_child(n);
	mdb_node_free(n->pd, n);
}

/* Removes every descendant of n, deepest first, without recursion. */
static void remove_subtree(struct mdb_node *top)
{
	struct mdb_node *n = top->child;
	while (n) {
		if (n->child) {
			n = n->child;
			continue;
		}
		struct mdb_node *up = n->parent;
		remove_node(n);
		n = up == top ? top->child : up;
	}
}

/*
 * Revokes, for every node of s inside [base, base+2^order), everything
 * derived from it; with `self` also the node itself. Kernel nodes stay.
 */
hv_status_t mdb_revoke(struct space *s, u64 base, unsigned order, bool self)
{
	if (!range_ok(s->kind, base, order))
		return HV_EPARAM;
	u64 end = base + (1ull << order);
	for (;;) {
		struct mdb_node *victim = NULL;
		if (s->kind == HV_KIND_OBJ) {
			for (u64 sel = base; sel < end && !victim; sel++) {
				struct mdb_node *n = mdb_find(s, sel);
				if (n && !(n->flags & MDB_KERNEL) && (n->child || self))
					victim = n;
			}
		} else {
			for (struct mdb_node *n = s->list; n && n->base < end && !victim; n = n->snext)
				if (n->base >= base && node_end(n) <= end && !(n->flags & MDB_KERNEL) &&
				    (n->child || self))
					victim = n;
		}
		if (!victim)
			return HV_OK;
		remove_subtree(victim);
		if (self)
			remove_node(victim);
	}
}

/* Removes all nodes of a space (its PD is going away), with their subtrees. */
void mdb_destroy_space(struct space *s)
{
	while (s->list) {
		struct mdb_node *n = s->list;
		remove_subtree(n);
		remove_node(n);
	}
	for (unsigned i = 0; i < HV_SEL_MAX / 512; i++)
		if (s->sel_leaf[i]) {
			mdb_leaf_free(s->pd, s->sel_leaf[i]);
			s->sel_leaf[i] = NULL;
		}
}

/* Removes one node (kernel nodes included) with everything derived from it. */
void mdb_remove(struct mdb_node *n)
{
	remove_subtree(n);
	remove_node(n);
}
