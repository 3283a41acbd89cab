/*
 * Page tables. The upper half (PML4 entries 256..511) is the kernel's and
 * shared by every PD; the lower half holds user mappings, built from the
 * PD's memory space. Page-table pages are charged to the PD's quota.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/entry.h>

#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PTE_U (1ul << 2)
#define PTE_PWT (1ul << 3)
#define PTE_PCD (1ul << 4)
#define PTE_PS (1ul << 7)
#define PTE_NX (1ul << 63)
#define PTE_ADDR 0x000ffffffffff000ul

extern char _image_start[], _text_end[], _rodata_end[], _image_end[];
u64 kernel_cr3;
static bool nx_enabled;
static u64 nx; /* PTE_NX where the CPU has it */

/* The kernel half's own tables: -2 GiB holds the image, then the stacks. */
#define PT(name) static u64 name[512] __attribute__((aligned(PAGE_SIZE)))
PT(high_pd);     /* -2 GiB .. -1 GiB: [0] image_pt, [1] stack_pt */
PT(image_pt);    /* the image in 4 KiB pages */
PT(stack_pt);    /* KSTACK_AREA: a slot of 16 pages per CPU (layout.h) */
PT(dmap_low_pt); /* the direct map's first 2 MiB, with the image's alias */
static u8 boot_stacks[7][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
_Static_assert(MAX_CPUS * KSTACK_SLOT <= 0x200000, "stack_pt covers every CPU's slot");

/* W^X, on the boot CPU first of all (EFER.NXE is on): the image in 4 KiB pages, text read-only,
 * rodata read-only and no-execute, data and bss no-execute; the direct map no-execute and its
 * alias of text and rodata read-only. */
void paging_init_kernel(void)
{
	nx_enabled = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
	nx = nx_enabled ? PTE_NX : 0;
	u64 image = virt_to_phys(_image_start), text_end = virt_to_phys(_text_end);
	u64 ro_end = virt_to_phys(_rodata_end), end = virt_to_phys(_image_end);
	for (u64 pa = 0; pa < 0x200000; pa += PAGE_SIZE) {
		bool ro = pa >= image && pa < ro_end;
		dmap_low_pt[pa >> 12] = pa | PTE_P | (ro ? 0 : PTE_W) | nx;
		if (pa >= image && pa < end)
			image_pt[pa >> 12] = pa | PTE_P | (ro ? 0 : PTE_W) | (pa < text_end ? 0 : nx);
	}
	high_pd[0] = virt_to_phys(image_pt) | PTE_P | PTE_W;
	high_pd[1] = virt_to_phys(stack_pt) | PTE_P | PTE_W;
	boot_pdpt_high[510] = virt_to_phys(high_pd) | PTE_P | PTE_W;
	write_cr3(read_cr3()); /* the image now runs on image_pt: boot_pd may change */
	boot_pd[0] = virt_to_phys(dmap_low_pt) | PTE_P | PTE_W;
	for (unsigned i = 1; i < 2048; i++)
		boot_pd[i] |= nx;
	write_cr3(read_cr3());
}

/* Maps the stacks of CPU id into its slot (the boot CPU's are static). */
void paging_map_stacks(unsigned id)
{
	static const u8 slot_page[7] = { 1, 3, 5, 12, 13, 14, 15 }; /* NMI, #DF, #MC, kernel stack */
	for (unsigned i = 0; i < 7; i++) {
		void *p = id ? page_alloc() : boot_stacks[i];
		if (!p)
			panic("no memory for the stacks of CPU %u", id);
		stack_pt[id * 16 + slot_page[i]] = virt_to_phys(p) | PTE_P | PTE_W | nx;
	}
}

/* The CPU whose stack guard page holds va, or -1. */
int paging_stack_guard(u64 va)
{
	u64 off = va - KSTACK_AREA, slot = off / KSTACK_SLOT;
	if (va < KSTACK_AREA || slot >= MAX_CPUS || (stack_pt[off >> 12] & PTE_P) ||
	    !(stack_pt[slot * 16 + 15] & PTE_P))
		return -1;
	return (int)slot;
}

/* Drops the boot identity map; the kernel half stays as paging_init_kernel() made it. */
void paging_init(void)
{
	boot_pml4[0] = 0;
	kernel_cr3 = virt_to_phys(boot_pml4);
	write_cr3(kernel_cr3);
}

bool paging_init_pd(struct pd *pd)
{
	if (!kmem_charge(&pd->quota, PAGE_SIZE))
		return false;
	u64 *pml4 = page_alloc();
	if (!pml4) {
		kmem_uncharge(&pd->quota, PAGE_SIZE);
		return false;
	}
	memcpy(pml4 + 256, boot_pml4 + 256, 256 * sizeof(u64));
	pd->pml4 = pml4;
	pd->cr3 = virt_to_phys(pml4);
	return true;
}

/* The entry for va at `level` (3 = PML4 .. 0 = PT), allocating tables. */
static u64 *walk(struct pd *pd, u64 va, unsigned level, bool alloc)
{
	u64 *table = pd->pml4;
	for (unsigned l = 3; l > level; l--) {
		u64 *e = &table[(va >> (12 + 9 * l)) & 511];
		if (!(*e & PTE_P)) {
			if (!alloc || !kmem_charge(&pd->quota, PAGE_SIZE))
				return NULL;
			u64 *t = page_alloc();
			if (!t) {
				kmem_uncharge(&pd->quota, PAGE_SIZE);
				return NULL;
			}
			*e = virt_to_phys(t) | PTE_P | PTE_W | PTE_U;
		} else if (*e & PTE_PS) {
			return NULL; /* covered by a large page: callers never split */
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return &table[(va >> (12 + 9 * level)) & 511];
}

static u64 pte_bits(unsigned rights)
{
	u64 b = PTE_P | PTE_U;
	if (rights & HV_R_MEM_W)
		b |= PTE_W;
	if (nx_enabled && !(rights & HV_R_MEM_X))
		b |= PTE_NX;
	return b | (rights & (PAGING_UC | PAGING_WC) ? PTE_PWT : 0) | (rights & PAGING_UC ? PTE_PCD : 0);
}

/*
 * Frees the table *e points to before a 2 MiB page takes its place (also
 * for EPT/NPT, with their `present` bits): what it mapped went away
 * (false if anything is left). No CPU may still walk it when it is reused.
 */
bool paging_drop_table(struct pd *pd, u64 *e, u64 present)
{
	u64 *t = phys_to_virt(*e & PTE_ADDR);
	for (unsigned i = 0; i < 512; i++)
		if (t[i] & present)
			return false;
	*e = 0;
	__atomic_add_fetch(&pd->gpt_gen, 1, __ATOMIC_RELEASE); /* NPT: flush at the next VMRUN */
	tlb_invalidate(pd);
	tlb_flush_pending();
	page_free(t);
	kmem_uncharge(&pd->quota, PAGE_SIZE);
	return true;
}

/* Maps npages at va -> pa; 2 MiB pages where both are aligned. */
bool paging_map(struct pd *pd, u64 va, u64 pa, u64 npages, unsigned rights)
{
	u64 bits = pte_bits(rights);
	while (npages) {
		bool large = !((va | pa) & 0x1fffff) && npages >= 512;
		u64 *e = walk(pd, va, large ? 1 : 0, true);
		if (!e || (large && (*e & PTE_P) && !(*e & PTE_PS) && !paging_drop_table(pd, e, PTE_P)))
			return false;
		*e = pa | bits | (large ? PTE_PS : 0);
		u64 n = large ? 512 : 1;
		va += n << 12;
		pa += n << 12;
		npages -= n;
	}
	return true;
}

/* Unmaps npages at va; the TLBs forget them at the operation's tlb_flush_pending(). */
void paging_unmap(struct pd *pd, u64 va, u64 npages)
{
	while (npages) {
		u64 *e = walk(pd, va, 1, false);
		u64 n = 512 - ((va >> 12) & 511); /* nothing mapped up to the next 2 MiB */
		if (e && (*e & PTE_PS)) {
			*e = 0;
		} else if (e && (*e & PTE_P)) {
			*walk(pd, va, 0, false) = 0;
			n = 1;
		}
		va += n << 12;
		npages -= n < npages ? n : npages;
	}
	tlb_invalidate(pd);
}

static void free_level(struct pd *pd, u64 *table, unsigned level)
{
	for (unsigned i = 0; i < (level == 3 ? 256u : 512u); i++) {
		u64 e = table[i];
		if (!(e & PTE_P) || (e & PTE_PS) || level == 0)
			continue;
		free_level(pd, phys_to_virt(e & PTE_ADDR), level - 1);
	}
	page_free(table);
	kmem_uncharge(&pd->quota, PAGE_SIZE);
}

void paging_destroy(struct pd *pd)
{
	if (pd->pml4)
		free_level(pd, pd->pml4, 3);
	pd->pml4 = NULL;
}
