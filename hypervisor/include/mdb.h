/*
 * Mapping database: every capability, memory mapping and I/O port range a
 * PD holds is a node in a derivation tree. Delegation adds a child with
 * equal or fewer rights; revocation removes a node's whole subtree.
 * The spaces (object, memory, I/O, guest memory) hold the nodes in a
 * balanced tree by base; space.c makes the hardware follow (page tables,
 * I/O bitmaps, capability references).
 */
#ifndef HV_MDB_H
#define HV_MDB_H

#include "types.h"
#include <hv/abi.h>

struct pd;
struct kobj;

#define MDB_KERNEL 0x1 /* placed by the kernel (UTCB): cannot be delegated or revoked */
#define MDB_DEVICE 0x2 /* device memory: mapped uncached or MDB_WC; inherited; never DMA, never guest memory */
#define MDB_DMA 0x4    /* RAM the PD's assigned devices may reach at IOVA = physical (HV_ITEM_DMA) */
#define MDB_WC 0x8     /* device memory mapped write-combining (HV_ITEM_WC) */
#define MDB_NOMAP 0x10 /* not in the page tables (the roottask's device memory roots) */

struct mdb_node {
	struct mdb_node *parent, *child, *sibling, *prev_sibling; /* derivation tree */
	struct mdb_node *kid[2], *up; /* AVL tree of its space, by base */
	struct pd *pd;          /* holder */
	u64 base;               /* in units of the space: selector, page, port */
	u64 target;             /* object pointer, physical page number, port */
	u8 order, kind, rights, flags, height; /* height: of its AVL subtree */
};

/* A space of one kind in one PD. OBJ spaces also index by selector. */
struct space {
	struct mdb_node *root;
	struct mdb_node **sel_leaf[HV_SEL_MAX / 512];
	unsigned kind;
	struct pd *pd;
};

#define MDB_MAX_ORDER(kind) ((kind) == HV_KIND_OBJ ? 13u : (kind) == HV_KIND_IO ? 16u : 36u)
#define MDB_GMEM_PAGES (1ull << 27) /* guest-physical space: 512 GiB */
#define MDB_BUDGET 256 /* work units of one revoke call before the system call restarts */

struct mdb_node *mdb_find(struct space *s, u64 base);
struct mdb_node *mdb_ceil(struct space *s, u64 unit);
struct mdb_node *mdb_next(struct mdb_node *n);
hv_status_t mdb_insert_root(struct space *s, u64 base, unsigned order, u64 target,
			    unsigned rights, unsigned flags);
hv_status_t mdb_delegate(struct space *src, u64 src_base, unsigned order, struct space *dst,
			 u64 dst_base, unsigned rights, unsigned flags);
hv_status_t mdb_revoke(struct space *s, u64 base, unsigned order, bool self, u64 *from, unsigned budget);
void mdb_destroy_space(struct space *s);
void mdb_remove(struct mdb_node *n);
hv_status_t mdb_check_free(struct space *s, u64 base, unsigned order);
bool mdb_range_ok(unsigned kind, u64 base, unsigned order);

/* Provided by the space implementation (space.c, or a fake in unit tests). */
struct mdb_node *mdb_node_alloc(struct pd *pd); /* zeroed */
void mdb_node_free(struct pd *pd, struct mdb_node *n);
struct mdb_node **mdb_leaf_alloc(struct pd *pd); /* 512 zeroed pointers */
void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf);
bool space_install(struct space *s, struct mdb_node *n);
void space_uninstall(struct space *s, struct mdb_node *n); /* takes effect at space_flush() */
void space_flush(void); /* every operation that uninstalled something calls it before it returns */
struct space *space_of(struct pd *pd, unsigned kind);

#endif
