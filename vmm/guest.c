/* Guest memory as the VMM sees it: reads and guest page-table walks. */
#include "vmm.h"
#include <string.h>

bool guest_read(uint64_t gpa, void *buf, size_t n)
{
	if (gpa >= vm.ram_size || n > vm.ram_size - gpa)
		return false;
	memcpy(buf, vm.ram + gpa, n);
	return true;
}

/*
 * Guest-virtual -> guest-physical through the guest's own page tables
 * (none, 32-bit, PAE or 4-level), as the instruction fetch for MMIO
 * emulation needs it. Segment bases are applied by the caller.
 */
bool guest_translate(const struct hv_cpu_state *st, uint64_t gva, uint64_t *gpa)
{
	if (!(st->cr0 & (1u << 31))) {
		*gpa = gva;
		return true;
	}
	bool pae = st->cr4 & (1u << 5), lma = st->efer & (1u << 10);
	if (!pae) { /* 32-bit paging */
		uint32_t pde, pte;
		if (!guest_read((st->cr3 & ~0xfffull) + ((gva >> 22) & 0x3ff) * 4, &pde, 4) || !(pde & 1))
			return false;
		if ((pde & 0x80) && (st->cr4 & (1u << 4))) {
			*gpa = (pde & 0xffc00000u) | (gva & 0x3fffff);
			return true;
		}
		if (!guest_read((pde & ~0xfffu) + ((gva >> 12) & 0x3ff) * 4, &pte, 4) || !(pte & 1))
			return false;
		*gpa = (pte & ~0xfffu) | (gva & 0xfff);
		return true;
	}
	unsigned levels = lma ? 4 : 3;
	uint64_t table = lma ? st->cr3 & 0x000ffffffffff000ull : st->cr3 & 0xffffffe0ull;
	for (unsigned l = levels; l > 0; l--) {
		unsigned shift = 12 + 9 * (l - 1);
		unsigned idx = (unsigned)((gva >> shift) & (l == 3 && !lma ? 3 : 511));
		uint64_t e;
		if (!guest_read(table + idx * 8, &e, 8) || !(e & 1))
			return false;
		if (l < levels && l > 1 && (e & 0x80)) {
			uint64_t mask = (1ull << shift) - 1;
			*gpa = (e & 0x000ffffffffff000ull & ~mask) | (gva & mask);
			return true;
		}
		table = e & 0x000ffffffffff000ull;
	}
	*gpa = table | (gva & 0xfff);
	return true;
}
