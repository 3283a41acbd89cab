/*
 * Guest-physical page tables: the GMEM space of a VM PD as the CPU walks
 * it, EPT on VT-x or nested page tables (NPT) on AMD-V. Both are 4-level
 * tables of 512 entries with 2 MiB pages in bit 7; they differ in the
 * permission and memory-type bits. Write-back memory; 2 MiB pages where
 * guest and host addresses are both aligned (and the CPU has them).
 * Tables are charged to the PD's quota.
 *
 * Flushing: the shootdown (smp.c) reaches the CPUs the VM's vCPUs ran on:
 * INVEPT on VT-x; on AMD-V a vCPU flushes at VMRUN when pd->gpt_gen moved.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/virt.h>
#include <arch/vmx.h>

#define EPT_R (1ul << 0)
#define EPT_W (1ul << 1)
#define EPT_X (1ul << 2)
#define EPT_WB (6ul << 3)
#define NPT_P (1ul << 0)
#define NPT_RW (1ul << 1)
#define NPT_US (1ul << 2) /* nested walks are user accesses: set at every level */
#define NPT_NX (1ul << 63)
#define GPT_LARGE (1ul << 7)
#define GPT_ADDR 0x000ffffffffff000ul

static bool npt(void) { return virt_kind == VIRT_SVM; }

/* entry bits that make an entry present, for a table and for a leaf */
static u64 present_mask(void) { return npt() ? NPT_P : EPT_R | EPT_W | EPT_X; }
static u64 table_bits(void) { return npt() ? NPT_P | NPT_RW | NPT_US : EPT_R | EPT_W | EPT_X; }

static u64 leaf_bits(unsigned rights)
{
	if (!(rights & (HV_R_MEM_R | HV_R_MEM_W | HV_R_MEM_X)))
		return 0;
	if (npt()) /* NPT cannot deny reads: every present page is readable */
		return NPT_P | NPT_US | (rights & HV_R_MEM_W ? NPT_RW : 0) | (rights & HV_R_MEM_X ? 0 : NPT_NX);
	return EPT_WB | (rights & HV_R_MEM_R ? EPT_R : 0) | (rights & HV_R_MEM_W ? EPT_W | EPT_R : 0) |
	       (rights & HV_R_MEM_X ? EPT_X : 0);
}

static bool large_pages(void) { return npt() || vmx_ept_2m(); }

bool gpt_init(struct pd *pd)
{
	if (!kmem_charge(&pd->quota, PAGE_SIZE))
		return false;
	pd->gpt = page_alloc();
	if (!pd->gpt) {
		kmem_uncharge(&pd->quota, PAGE_SIZE);
		return false;
	}
	pd->gpt_root = virt_to_phys(pd->gpt);
	return true;
}

/* The entry for gpa at `level` (0 = 4 KiB, 1 = 2 MiB), allocating tables. */
static u64 *gpt_walk(struct pd *pd, u64 gpa, unsigned level, bool alloc)
{
	u64 *t = pd->gpt;
	for (unsigned l = 3; l > level; l--) {
		u64 *e = &t[(gpa >> (12 + 9 * l)) & 511];
		if ((*e & present_mask()) && (*e & GPT_LARGE))
			return l == 1 && level == 0 ? NULL : e;
		if (!(*e & present_mask())) {
			if (!alloc || !kmem_charge(&pd->quota, PAGE_SIZE))
				return NULL;
			u64 *n = page_alloc();
			if (!n) {
				kmem_uncharge(&pd->quota, PAGE_SIZE);
				return NULL;
			}
			*e = virt_to_phys(n) | table_bits();
		}
		t = phys_to_virt(*e & GPT_ADDR);
	}
	return &t[(gpa >> (12 + 9 * level)) & 511];
}

bool gpt_map(struct pd *pd, u64 gpa, u64 pa, u64 npages, unsigned rights)
{
	u64 bits = leaf_bits(rights);
	for (u64 i = 0; i < npages;) {
		u64 g = gpa + (i << 12), p = pa + (i << 12);
		bool large = !((g | p) & 0x1fffff) && npages - i >= 512 && large_pages();
		u64 *e = gpt_walk(pd, g, large ? 1 : 0, true);
		if (!e || (large && (*e & present_mask()) && !(*e & GPT_LARGE) &&
			   !paging_drop_table(pd, e, present_mask())))
			return false;
		*e = bits ? p | bits | (large ? GPT_LARGE : 0) : 0;
		i += large ? 512 : 1;
	}
	return true;
}

/* Unmaps npages at gpa; the TLBs forget them at the operation's tlb_flush_pending(). */
void gpt_unmap(struct pd *pd, u64 gpa, u64 npages)
{
	for (u64 i = 0; i < npages;) {
		u64 g = gpa + (i << 12), n = 512 - ((g >> 12) & 511); /* nothing mapped up to the next 2 MiB */
		u64 *e = gpt_walk(pd, g, 1, false);
		if (e && (*e & present_mask()) && (*e & GPT_LARGE)) {
			*e = 0;
		} else if (e && (*e & present_mask())) {
			*gpt_walk(pd, g, 0, false) = 0;
			n = 1;
		}
		i += n;
	}
	__atomic_add_fetch(&pd->gpt_gen, 1, __ATOMIC_RELEASE);
	tlb_invalidate(pd);
}

static void free_level(struct pd *pd, u64 *t, unsigned level)
{
	if (level)
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & present_mask()) && !(t[i] & GPT_LARGE))
				free_level(pd, phys_to_virt(t[i] & GPT_ADDR), level - 1);
	page_free(t);
	kmem_uncharge(&pd->quota, PAGE_SIZE);
}

void gpt_destroy(struct pd *pd)
{
	if (!pd->gpt)
		return;
	__atomic_add_fetch(&pd->gpt_gen, 1, __ATOMIC_RELEASE);
	tlb_invalidate(pd);
	tlb_flush_pending(); /* no cached translation may outlive the tables */
	free_level(pd, pd->gpt, 3);
	pd->gpt = NULL;
}

/* Called on every CPU by the TLB shootdown: guest translations too. */
void gpt_flush_local(void)
{
	if (virt_kind == VIRT_VMX && this_cpu()->virt_on)
		vmx_flush_local();
}
