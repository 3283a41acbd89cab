/*
 * ELF64 image checks for the roottask loader; see elf.h.
 *
 * Fields are read byte by byte through bounds-checked offsets, so neither
 * alignment nor host byte order matters and nothing past len is touched.
 */
#include "elf.h"

#include <hv/abi.h>
#include <hv/startinfo.h>
#include <stdio.h>
#include <string.h>

_Static_assert(ELF_SEG_R == HV_R_MEM_R && ELF_SEG_W == HV_R_MEM_W &&
		       ELF_SEG_X == HV_R_MEM_X,
	       "segment flags must match memory rights");
_Static_assert(ELF_USER_LIMIT == HV_SI_ADDR, "limit must be the start info");

#define ELF_EHDR_SIZE 64u
#define ELF_PHDR_SIZE 56u
#define ELF_PAGE 4096ull

/* e_ident and header fields */
#define ELF_CLASS64 2
#define ELF_DATA2LSB 1
#define ELF_EV_CURRENT 1
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62

/* program header types and flags */
#define ELF_PT_LOAD 1
#define ELF_PT_INTERP 3
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* Reads an n-byte little-endian value at p (caller checked the bounds). */
static uint64_t elf_rd(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | p[n];
	return v;
}

/* Writes msg to err[errlen] if there is room; returns false for chaining. */
static bool elf_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return false;
}

