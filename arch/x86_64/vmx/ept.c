/*
 * Extended page tables: the guest-physical space of a VM PD (4-level,
 * write-back; 2 MiB pages where guest and host addresses are both aligned
 * and the CPU has them). Built from the PD's HV_KIND_GMEM space; tables
 * are charged to the PD's quota.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/cpu.h>
#include <arch/smp.h>
#include <arch/vmx.h>

#define EPT_R (1ul << 0)
#define EPT_W (1ul << 1)
#define EPT_X (1ul << 2)
#define EPT_WB (6ul << 3)
#define EPT_LARGE (1ul << 7)
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define EPT_ADDR 0x000ffffffffff000ul

bool ept_init(struct pd *pd)
{
	if (!kmem_charge(&pd->quota, PAGE_SIZE))
		return false;
	pd->ept = page_alloc();
	if (!pd->ept) {
		kmem_uncharge(&pd->quota, PAGE_SIZE);
		return false;
	}
	pd->eptp = virt_to_phys(pd->ept) | (3ul << 3) | 6; /* 4-level walk, WB */
	return true;
}

/* The entry for gpa at `level` (0 = 4 KiB, 1 = 2 MiB), allocating tables. */
static u64 *ept_walk(struct pd *pd, u64 gpa, unsigned level, bool alloc)
{
	u64 *t = pd->ept;
	for (unsigned l = 3; l > level; l--) {
		u64 *e = &t[(gpa >> (12 + 9 * l)) & 511];
		if (*e & EPT_LARGE)
			return l == 1 && level == 0 ? NULL : e;
		if (!(*e & (EPT_R | EPT_W | EPT_X))) {
			if (!alloc || !kmem_charge(&pd->quota, PAGE_SIZE))
				return NULL;
			u64 *n = page_alloc();
			if (!n) {
				kmem_uncharge(&pd->quota, PAGE_SIZE);
				return NULL;
			}
			*e = virt_to_phys(n) | EPT_R | EPT_W | EPT_X;
		}
		t = phys_to_virt(*e & EPT_ADDR);
	}
	return &t[(gpa >> (12 + 9 * level)) & 511];
}

static bool ept_2m(void)
{
	static int cap = -1;
	if (cap < 0)
		cap = (rdmsr(MSR_VMX_EPT_VPID_CAP) >> 16) & 1;
	return cap;
}

bool ept_map(struct pd *pd, u64 gpa, u64 pa, u64 npages, unsigned rights)
{
	u64 bits = EPT_WB | (rights & HV_R_MEM_R ? EPT_R : 0) | (rights & HV_R_MEM_W ? EPT_W | EPT_R : 0) |
		   (rights & HV_R_MEM_X ? EPT_X : 0);
	for (u64 i = 0; i < npages;) {
		u64 g = gpa + (i << 12), p = pa + (i << 12);
		bool large = !((g | p) & 0x1fffff) && npages - i >= 512 && ept_2m();
		u64 *e = ept_walk(pd, g, large ? 1 : 0, true);
		if (!e)
			return false;
		*e = p | bits | (large ? EPT_LARGE : 0);
		i += large ? 512 : 1;
	}
	return true;
}

static void invept_all(void)
{
	struct {
		u64 eptp, zero;
	} desc = { 0, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(2ul) : "cc", "memory");
}

void ept_unmap(struct pd *pd, u64 gpa, u64 npages)
{
	for (u64 i = 0; i < npages;) {
		u64 *e = ept_walk(pd, gpa + (i << 12), 1, false);
		if (e && (*e & EPT_LARGE)) {
			*e = 0;
			i += 512;
			continue;
		}
		e = ept_walk(pd, gpa + (i << 12), 0, false);
		if (e)
			*e = 0;
		i++;
	}
	ept_flush_local(); /* INVEPT outside VMX operation would be #UD */
	tlb_shootdown(pd);
}

static void free_level(struct pd *pd, u64 *t, unsigned level)
{
	if (level)
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & (EPT_R | EPT_W | EPT_X)) && !(t[i] & EPT_LARGE))
				free_level(pd, phys_to_virt(t[i] & EPT_ADDR), level - 1);
	page_free(t);
	kmem_uncharge(&pd->quota, PAGE_SIZE);
}

void ept_destroy(struct pd *pd)
{
	if (!pd->ept)
		return;
	free_level(pd, pd->ept, 3);
	pd->ept = NULL;
	ept_flush_local(); /* no cached translation of the freed tables may survive */
	tlb_shootdown(pd);
}

/* Called on every CPU by the TLB shootdown: guest translations too. */
void ept_flush_local(void)
{
	if (this_cpu_vmx_on())
		invept_all();
}
