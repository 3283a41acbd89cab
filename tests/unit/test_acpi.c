/*
 * Unit tests of the ACPI tables (vmm/acpi.c): structure and checksums are
 * checked here; then every table goes through acpica-tools: `iasl -d`
 * (the disassembly must show what we meant), `iasl` on the disassembly
 * (it must compile back, data tables byte for byte), and `acpiexec`, which
 * loads the tables with the ACPICA code Linux runs and evaluates \_S5, the
 * PCI host bridge's _CRS and _PRT: it must not print any warning.
 */
#include "unit.h"

#include "acpi.h"
#include "platform.h"

#include <sys/stat.h>

#define GPA 0xe0000ull
#define SIZE 0x10000u
#define LOW_RAM 0x8000000ull /* 128 MiB */

/* ---- helpers ----------------------------------------------------------------- */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

struct tables {
	const uint8_t *rsdp, *xsdt, *rsdt, *fadt, *madt, *facs, *dsdt;
};

/* The table at guest-physical addr, which must lie inside the region. */
static const uint8_t *at(const uint8_t *buf, uint64_t gpa, uint64_t addr, size_t min_len)
{
	assert_true(addr >= gpa);
	assert_true(addr - gpa + min_len <= SIZE);
	return buf + (addr - gpa);
}

/* A table with a standard header: signature, length, checksum, OEM id. */
static const uint8_t *table(const uint8_t *buf, uint64_t gpa, uint64_t addr, const char *sig)
{
	const uint8_t *t = at(buf, gpa, addr, 36);
	assert_memory_equal(t, sig, 4);
	uint32_t len = le32(t + 4);
	assert_true(len >= 36);
	at(buf, gpa, addr, len);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "MHVISR", 6);
	return t;
}

/* Follows every pointer from the RSDP, checking each step. */
static void walk(const uint8_t *buf, uint64_t gpa, uint64_t rsdp, struct tables *t)
{
	assert_int_equal(rsdp % 16, 0);
	t->rsdp = at(buf, gpa, rsdp, 36);
	assert_memory_equal(t->rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(t->rsdp, 20), 0);
	assert_int_equal(t->rsdp[15], 2);
	assert_int_equal(le32(t->rsdp + 20), 36);
	assert_int_equal(sum(t->rsdp, 36), 0);

	t->xsdt = table(buf, gpa, le64(t->rsdp + 24), "XSDT");
	t->rsdt = table(buf, gpa, le32(t->rsdp + 16), "RSDT");
	uint32_t n = (le32(t->xsdt + 4) - 36) / 8;
	assert_int_equal(le32(t->xsdt + 4), 36 + 8 * n);
	assert_int_equal(le32(t->rsdt + 4), 36 + 4 * n);
	assert_int_equal(n, 2);
	t->fadt = t->madt = NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = le64(t->xsdt + 36 + 8 * i);
		assert_int_equal(le32(t->rsdt + 36 + 4 * i), a); /* the RSDT agrees */
		const uint8_t *p = at(buf, gpa, a, 36);
		if (!memcmp(p, "FACP", 4))
			t->fadt = table(buf, gpa, a, "FACP");
		else
			t->madt = table(buf, gpa, a, "APIC");
	}
	assert_non_null(t->fadt);
	assert_non_null(t->madt);
	assert_int_equal(le32(t->fadt + 4), 276);
	assert_int_equal(t->fadt[8], 6);

	/* 32- and 64-bit pointers agree */
	assert_int_equal(le32(t->fadt + 40), le64(t->fadt + 140));
	assert_int_equal(le32(t->fadt + 36), le64(t->fadt + 132));
	t->dsdt = table(buf, gpa, le64(t->fadt + 140), "DSDT");
	uint64_t facs = le64(t->fadt + 132);
	assert_int_equal(facs % 64, 0);
	t->facs = at(buf, gpa, facs, 64);
	assert_memory_equal(t->facs, "FACS", 4);
	assert_int_equal(le32(t->facs + 4), 64);
}

