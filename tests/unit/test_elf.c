/*
 * Unit tests of the roottask ELF checks (servers/roottask/elf.c).
 */
#include "unit.h"

#include "elf.h"

#ifndef UNIT_FIXTURES
#define UNIT_FIXTURES "build/unit/fixtures"
#endif

#define IMG_MAX 0x10000
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

static unsigned char img[IMG_MAX];
static size_t img_len;
static struct elf_image out;
static char err[256];

/* Stores the n-byte little-endian value v at p. */
static void wr(unsigned char *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Writes an ELF header: x86-64 ET_EXEC, program headers at 64. */
static void put_ehdr(uint64_t entry, unsigned phnum)
{
	memset(img, 0, 64);
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2; /* ELFCLASS64 */
	img[5] = 1; /* little-endian */
	img[6] = 1; /* EV_CURRENT */
	wr(img + 16, 2, 2);  /* ET_EXEC */
	wr(img + 18, 2, 62); /* EM_X86_64 */
	wr(img + 20, 4, 1);
	wr(img + 24, 8, entry);
	wr(img + 32, 8, 64); /* e_phoff */
	wr(img + 52, 2, 64); /* e_ehsize */
	wr(img + 54, 2, 56); /* e_phentsize */
	wr(img + 56, 2, phnum);
}

/* Writes program header i (at 64 + 56 i). */
static void put_phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t off,
		     uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	unsigned char *p = img + 64 + 56 * i;
	memset(p, 0, 56);
	wr(p, 4, type);
	wr(p + 4, 4, flags);
	wr(p + 8, 8, off);
	wr(p + 16, 8, vaddr);
	wr(p + 24, 8, vaddr); /* p_paddr */
	wr(p + 32, 8, filesz);
	wr(p + 40, 8, memsz);
	wr(p + 48, 8, 0x1000);
}

/*
 * The standard test image (0x2010 bytes):
 *   ph 0: PT_LOAD R+X  file 0x1000+0x200 -> 0x401000, memsz 0x200
 *   ph 1: PT_LOAD R+W  file 0x2000+0x10  -> 0x402000, memsz 0x3000
 *   ph 2: PT_GNU_STACK
 */
static void std_image(void)
{
	memset(img, 0, sizeof img);
	put_ehdr(0x401000, 3);
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x200, 0x200);
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x10, 0x3000);
	put_phdr(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	memset(img + 0x1000, 0xcc, 0x200);
	memset(img + 0x2000, 0x55, 0x10);
	img_len = 0x2010;
}

/* Runs elf_check on an exact-size heap copy of img[0..len). */
static bool check_len(size_t len)
{
	void *copy = unit_exact_copy(img, len);
	memset(err, 'x', sizeof err);
	bool ok = elf_check(copy, len, &out, err, sizeof err);
	free(copy);
	assert_non_null(memchr(err, '\0', sizeof err));
	if (ok)
		assert_string_equal(err, "");
	else
		assert_true(err[0] != '\0');
	return ok;
}

static bool check(void)
{
	return check_len(img_len);
}

/* Expects the current image to be accepted. */
static void expect_ok(void)
{
	if (!check())
		fail_msg("rejected: %s", err);
}

/* Expects the current image to be rejected with exactly msg. */
static void expect_err(const char *msg)
{
	if (check())
		fail_msg("accepted, expected: %s", msg);
	assert_string_equal(err, msg);
}

