/* Host page tables of protection domains (4-level, 4 KiB and 2 MiB pages). */
#ifndef ARCH_PAGING_H
#define ARCH_PAGING_H

#include "types.h"

struct pd;

bool paging_init_pd(struct pd *pd);
bool paging_map(struct pd *pd, u64 va, u64 pa, u64 npages, unsigned rights);
void paging_unmap(struct pd *pd, u64 va, u64 npages);
void paging_destroy(struct pd *pd);
void paging_init(void);
void paging_init_kernel(void);
void paging_map_stacks(unsigned id);
int paging_stack_guard(u64 va);
extern u64 kernel_cr3;

#endif