static uint64_t build(uint8_t *buf, unsigned ncpus, bool com1, bool rtc)
{
	/* the panic device goes with COM1, so both settings are covered */
	struct acpi_config cfg = { .ncpus = ncpus, .low_ram_end = LOW_RAM, .com1 = com1, .cmos_rtc = rtc,
				   .pvpanic = com1 };
	return acpi_build(buf, SIZE, GPA, &cfg);
}

/* Runs cmd through the shell; returns its exit status, output in *out. */
static int run(const char *cmd, char **out)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	for (;;) {
		if (cap - len < 2048) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
		size_t got = fread(s + len, 1, cap - len - 1, f);
		if (!got)
			break;
		len += got;
	}
	s[len] = 0;
	*out = s;
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), n);
	s[n] = 0;
	fclose(f);
	return s;
}

static void spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* iasl's output in one comparable line: comments and the "[0ABh 0171 2]"
 * offset columns dropped, every run of white space made one blank, none
 * before ')' or ','. */
static char *normalise(const char *s)
{
	char *o = malloc(strlen(s) + 1);
	size_t n = 0;
	bool line_start = true;
	assert_non_null(o);
	while (*s) {
		if (s[0] == '/' && s[1] == '/') {
			s += strcspn(s, "\n");
		} else if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");
			s = e ? e + 2 : s + strlen(s);
		} else if (line_start && *s == '[' && strchr(s, ']') &&
			   (size_t)(strchr(s, ']') - s) < 20 && s[4] == 'h') {
			s = strchr(s, ']') + 1;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			if (*s == '\n')
				line_start = true;
			if (n && o[n - 1] != ' ')
				o[n++] = ' ';
			s++;
			continue;
		} else {
			if ((*s == ')' || *s == ',') && n && o[n - 1] == ' ')
				n--; /* where a comment was */
			o[n++] = *s++;
		}
		line_start = false;
	}
	o[n] = 0;
	return o;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#define assert_has(text, ...) do { \
		char want_[512]; \
		snprintf(want_, sizeof(want_), __VA_ARGS__); \
		if (!strstr((text), want_)) \
			fail_msg("missing: \"%s\"", want_); \
	} while (0)

#define assert_lacks(text, str) do { \
		if (strstr((text), (str))) \
			fail_msg("unexpected: \"%s\"", (str)); \
	} while (0)

/* iasl or acpiexec output without complaints (acpiexec's own API tests
 * report "Unexpected AE_..." for the GPE and PM2 blocks we do not have). */
static void assert_clean(const char *out)
{
	static const char *bad[] = { "Firmware Warning", "Firmware Error", "ACPI Warning", "ACPI Error",
				     "ACPI Exception", "ACPI BIOS", "Mismatch", "Error  ", "Warning  " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(out, bad[i]))
			fail_msg("tool complained (\"%s\"):\n%s", bad[i], out);
}

/* Writes each table of t to dir/NAME.dat. */
static void dump(const char *dir, const struct tables *t)
{
	const struct {
		const char *name;
		const uint8_t *p;
		size_t len;
	} files[] = {
		{ "xsdt", t->xsdt, le32(t->xsdt + 4) }, { "rsdt", t->rsdt, le32(t->rsdt + 4) },
		{ "facp", t->fadt, le32(t->fadt + 4) }, { "apic", t->madt, le32(t->madt + 4) },
		{ "facs", t->facs, 64 },                { "dsdt", t->dsdt, le32(t->dsdt + 4) },
	};
	char path[512];
	mkdir(UNIT_OUT, 0777);
	mkdir(dir, 0777);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.dat", dir, files[i].name);
		spill(path, files[i].p, files[i].len);
	}
}

