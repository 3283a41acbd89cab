/*
 * ACPI tables for a PC guest. Every table is written straight into the
 * caller's buffer through bounds-checked helpers; the DSDT's AML is encoded
 * here (names, integers, strings, packages, buffers, scopes, devices).
 * Table layouts: ACPI 6.0 (FADT revision 6, MADT revision 4).
 */
#include "acpi.h"
#include "../devices/platform.h"
#include <string.h>

#define OEM_ID "MHVISR"
#define OEM_REVISION 1
#define CREATOR_ID "MHV "
#define CREATOR_REVISION 1

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276

/* FADT flags */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed sleep button */
#define FADT_FIX_RTC (1u << 6)    /* set: no RTC wake status in the fixed registers */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_APIC_PHYSICAL (1u << 19)

/* FADT IAPC_BOOT_ARCH */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Generic address structure: address space ids and access sizes */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1u
#define MPS_POLARITY_HIGH 0x1
#define MPS_TRIGGER_LEVEL 0xc

/* AML opcodes */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f

/* Resource descriptors */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO 0x47
#define RES_END 0x79
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR 0x88
#define RES_TYPE_MEM 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_MIN_MAX_FIXED 0x0c /* producer, positive decode */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_READ_WRITE 0x01 /* non-cacheable */

#define PCI_MEM_ALIGN 0x100000ull

/* ---- byte output with bounds ------------------------------------------------ */

/* A bounded writer: once anything does not fit, nothing more is written and
 * the result is discarded. */
struct out {
	uint8_t *buf;
	size_t size, pos;
	bool overflow;
};

static bool out_room(struct out *o, size_t n)
{
	if (o->overflow || n > o->size - o->pos) {
		o->overflow = true;
		return false;
	}
	return true;
}

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (!out_room(o, n))
		return;
	memcpy(o->buf + o->pos, p, n);
	o->pos += n;
}

static void out_u8(struct out *o, uint8_t v)
{
	out_bytes(o, &v, 1);
}

