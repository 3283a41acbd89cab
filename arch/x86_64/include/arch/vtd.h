/* What the VT-d driver (iommu.c) does without hardware (vtd.c, unit-tested). */
#ifndef ARCH_VTD_H
#define ARCH_VTD_H

#include "types.h"

struct kmem_quota;

#define VTD_MAX_UNITS 4

struct vtd_drhd {
	paddr_t base;   /* register set */
	unsigned pages; /* its size */
	u16 segment;    /* PCI segment of the devices behind it */
	int ioapic_sid; /* requester id of the one IOAPIC in its scope, else -1 */
};

/* The DRHDs of a DMAR table (its length checked by acpi.c), at most max into
 * out. Returns how many there are (maybe more than max), -1 if malformed. */
int vtd_parse_dmar(const void *dmar, struct vtd_drhd *out, unsigned max);

/* Tables of `levels` levels (3: 39-bit, 4: 48-bit IOVAs) and 4 KiB pages,
 * charged to q. vtd_pt_alloc: a zeroed table (a root), or NULL. vtd_pt_map:
 * *stale is set if a present entry was replaced; false when out of memory,
 * and then no entry changed. */
u64 *vtd_pt_alloc(struct kmem_quota *q);
bool vtd_pt_map(struct kmem_quota *q, u64 *root, unsigned levels, u64 iova, u64 pa, u64 npages,
		bool writable, bool *stale);
void vtd_pt_unmap(u64 *root, unsigned levels, u64 iova, u64 npages);
void vtd_pt_free(struct kmem_quota *q, u64 *root, unsigned levels);

/* Interrupt remapping (spec. 5.1.4, 9.10): the interrupt remapping table
 * entry (2 qwords) sending vector to xAPIC id apic_id, fixed, physical,
 * edge or level, accepted only from requester id sid (any if sid < 0). */
void vtd_irte(u64 e[2], u8 vector, u32 apic_id, bool level, int sid);
/* The remappable-format MSI address of entry handle (< 32768; the data is
 * 0: no subhandle) and the upper half of an IOAPIC redirection entry. */
u32 vtd_msi_address(unsigned handle);
u32 vtd_rte_high(unsigned handle);

/* Writes [p, p+n) back to memory if page walks do not snoop caches (iommu.c). */
void vtd_sync(const volatile void *p, size_t n);

#endif