/* iasl -d dir/name.dat; returns the normalised disassembly. */
static char *disassemble(const char *dir, const char *name)
{
	char cmd[1024], path[512], *out;
	snprintf(cmd, sizeof(cmd), "cd %s && rm -f %s.dsl && iasl -d %s.dat 2>&1", dir, name, name);
	int rc = run(cmd, &out);
	if (rc != 0)
		fail_msg("%s: exit %d\n%s", cmd, rc, out);
	assert_clean(out);
	free(out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	char *raw = slurp(path);
	char *n = normalise(raw);
	free(raw);
	return n;
}

/* ---- structure ------------------------------------------------------------------ */

static void test_structure(void **state)
{
	(void)state;
	static const unsigned cpus[] = { 1, 2, 4, 16 };
	for (size_t k = 0; k < sizeof(cpus) / sizeof(cpus[0]); k++) {
		uint8_t *buf = malloc(SIZE);
		struct tables t;
		unsigned n = cpus[k];
		assert_non_null(buf);
		uint64_t rsdp = build(buf, n, true, true);
		assert_int_equal(rsdp, GPA); /* first in the region: the legacy scan finds it */
		walk(buf, GPA, rsdp, &t);

		/* MADT: header fields, then the entries in order */
		const uint8_t *m = t.madt;
		assert_int_equal(le32(m + 36), PC_LAPIC_BASE);
		assert_int_equal(le32(m + 40), 1);
		const uint8_t *e = m + 44;
		for (unsigned i = 0; i < n; i++, e += 8) {
			assert_int_equal(e[0], 0);
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], i);
			assert_int_equal(e[3], i);
			assert_int_equal(le32(e + 4), 1);
		}
		assert_int_equal(e[0], 1);
		assert_int_equal(e[2], n);
		assert_int_equal(le32(e + 4), PC_IOAPIC_BASE);
		assert_int_equal(le32(e + 8), 0);
		e += 12;
		assert_int_equal(e[0], 2);
		assert_int_equal(e[3], 0);
		assert_int_equal(le32(e + 4), 2);
		e += 10;
		assert_int_equal(e[3], PC_ACPI_SCI_IRQ);
		assert_int_equal(le32(e + 4), PC_ACPI_SCI_IRQ);
		assert_int_equal(le16(e + 8), 0xd);
		e += 10;
		assert_int_equal(e[0], 4);
		assert_int_equal(e[5], 1);
		assert_int_equal(e + 6 - m, le32(m + 4));

		/* FADT: the physical-destination flag only beyond 8 CPUs */
		assert_int_equal(!!(le32(t.fadt + 112) & (1u << 19)), n > 8);
		free(buf);
	}
}

/* ---- acpica-tools ------------------------------------------------------------ */

static void check_madt(const char *d, unsigned n)
{
	assert_int_equal(count(d, "[Processor Local APIC]"), n);
	for (unsigned i = 0; i < n; i++)
		assert_has(d, "Subtable Type : 00 [Processor Local APIC] Length : 08 Processor ID : %02X "
			   "Local Apic ID : %02X Flags (decoded below) : 00000001 Processor Enabled : 1", i, i);
	assert_has(d, "Local Apic Address : FEE00000 Flags (decoded below) : 00000001 PC-AT Compatibility : 1");
	assert_int_equal(count(d, "[I/O APIC]"), 1);
	assert_has(d, "[I/O APIC] Length : 0C I/O Apic ID : %02X Reserved : 00 Address : FEC00000 "
		   "Interrupt : 00000000", n);
	assert_int_equal(count(d, "[Interrupt Source Override]"), 2);
	assert_has(d, "Bus : 00 Source : 00 Interrupt : 00000002 Flags (decoded below) : 0000 Polarity : 0 "
		   "Trigger Mode : 0");
	assert_has(d, "Bus : 00 Source : 09 Interrupt : 00000009 Flags (decoded below) : 000D Polarity : 1 "
		   "Trigger Mode : 3");
	assert_has(d, "[Local APIC NMI] Length : 06 Processor ID : FF Flags (decoded below) : 0000 Polarity : 0 "
		   "Trigger Mode : 0 Interrupt Input LINT : 01");
}