static void test_valid(void **state)
{
	(void)state;
	std_image();
	expect_ok();
	assert_int_equal(out.entry, 0x401000);
	assert_int_equal(out.nseg, 2);
	assert_int_equal(out.seg[0].vaddr, 0x401000);
	assert_int_equal(out.seg[0].memsz, 0x200);
	assert_int_equal(out.seg[0].offset, 0x1000);
	assert_int_equal(out.seg[0].filesz, 0x200);
	assert_int_equal(out.seg[0].flags, ELF_SEG_R | ELF_SEG_X);
	assert_int_equal(out.seg[1].vaddr, 0x402000);
	assert_int_equal(out.seg[1].memsz, 0x3000);
	assert_int_equal(out.seg[1].offset, 0x2000);
	assert_int_equal(out.seg[1].filesz, 0x10);
	assert_int_equal(out.seg[1].flags, ELF_SEG_R | ELF_SEG_W);

	/* flags map bit by bit; a segment without permissions is allowed */
	put_phdr(1, PT_LOAD, PF_W | PF_X, 0x2000, 0x402000, 0x10, 0x3000);
	expect_ok();
	assert_int_equal(out.seg[1].flags, ELF_SEG_W | ELF_SEG_X);
	put_phdr(1, PT_LOAD, 0, 0x2000, 0x402000, 0x10, 0x3000);
	expect_ok();
	assert_int_equal(out.seg[1].flags, 0);

	/* larger program header entries are allowed */
	std_image();
	wr(img + 54, 2, 64);
	put_phdr(0, PT_NOTE, 0, 0, 0, 0, 0);
	put_phdr(1, PT_NOTE, 0, 0, 0, 0, 0);
	put_phdr(2, PT_NOTE, 0, 0, 0, 0, 0);
	{
		unsigned char *p = img + 64; /* entry 0 of 64 bytes */
		wr(p, 4, PT_LOAD);
		wr(p + 4, 4, PF_R | PF_X);
		wr(p + 8, 8, 0x1000);
		wr(p + 16, 8, 0x401000);
		wr(p + 32, 8, 0x200);
		wr(p + 40, 8, 0x200);
	}
	expect_ok();
	assert_int_equal(out.nseg, 1);

	/* program headers at the very end of the file */
	std_image();
	wr(img + 32, 8, 0x2010);
	memcpy(img + 0x2010, img + 64, 3 * 56);
	img_len = 0x2010 + 3 * 56;
	expect_ok();
	assert_int_equal(out.nseg, 2);
}

static void test_header(void **state)
{
	(void)state;
	std_image();
	expect_ok();
	assert_false(check_len(63));
	assert_string_equal(err, "file too small for an ELF header (63 bytes, "
				 "need 64)");
	assert_false(check_len(0));
	assert_string_equal(err, "file too small for an ELF header (0 bytes, "
				 "need 64)");
	assert_false(elf_check(NULL, 100, &out, err, sizeof err));
	assert_string_equal(err, "file too small for an ELF header (0 bytes, "
				 "need 64)");
	/* a valid header with program headers cut off */
	assert_false(check_len(64));
	assert_string_equal(err, "program header table (offset 0x40, 3 entries "
				 "of 56 bytes) outside the file (64 bytes)");

	std_image();
	img[1] = 'e';
	expect_err("bad magic (not an ELF file)");
	std_image();
	img[4] = 1;
	expect_err("not a 64-bit ELF file (EI_CLASS)");
	std_image();
	img[5] = 2;
	expect_err("not a little-endian ELF file");
	std_image();
	img[6] = 0;
	expect_err("unknown ELF version");
	std_image();
	wr(img + 20, 4, 2);
	expect_err("unknown ELF version");
	std_image();
	wr(img + 16, 2, 3);
	expect_err("not an executable (e_type 3, expected ET_EXEC 2)");
	std_image();
	wr(img + 16, 2, 1);
	expect_err("not an executable (e_type 1, expected ET_EXEC 2)");
	std_image();
	wr(img + 18, 2, 3);
	expect_err("not an x86-64 file (e_machine 3, expected 62)");
	std_image();
	wr(img + 18, 2, 0x3e00);
	expect_err("not an x86-64 file (e_machine 15872, expected 62)");
	std_image();
	wr(img + 52, 2, 52);
	expect_err("bad ELF header size (e_ehsize)");
}

static void test_phdr_table(void **state)
{
	(void)state;
	std_image();
	wr(img + 56, 2, 0);
	expect_err("no program headers");
	std_image();
	wr(img + 54, 2, 55);
	expect_err("program header entry too small (e_phentsize 55, need 56)");
	std_image();
	wr(img + 54, 2, 0);
	expect_err("program header entry too small (e_phentsize 0, need 56)");

	/* table ending exactly at the end of the file is fine, one more not */
	std_image();
	wr(img + 32, 8, 0x2010 - 3 * 56);
	memcpy(img + 0x2010 - 3 * 56, img + 64, 3 * 56);
	/* (this overwrites the data bytes, which nobody checks) */
	expect_ok();
	wr(img + 32, 8, 0x2010 - 3 * 56 + 1);
	expect_err("program header table (offset 0x1f69, 3 entries of 56 bytes) "
		   "outside the file (8208 bytes)");

	std_image();
	wr(img + 32, 8, 0xffffffffffffffffull);
	expect_err("program header table (offset 0xffffffffffffffff, 3 entries "
		   "of 56 bytes) outside the file (8208 bytes)");
	std_image();
	wr(img + 32, 8, 0x2011);
	expect_err("program header table (offset 0x2011, 3 entries of 56 bytes) "
		   "outside the file (8208 bytes)");
	std_image();
	wr(img + 56, 2, 0xffff);
	expect_err("program header table (offset 0x40, 65535 entries of 56 "
		   "bytes) outside the file (8208 bytes)");
	std_image();
	wr(img + 54, 2, 0xffff);
	wr(img + 56, 2, 0xffff);
	expect_err("program header table (offset 0x40, 65535 entries of 65535 "
		   "bytes) outside the file (8208 bytes)");

	std_image();
	put_phdr(2, PT_INTERP, PF_R, 0x100, 0x400100, 0x10, 0x10);
	expect_err("has PT_INTERP: dynamic linking is not supported");
}

