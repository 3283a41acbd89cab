/*
 * ACPI table discovery: RSDP -> RSDT/XSDT -> MADT. Every table is checked
 * (signature, length, checksum) before use; a broken MADT leaves the
 * system on one CPU with the default IOAPIC rather than failing.
 */
#include "kernel.h"
#include <arch/acpi.h>
#include <arch/layout.h>

struct acpi_info acpi;

struct PACKED rsdp {
	char sig[8];
	u8 checksum;
	char oem[6];
	u8 rev;
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 xchecksum, reserved[3];
};

struct PACKED sdt {
	char sig[4];
	u32 length;
	u8 rev, checksum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
};

static bool sum_ok(const void *p, size_t n)
{
	u8 s = 0;
	for (size_t i = 0; i < n; i++)
		s = (u8)(s + ((const u8 *)p)[i]);
	return s == 0;
}

static const struct rsdp *rsdp_scan(paddr_t base, size_t len)
{
	for (paddr_t p = base; p + sizeof(struct rsdp) <= base + len; p += 16) {
		const struct rsdp *r = phys_to_virt(p);
		if (!memcmp(r->sig, "RSD PTR ", 8) && sum_ok(r, 20))
			return r;
	}
	return NULL;
}

static const struct sdt *table_at(u64 phys)
{
	if (!phys || phys >= DMAP_SIZE - 0x10000)
		return NULL;
	const struct sdt *t = phys_to_virt(phys);
	if (t->length < sizeof(*t) || t->length > 0x10000 || !sum_ok(t, t->length))
		return NULL;
	return t;
}

static const struct sdt *find_table(const struct rsdp *r, const char *sig)
{
	bool x = r->rev >= 2 && r->xsdt;
	const struct sdt *root = table_at(x ? r->xsdt : r->rsdt);
	if (!root)
		return NULL;
	size_t esz = x ? 8 : 4;
	size_t n = (root->length - sizeof(*root)) / esz;
	const u8 *ents = (const u8 *)(root + 1);
	for (size_t i = 0; i < n; i++) {
		u64 a = 0;
		memcpy(&a, ents + i * esz, esz);
		const struct sdt *t = table_at(a);
		if (t && !memcmp(t->sig, sig, 4))
			return t;
	}
	return NULL;
}

static void add_cpu(u32 apic_id)
{
	for (unsigned i = 0; i < acpi.ncpus; i++)
		if (acpi.cpu_apic_id[i] == apic_id)
			return;
	if (acpi.ncpus < ARRAY_SIZE(acpi.cpu_apic_id))
		acpi.cpu_apic_id[acpi.ncpus++] = apic_id;
}

static void parse_madt(const struct sdt *m)
{
	const u8 *p = (const u8 *)m + sizeof(*m) + 8, *end = (const u8 *)m + m->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		switch (p[0]) {
		case 0: /* processor local APIC */
			if (p[1] >= 8 && (p[4] & 1))
				add_cpu(p[3]);
			break;
		case 1: /* IOAPIC */
			if (p[1] >= 12 && acpi.nioapics < MAX_IOAPICS) {
				u32 addr, gsi;
				memcpy(&addr, p + 4, 4);
				memcpy(&gsi, p + 8, 4);
				acpi.ioapic[acpi.nioapics].base = addr;
				acpi.ioapic[acpi.nioapics++].gsi_base = gsi;
			}
			break;
		case 2: /* interrupt source override */
			if (p[1] >= 10 && p[3] < 16) {
				u32 gsi;
				u16 flags;
				memcpy(&gsi, p + 4, 4);
				memcpy(&flags, p + 8, 2);
				acpi.isa_gsi[p[3]] = gsi;
				acpi.isa_flags[p[3]] = flags;
			}
			break;
		case 9: /* processor local x2APIC */
			if (p[1] >= 16 && (p[8] & 1)) {
				u32 id;
				memcpy(&id, p + 4, 4);
				add_cpu(id);
			}
			break;
		}
		p += p[1];
	}
}

/* Finds the MADT; false (and defaults) when there is none. */
bool acpi_init(paddr_t rsdp_hint)
{
	for (unsigned i = 0; i < 16; i++)
		acpi.isa_gsi[i] = i;
	const struct rsdp *r = NULL;
	if (rsdp_hint) {
		r = phys_to_virt(rsdp_hint);
		if (memcmp(r->sig, "RSD PTR ", 8) || !sum_ok(r, 20))
			r = NULL;
	}
	if (!r) {
		paddr_t ebda = (paddr_t)*(u16 *)phys_to_virt(0x40e) << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			r = rsdp_scan(ebda, 1024);
	}
	if (!r)
		r = rsdp_scan(0xe0000, 0x20000);
	const struct sdt *madt = r ? find_table(r, "APIC") : NULL;
	if (madt)
		parse_madt(madt);
	if (r) {
		acpi.mcfg = find_table(r, "MCFG");
		acpi.dmar = find_table(r, "DMAR");
	}
	if (!acpi.nioapics) {
		acpi.ioapic[0].base = 0xfec00000;
		acpi.nioapics = 1;
	}
	return madt != NULL;
}