static void check_fadt(const char *d, const struct tables *t, bool rtc)
{
	uint32_t dsdt = le32(t->fadt + 40), facs = le32(t->fadt + 36);
	assert_has(d, "FACS Address : %08X DSDT Address : %08X", facs, dsdt);
	assert_has(d, "FACS Address : %016X DSDT Address : %016X", facs, dsdt);
	assert_has(d, "SCI Interrupt : 0009 SMI Command Port : 00000000");
	assert_has(d, "PM1A Event Block Address : 00000600");
	assert_has(d, "PM1A Control Block Address : 00000604");
	assert_has(d, "PM Timer Block Address : 00000608");
	assert_has(d, "GPE0 Block Address : 00000000");
	assert_has(d, "PM1 Event Block Length : 04 PM1 Control Block Length : 02 PM2 Control Block Length : 00 "
		   "PM Timer Block Length : 04");
	assert_has(d, "C2 Latency : 0065 C3 Latency : 03E9");
	assert_has(d, "Legacy Devices Supported (V2) : 1 8042 Present on ports 60/64 (V2) : 0 "
		   "VGA Not Present (V4) : 1");
	assert_has(d, "CMOS RTC Not Present (V5) : %d", !rtc);
	assert_has(d, "WBINVD instruction is operational (V1) : 1");
	assert_has(d, "All CPUs support C1 (V1) : 1");
	assert_has(d, "Control Method Power Button (V1) : 1 Control Method Sleep Button (V1) : 1");
	assert_has(d, "32-bit PM Timer (V1) : 1");
	assert_has(d, "Reset Register Supported (V2) : 1");
	assert_has(d, "Hardware Reduced (V5) : 0");
	assert_has(d, "Reset Register : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 08");
	assert_has(d, "Address : 0000000000000CF9 Value to cause reset : 06");
	assert_has(d, "PM1A Event Block : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 20");
	assert_has(d, "Address : 0000000000000600");
	assert_has(d, "PM1A Control Block : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 10");
	assert_has(d, "Address : 0000000000000604");
	assert_has(d, "PM Timer Block : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 20");
	assert_has(d, "Address : 0000000000000608");
}

static void check_dsdt(const char *d, unsigned n, bool com1, bool rtc)
{
	assert_has(d, "DefinitionBlock (\"\", \"DSDT\", 2, \"MHVISR\"");
	assert_has(d, "Name (\\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })");
	assert_has(d, "Scope (\\_SB) { Device (PCI0) { Name (_HID, EisaId (\"PNP0A03\")) Name (_UID, Zero) "
		   "Name (_BBN, Zero) Name (_SEG, Zero) Name (_CRS, ResourceTemplate () {");
	assert_has(d, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, "
		   "0x0000, 0x0000, 0x0000, 0x0000, 0x0001,");
	assert_has(d, "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, "
		   "0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8,");
	assert_has(d, "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, "
		   "0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300,");
	assert_has(d, "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, "
		   "0x00000000, 0x%08llX, 0xFEBFFFFF, 0x00000000, 0x%08llX,",
		   (unsigned long long)LOW_RAM, 0xfec00000ull - LOW_RAM);
	assert_int_equal(count(d, "WordIO"), 2);
	assert_int_equal(count(d, "DWordMemory"), 1);

	/* _PRT: every slot 1..31, INTA-D swizzled over GSI 16-19 */
	static const char *pins[] = { "Zero", "One", "0x02", "0x03" };
	assert_has(d, "Name (_PRT, Package (0x7C) {");
	for (unsigned s = 1; s < 32; s++)
		for (unsigned p = 0; p < 4; p++)
			assert_has(d, "Package (0x04) { 0x%04XFFFF, %s, Zero, 0x%02X }", s, pins[p],
				   16 + (s + p) % 4);
	assert_int_equal(count(d, "Package (0x04)"), 124 + 1);

	assert_int_equal(count(d, "\"ACPI0007\""), n);
	for (unsigned i = 0; i < n; i++) {
		char uid[16];
		snprintf(uid, sizeof(uid), "0x%02X", i);
		assert_has(d, "Device (C%03X) { Name (_HID, \"ACPI0007\") Name (_UID, %s) }", i,
			   i == 0 ? "Zero" : i == 1 ? "One" : uid);
	}
	if (com1)
		assert_has(d, "Device (COM1) { Name (_HID, EisaId (\"PNP0501\")) Name (_UID, One) "
			   "Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08,) "
			   "IRQNoFlags () {4} }) }");
	else
		assert_lacks(d, "PNP0501");
	if (com1) {
		assert_has(d, "Device (PEVT) { Name (_HID, \"QEMU0001\") Name (_STA, 0x0F)");
		assert_has(d, "IO (Decode16, 0x0505, 0x0505, 0x01, 0x01,)");
	} else {
		assert_lacks(d, "QEMU0001");
	}
	if (rtc)
		assert_has(d, "Device (RTC) { Name (_HID, EisaId (\"PNP0B00\")) Name (_UID, Zero) "
			   "Name (_CRS, ResourceTemplate () { IO (Decode16, 0x0070, 0x0070, 0x01, 0x02,) "
			   "IRQNoFlags () {8} }) }");
	else
		assert_lacks(d, "PNP0B00");
}