static void out_le(struct out *o, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	out_bytes(o, b, n);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

/* ---- AML encoding ------------------------------------------------------------ */

/* Opens a PkgLength: reserves its longest form (4 bytes); aml_pkg_end()
 * shrinks it to fit once the contents are known. */
static size_t aml_pkg_begin(struct out *o)
{
	size_t start = o->pos;
	out_le(o, 0, 4);
	return start;
}

static void aml_pkg_end(struct out *o, size_t start)
{
	if (o->overflow)
		return;
	size_t body = o->pos - (start + 4);
	unsigned n = 1;
	/* the encoded length counts the PkgLength bytes themselves */
	while (n < 4 && body + n > (n == 1 ? 0x3fu : (1u << (4 + 8 * (n - 1))) - 1))
		n++;
	size_t len = body + n;
	if (len > 0xfffffff) {
		o->overflow = true;
		return;
	}
	uint8_t *p = o->buf + start;
	memmove(p + n, p + 4, body);
	memset(p + n + body, 0, 4 - n);
	if (n == 1) {
		p[0] = (uint8_t)len;
	} else {
		p[0] = (uint8_t)(((n - 1) << 6) | (len & 0xf));
		for (unsigned i = 1; i < n; i++)
			p[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	}
	o->pos = start + n + body;
}

/* One NameSeg: up to 4 characters, padded with '_'. */
static void aml_nameseg(struct out *o, const char *s, size_t len)
{
	char seg[4] = { '_', '_', '_', '_' };
	memcpy(seg, s, len < 4 ? len : 4);
	out_bytes(o, seg, 4);
}

/* A NameString from "\\_SB_.PCI0"-style paths (our own constants). */
static void aml_namestring(struct out *o, const char *path)
{
	if (*path == '\\') {
		out_u8(o, AML_ROOT);
		path++;
	}
	unsigned segs = *path ? 1 : 0;
	for (const char *c = path; *c; c++)
		segs += *c == '.';
	if (segs == 0)
		out_u8(o, 0); /* NullName */
	else if (segs == 2)
		out_u8(o, AML_DUAL_NAME);
	else if (segs > 2) {
		out_u8(o, AML_MULTI_NAME);
		out_u8(o, (uint8_t)segs);
	}
	while (*path) {
		size_t len = 0;
		while (path[len] && path[len] != '.')
			len++;
		aml_nameseg(o, path, len);
		path += len;
		if (*path == '.')
			path++;
	}
}

/* An integer in its shortest encoding. */
static void aml_int(struct out *o, uint64_t v)
{
	if (v == 0) {
		out_u8(o, AML_ZERO);
	} else if (v == 1) {
		out_u8(o, AML_ONE);
	} else if (v <= 0xff) {
		out_u8(o, AML_BYTE);
		out_u8(o, (uint8_t)v);
	} else if (v <= 0xffff) {
		out_u8(o, AML_WORD);
		out_le(o, v, 2);
	} else if (v <= 0xffffffff) {
		out_u8(o, AML_DWORD);
		out_le(o, v, 4);
	} else {
		out_u8(o, AML_QWORD);
		out_le(o, v, 8);
	}
}

static void aml_string(struct out *o, const char *s)
{
	out_u8(o, AML_STRING);
	out_bytes(o, s, strlen(s) + 1);
}

/* The 32-bit compressed form of an EISA id such as "PNP0A03". */
static uint32_t eisa_id(const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t mfg = (uint32_t)((id[0] - 0x40) & 0x1f) << 10 | (uint32_t)((id[1] - 0x40) & 0x1f) << 5 |
		       (uint32_t)((id[2] - 0x40) & 0x1f);
	uint32_t prod = 0;
	for (int i = 3; i < 7; i++)
		prod = prod << 4 | (uint32_t)(strchr(hex, id[i]) - hex);
	/* stored big-endian: manufacturer bytes first */
	return (mfg >> 8) | (mfg & 0xff) << 8 | (prod >> 8) << 16 | (prod & 0xff) << 24;
}

/* Name (path, ...): the caller appends the object. */
static void aml_name(struct out *o, const char *path)
{
	out_u8(o, AML_NAME);
	aml_namestring(o, path);
}

static void aml_name_int(struct out *o, const char *path, uint64_t v)
{
	aml_name(o, path);
	aml_int(o, v);
}

static void aml_name_eisa(struct out *o, const char *path, const char *id)
{
	aml_name(o, path);
	out_u8(o, AML_DWORD);
	out_le(o, eisa_id(id), 4);
}

/* Package (n) { ... }: close with aml_pkg_end(). */
static size_t aml_package_begin(struct out *o, unsigned n)
{
	out_u8(o, AML_PACKAGE);
	size_t start = aml_pkg_begin(o);
	out_u8(o, (uint8_t)n);
	return start;
}

static void aml_buffer(struct out *o, const uint8_t *data, size_t n)
{
	out_u8(o, AML_BUFFER);
	size_t start = aml_pkg_begin(o);
	aml_int(o, n);
	out_bytes(o, data, n);
	aml_pkg_end(o, start);
}

/* Scope (path) { ... } and Device (path) { ... }: close with aml_pkg_end(). */
static size_t aml_scope_begin(struct out *o, const char *path)
{
	out_u8(o, AML_SCOPE);
	size_t start = aml_pkg_begin(o);
	aml_namestring(o, path);
	return start;
}

static size_t aml_device_begin(struct out *o, const char *path)
{
	out_u8(o, AML_EXT);
	out_u8(o, AML_EXT_DEVICE);
	size_t start = aml_pkg_begin(o);
	aml_namestring(o, path);
	return start;
}

/* ---- resource templates ---------------------------------------------------- */

static void res_word(struct out *r, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	out_u8(r, RES_WORD_ADDR);
	out_le(r, 13, 2);
	out_u8(r, type);
	out_u8(r, RES_MIN_MAX_FIXED);
	out_u8(r, type_flags);
	out_le(r, 0, 2);                   /* granularity */
	out_le(r, min, 2);
	out_le(r, max, 2);
	out_le(r, 0, 2);                   /* translation */
	out_le(r, (uint32_t)(max - min) + 1, 2);
}

static void res_dword_mem(struct out *r, uint32_t min, uint32_t max)
{
	out_u8(r, RES_DWORD_ADDR);
	out_le(r, 23, 2);
	out_u8(r, RES_TYPE_MEM);
	out_u8(r, RES_MIN_MAX_FIXED);
	out_u8(r, RES_MEM_READ_WRITE);
	out_le(r, 0, 4);                   /* granularity */
	out_le(r, min, 4);
	out_le(r, max, 4);
	out_le(r, 0, 4);                   /* translation */
	out_le(r, (uint64_t)max - min + 1, 4);
}

static void res_io(struct out *r, uint16_t base, uint8_t len)
{
	out_u8(r, RES_IO);
	out_u8(r, 1);                      /* 16-bit decode */
	out_le(r, base, 2);
	out_le(r, base, 2);
	out_u8(r, 1);                      /* alignment */
	out_u8(r, len);
}

static void res_irq(struct out *r, unsigned irq)
{
	out_u8(r, RES_IRQ_NOFLAGS);
	out_le(r, 1u << irq, 2);
}

/* Name (_CRS, ResourceTemplate () { ... }) from the descriptors in r. */
static void aml_crs(struct out *o, struct out *r)
{
	out_u8(r, RES_END);
	out_u8(r, 0);                      /* checksum 0: not checked */
	if (r->overflow) {
		o->overflow = true;
		return;
	}
	aml_name(o, "_CRS");
	aml_buffer(o, r->buf, r->pos);
}

/* A legacy ISA device with one I/O range and one IRQ. */
static void dsdt_isa_device(struct out *o, const char *name, const char *hid, unsigned uid, uint16_t io,
			    uint8_t io_len, unsigned irq)
{
	uint8_t tmp[32];
	struct out r = { .buf = tmp, .size = sizeof(tmp) };

	size_t dev = aml_device_begin(o, name);
	aml_name_eisa(o, "_HID", hid);
	aml_name_int(o, "_UID", uid);
	res_io(&r, io, io_len);
	res_irq(&r, irq);
	aml_crs(o, &r);
	aml_pkg_end(o, dev);
}

static void dsdt_pci0(struct out *o, uint32_t mem_base)
{
	uint8_t tmp[96];
	struct out r = { .buf = tmp, .size = sizeof(tmp) };

	size_t dev = aml_device_begin(o, "PCI0");
	aml_name_eisa(o, "_HID", "PNP0A03");
	aml_name_int(o, "_UID", 0);
	aml_name_int(o, "_BBN", 0);
	aml_name_int(o, "_SEG", 0);

	res_word(&r, RES_TYPE_BUS, 0, 0, 0);
	/* everything but the configuration ports 0xcf8..0xcff */
	res_word(&r, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0000, 0x0cf7);
	res_word(&r, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0d00, 0xffff);
	res_dword_mem(&r, mem_base, (uint32_t)PC_IOAPIC_BASE - 1);
	aml_crs(o, &r);

	/* Device d's pin p (INTA = 0 here) on PC_PCI_GSI(d, p + 1), as a
	 * PCI-to-PCI bridge would swizzle them; Source 0: the GSI is fixed. */
	aml_name(o, "_PRT");
	size_t prt = aml_package_begin(o, 31 * 4);
	for (unsigned d = 1; d < 32; d++) {
		for (unsigned p = 0; p < 4; p++) {
			size_t e = aml_package_begin(o, 4);
			aml_int(o, (uint64_t)d << 16 | 0xffff);
			aml_int(o, p);
			aml_int(o, 0);
			aml_int(o, PC_PCI_GSI(d, p + 1));
			aml_pkg_end(o, e);
		}
	}
	aml_pkg_end(o, prt);
	aml_pkg_end(o, dev);
}

/* The DSDT's AML (after its header). */
static void dsdt_body(struct out *o, const struct acpi_config *cfg, uint32_t mem_base)
{
	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved */
	aml_name(o, "\\_S5_");
	size_t s5 = aml_package_begin(o, 4);
	aml_int(o, PC_ACPI_S5_SLP_TYP);
	aml_int(o, PC_ACPI_S5_SLP_TYP);
	aml_int(o, 0);
	aml_int(o, 0);
	aml_pkg_end(o, s5);

	size_t sb = aml_scope_begin(o, "\\_SB_");
	dsdt_pci0(o, mem_base);
	if (cfg->com1)
		dsdt_isa_device(o, "COM1", "PNP0501", 1, 0x3f8, 8, 4);
	if (cfg->cmos_rtc)
		dsdt_isa_device(o, "RTC_", "PNP0B00", 0, 0x70, 2, 8);
	if (cfg->pvpanic) { /* the guest reports a panic on this port (Linux: pvpanic-mmio) */
		uint8_t tmp[16];
		struct out r = { .buf = tmp, .size = sizeof(tmp) };
		size_t dev = aml_device_begin(o, "PEVT");
		aml_name(o, "_HID");
		aml_string(o, "QEMU0001");
		aml_name_int(o, "_STA", 0xf);
		res_io(&r, PC_PVPANIC_PORT, 1);
		aml_crs(o, &r);
		aml_pkg_end(o, dev);
	}
	/* processor devices: _UID i matches the MADT's processor UID i */
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = { 'C', hex[(i >> 8) & 0xf], hex[(i >> 4) & 0xf], hex[i & 0xf], 0 };
		size_t dev = aml_device_begin(o, name);
		aml_name(o, "_HID");
		aml_string(o, "ACPI0007");
		aml_name_int(o, "_UID", i);
		aml_pkg_end(o, dev);
	}
	aml_pkg_end(o, sb);
}

/* ---- tables ------------------------------------------------------------------- */

struct layout {
	uint8_t *buf;
	size_t size, next;
	uint64_t gpa;
	bool overflow;
};

/* Reserves len bytes whose guest-physical address is align-aligned. */
static uint8_t *place(struct layout *l, size_t len, uint64_t align, uint64_t *addr)
{
	uint64_t a = (l->gpa + l->next + align - 1) & ~(align - 1);
	uint64_t off = a - l->gpa;
	if (l->overflow || off > l->size || len > l->size - off || a + len > 0x100000000ull) {
		l->overflow = true;
		return NULL;
	}
	l->next = off + len;
	*addr = a;
	return l->buf + off;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	char table_id[8] = { 'M', 'H', 'V', sig[0], sig[1], sig[2], sig[3], ' ' };
	memcpy(t, sig, 4);
	put_le(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, table_id, 8);
	put_le(t + 24, OEM_REVISION, 4);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le(t + 32, CREATOR_REVISION, 4);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A generic address structure (12 bytes) for a system I/O register. */
static void put_gas_io(uint8_t *p, uint16_t port, unsigned bits, uint8_t access)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = (uint8_t)bits;
	p[2] = 0;
	p[3] = access;
	put_le(p + 4, port, 8);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg, uint64_t facs, uint64_t dsdt)
{
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC |
			 FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
	uint16_t boot = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT; /* no 8042 */

	if (cfg->ncpus > 8)
		flags |= FADT_APIC_PHYSICAL; /* logical flat mode addresses only 8 */
	if (!cfg->cmos_rtc)
		boot |= BOOT_CMOS_RTC_NOT_PRESENT;

	header(t, "FACP", FADT_LEN, 6);
	put_le(t + 36, facs, 4);
	put_le(t + 40, dsdt, 4);
	put_le(t + 46, PC_ACPI_SCI_IRQ, 2);
	/* SMI_CMD 0: the hardware is always in ACPI mode (SCI_EN reads 1) */
	put_le(t + 56, PC_ACPI_PM_BASE, 4);
	put_le(t + 64, PC_ACPI_PM1_CNT, 4);
	put_le(t + 76, PC_ACPI_PM_TMR, 4);
	t[88] = 4;                         /* PM1_EVT_LEN */
	t[89] = 2;                         /* PM1_CNT_LEN */
	t[91] = 4;                         /* PM_TMR_LEN */
	put_le(t + 96, 101, 2);            /* P_LVL2_LAT > 100: no C2 */
	put_le(t + 98, 1001, 2);           /* P_LVL3_LAT > 1000: no C3 */
	put_le(t + 109, boot, 2);
	put_le(t + 112, flags, 4);
	put_gas_io(t + 116, PC_RESET_PORT, 8, GAS_ACCESS_BYTE);
	t[128] = PC_RESET_VALUE;
	t[131] = 0;                        /* FADT minor version: ACPI 6.0 */
	put_le(t + 132, facs, 8);
	put_le(t + 140, dsdt, 8);
	put_gas_io(t + 148, PC_ACPI_PM_BASE, 32, GAS_ACCESS_WORD);
	put_gas_io(t + 172, PC_ACPI_PM1_CNT, 16, GAS_ACCESS_WORD);
	put_gas_io(t + 208, PC_ACPI_PM_TMR, 32, GAS_ACCESS_DWORD);
	finish(t, FADT_LEN);
}

static uint32_t madt_len(unsigned ncpus)
{
	return HDR_LEN + 8 + 8 * ncpus + 12 + 2 * 10 + 6;
}

static void madt_iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_ISO;
	p[1] = 10;
	p[2] = 0;                          /* bus: ISA */
	p[3] = irq;
	put_le(p + 4, gsi, 4);
	put_le(p + 8, flags, 2);
}

