/*
 * DMA remapping (Intel VT-d). Each PD that drivers run in has one DMA
 * space: an IOMMU page table mapping I/O virtual address = physical
 * address for exactly the pages delegated to it with HV_ITEM_DMA. A PCI
 * device assigned to the PD (assign_dev) translates its DMA through that
 * table; every other device is blocked. Without an IOMMU every call here
 * succeeds and does nothing: devices then reach all memory, and the boot
 * log says so. Interrupt remapping where the units have it: see iommu_irte.
 */
#ifndef ARCH_IOMMU_H
#define ARCH_IOMMU_H

#include "types.h"
#include <hv/hip.h>

struct pd;

/* The IOMMUs' register pages (from acpi.dmar; callable before
 * iommu_init()): they are the kernel's and never device memory a driver
 * can get. Writes up to max physical page addresses, returns how many. */
unsigned iommu_reg_pages(u64 *out, unsigned max);
/* After acpi_init(): finds the DMAR table, sets up remapping (every device
 * blocked) and the fault interrupt. Returns the enum hv_iommu_kind. */
unsigned iommu_init(void);
/* The devices with requester id bdf send DMA through pd's DMA space from
 * now on (HV_EBUSY: assigned to another PD; HV_EMEM: pd's quota). */
hv_status_t iommu_assign(struct pd *pd, u16 bdf);
/* The device is blocked again (if it is pd's). */
void iommu_release(struct pd *pd, u16 bdf);
/* Maps npages at iova -> pa in pd's DMA space (page tables from pd's
 * quota); false when out of memory (then nothing new is mapped). */
bool iommu_map(struct pd *pd, u64 iova, u64 pa, u64 npages, bool writable);
/* Unmaps; the IOTLB forgets it at iommu_flush(). */
void iommu_unmap(struct pd *pd, u64 iova, u64 npages);
/* Invalidates the IOTLB if anything was unmapped since the last call
 * (space_flush() calls it, before memory can be reused). */
void iommu_flush(void);
/* pd dies: its devices are blocked, its DMA space is freed. */
void iommu_pd_destroy(struct pd *pd);
/* Interrupt remapping (when on): interrupt irq (irq.h: GSI, or MSI after
 * them) is sent as vector to apic_id, edge or level, and is accepted only
 * from requester id sid (0..0xffff; -1: from any; IOMMU_SID_IOAPIC: from
 * the IOAPIC if the DMAR table names it). False if remapping is off: then
 * interrupts stay in compatibility format. Remappable format: the handle
 * is irq (vtd_msi_address(), vtd_rte_high()). */
#define IOMMU_SID_IOAPIC 0x10000
bool iommu_irte(unsigned irq, u8 vector, u32 apic_id, bool level, int sid);
/* The fault event interrupt (VEC_IOMMU): logs and blocks the faulting devices. */
void iommu_fault(void);

#endif