static void test_segments(void **state)
{
	(void)state;
	std_image();
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x201, 0x200);
	expect_err("program header 0 (PT_LOAD vaddr 0x401000 memsz 0x200 offset "
		   "0x1000 filesz 0x201): p_filesz is larger than p_memsz");

	/* file bytes up to exactly the end of the file, then one more */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x10, 0x10);
	expect_ok();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x402000, 0x11, 0x11);
	expect_err("program header 1 (PT_LOAD vaddr 0x402000 memsz 0x11 offset "
		   "0x2000 filesz 0x11): file bytes lie outside the file");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x3000, 0x403000, 0, 0x10);
	expect_err("program header 1 (PT_LOAD vaddr 0x403000 memsz 0x10 offset "
		   "0x3000 filesz 0x0): file bytes lie outside the file");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0xfffffffffffff000ull, 0x402000,
		 0x2000, 0x2000);
	expect_err("program header 1 (PT_LOAD vaddr 0x402000 memsz 0x2000 "
		   "offset 0xfffffffffffff000 filesz 0x2000): file bytes lie "
		   "outside the file");
	/* bss only, offset at the end of the file: fine */
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2010, 0x402010, 0, 0x1000);
	expect_ok();

	/* address space wrap and the start-info limit */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0xfffffffffffff000ull, 0x10,
		 0x2000);
	expect_err("program header 1 (PT_LOAD vaddr 0xfffffffffffff000 memsz "
		   "0x2000 offset 0x2000 filesz 0x10): p_vaddr + p_memsz wraps "
		   "around");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x7effffffe000ull, 0x10,
		 0x2000);
	expect_ok();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x7effffffe000ull, 0x10,
		 0x2001);
	expect_err("program header 1 (PT_LOAD vaddr 0x7effffffe000 memsz 0x2001 "
		   "offset 0x2000 filesz 0x10): ends above 0x7f0000000000 "
		   "(start-info area)");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x7f0000000000ull, 0x10,
		 0x10);
	expect_err("program header 1 (PT_LOAD vaddr 0x7f0000000000 memsz 0x10 "
		   "offset 0x2000 filesz 0x10): ends above 0x7f0000000000 "
		   "(start-info area)");

	/* page congruence */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x402008, 0x10, 0x10);
	expect_err("program header 1 (PT_LOAD vaddr 0x402008 memsz 0x10 offset "
		   "0x2000 filesz 0x10): p_vaddr and p_offset differ modulo "
		   "4096");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2008, 0x405008, 0x8, 0x10);
	expect_ok();
	assert_int_equal(out.seg[1].offset, 0x2008);
	/* congruence is checked even for an empty segment */
	std_image();
	put_phdr(2, PT_LOAD, PF_R, 0x10, 0x500000, 0, 0);
	expect_err("program header 2 (PT_LOAD vaddr 0x500000 memsz 0x0 offset "
		   "0x10 filesz 0x0): p_vaddr and p_offset differ modulo 4096");
}

static void test_overlap(void **state)
{
	(void)state;
	/* data starting in the last page of the text */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x1800, 0x401800, 0x10, 0x100);
	expect_err("program headers 0 and 1 (PT_LOAD) overlap in page 0x401000");
	/* data ending in the first page of the text */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x3ff000, 0x10, 0x2001);
	expect_err("program headers 0 and 1 (PT_LOAD) overlap in page 0x401000");
	/* one inside the other, and identical */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x400000, 0x10, 0x10000);
	expect_err("program headers 0 and 1 (PT_LOAD) overlap in page 0x401000");
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x200, 0x200);
	expect_err("program headers 0 and 1 (PT_LOAD) overlap in page 0x401000");
	/* adjacent pages are fine, in either order */
	std_image();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x400000, 0x10, 0x1000);
	expect_ok();
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, 0x3fe000, 0x10, 0x3000);
	expect_ok();
	/* reported with program header numbers, skipping other types */
	std_image();
	put_phdr(1, PT_GNU_STACK, 0, 0, 0, 0, 0);
	put_phdr(2, PT_LOAD, PF_R, 0x1000, 0x401000, 0x10, 0x10);
	expect_err("program headers 0 and 2 (PT_LOAD) overlap in page 0x401000");
}

