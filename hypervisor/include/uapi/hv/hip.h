/*
 * Hypervisor information page (HIP): what the kernel tells the roottask at
 * start. Mapped read-only at HV_HIP_ADDR in the roottask; the roottask's
 * RSP points just below HV_RT_STACK_TOP and RDI holds HV_HIP_ADDR.
 */
#ifndef HV_UAPI_HIP_H
#define HV_UAPI_HIP_H

#include "abi.h"

#define HV_HIP_MAGIC 0x50494876ul /* "vHIP" */
#define HV_HIP_ADDR 0x00007f0000000000ul
#define HV_RT_UTCB 0x00007f0000001000ul  /* roottask's first UTCB */
#define HV_RT_STACK_TOP 0x00007f0000100000ul /* 64 KiB below it are mapped */
#define HV_RT_STACK_SIZE 0x10000ul
/* Physical memory given to the roottask appears at phys + HV_RT_PHYS_BASE. */
#define HV_RT_PHYS_BASE 0x0000100000000000ul

#define HV_HIP_MAX_MODS 16
#define HV_HIP_MAX_MEM 32
#define HV_HIP_MAX_CPUS 16
#define HV_HIP_CMDLINE 96

struct hv_hip_mod {
	hv_word_t phys; /* physical address (readable at phys + HV_RT_PHYS_BASE) */
	hv_word_t size; /* bytes */
	char cmdline[HV_HIP_CMDLINE];
};

struct hv_hip_mem {
	hv_word_t phys; /* RAM the roottask owns (read/write) */
	hv_word_t size;
};

struct hv_hip {
	hv_word_t magic;
	hv_word_t hip_size;
	hv_word_t num_cpus;       /* CPUs 0 .. num_cpus-1 are online */
	hv_word_t tsc_khz;        /* TSC frequency */
	hv_word_t num_gsi;        /* GSI semaphores at HV_SEL_GSI_BASE + gsi */
	hv_word_t kmem_quota;     /* bytes of kernel memory the roottask may use */
	hv_word_t num_mods;
	hv_word_t num_mem;
	hv_word_t cpu_apic_id[HV_HIP_MAX_CPUS];
	char cmdline[HV_HIP_CMDLINE]; /* the hypervisor's own command line */
	struct hv_hip_mod mods[HV_HIP_MAX_MODS];
	struct hv_hip_mem mem[HV_HIP_MAX_MEM];
	/* PCI: the ECAM window of segment 0 from the ACPI MCFG table (0 if there
	 * is none: configuration mechanism #1 only), covering buses
	 * pci_bus_first..pci_bus_last at ecam_base + (bus << 20). */
	hv_word_t pci_ecam_base;
	hv_word_t pci_bus_first, pci_bus_last;
	/* Device memory (every physical page that is neither RAM, ACPI memory
	 * nor the kernel's own MMIO, up to 2^phys_bits) is in the roottask's
	 * memory space at HV_RT_PHYS_BASE + phys but not mapped there: delegate
	 * it (to itself or a driver) to map it, uncached or HV_ITEM_WC. */
	hv_word_t phys_bits;
	hv_word_t iommu;     /* enum hv_iommu_kind: DMA remapping in force */
	hv_word_t num_msi;   /* MSI semaphores at HV_SEL_MSI_BASE + n */
};

enum hv_iommu_kind {
	HV_IOMMU_NONE = 0, /* devices can reach all memory by DMA */
	HV_IOMMU_VTD = 1   /* Intel VT-d DMA remapping */
};

#endif
