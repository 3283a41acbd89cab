/* What the boot loader told us, in loader-neutral form. */
#ifndef ARCH_BOOTINFO_H
#define ARCH_BOOTINFO_H

#include "types.h"

#define BOOT_MAX_MEM 32
#define BOOT_MAX_MODS 32
#define BOOT_CMDLINE 128

struct boot_range {
	paddr_t base, size;
};

struct boot_module {
	paddr_t base, size;
	char cmdline[BOOT_CMDLINE];
};

struct boot_info {
	unsigned nmem, nmods, nfirm;
	struct boot_range mem[BOOT_MAX_MEM]; /* usable RAM */
	struct boot_range firm[BOOT_MAX_MEM]; /* ACPI tables and NVS: never device memory */
	struct boot_module mods[BOOT_MAX_MODS];
	struct boot_range reserved;          /* the loader's info structure */
	char cmdline[BOOT_CMDLINE];
	paddr_t rsdp;                        /* 0: search the BIOS areas */
	const char *loader;
};

extern struct boot_info boot_info;

bool multiboot_parse(u32 magic, paddr_t info);

#endif
