/*
 * The parts of the VT-d driver (iommu.c) that touch no hardware (vtd.c,
 * unit-tested on the host): the remapping units of the ACPI DMAR table
 * and the second-level page tables of the PDs' DMA spaces.
 */
#ifndef ARCH_VTD_H
#define ARCH_VTD_H

#include "types.h"

struct kmem_quota;

#define VTD_MAX_UNITS 4

struct vtd_drhd {
	paddr_t base;  /* register set */
	unsigned pages; /* its size */
	u16 segment;   /* PCI segment of the devices behind it */
};

/* The DRHD structures of a DMAR table (length from its header, checked by
 * acpi.c), at most max into out. Returns how many there are (may be more
 * than max), or -1 if the table is malformed. */
int vtd_parse_dmar(const void *dmar, struct vtd_drhd *out, unsigned max);

/* Second-level tables of `levels` levels (3: 39-bit, 4: 48-bit IOVAs),
 * 4 KiB pages, tables charged to q. A zeroed table (a root), or NULL. */
u64 *vtd_pt_alloc(struct kmem_quota *q);
/* Maps npages at iova -> pa, read-only unless writable; *stale is set if a
 * present entry was replaced (the IOTLB may hold it). False when out of
 * memory: then no entry changed (tables made on the way stay). */
bool vtd_pt_map(struct kmem_quota *q, u64 *root, unsigned levels, u64 iova, u64 pa, u64 npages,
		bool writable, bool *stale);
void vtd_pt_unmap(u64 *root, unsigned levels, u64 iova, u64 npages);
/* Frees every table from root down. */
void vtd_pt_free(struct kmem_quota *q, u64 *root, unsigned levels);

/* Writes [p, p+n) back to memory if the units' page walks do not snoop
 * the CPU caches (iommu.c). */
void vtd_sync(const volatile void *p, size_t n);

#endif
