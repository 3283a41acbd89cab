/*
 * Multiboot v1 and Multiboot2 information parsing (memory map, modules,
 * command lines, ACPI RSDP) into struct boot_info.
 */
#include "kernel.h"
#include <arch/bootinfo.h>
#include <arch/layout.h>

#define MB1_BOOT_MAGIC 0x2badb002
#define MB2_BOOT_MAGIC 0x36d76289

struct boot_info boot_info;

static void copy_str(char *dst, paddr_t src)
{
	const char *s = src ? phys_to_virt(src) : "";
	size_t i = 0;
	for (; s[i] && i + 1 < BOOT_CMDLINE; i++)
		dst[i] = s[i];
	dst[i] = 0;
}

/* A memory-map entry: RAM (type 1) or ACPI tables / NVS (3, 4); the rest is device memory. */
static void add_mem(u64 base, u64 len, u32 type)
{
	struct boot_range *r = type == 1 ? boot_info.mem : boot_info.firm;
	unsigned *n = type == 1 ? &boot_info.nmem : &boot_info.nfirm;
	if ((type == 1 || type == 3 || type == 4) && *n < BOOT_MAX_MEM && len)
		r[(*n)++] = (struct boot_range){ base, len };
}

static void add_mod(u64 start, u64 end, paddr_t cmdline)
{
	if (boot_info.nmods >= BOOT_MAX_MODS || end < start)
		return;
	struct boot_module *m = &boot_info.mods[boot_info.nmods++];
	m->base = start;
	m->size = end - start;
	copy_str(m->cmdline, cmdline);
}

struct PACKED mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct PACKED mb1_mod {
	u32 start, end, cmdline, pad;
};

struct PACKED mb1_mmap {
	u32 size;
	u64 addr, len;
	u32 type;
};

static void parse_mb1(paddr_t p)
{
	const struct mb1_info *mi = phys_to_virt(p);
	boot_info.loader = "Multiboot";
	boot_info.reserved = (struct boot_range){ p, sizeof(*mi) };
	if (mi->flags & (1 << 2))
		copy_str(boot_info.cmdline, mi->cmdline);
	if (mi->flags & (1 << 3)) {
		const struct mb1_mod *m = phys_to_virt(mi->mods_addr);
		for (u32 i = 0; i < mi->mods_count; i++)
			add_mod(m[i].start, m[i].end, m[i].cmdline);
	}
	if (mi->flags & (1 << 6)) {
		u64 a = mi->mmap_addr, end = a + mi->mmap_length;
		while (a < end) {
			const struct mb1_mmap *e = phys_to_virt(a);
			add_mem(e->addr, e->len, e->type);
			a += e->size + 4;
		}
	} else if (mi->flags & (1 << 0)) {
		add_mem(0x100000, (u64)mi->mem_upper << 10, 1);
	}
}

struct mb2_tag {
	u32 type, size;
};

static void parse_mb2(paddr_t p)
{
	u32 total = *(u32 *)phys_to_virt(p);
	boot_info.loader = "Multiboot2";
	boot_info.reserved = (struct boot_range){ p, total };
	for (u64 off = 8; off + 8 <= total;) {
		const struct mb2_tag *t = phys_to_virt(p + off);
		const u8 *body = (const u8 *)(t + 1);
		if (t->type == 0 || t->size < 8)
			break;
		switch (t->type) {
		case 1: /* command line */
			copy_str(boot_info.cmdline, virt_to_phys(body));
			break;
		case 3: { /* module */
			const u32 *m = (const u32 *)body;
			add_mod(m[0], m[1], virt_to_phys(&m[2]));
			break;
		}
		case 6: { /* memory map */
			u32 esize = *(const u32 *)body;
			for (u32 o = 8; esize && o + esize <= t->size - 8; o += esize) {
				const u64 *e = (const u64 *)(body + o);
				add_mem(e[0], e[1], *(const u32 *)(e + 2));
			}
			break;
		}
		case 14: /* ACPI old RSDP */
		case 15: /* ACPI new RSDP */
			if (!boot_info.rsdp)
				boot_info.rsdp = virt_to_phys(body);
			break;
		}
		off += ALIGN_UP((u64)t->size, 8);
	}
}

/* Fills boot_info from the loader's structure; false for an unknown loader. */
bool multiboot_parse(u32 magic, paddr_t info)
{
	if (magic == MB1_BOOT_MAGIC)
		parse_mb1(info);
	else if (magic == MB2_BOOT_MAGIC)
		parse_mb2(info);
	else
		return false;
	return true;
}