/* iasl compiles each disassembly back: data tables to the same bytes but for
 * the checksum and compiler id (iasl puts its own), the DSDT without errors. */
static void check_recompile(const char *dir, const struct tables *t)
{
	static const char *names[] = { "xsdt", "rsdt", "facp", "apic", "facs", "dsdt" };
	const uint8_t *orig[] = { t->xsdt, t->rsdt, t->fadt, t->madt, t->facs, t->dsdt };
	char cmd[1024], path[512], *out;

	for (size_t i = 0; i < 6; i++) {
		snprintf(cmd, sizeof(cmd), "cd %s && iasl -p %s-re %s.dsl 2>&1", dir, names[i], names[i]);
		int rc = run(cmd, &out);
		if (rc != 0 || !strstr(out, "0 Errors, 0 Warnings"))
			fail_msg("%s: exit %d\n%s", cmd, rc, out);
		free(out);
		if (!strcmp(names[i], "dsdt"))
			continue; /* iasl optimises the AML a little */
		snprintf(path, sizeof(path), "%s/%s-re.aml", dir, names[i]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		uint8_t back[512];
		size_t len = fread(back, 1, sizeof(back), f);
		fclose(f);
		size_t want = i == 4 ? 64 : le32(orig[i] + 4);
		assert_int_equal(len, want);
		for (size_t b = 0; b < len; b++) {
			bool header = i != 4 && (b == 9 || (b >= 28 && b < 36));
			if (!header && back[b] != orig[i][b])
				fail_msg("%s: byte %zu is %#x, recompiled %#x", names[i], b, orig[i][b], back[b]);
		}
	}
}

/* acpiexec loads the tables as Linux's ACPICA would and runs the objects
 * Linux evaluates at boot; ACPICA validates predefined names' results. */
static void check_acpiexec(const char *dir, unsigned n, bool com1)
{
	char cmd[1024], *out;
	snprintf(cmd, sizeof(cmd),
		 "cd %s && acpiexec -b 'evaluate \\_S5; evaluate \\_SB.PCI0._HID; evaluate \\_SB.PCI0._CRS; "
		 "evaluate \\_SB.PCI0._PRT; evaluate \\_SB.C%03X._UID; resources \\_SB.PCI0%s' "
		 "facp.dat apic.dat dsdt.dat facs.dat </dev/null 2>&1",
		 dir, n - 1, com1 ? "; resources \\_SB.COM1" : "");
	int rc = run(cmd, &out);
	if (rc != 0)
		fail_msg("%s: exit %d\n%s", cmd, rc, out);
	assert_clean(out);
	char *d = normalise(out);
	assert_has(d, "ACPI: FACP");
	assert_has(d, "ACPI: APIC");
	assert_has(d, "1 ACPI AML tables successfully acquired and loaded");
	assert_has(d, "[Package] Contains 4 Elements: [Integer] = 0000000000000005 "
		   "[Integer] = 0000000000000005 [Integer] = 0000000000000000 [Integer] = 0000000000000000");
	assert_has(d, "[Integer] = 00000000030AD041");
	assert_has(d, "[Package] Contains 124 Elements:");
	assert_has(d, "[Integer] = %016X", n - 1);
	/* _PRT and _CRS as ACPICA's resource manager parses them */
	assert_has(d, "[00] PCI IRQ Routing Table Package Address : 000000000001FFFF Pin : 00000000 "
		   "Source : [NULL NAMESTRING] Source Index : 00000011");
	assert_has(d, "[7B] PCI IRQ Routing Table Package Address : 00000000001FFFFF Pin : 00000003 "
		   "Source : [NULL NAMESTRING] Source Index : 00000012");
	assert_has(d, "Resource Type : Bus Number Range");
	assert_has(d, "Address Minimum : 0D00 Address Maximum : FFFF");
	assert_has(d, "Address Minimum : %08llX Address Maximum : FEBFFFFF", (unsigned long long)LOW_RAM);
	if (com1)
		assert_has(d, "Address Minimum : 03F8 Address Maximum : 03F8");
	free(d);
	free(out);
}

static void test_acpica_tools(void **state)
{
	(void)state;
	static const struct {
		unsigned ncpus;
		bool com1, rtc;
	} cases[] = { { 1, false, false }, { 2, true, true }, { 4, true, false } };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unsigned n = cases[k].ncpus;
		uint8_t *buf = malloc(SIZE);
		struct tables t;
		char dir[128];
		assert_non_null(buf);
		uint64_t rsdp = build(buf, n, cases[k].com1, cases[k].rtc);
		assert_int_not_equal(rsdp, 0);
		walk(buf, GPA, rsdp, &t);
		snprintf(dir, sizeof(dir), "%s/cpus%u", UNIT_OUT, n);
		dump(dir, &t);

		char *d = disassemble(dir, "apic");
		check_madt(d, n);
		free(d);
		d = disassemble(dir, "facp");
		check_fadt(d, &t, cases[k].rtc);
		free(d);
		d = disassemble(dir, "dsdt");
		check_dsdt(d, n, cases[k].com1, cases[k].rtc);
		free(d);
		d = disassemble(dir, "xsdt");
		assert_has(d, "ACPI Table Address 0 : %016llX", (unsigned long long)le64(t.xsdt + 36));
		assert_has(d, "ACPI Table Address 1 : %016llX", (unsigned long long)le64(t.xsdt + 44));
		free(d);
		free(disassemble(dir, "rsdt"));
		free(disassemble(dir, "facs"));

		check_recompile(dir, &t);
		check_acpiexec(dir, n, cases[k].com1);
		free(buf);
	}
}

