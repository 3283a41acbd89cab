/* Boot-time set-up: physical memory split and the roottask. */
#ifndef HV_BOOT_H
#define HV_BOOT_H

#include "types.h"

#define MAX_RANGES 64

struct ranges {
	unsigned n;
	struct {
		u64 base, end;
	} r[MAX_RANGES];
};

extern struct ranges user_ram; /* RAM for the roottask */
extern u64 kmem_pool_bytes;

void ranges_add(struct ranges *rs, u64 base, u64 end);
void ranges_remove(struct ranges *rs, u64 base, u64 end);
bool ranges_take(struct ranges *rs, u64 size, u64 *out);
void memory_init(void);
void memory_device(struct ranges *dev, unsigned phys_bits, const u64 *kpages, unsigned nk);
void roottask_start(unsigned iommu);

#endif
