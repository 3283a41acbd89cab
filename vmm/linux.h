/* Linux x86 boot protocol: bzImage loading into guest memory (linux.c). */
#ifndef VMM_LINUX_H
#define VMM_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest-physical layout of what the loader writes. */
#define LINUX_GDT 0x6000ull
#define LINUX_ZERO_PAGE 0x7000ull
#define LINUX_CMDLINE 0x20000ull
#define LINUX_CMDLINE_MAX 2048
#define LINUX_LOAD_ADDR 0x100000ull   /* protected-mode kernel (code32_start) */
#define LINUX_RAM_BELOW_4G 0xc0000000ull /* RAM ends below the PCI/APIC hole */

#define LINUX_E820_RAM 1
#define LINUX_E820_RESERVED 2

struct linux_image {
	const char *name, *initrd_name;
	const uint8_t *kernel, *initrd; /* the files as the roottask granted them */
	size_t kernel_size, initrd_size;
	const char *cmdline;
	uint64_t rsdp;                  /* guest-physical address of the ACPI RSDP */
};

struct linux_boot {
	uint64_t entry;      /* 32-bit protected-mode entry (EIP) */
	uint64_t zero_page;  /* ESI */
	uint64_t gdt;
	uint16_t gdt_limit;
	uint16_t version;    /* boot protocol version of the image */
	uint64_t initrd_addr, kernel_end;
};

/* Checks img and writes kernel, initrd, zero page, command line and GDT
 * into ram (guest-physical 0..ram_size). 0 on success; -1 after printing
 * why the image cannot be booted. */
int linux_load(const struct linux_image *img, uint8_t *ram, uint64_t ram_size, struct linux_boot *out);

#endif
