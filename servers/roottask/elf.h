/*
 * ELF64 checks for the roottask's program loader. elf_check validates an
 * image completely before anything is mapped, so the loader can then copy
 * segments without further bounds checks.
 *
 * Pure logic: no allocation, no global state; never reads outside
 * img[0..len) whatever the input.
 */
#ifndef ROOTTASK_ELF_H
#define ROOTTASK_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGS 8 /* PT_LOAD segments accepted */

/* Segment permissions; same bits as HV_R_MEM_R/W/X. */
#define ELF_SEG_R (1u << 0)
#define ELF_SEG_W (1u << 1)
#define ELF_SEG_X (1u << 2)

/* Lowest address a segment may not reach: start-info page and stack. */
#define ELF_USER_LIMIT 0x00007f0000000000ull

/* One PT_LOAD segment: file bytes [offset, offset+filesz) are loaded at
 * vaddr; the rest up to memsz is zero. */
struct elf_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	unsigned flags; /* ELF_SEG_* */
};

/* What a valid image loads: its segments in program-header order. */
struct elf_image {
	uint64_t entry;
	unsigned nseg;
	struct elf_segment seg[ELF_MAX_SEGS];
};

/*
 * Checks that img[0..len) is a loadable ELF64 little-endian x86-64 ET_EXEC
 * image and fills *out. The rules, each with its own message in err:
 *  - the file holds a whole ELF header; magic, class 64, little-endian,
 *    version 1, type ET_EXEC, machine x86-64, e_ehsize 64;
 *  - the program header table (e_phentsize >= 56, e_phnum >= 1) lies inside
 *    the file; no PT_INTERP (dynamic linking is not supported);
 *  - 1..ELF_MAX_SEGS non-empty PT_LOAD segments (PT_LOAD with p_memsz 0
 *    is ignored), each with p_filesz <= p_memsz, file bytes inside the
 *    file, p_vaddr + p_memsz not wrapping and at most ELF_USER_LIMIT,
 *    p_vaddr % 4096 == p_offset % 4096;
 *  - no two segments touch the same 4 KiB page (each page gets one set of
 *    permissions);
 *  - the entry point lies in an executable segment.
 * Returns false with a one-line message in err[errlen] (if err is not NULL)
 * on the first problem found; *out is then unspecified.
 */
bool elf_check(const void *img, size_t len, struct elf_image *out, char *err,
	       size_t errlen);

#endif
