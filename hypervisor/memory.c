/*
 * Splitting physical memory at boot: usable RAM minus the kernel image,
 * the modules and the low 1 MiB; a part becomes the kernel pool, the rest
 * belongs to the roottask. Device memory is what the memory map leaves.
 */
#include "boot.h"
#include "kernel.h"
#include "kmem.h"
#include <arch/bootinfo.h>
#include <arch/layout.h>

struct ranges user_ram;
u64 kmem_pool_bytes;
extern char _image_end[];

void ranges_add(struct ranges *rs, u64 base, u64 end)
{
	if (base < end && rs->n < MAX_RANGES) {
		rs->r[rs->n].base = base;
		rs->r[rs->n++].end = end;
	}
}

/* Cuts [base, end) out of every range (splitting one if needed). */
void ranges_remove(struct ranges *rs, u64 base, u64 end)
{
	if (base >= end)
		return; /* empty (e.g. a zero-length module): would split a range for nothing */
	for (unsigned i = 0; i < rs->n; i++) {
		u64 b = rs->r[i].base, e = rs->r[i].end;
		if (end <= b || base >= e)
			continue;
		if (base > b && end < e) {
			rs->r[i].end = base;
			ranges_add(rs, end, e);
		} else if (base <= b && end >= e) {
			rs->r[i] = rs->r[--rs->n];
			i--;
		} else if (base <= b) {
			rs->r[i].base = end;
		} else {
			rs->r[i].end = base;
		}
	}
}

/* Takes `size` bytes from the top of the largest range. */
bool ranges_take(struct ranges *rs, u64 size, u64 *out)
{
	unsigned best = rs->n;
	for (unsigned i = 0; i < rs->n; i++)
		if (rs->r[i].end - rs->r[i].base >= size &&
		    (best == rs->n || rs->r[i].end - rs->r[i].base > rs->r[best].end - rs->r[best].base))
			best = i;
	if (best == rs->n)
		return false;
	*out = rs->r[best].end - size;
	rs->r[best].end -= size;
	return true;
}

void memory_init(void)
{
	u64 total = 0;
	for (unsigned i = 0; i < boot_info.nmem; i++) {
		u64 b = ALIGN_UP(boot_info.mem[i].base, PAGE_SIZE);
		u64 e = ALIGN_DOWN(boot_info.mem[i].base + boot_info.mem[i].size, PAGE_SIZE);
		if (e > DMAP_SIZE) {
			if (b < DMAP_SIZE)
				printk("hypervisor: RAM above 4 GiB is not used\n");
			e = MIN(e, (u64)DMAP_SIZE);
		}
		ranges_add(&user_ram, b, e);
	}
	ranges_remove(&user_ram, 0, 0x100000);
	ranges_remove(&user_ram, KERNEL_PHYS, ALIGN_UP(virt_to_phys(_image_end), PAGE_SIZE));
	for (unsigned i = 0; i < boot_info.nmods; i++)
		ranges_remove(&user_ram, ALIGN_DOWN(boot_info.mods[i].base, PAGE_SIZE),
			      ALIGN_UP(boot_info.mods[i].base + boot_info.mods[i].size, PAGE_SIZE));
	ranges_remove(&user_ram, ALIGN_DOWN(boot_info.reserved.base, PAGE_SIZE),
		      ALIGN_UP(boot_info.reserved.base + boot_info.reserved.size, PAGE_SIZE));
	for (unsigned i = 0; i < user_ram.n; i++)
		total += user_ram.r[i].end - user_ram.r[i].base;

	/* an eighth of RAM for the kernel, between 4 and 128 MiB */
	u64 pool = ALIGN_DOWN(MIN(MAX(total / 8, 4ull << 20), 128ull << 20), PAGE_SIZE);
	u64 base;
	if (!ranges_take(&user_ram, pool, &base))
		panic("not enough memory for the kernel pool (%lu KiB of RAM)", total >> 10);
	kmem_add_range(phys_to_virt(base), pool);
	kmem_pool_bytes = pool;
	printk("hypervisor: %lu MiB RAM, %lu MiB kernel pool\n", total >> 20, pool >> 20);
}

/*
 * Device memory: [1 MiB, 2^phys_bits) without the memory map's RAM, ACPI
 * tables and NVS (whole pages), the LAPIC/MSI window and the kernel's
 * MMIO pages kpages[0..nk).
 */
void memory_device(struct ranges *dev, unsigned phys_bits, const u64 *kpages, unsigned nk)
{
	dev->n = 0;
	ranges_add(dev, 0x100000, 1ull << phys_bits);
	for (unsigned i = 0; i < boot_info.nmem + boot_info.nfirm; i++) {
		const struct boot_range *m = i < boot_info.nmem ? &boot_info.mem[i] : &boot_info.firm[i - boot_info.nmem];
		u64 end = m->size > ~0ull - PAGE_SIZE - m->base ? ~0ull : ALIGN_UP(m->base + m->size, PAGE_SIZE);
		ranges_remove(dev, ALIGN_DOWN(m->base, PAGE_SIZE), end);
	}
	ranges_remove(dev, 0xfee00000, 0xfef00000);
	for (unsigned i = 0; i < nk; i++)
		ranges_remove(dev, ALIGN_DOWN(kpages[i], PAGE_SIZE), ALIGN_DOWN(kpages[i], PAGE_SIZE) + PAGE_SIZE);
}
