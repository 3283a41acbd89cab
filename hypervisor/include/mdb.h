/*
 * Mapping database: every capability, memory mapping and I/O port range a
 * PD holds is a node in a derivation tree. Delegation adds a child with
 * equal or fewer rights; revocation removes a node's whole subtree.
 * The spaces (object, memory, I/O) hold the nodes by base; space.c makes
 * the hardware follow (page tables, I/O bitmaps, capability tables).
 */
#ifndef HV_MDB_H
#define HV_MDB_H

#include "types.h"
#include <hv/abi.h>

struct pd;
struct kobj;

#define MDB_KERNEL 0x1 /* placed by the kernel (UTCB): cannot be delegated or revoked */

struct mdb_node {
	struct mdb_node *parent, *child, *sibling, *prev_sibling;
	struct mdb_node *snext; /* next node of the same space, by base */
	struct pd *pd;          /* holder */
	u64 base;               /* in units of the space: selector, page, port */
	u64 target;             /* object pointer, physical page number, port */
	u8 order, kind, rights, flags;
};

/* A space of one kind in one PD. OBJ spaces also index by selector. */
struct space {
	struct mdb_node *list;
	struct mdb_node **sel_leaf[HV_SEL_MAX / 512];
	unsigned kind;
	struct pd *pd;
};

#define MDB_MAX_ORDER(kind) ((kind) == HV_KIND_OBJ ? 13u : (kind) == HV_KIND_IO ? 16u : 36u)
#define MDB_GMEM_PAGES (1ull << 27) /* guest-physical space: 512 GiB */

struct mdb_node *mdb_find(struct space *s, u64 base);
hv_status_t mdb_insert_root(struct space *s, u64 base, unsigned order, u64 target,
			    unsigned rights, unsigned flags);
hv_status_t mdb_delegate(struct space *src, u64 src_base, unsigned order, struct space *dst,
			 u64 dst_base, unsigned rights);
hv_status_t mdb_revoke(struct space *s, u64 base, unsigned order, bool self);
void mdb_destroy_space(struct space *s);
void mdb_remove(struct mdb_node *n);
hv_status_t mdb_check_free(struct space *s, u64 base, unsigned order);
bool mdb_range_ok(unsigned kind, u64 base, unsigned order);

/* Provided by the space implementation (space.c, or a fake in unit tests). */
struct mdb_node *mdb_node_alloc(struct pd *pd);
void mdb_node_free(struct pd *pd, struct mdb_node *n);
struct mdb_node **mdb_leaf_alloc(struct pd *pd); /* 512 zeroed pointers */
void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf);
bool space_install(struct space *s, struct mdb_node *n);
void space_uninstall(struct space *s, struct mdb_node *n);
struct space *space_of(struct pd *pd, unsigned kind);

#endif