/* ---- bad input ------------------------------------------------------------------ */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_bad_config(void **state)
{
	(void)state;
	uint8_t *buf = malloc(SIZE);
	assert_non_null(buf);
	struct acpi_config ok = { .ncpus = 2, .low_ram_end = LOW_RAM };
	const struct acpi_config bad[] = {
		{ .ncpus = 0, .low_ram_end = LOW_RAM },
		{ .ncpus = ACPI_MAX_CPUS + 1, .low_ram_end = LOW_RAM },
		{ .ncpus = ~0u, .low_ram_end = LOW_RAM },
		{ .ncpus = 1, .low_ram_end = 0 },                    /* the window would cover low memory */
		{ .ncpus = 1, .low_ram_end = 0xfffff },
		{ .ncpus = 1, .low_ram_end = 0xfeb00001 },           /* rounds up to the IOAPIC */
		{ .ncpus = 1, .low_ram_end = 0x100000000ull },
		{ .ncpus = 1, .low_ram_end = ~0ull },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0xa5, SIZE);
		assert_int_equal(acpi_build(buf, SIZE, GPA, &bad[i]), 0);
		assert_true(all_zero(buf, SIZE));
	}
	assert_int_equal(acpi_build(buf, SIZE, GPA, NULL), 0);
	assert_int_equal(acpi_build(NULL, SIZE, GPA, &ok), 0);

	/* the largest window still allowed */
	ok.low_ram_end = 0xfeb00000;
	assert_int_equal(acpi_build(buf, SIZE, GPA, &ok), GPA);

	/* tables must stay below 4 GiB (32-bit pointers) */
	ok.low_ram_end = LOW_RAM;
	assert_int_equal(acpi_build(buf, SIZE, 0x100000000ull, &ok), 0);
	assert_int_equal(acpi_build(buf, SIZE, 0xfffffc00ull, &ok), 0);
	assert_true(all_zero(buf, SIZE));
	assert_int_equal(acpi_build(buf, SIZE, 0x100000000ull - SIZE, &ok), 0x100000000ull - SIZE);
	free(buf);
}

