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
};

#endif