static void test_entry(void **state)
{
	(void)state;
	std_image();
	wr(img + 24, 8, 0x4011ff); /* last byte of the text */
	expect_ok();
	assert_int_equal(out.entry, 0x4011ff);
	wr(img + 24, 8, 0x401200); /* one past it */
	expect_err("entry point 0x401200 is not in an executable segment");
	wr(img + 24, 8, 0x400fff);
	expect_err("entry point 0x400fff is not in an executable segment");
	wr(img + 24, 8, 0x402000); /* data is not executable */
	expect_err("entry point 0x402000 is not in an executable segment");
	wr(img + 24, 8, 0);
	expect_err("entry point 0x0 is not in an executable segment");
	/* entry in the zero-filled part of an executable segment is fine */
	std_image();
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x200, 0x800);
	wr(img + 24, 8, 0x4017ff);
	expect_ok();
}

static void test_count(void **state)
{
	(void)state;
	/* eight segments (one page each) are fine, nine are not */
	memset(img, 0, sizeof img);
	put_ehdr(0x400000, 9);
	for (unsigned i = 0; i < 8; i++)
		put_phdr(i, PT_LOAD, PF_R | PF_X, 0x1000, 0x400000 + 0x2000 * i,
			 0x10, 0x10);
	put_phdr(8, PT_NOTE, 0, 0, 0, 0, 0);
	img_len = 0x1010;
	expect_ok();
	assert_int_equal(out.nseg, 8);
	assert_int_equal(out.seg[7].vaddr, 0x40e000);
	/* a zero-sized ninth PT_LOAD is ignored */
	put_phdr(8, PT_LOAD, PF_R, 0x1000, 0x500000, 0, 0);
	expect_ok();
	assert_int_equal(out.nseg, 8);
	put_phdr(8, PT_LOAD, PF_R, 0x1000, 0x500000, 0, 1);
	expect_err("too many PT_LOAD segments (at most 8)");

	/* no PT_LOAD at all, or only empty ones */
	std_image();
	put_phdr(0, PT_NOTE, 0, 0, 0, 0, 0);
	put_phdr(1, PT_NOTE, 0, 0, 0, 0, 0);
	expect_err("no PT_LOAD segment");
	put_phdr(1, PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0, 0);
	expect_err("no PT_LOAD segment");
}

static void test_err_buffer(void **state)
{
	char small[8];
	(void)state;

	std_image();
	wr(img + 18, 2, 3);
	assert_false(elf_check(img, img_len, &out, NULL, 0));
	assert_false(elf_check(img, img_len, &out, NULL, 100));
	small[0] = 'x';
	assert_false(elf_check(img, img_len, &out, small, 0));
	assert_int_equal(small[0], 'x');
	assert_false(elf_check(img, img_len, &out, small, sizeof small));
	assert_string_equal(small, "not an ");
	img[0] = 0;
	assert_false(elf_check(img, img_len, &out, small, sizeof small));
	assert_string_equal(small, "bad mag");
	std_image();
	assert_true(elf_check(img, img_len, &out, NULL, 0));
	assert_true(elf_check(img, img_len, &out, small, sizeof small));
	assert_string_equal(small, "");
}

/* Reads a whole file into img; fails the test if it cannot. */
static void load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (built by 'make unit')", path);
	img_len = fread(img, 1, sizeof img, f);
	assert_false(ferror(f));
	assert_true(feof(f) || fgetc(f) == EOF);
	fclose(f);
}

static void test_linker_output(void **state)
{
	static const char *const files[] = { UNIT_FIXTURES "/tiny.elf",
					     UNIT_FIXTURES "/tiny-nosep.elf" };
	(void)state;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		bool text = false, data = false;
		load_file(files[i]);
		if (!check())
			fail_msg("%s rejected: %s", files[i], err);
		assert_true(out.nseg >= 2);
		for (unsigned s = 0; s < out.nseg; s++) {
			if (out.seg[s].flags & ELF_SEG_X)
				text = true;
			if ((out.seg[s].flags & ELF_SEG_W) &&
			    out.seg[s].memsz >= 8192)
				data = true; /* .data + .bss */
		}
		assert_true(text && data);
		/* every truncation of a real file is rejected cleanly */
		for (size_t n = 0; n < img_len; n += 7)
			(void)check_len(n);
	}
}

