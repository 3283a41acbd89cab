/*
 * The four kinds of space a PD has, as the mapping database sees them:
 * installing a node makes the hardware follow (a capability reference,
 * page-table or EPT/NPT entries, cleared I/O-bitmap bits; device memory
 * uncached or write-combining, DMA memory also in the IOMMU); uninstalling
 * undoes it, and TLBs and IOTLBs forget it once per operation, at space_flush().
 */
#include "kernel.h"
#include "objects.h"
#include <arch/iommu.h>
#include <arch/paging.h>
#include <arch/smp.h>
#include <arch/virt.h>

struct mdb_node *mdb_node_alloc(struct pd *pd) { return kmem_alloc(&pd->quota, sizeof(struct mdb_node)); }

void mdb_node_free(struct pd *pd, struct mdb_node *n) { kmem_free(&pd->quota, n, sizeof(*n)); }

struct mdb_node **mdb_leaf_alloc(struct pd *pd) { return kmem_alloc(&pd->quota, PAGE_SIZE); }

void mdb_leaf_free(struct pd *pd, struct mdb_node **leaf) { kmem_free(&pd->quota, leaf, PAGE_SIZE); }

struct space *space_of(struct pd *pd, unsigned kind) { return &pd->spaces[kind]; }

static u64 io_generation;

static bool io_set(struct pd *pd, u64 first, u64 count, bool allow)
{
	for (int i = 0; i < 2; i++) {
		if (pd->io_bitmap[i])
			continue;
		pd->io_bitmap[i] = kmem_alloc(&pd->quota, PAGE_SIZE);
		if (!pd->io_bitmap[i])
			return false;
		memset(pd->io_bitmap[i], 0xff, PAGE_SIZE);
	}
	for (u64 p = first; p < first + count; p++) {
		u8 *byte = &pd->io_bitmap[p >> 15][(p & 0x7fff) >> 3];
		u8 bit = (u8)(1u << (p & 7));
		*byte = allow ? (u8)(*byte & ~bit) : (u8)(*byte | bit);
	}
	pd->io_gen = ++io_generation;
	return true;
}

bool space_install(struct space *s, struct mdb_node *n)
{
	u64 count = 1ull << n->order;
	switch (s->kind) {
	case HV_KIND_OBJ:
		obj_get((struct kobj *)n->target);
		return true;
	case HV_KIND_MEM: {
		if (n->flags & MDB_NOMAP)
			return true;
		unsigned cache = !(n->flags & MDB_DEVICE) ? 0 : n->flags & MDB_WC ? PAGING_WC : PAGING_UC;
		if (paging_map(s->pd, n->base << PAGE_SHIFT, n->target << PAGE_SHIFT, count, n->rights | cache) &&
		    (!(n->flags & MDB_DMA) || iommu_map(s->pd, n->target << PAGE_SHIFT, n->target << PAGE_SHIFT, count,
							 n->rights & HV_R_MEM_W)))
			return true;
		paging_unmap(s->pd, n->base << PAGE_SHIFT, count);
		tlb_flush_pending();
		return false;
	}
	case HV_KIND_IO:
		return io_set(s->pd, n->base, count, true);
	case HV_KIND_GMEM:
		if (gpt_map(s->pd, n->base << PAGE_SHIFT, n->target << PAGE_SHIFT, count, n->rights))
			return true;
		gpt_unmap(s->pd, n->base << PAGE_SHIFT, count);
		tlb_flush_pending();
		return false;
	}
	return false;
}

void space_uninstall(struct space *s, struct mdb_node *n)
{
	u64 count = 1ull << n->order;
	switch (s->kind) {
	case HV_KIND_OBJ:
		obj_put((struct kobj *)n->target);
		break;
	case HV_KIND_MEM:
		if (!(n->flags & MDB_NOMAP))
			paging_unmap(s->pd, n->base << PAGE_SHIFT, count);
		if (n->flags & MDB_DMA)
			iommu_unmap(s->pd, n->target << PAGE_SHIFT, count);
		break;
	case HV_KIND_IO:
		io_set(s->pd, n->base, count, false);
		tlb_invalidate(s->pd); /* a CPU running the PD has its bitmap in the TSS */
		break;
	case HV_KIND_GMEM:
		gpt_unmap(s->pd, n->base << PAGE_SHIFT, count);
		break;
	}
}

void space_flush(void)
{
	tlb_flush_pending();
	iommu_flush();
}
