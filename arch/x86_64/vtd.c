/*
 * VT-d without the hardware (arch/vtd.h; tests/unit/test_vtd.c): the DMAR
 * table's DRHD units (spec. 8.3) and second-level page tables (9.8): tables
 * of 512 8-byte entries, an entry present if it allows reading or writing;
 * only 4 KiB pages (DMA memory is small); interrupt remapping table
 * entries and the remappable interrupt formats (5.1.4, 9.10).
 */
#include "kernel.h"
#include "kmem.h"
#include <arch/layout.h>
#include <arch/vtd.h>

#define SL_RW 3ul /* R, W */
#define SL_ADDR 0x000ffffffffff000ul

int vtd_parse_dmar(const void *dmar, struct vtd_drhd *out, unsigned max)
{
	const u8 *t = dmar;
	u32 len, n = 0;
	memcpy(&len, t + 4, 4);
	/* after the header, host address width, flags and 10 reserved bytes: structures of
	 * type, length (2 bytes each); a DRHD (type 0) then has flags, size (2^N pages since
	 * rev. 2.x, reserved 0 before), segment, register base */
	for (u32 off = 48; off < len;) {
		u16 type, slen;
		if (len - off < 4)
			return -1;
		memcpy(&type, t + off, 2);
		memcpy(&slen, t + off + 2, 2);
		if (slen < 4 || slen > len - off || (type == 0 && slen < 16))
			return -1;
		if (type == 0 && n < max) {
			out[n].pages = 1u << (t[off + 5] & 15);
			memcpy(&out[n].segment, t + off + 6, 2);
			memcpy(&out[n].base, t + off + 8, 8);
			out[n].ioapic_sid = -1;
			/* device scopes: type, length, 2 reserved, enumeration id, start bus, then
			 * (device, function) pairs; an IOAPIC (3) with one pair has its requester id */
			for (u32 s = off + 16, k = 0; s + 2 <= off + slen && t[s + 1] >= 6; s += t[s + 1])
				if (t[s] == 3 && s + t[s + 1] <= off + slen)
					out[n].ioapic_sid = k++ || t[s + 1] != 8 ? -1 : t[s + 5] << 8 | t[s + 6] << 3 | (t[s + 7] & 7);
		}
		n += type == 0;
		off += slen;
	}
	return (int)n;
}

u64 *vtd_pt_alloc(struct kmem_quota *q)
{
	u64 *t = kmem_alloc(q, PAGE_SIZE);
	if (t)
		vtd_sync(t, PAGE_SIZE);
	return t;
}

/* The leaf entry for iova; missing tables are made if q, else the result is NULL. */
static u64 *walk(struct kmem_quota *q, u64 *t, unsigned levels, u64 iova)
{
	for (unsigned l = levels - 1; l > 0; l--) {
		u64 *e = &t[(iova >> (12 + 9 * l)) & 511], *n;
		if (!(*e & SL_RW)) {
			if (!q || !(n = vtd_pt_alloc(q)))
				return NULL;
			*e = virt_to_phys(n) | SL_RW;
			vtd_sync(e, sizeof(*e));
		}
		t = phys_to_virt(*e & SL_ADDR);
	}
	return &t[(iova >> 12) & 511];
}

/* Pages from `i` up to the next leaf table. */
static u64 to_next_table(u64 iova, u64 i) { return 512 - (((iova >> 12) + i) & 511); }

bool vtd_pt_map(struct kmem_quota *q, u64 *root, unsigned levels, u64 iova, u64 pa, u64 npages,
		bool writable, bool *stale)
{
	for (u64 i = 0; i < npages; i += to_next_table(iova, i)) /* every table first: failing changes no entry */
		if (!walk(q, root, levels, iova + (i << 12)))
			return false;
	for (u64 i = 0; i < npages; i++) {
		u64 *e = walk(NULL, root, levels, iova + (i << 12));
		*stale |= (*e & SL_RW) != 0;
		*e = (pa + (i << 12)) | (writable ? SL_RW : 1);
		vtd_sync(e, sizeof(*e));
	}
	return true;
}

void vtd_pt_unmap(u64 *root, unsigned levels, u64 iova, u64 npages)
{
	/* where a leaf table is missing, nothing is mapped up to the next one */
	for (u64 i = 0, *e; i < npages; i += e ? 1 : to_next_table(iova, i))
		if ((e = walk(NULL, root, levels, iova + (i << 12)))) {
			*e = 0;
			vtd_sync(e, sizeof(*e));
		}
}

static void free_level(struct kmem_quota *q, u64 *t, unsigned level)
{
	for (unsigned i = 0; level && i < 512; i++)
		if (t[i] & SL_RW)
			free_level(q, phys_to_virt(t[i] & SL_ADDR), level - 1);
	kmem_free(q, t, PAGE_SIZE);
}

void vtd_pt_free(struct kmem_quota *q, u64 *root, unsigned levels) { free_level(q, root, levels - 1); }

void vtd_irte(u64 e[2], u8 vector, u32 apic_id, bool level, int sid)
{
	/* P, TM (bit 4), vector 23..16, destination 47..40 (xAPIC); SID 79..64, SVT 01 (all 16 bits) */
	e[0] = 1 | (level ? 1ul << 4 : 0) | (u64)vector << 16 | (u64)(apic_id & 0xff) << 40;
	e[1] = sid < 0 ? 0 : (u64)(sid & 0xffff) | 1ul << 18;
}

/* handle 14..0 at 19..5, remappable format (bit 4), SHV 0, handle 15 at bit 2 */
u32 vtd_msi_address(unsigned handle) { return 0xfee00000u | (handle & 0x7fff) << 5 | 1u << 4 | (handle >> 15 & 1) << 2; }

/* index 14..0 at 63..49, format at 48 (index 15 would be bit 11: handles stay below 32768) */
u32 vtd_rte_high(unsigned handle) { return (handle & 0x7fff) << 17 | 1u << 16; }