static void build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	uint32_t len = madt_len(cfg->ncpus);
	uint8_t *p = t + HDR_LEN + 8;

	header(t, "APIC", len, 4);
	put_le(t + 36, PC_LAPIC_BASE, 4);
	put_le(t + 40, MADT_PCAT_COMPAT, 4);
	for (unsigned i = 0; i < cfg->ncpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = (uint8_t)i;                 /* processor UID */
		p[3] = (uint8_t)i;                 /* APIC id */
		put_le(p + 4, MADT_LAPIC_ENABLED, 4);
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = (uint8_t)acpi_ioapic_id(cfg);
	p[3] = 0;
	put_le(p + 4, PC_IOAPIC_BASE, 4);
	put_le(p + 8, 0, 4);                       /* GSI base */
	p += 12;
	madt_iso(p, 0, 2, 0);                      /* the PIT on pin 2, conforming */
	p += 10;
	madt_iso(p, PC_ACPI_SCI_IRQ, PC_ACPI_SCI_IRQ, MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
	p += 10;
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff;                               /* all processors */
	put_le(p + 3, 0, 2);                       /* flags: conforming */
	p[5] = 1;                                  /* LINT1 */
	finish(t, len);
}

static void build_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2;                                 /* revision: ACPI 2.0+ */
	put_le(p + 16, rsdt, 4);
	put_le(p + 20, RSDP_LEN, 4);
	put_le(p + 24, xsdt, 8);
	p[8] = checksum(p, 20);
	p[32] = checksum(p, RSDP_LEN);
}

