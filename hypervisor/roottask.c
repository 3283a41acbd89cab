/*
 * Creating the roottask: the first PD, holding every resource the kernel
 * does not keep: all remaining RAM, the modules and device memory (at
 * HV_RT_PHYS_BASE + phys), all I/O ports, one semaphore per GSI and per
 * MSI vector, the right to assign devices, and the HIP describing it.
 */
#include "boot.h"
#include "irq.h"
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/bootinfo.h>
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <hv/hip.h>

struct PACKED elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct PACKED elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
};

static struct pd *rt;

_Static_assert(sizeof(struct hv_hip) <= PAGE_SIZE, "the HIP is one page");

/* Maps [va, va+size) -> pa as root mappings, in naturally aligned chunks. */
static void map_root(u64 va, u64 pa, u64 size, unsigned rights, unsigned flags)
{
	u64 page = va >> PAGE_SHIFT, frame = pa >> PAGE_SHIFT, n = size >> PAGE_SHIFT;
	while (n) {
		unsigned order = 0;
		while (order < 30 && !((page | frame) & ((2ull << order) - 1)) && (2ull << order) <= n)
			order++;
		hv_status_t st = mdb_insert_root(&rt->spaces[HV_KIND_MEM], page, order, frame, rights, flags);
		if (st != HV_OK)
			panic("roottask: cannot map %lx (status %d)", page << PAGE_SHIFT, st);
		page += 1ull << order;
		frame += 1ull << order;
		n -= 1ull << order;
	}
}

static u64 alloc_user(u64 size)
{
	u64 pa;
	if (!ranges_take(&user_ram, ALIGN_UP(size, PAGE_SIZE), &pa))
		panic("roottask: out of memory");
	memset(phys_to_virt(pa), 0, ALIGN_UP(size, PAGE_SIZE));
	return pa;
}

/* Loads the roottask ELF; returns its entry point. */
static u64 load_elf(const struct boot_module *m)
{
	const u8 *img = phys_to_virt(m->base);
	const struct elf64_ehdr *eh = (const void *)img;
	if (m->size < sizeof(*eh) || memcmp(eh->ident, "\177ELF\2\1", 6) || eh->machine != 62 ||
	    eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > m->size ||
	    eh->phnum > (m->size - eh->phoff) / sizeof(struct elf64_phdr))
		panic("roottask: module '%s' is not an x86-64 ELF executable", m->cmdline);
	const struct elf64_phdr *ph = (const void *)(img + eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type != 1 || !ph[i].memsz)
			continue;
		u64 va = ALIGN_DOWN(ph[i].vaddr, PAGE_SIZE), off = ph[i].vaddr - va;
		u64 size = ALIGN_UP(off + ph[i].memsz, PAGE_SIZE);
		if (ph[i].filesz > ph[i].memsz || ph[i].offset > m->size || ph[i].filesz > m->size - ph[i].offset ||
		    va + size < va || va + size > HV_HIP_ADDR)
			panic("roottask: bad ELF segment %u", i);
		u64 pa = alloc_user(size);
		memcpy((u8 *)phys_to_virt(pa) + off, img + ph[i].offset, ph[i].filesz);
		unsigned r = HV_R_MEM_R | (ph[i].flags & 2 ? HV_R_MEM_W : 0) | (ph[i].flags & 1 ? HV_R_MEM_X : 0);
		map_root(va, pa, size, r, 0);
	}
	return eh->entry;
}

/* The HIP's device fields; device memory becomes roots the roottask must delegate to map. */
static void give_devices(struct hv_hip *hip, unsigned iommu)
{
	static struct ranges dev;
	u64 kp[MAX_IOAPICS + 16];
	u32 a, b, c, d, bits = 36;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		bits = a & 0xff;
	}
	hip->phys_bits = MIN(bits, 45u); /* HV_RT_PHYS_BASE + 2^45 is below HV_USER_END */
	unsigned nk = iommu_reg_pages(kp, 16);
	for (unsigned i = 0; i < acpi.nioapics; i++)
		kp[nk++] = acpi.ioapic[i].base;
	memory_device(&dev, (unsigned)hip->phys_bits, kp, nk);
	for (unsigned i = 0; i < dev.n; i++)
		map_root(HV_RT_PHYS_BASE + dev.r[i].base, dev.r[i].base, dev.r[i].end - dev.r[i].base,
			 HV_R_MEM_R | HV_R_MEM_W, MDB_DEVICE | MDB_NOMAP);
	/* MCFG: a 44-byte header, then entries of 16 bytes: ECAM base, segment, first and last bus */
	const u8 *t = acpi.mcfg;
	for (u32 o = 44; t && o + 16 <= *(const u32 *)(t + 4) && !hip->pci_ecam_base; o += 16)
		if (!*(const u16 *)(t + o + 8) && t[o + 10] <= t[o + 11]) {
			hip->pci_ecam_base = *(const u64 *)(t + o);
			hip->pci_bus_first = t[o + 10];
			hip->pci_bus_last = t[o + 11];
		}
	hip->iommu = iommu;
	hip->num_msi = HV_MSI_COUNT;
}