/* Checks the ELF header; on success sets the program header table. */
static bool elf_check_ehdr(const unsigned char *b, size_t len, uint64_t *phoff,
			   unsigned *phnum, unsigned *phentsize, uint64_t *entry,
			   char *err, size_t errlen)
{
	uint64_t table;

	if (len < ELF_EHDR_SIZE) {
		if (err && errlen)
			snprintf(err, errlen,
				 "file too small for an ELF header (%lu bytes, "
				 "need 64)",
				 (unsigned long)len);
		return false;
	}
	if (b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
		return elf_fail(err, errlen, "bad magic (not an ELF file)");
	if (b[4] != ELF_CLASS64)
		return elf_fail(err, errlen, "not a 64-bit ELF file (EI_CLASS)");
	if (b[5] != ELF_DATA2LSB)
		return elf_fail(err, errlen, "not a little-endian ELF file");
	if (b[6] != ELF_EV_CURRENT || elf_rd(b + 20, 4) != ELF_EV_CURRENT)
		return elf_fail(err, errlen, "unknown ELF version");
	if (elf_rd(b + 16, 2) != ELF_ET_EXEC) {
		if (err && errlen)
			snprintf(err, errlen,
				 "not an executable (e_type %lu, expected "
				 "ET_EXEC 2)",
				 (unsigned long)elf_rd(b + 16, 2));
		return false;
	}
	if (elf_rd(b + 18, 2) != ELF_EM_X86_64) {
		if (err && errlen)
			snprintf(err, errlen,
				 "not an x86-64 file (e_machine %lu, expected 62)",
				 (unsigned long)elf_rd(b + 18, 2));
		return false;
	}
	if (elf_rd(b + 52, 2) != ELF_EHDR_SIZE)
		return elf_fail(err, errlen, "bad ELF header size (e_ehsize)");

	*entry = elf_rd(b + 24, 8);
	*phoff = elf_rd(b + 32, 8);
	*phentsize = (unsigned)elf_rd(b + 54, 2);
	*phnum = (unsigned)elf_rd(b + 56, 2);
	if (*phnum == 0)
		return elf_fail(err, errlen, "no program headers");
	if (*phentsize < ELF_PHDR_SIZE) {
		if (err && errlen)
			snprintf(err, errlen,
				 "program header entry too small (e_phentsize "
				 "%u, need 56)",
				 *phentsize);
		return false;
	}
	/* both factors are < 2^16, so the product cannot overflow */
	table = (uint64_t)*phnum * *phentsize;
	if (*phoff > len || table > len - *phoff) {
		if (err && errlen)
			snprintf(err, errlen,
				 "program header table (offset 0x%lx, %u entries "
				 "of %u bytes) outside the file (%lu bytes)",
				 (unsigned long)*phoff, *phnum, *phentsize,
				 (unsigned long)len);
		return false;
	}
	return true;
}

/* Checks one PT_LOAD (program header i) in isolation. */
static bool elf_check_seg(const struct elf_segment *s, unsigned i, size_t len,
			  char *err, size_t errlen)
{
	const char *why = NULL;

	if (s->filesz > s->memsz)
		why = "p_filesz is larger than p_memsz";
	else if (s->offset > len || s->filesz > len - s->offset)
		why = "file bytes lie outside the file";
	else if (s->vaddr > UINT64_MAX - s->memsz)
		why = "p_vaddr + p_memsz wraps around";
	else if (s->vaddr + s->memsz > ELF_USER_LIMIT)
		why = "ends above 0x7f0000000000 (start-info area)";
	else if (s->vaddr % ELF_PAGE != s->offset % ELF_PAGE)
		why = "p_vaddr and p_offset differ modulo 4096";
	if (!why)
		return true;
	if (err && errlen)
		snprintf(err, errlen,
			 "program header %u (PT_LOAD vaddr 0x%lx memsz 0x%lx offset 0x%lx "
			 "filesz 0x%lx): %s",
			 i, (unsigned long)s->vaddr, (unsigned long)s->memsz,
			 (unsigned long)s->offset, (unsigned long)s->filesz, why);
	return false;
}

/* Validates a whole ELF64 x86-64 executable and lists its loadable
 * segments (rules in elf.h). */
bool elf_check(const void *img, size_t len, struct elf_image *out, char *err,
	       size_t errlen)
{
	const unsigned char *b = img;
	uint64_t phoff = 0, entry = 0;
	unsigned phnum = 0, phentsize = 0;
	unsigned phidx[ELF_MAX_SEGS]; /* program header of each segment */

	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	if (!b)
		len = 0;
	if (!elf_check_ehdr(b, len, &phoff, &phnum, &phentsize, &entry, err,
			    errlen))
		return false;

	for (unsigned i = 0; i < phnum; i++) {
		const unsigned char *ph = b + phoff + (uint64_t)i * phentsize;
		uint64_t type = elf_rd(ph, 4), pflags = elf_rd(ph + 4, 4);
		struct elf_segment s;

		if (type == ELF_PT_INTERP)
			return elf_fail(err, errlen,
					"has PT_INTERP: dynamic linking is not "
					"supported");
		if (type != ELF_PT_LOAD)
			continue;
		s.offset = elf_rd(ph + 8, 8);
		s.vaddr = elf_rd(ph + 16, 8);
		s.filesz = elf_rd(ph + 32, 8);
		s.memsz = elf_rd(ph + 40, 8);
		s.flags = ((pflags & ELF_PF_R) ? ELF_SEG_R : 0u) |
			  ((pflags & ELF_PF_W) ? ELF_SEG_W : 0u) |
			  ((pflags & ELF_PF_X) ? ELF_SEG_X : 0u);
		if (!elf_check_seg(&s, i, len, err, errlen))
			return false;
		if (s.memsz == 0)
			continue;
		if (out->nseg == ELF_MAX_SEGS) {
			if (err && errlen)
				snprintf(err, errlen,
					 "too many PT_LOAD segments (at most %u)",
					 ELF_MAX_SEGS);
			return false;
		}
		phidx[out->nseg] = i;
		out->seg[out->nseg++] = s;
	}
	if (out->nseg == 0)
		return elf_fail(err, errlen, "no PT_LOAD segment");

	/* page-granular overlap: [first page, last page] of each pair */
	for (unsigned i = 0; i < out->nseg; i++) {
		const struct elf_segment *a = &out->seg[i];
		uint64_t a0 = a->vaddr / ELF_PAGE;
		uint64_t a1 = (a->vaddr + a->memsz - 1) / ELF_PAGE;
		for (unsigned j = i + 1; j < out->nseg; j++) {
			const struct elf_segment *c = &out->seg[j];
			uint64_t c0 = c->vaddr / ELF_PAGE;
			uint64_t c1 = (c->vaddr + c->memsz - 1) / ELF_PAGE;
			if (a1 < c0 || c1 < a0)
				continue;
			if (err && errlen)
				snprintf(err, errlen,
					 "program headers %u and %u (PT_LOAD) "
					 "overlap in page 0x%lx",
					 phidx[i], phidx[j],
					 (unsigned long)((a0 > c0 ? a0 : c0) *
							 ELF_PAGE));
			return false;
		}
	}

	for (unsigned i = 0; i < out->nseg; i++) {
		const struct elf_segment *s = &out->seg[i];
		if ((s->flags & ELF_SEG_X) && entry >= s->vaddr &&
		    entry - s->vaddr < s->memsz) {
			out->entry = entry;
			return true;
		}
	}
	if (err && errlen)
		snprintf(err, errlen,
			 "entry point 0x%lx is not in an executable segment",
			 (unsigned long)entry);
	return false;
}