uint64_t acpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg)
{
	struct layout l = { .buf = buf, .size = size, .gpa = gpa };
	uint64_t rsdp_a = 0, facs_a = 0, xsdt_a = 0, rsdt_a = 0, fadt_a = 0, madt_a = 0, dsdt_a = 0;
	uint64_t mem_base;

	if (!buf)
		return 0;
	memset(buf, 0, size);
	if (!cfg || cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS || cfg->low_ram_end < 0x100000 ||
	    cfg->low_ram_end >= PC_IOAPIC_BASE || gpa >= 0x100000000ull)
		return 0;
	mem_base = (cfg->low_ram_end + PCI_MEM_ALIGN - 1) & ~(PCI_MEM_ALIGN - 1);
	if (mem_base >= PC_IOAPIC_BASE) /* the window ends just below the IOAPIC */
		return 0;

	uint8_t *rsdp = place(&l, RSDP_LEN, 16, &rsdp_a);
	uint8_t *xsdt = place(&l, HDR_LEN + 2 * 8, 16, &xsdt_a);
	uint8_t *rsdt = place(&l, HDR_LEN + 2 * 4, 16, &rsdt_a);
	uint8_t *fadt = place(&l, FADT_LEN, 16, &fadt_a);
	uint8_t *madt = place(&l, madt_len(cfg->ncpus), 16, &madt_a);
	uint8_t *facs = place(&l, FACS_LEN, 64, &facs_a);
	uint8_t *dsdt = place(&l, HDR_LEN, 16, &dsdt_a);
	if (l.overflow)
		goto fail;

	/* the DSDT's AML runs to the end of the region at most */
	struct out o = { .buf = buf, .size = size, .pos = l.next };
	dsdt_body(&o, cfg, (uint32_t)mem_base);
	if (o.overflow || dsdt_a + (o.pos - (size_t)(dsdt - buf)) > 0x100000000ull)
		goto fail;
	uint32_t dsdt_len = (uint32_t)(o.pos - (size_t)(dsdt - buf));
	header(dsdt, "DSDT", dsdt_len, 2);         /* revision 2: 64-bit integers */
	finish(dsdt, dsdt_len);

	memcpy(facs, "FACS", 4);
	put_le(facs + 4, FACS_LEN, 4);
	facs[32] = 2;                              /* version */

	build_fadt(fadt, cfg, facs_a, dsdt_a);
	build_madt(madt, cfg);

	header(xsdt, "XSDT", HDR_LEN + 2 * 8, 1);
	put_le(xsdt + HDR_LEN, fadt_a, 8);
	put_le(xsdt + HDR_LEN + 8, madt_a, 8);
	finish(xsdt, HDR_LEN + 2 * 8);

	header(rsdt, "RSDT", HDR_LEN + 2 * 4, 1);
	put_le(rsdt + HDR_LEN, fadt_a, 4);
	put_le(rsdt + HDR_LEN + 4, madt_a, 4);
	finish(rsdt, HDR_LEN + 2 * 4);

	build_rsdp(rsdp, rsdt_a, xsdt_a);
	return rsdp_a;

fail:
	memset(buf, 0, size);
	return 0;
}