static void copy_cmdline(char *dst, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < HV_HIP_CMDLINE; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static void give_cap(hv_sel_t sel, struct kobj *o)
{
	if (mdb_insert_root(&rt->spaces[HV_KIND_OBJ], sel, 0, (u64)o, HV_R_ALL, 0) != HV_OK)
		panic("roottask: cannot install capability %lu", sel);
}

void roottask_start(unsigned iommu)
{
	if (!boot_info.nmods)
		panic("no modules: the first module must be the roottask");
	if (pd_create(NULL, kmem_pool_bytes, false, HV_PRIO_MAX, HV_CPUS_ALL, &rt) != HV_OK)
		panic("roottask: cannot create its PD");
	give_cap(HV_SEL_PD, &rt->obj);

	u64 entry = load_elf(&boot_info.mods[0]);
	map_root(HV_RT_STACK_TOP - HV_RT_STACK_SIZE, alloc_user(HV_RT_STACK_SIZE), HV_RT_STACK_SIZE,
		 HV_R_MEM_R | HV_R_MEM_W, 0);

	struct hv_hip *hip = kmem_alloc(NULL, PAGE_SIZE);
	if (!hip)
		panic("roottask: no memory for the HIP");
	hip->magic = HV_HIP_MAGIC;
	hip->hip_size = sizeof(*hip);
	hip->num_cpus = num_cpus;
	hip->tsc_khz = tsc_khz;
	hip->num_gsi = irq_num_gsi;
	hip->kmem_quota = kmem_pool_bytes;
	for (unsigned i = 0; i < num_cpus && i < HV_HIP_MAX_CPUS; i++)
		hip->cpu_apic_id[i] = percpu_area[i].apic_id;
	copy_cmdline(hip->cmdline, boot_info.cmdline);
	for (unsigned i = 0; i < boot_info.nmods && i < HV_HIP_MAX_MODS; i++) {
		const struct boot_module *m = &boot_info.mods[i];
		hip->mods[i].phys = m->base;
		hip->mods[i].size = m->size;
		copy_cmdline(hip->mods[i].cmdline, m->cmdline);
		u64 b = ALIGN_DOWN(m->base, PAGE_SIZE), e = ALIGN_UP(m->base + m->size, PAGE_SIZE);
		if (e > b && !mdb_find(&rt->spaces[HV_KIND_MEM], (HV_RT_PHYS_BASE + b) >> PAGE_SHIFT))
			map_root(HV_RT_PHYS_BASE + b, b, e - b, HV_R_MEM_R, 0);
		hip->num_mods++;
	}
	map_root(HV_HIP_ADDR, virt_to_phys(hip), PAGE_SIZE, HV_R_MEM_R, MDB_KERNEL);

	/* after the image and stack are taken, the rest of RAM is the roottask's */
	for (unsigned i = 0; i < user_ram.n && hip->num_mem < HV_HIP_MAX_MEM; i++) {
		u64 b = user_ram.r[i].base, e = user_ram.r[i].end;
		map_root(HV_RT_PHYS_BASE + b, b, e - b, HV_R_MEM_RWX, 0);
		hip->mem[hip->num_mem].phys = b;
		hip->mem[hip->num_mem++].size = e - b;
	}
	give_devices(hip, iommu);
	if (mdb_insert_root(&rt->spaces[HV_KIND_IO], 0, 16, 0, HV_R_IO, 0) != HV_OK)
		panic("roottask: cannot grant I/O ports");
	_Static_assert(HV_SEL_GSI_BASE + IRQ_MAX_GSI == HV_SEL_MSI_BASE, "MSI semaphores follow the GSIs'");
	for (unsigned i = 0; i < IRQ_COUNT; i++)
		if (irq_sm[i])
			give_cap(HV_SEL_GSI_BASE + i, &irq_sm[i]->obj);

	struct ec *ec;
	struct sc *sc;
	if (ec_create(rt, rt, 0, true, HV_RT_UTCB, HV_RT_STACK_TOP, entry, HV_SEL_EVT_BASE, &ec) != HV_OK)
		panic("roottask: cannot create its EC");
	ec->regs.rdi = HV_HIP_ADDR;
	give_cap(HV_SEL_EC, &ec->obj);
	if (sc_create(rt, ec, HV_PRIO_MAX / 2, 0, &sc) != HV_OK)
		panic("roottask: cannot create its SC");
	give_cap(HV_SEL_SC, &sc->obj);
	printk("hypervisor: roottask '%s' started, %lu KiB kernel memory used\n", boot_info.mods[0].cmdline,
	       rt->quota.used >> 10);
}