/* Checks independently what an accepted image promises. */
static void check_accepted(size_t len)
{
	bool entry_ok = false;
	assert_in_range(out.nseg, 1, ELF_MAX_SEGS);
	for (unsigned i = 0; i < out.nseg; i++) {
		const struct elf_segment *s = &out.seg[i];
		assert_true(s->memsz > 0 && s->filesz <= s->memsz);
		assert_true(s->offset <= len && s->filesz <= len - s->offset);
		assert_true(s->vaddr < ELF_USER_LIMIT &&
			    s->memsz <= ELF_USER_LIMIT - s->vaddr);
		assert_int_equal(s->vaddr % 4096, s->offset % 4096);
		assert_int_equal(s->flags & ~(ELF_SEG_R | ELF_SEG_W | ELF_SEG_X),
				 0);
		for (unsigned j = 0; j < i; j++) {
			const struct elf_segment *t = &out.seg[j];
			uint64_t s0 = s->vaddr & ~0xfffull;
			uint64_t s1 = (s->vaddr + s->memsz + 0xfff) & ~0xfffull;
			uint64_t t0 = t->vaddr & ~0xfffull;
			uint64_t t1 = (t->vaddr + t->memsz + 0xfff) & ~0xfffull;
			assert_true(s1 <= t0 || t1 <= s0);
		}
		if ((s->flags & ELF_SEG_X) && out.entry >= s->vaddr &&
		    out.entry < s->vaddr + s->memsz)
			entry_ok = true;
	}
	assert_true(entry_ok);
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 0x38, 0x40, 0xfff, 0x1000, 0x1001, 0x2000, 0x2010,
	0x401000, 0x402000, 0x7effffffffffull, 0x7f0000000000ull,
	0x7fffffffffffffffull, 0xfffffffffffff000ull, 0xffffffffffffffffull,
};

static void test_fuzz_mutate(void **state)
{
	struct unit_rng r;
	unsigned accepted = 0;
	(void)state;

	unit_rng_seed(&r, 0xe1f);
	for (int it = 0; it < 20000; it++) {
		unsigned muts = 1 + (unsigned)unit_rng_below(&r, 3);
		std_image();
		for (unsigned k = 0; k < muts; k++) {
			/* mostly the headers, sometimes anywhere */
			size_t span = unit_rng_below(&r, 8) ? 64 + 3 * 56 : img_len;
			if (span == 0)
				span = 1;
			size_t at = (size_t)unit_rng_below(&r, span);
			switch (unit_rng_below(&r, 4)) {
			case 0:
				img[at] = (unsigned char)unit_rng_next(&r);
				break;
			case 1: {
				unsigned n = 1u << unit_rng_below(&r, 4);
				uint64_t v = interesting[unit_rng_below(
					&r, sizeof interesting /
						    sizeof interesting[0])];
				if (at + n <= img_len)
					wr(img + at, n, v);
				break;
			}
			case 2:
				img[at] ^= (unsigned char)(1u << unit_rng_below(&r, 8));
				break;
			default:
				img_len = (size_t)unit_rng_below(&r, img_len + 1);
				break;
			}
		}
		if (check()) {
			check_accepted(img_len);
			accepted++;
		}
	}
	/* the mutations must keep a fair share valid to test acceptance */
	assert_true(accepted > 1000);
}

static void test_fuzz_random(void **state)
{
	struct unit_rng r;
	(void)state;

	unit_rng_seed(&r, 0xdecaf);
	for (int it = 0; it < 20000; it++) {
		img_len = (size_t)unit_rng_below(&r, 600);
		for (size_t i = 0; i < img_len; i++)
			img[i] = (unsigned char)unit_rng_next(&r);
		if (unit_rng_below(&r, 2) && img_len >= 64) {
			/* get past the header checks more often */
			memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
			wr(img + 16, 2, 2);
			wr(img + 18, 2, 62);
			wr(img + 20, 4, 1);
			wr(img + 52, 2, 64);
			wr(img + 32, 8, unit_rng_below(&r, img_len));
			wr(img + 54, 2, 56 + unit_rng_below(&r, 4));
			wr(img + 56, 2, unit_rng_below(&r, 10));
		}
		if (check())
			check_accepted(img_len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_phdr_table),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_linker_output),
		cmocka_unit_test(test_fuzz_mutate),
		cmocka_unit_test(test_fuzz_random),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