/* An unaligned region: the RSDP moves to the next 16-byte boundary and
 * everything still checks out. */
static void test_unaligned_gpa(void **state)
{
	(void)state;
	uint8_t *buf = malloc(SIZE);
	struct acpi_config cfg = { .ncpus = 4, .low_ram_end = LOW_RAM, .com1 = true };
	struct tables t;
	assert_non_null(buf);
	for (uint64_t gpa = GPA + 1; gpa < GPA + 64; gpa += 7) {
		uint64_t rsdp = acpi_build(buf, SIZE, gpa, &cfg);
		assert_int_equal(rsdp, (gpa + 15) & ~15ull);
		walk(buf, gpa, rsdp, &t);
	}
	free(buf);
}

/* Every buffer size below what the tables need fails, leaves only zeroes
 * and never writes past the end (guard bytes after the block must stay;
 * exact heap blocks near the boundary let ASan watch too). While the DSDT
 * is encoded, each open package reserves a 4-byte PkgLength that shrinks
 * afterwards, so the smallest buffer that works may be a few bytes longer
 * than the tables. */
static void test_small_buffers(void **state)
{
	(void)state;
	struct acpi_config cfg = { .ncpus = 16, .low_ram_end = LOW_RAM, .com1 = true, .cmos_rtc = true };
	uint8_t *full = calloc(SIZE, 1);
	assert_non_null(full);
	assert_int_equal(acpi_build(full, SIZE, GPA, &cfg), GPA);
	struct tables t;
	walk(full, GPA, GPA, &t);
	size_t need = (size_t)(t.dsdt - full) + le32(t.dsdt + 4);
	assert_true(need > 1000 && need < SIZE);
	assert_true(all_zero(full + need, SIZE - need));

	size_t min = 0;
	for (size_t size = 0; size <= need + 32; size++) {
		uint8_t *b = malloc(size + 16);
		assert_non_null(b);
		memset(b, 0xa5, size + 16);
		uint64_t r = acpi_build(b, size, GPA, &cfg);
		for (size_t g = size; g < size + 16; g++)
			assert_int_equal(b[g], 0xa5);
		if (r) {
			assert_int_equal(r, GPA);
			assert_memory_equal(b, full, need);
			if (!min)
				min = size;
		} else {
			assert_int_equal(min, 0); /* once it fits, it keeps fitting */
			assert_true(all_zero(b, size));
		}
		free(b);
	}
	assert_true(min >= need && min <= need + 12);
	for (size_t size = need - 40; size <= min; size++) {
		uint8_t *b = malloc(size);
		assert_non_null(b);
		assert_int_equal(acpi_build(b, size, GPA, &cfg), size == min ? GPA : 0);
		free(b);
	}
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_acpica_tools),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_unaligned_gpa),
		cmocka_unit_test(test_small_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
