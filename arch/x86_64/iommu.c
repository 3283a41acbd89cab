/*
 * DMA remapping: the machine-independent part of arch/iommu.h for a
 * machine without an IOMMU (the VT-d driver replaces it): nothing to set
 * up, nothing to enforce.
 */
#include "kernel.h"
#include <arch/iommu.h>

unsigned iommu_reg_pages(u64 *out, unsigned max)
{
	(void)out, (void)max;
	return 0;
}

unsigned iommu_init(void)
{
	printk("hypervisor: no IOMMU: devices assigned to drivers can reach all memory by DMA\n");
	return HV_IOMMU_NONE;
}

hv_status_t iommu_assign(struct pd *pd, u16 bdf)
{
	(void)pd, (void)bdf;
	return HV_OK;
}

void iommu_release(struct pd *pd, u16 bdf) { (void)pd, (void)bdf; }

bool iommu_map(struct pd *pd, u64 iova, u64 pa, u64 npages, bool writable)
{
	(void)pd, (void)iova, (void)pa, (void)npages, (void)writable;
	return true;
}

void iommu_unmap(struct pd *pd, u64 iova, u64 npages) { (void)pd, (void)iova, (void)npages; }

void iommu_flush(void) {}

void iommu_pd_destroy(struct pd *pd) { (void)pd; }
