/* Host page tables of protection domains (4-level, 4 KiB and 2 MiB pages). */
#ifndef ARCH_PAGING_H
#define ARCH_PAGING_H

#include "types.h"

struct pd;

bool paging_init_pd(struct pd *pd);
/* rights: HV_R_MEM_*, with PAGING_UC or PAGING_WC for device memory */
#define PAGING_UC (1u << 8) /* PCD|PWT: PAT entry 3, uncached */
#define PAGING_WC (1u << 9) /* PWT: PAT entry 1, write-combining (cpu_init programs it) */
bool paging_map(struct pd *pd, u64 va, u64 pa, u64 npages, unsigned rights);
void paging_unmap(struct pd *pd, u64 va, u64 npages);
bool paging_drop_table(struct pd *pd, u64 *e, u64 present);
void paging_destroy(struct pd *pd);
void paging_init(void);
void paging_init_kernel(void);
void paging_map_stacks(unsigned id);
int paging_stack_guard(u64 va);
extern u64 kernel_cr3;

#endif
