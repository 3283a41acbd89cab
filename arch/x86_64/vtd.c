/*
 * VT-d without the hardware (arch/vtd.h; host unit tests in
 * tests/unit/test_vtd.c): the ACPI DMAR table's remapping units (VT-d
 * spec. 8.3) and second-level page tables (9.8): 512 entries of 8 bytes
 * per table, an entry present if it allows reading or writing. Only 4 KiB
 * pages: DMA memory is small, and tables stay simple.
 */
#include "kernel.h"
#include "kmem.h"
#include <arch/layout.h>
#include <arch/vtd.h>

#define SL_R (1ul << 0)
#define SL_W (1ul << 1)
#define SL_ADDR 0x000ffffffffff000ul

int vtd_parse_dmar(const void *dmar, struct vtd_drhd *out, unsigned max)
{
	const u8 *t = dmar;
	u32 len;
	int n = 0;
	memcpy(&len, t + 4, 4);
	/* the header (36 bytes), host address width, flags, 10 reserved; then
	 * structures of type (2 bytes), length (2) */
	for (u32 off = 48; off < len; ) {
		u16 type, slen;
		if (len - off < 4)
			return -1;
		memcpy(&type, t + off, 2);
		memcpy(&slen, t + off + 2, 2);
		if (slen < 4 || slen > len - off || (type == 0 && slen < 16))
			return -1;
		/* a DRHD: flags, size (2^N pages since rev. 2.x, 0 before), segment, base;
		 * others (RMRR, ATSR, ...) are skipped */
		if (type == 0 && (unsigned)n < max) {
			out[n].pages = 1u << (t[off + 5] & 15);
			memcpy(&out[n].segment, t + off + 6, 2);
			memcpy(&out[n].base, t + off + 8, 8);
		}
		n += type == 0;
		off += slen;
	}
	return n;
}

u64 *vtd_pt_alloc(struct kmem_quota *q)
{
	u64 *t = kmem_alloc(q, PAGE_SIZE);
	if (t)
		vtd_sync(t, PAGE_SIZE);
	return t;
}

/* The leaf entry for iova, making the tables on the way if q (else NULL where one is missing). */
static u64 *walk(struct kmem_quota *q, u64 *root, unsigned levels, u64 iova)
{
	u64 *t = root;
	for (unsigned l = levels - 1; l > 0; l--) {
		u64 *e = &t[(iova >> (12 + 9 * l)) & 511];
		if (!(*e & (SL_R | SL_W))) {
			u64 *n = q ? vtd_pt_alloc(q) : NULL;
			if (!n)
				return NULL;
			*e = virt_to_phys(n) | SL_R | SL_W;
			vtd_sync(e, sizeof(*e));
		}
		t = phys_to_virt(*e & SL_ADDR);
	}
	return &t[(iova >> 12) & 511];
}

bool vtd_pt_map(struct kmem_quota *q, u64 *root, unsigned levels, u64 iova, u64 pa, u64 npages,
		bool writable, bool *stale)
{
	/* every table first (one walk per leaf table), so that failing changes no entry */
	for (u64 i = 0; i < npages; i += 512 - (((iova >> 12) + i) & 511))
		if (!walk(q, root, levels, iova + (i << 12)))
			return false;
	for (u64 i = 0; i < npages; i++) {
		u64 *e = walk(NULL, root, levels, iova + (i << 12));
		if (*e & (SL_R | SL_W))
			*stale = true;
		*e = (pa + (i << 12)) | SL_R | (writable ? SL_W : 0);
		vtd_sync(e, sizeof(*e));
	}
	return true;
}

void vtd_pt_unmap(u64 *root, unsigned levels, u64 iova, u64 npages)
{
	for (u64 i = 0; i < npages;) {
		u64 *e = walk(NULL, root, levels, iova + (i << 12));
		if (!e) { /* no leaf table: nothing mapped up to the next one */
			i += 512 - (((iova >> 12) + i) & 511);
			continue;
		}
		*e = 0;
		vtd_sync(e, sizeof(*e));
		i++;
	}
}

static void free_level(struct kmem_quota *q, u64 *t, unsigned level)
{
	for (unsigned i = 0; level && i < 512; i++)
		if (t[i] & (SL_R | SL_W))
			free_level(q, phys_to_virt(t[i] & SL_ADDR), level - 1);
	kmem_free(q, t, PAGE_SIZE);
}

void vtd_pt_free(struct kmem_quota *q, u64 *root, unsigned levels)
{
	free_level(q, root, levels - 1);
}
