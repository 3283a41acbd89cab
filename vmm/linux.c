/*
 * Loading a Linux bzImage the way a boot loader does (the x86 boot
 * protocol, Documentation/arch/x86/boot.rst): the protected-mode kernel at
 * 1 MiB, a zero page with the setup header, an e820 map, the command line
 * and the initrd, and the 32-bit protected-mode entry state.
 *
 * Everything read from the image is checked before it is used: a file that
 * is not a bzImage, too old a protocol, or a kernel that does not fit the
 * guest's memory is refused with a message.
 */
#include "linux.h"
#include <stdio.h>
#include <string.h>

/* setup header offsets (boot protocol) */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260

/* zero page fields */
#define ZP_ACPI_RSDP 0x070
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_MAX 128

#define LOADED_HIGH 0x01
#define KEEP_SEGMENTS 0x40

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;
	memcpy(&v, p + off, 2);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[ZP_E820_ENTRIES];
	if (n >= ZP_E820_MAX || !size)
		return;
	uint8_t *e = zp + ZP_E820_TABLE + n * 20;
	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
	zp[ZP_E820_ENTRIES] = n + 1;
}

int linux_load(const struct linux_image *img, uint8_t *ram, uint64_t ram_size, struct linux_boot *out)
{
	const uint8_t *k = img->kernel;
	size_t ksize = img->kernel_size;
	if (ksize < 0x1000 || rd16(k, HDR_BOOT_FLAG) != 0xaa55 || memcmp(k + HDR_MAGIC, "HdrS", 4)) {
		printf("vmm: '%s' is not a Linux bzImage (no boot sector signature or HdrS header)\n", img->name);
		return -1;
	}
	uint16_t version = rd16(k, HDR_VERSION);
	if (version < 0x20c) {
		printf("vmm: '%s' speaks boot protocol %u.%02u; 2.12 or later is needed\n", img->name, version >> 8,
		       version & 0xff);
		return -1;
	}
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH)) {
		printf("vmm: '%s' is a zImage (not loaded high); only bzImages are supported\n", img->name);
		return -1;
	}
	size_t setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	size_t setup_size = (setup_sects + 1) * 512;
	if (setup_size >= ksize) {
		printf("vmm: '%s': setup (%zu bytes) is larger than the file\n", img->name, setup_size);
		return -1;
	}
	size_t pm_size = ksize - setup_size;
	uint64_t pref = ((uint64_t)rd32(k, HDR_PREF_ADDRESS + 4) << 32) | rd32(k, HDR_PREF_ADDRESS);
	uint32_t init_size = rd32(k, HDR_INIT_SIZE);
	uint32_t align = rd32(k, HDR_KERNEL_ALIGNMENT);
	bool relocatable = k[HDR_RELOCATABLE];
	/* The decompressor runs where we load it (1 MiB) and then extracts the
	 * kernel to its preferred address (or its aligned load address). */
	uint64_t run_base = relocatable ? (LINUX_LOAD_ADDR + align - 1) / (align ? align : 1) * align : pref;
	if (run_base < pref)
		run_base = pref;
	uint64_t kernel_end = run_base + init_size;
	if (LINUX_LOAD_ADDR + pm_size > kernel_end)
		kernel_end = LINUX_LOAD_ADDR + pm_size;
	uint64_t low_end = ram_size < LINUX_RAM_BELOW_4G ? ram_size : LINUX_RAM_BELOW_4G;
	if (kernel_end > low_end) {
		printf("vmm: '%s' needs %lu MiB of guest memory to decompress (init_size %u at %#lx); the guest has %lu MiB\n",
		       img->name, (unsigned long)((kernel_end + (1 << 20) - 1) >> 20), init_size, (unsigned long)run_base,
		       (unsigned long)(ram_size >> 20));
		return -1;
	}
	/* the initrd goes as high as the kernel allows, page aligned */
	uint64_t initrd_max = rd32(k, HDR_INITRD_ADDR_MAX);
	uint64_t initrd_addr = 0;
	if (img->initrd_size) {
		uint64_t top = low_end < initrd_max + 1 ? low_end : initrd_max + 1;
		if (img->initrd_size > top || ((top - img->initrd_size) & ~0xfffull) < kernel_end) {
			printf("vmm: initrd '%s' (%lu KiB) does not fit above the kernel in %lu MiB of guest memory\n",
			       img->initrd_name, (unsigned long)(img->initrd_size >> 10), (unsigned long)(ram_size >> 20));
			return -1;
		}
		initrd_addr = (top - img->initrd_size) & ~0xfffull;
	}
	uint32_t cmdline_max = rd32(k, HDR_CMDLINE_SIZE);
	size_t cl = strlen(img->cmdline);
	if (cl > cmdline_max || cl >= LINUX_CMDLINE_MAX) {
		printf("vmm: kernel command line too long (%zu bytes, at most %u)\n", cl,
		       cmdline_max < LINUX_CMDLINE_MAX - 1 ? cmdline_max : LINUX_CMDLINE_MAX - 1);
		return -1;
	}

	/* zero page: the setup header as the image has it, then our fields */
	uint8_t *zp = ram + LINUX_ZERO_PAGE;
	memset(zp, 0, 4096);
	size_t hdr_end = HDR_JUMP + 2 + k[HDR_JUMP + 1]; /* the jump at 0x200 skips the header */
	if (hdr_end > 0x280)
		hdr_end = 0x280;
	memcpy(zp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined boot loader */
	zp[HDR_LOADFLAGS] = (uint8_t)((zp[HDR_LOADFLAGS] & ~KEEP_SEGMENTS) | LOADED_HIGH);
	wr32(zp, HDR_CODE32_START, LINUX_LOAD_ADDR);
	wr32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	wr32(zp, HDR_RAMDISK_SIZE, (uint32_t)img->initrd_size);
	wr32(zp, HDR_CMD_LINE_PTR, LINUX_CMDLINE);
	memcpy(zp + ZP_ACPI_RSDP, &img->rsdp, 8);
	memcpy(ram + LINUX_CMDLINE, img->cmdline, cl + 1);

	/* the memory map: low RAM, the BIOS area (ACPI tables), RAM from 1 MiB */
	e820_add(zp, 0, 0x9fc00, LINUX_E820_RAM);
	e820_add(zp, 0x9fc00, 0x400, LINUX_E820_RESERVED);
	e820_add(zp, 0xe0000, 0x20000, LINUX_E820_RESERVED);
	e820_add(zp, 0x100000, low_end - 0x100000, LINUX_E820_RAM);

	memcpy(ram + LINUX_LOAD_ADDR, k + setup_size, pm_size);
	if (img->initrd_size)
		memcpy(ram + initrd_addr, img->initrd, img->initrd_size);

	/* a GDT with the flat __BOOT_CS (0x10) and __BOOT_DS (0x18) */
	uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(ram + LINUX_GDT, gdt, sizeof(gdt));

	out->entry = LINUX_LOAD_ADDR;
	out->zero_page = LINUX_ZERO_PAGE;
	out->gdt = LINUX_GDT;
	out->gdt_limit = sizeof(gdt) - 1;
	out->version = version;
	out->initrd_addr = initrd_addr;
	out->kernel_end = kernel_end;
	return 0;
}
