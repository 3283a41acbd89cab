/*
 * Unit tests of the roottask configuration parser (servers/roottask/config.c):
 * every kind of error, with its exact message and line number.
 */
#include "cfg_test.h"

static void test_unknown_key(void **state)
{
	(void)state;
	parse("domain a\nmodule m\nfoo 1\ndomain b\nmodule m\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:3: unknown key 'foo'");
	assert_false(dom("a")->valid);
	assert_true(dom("b")->valid);

	one_error("domain a\nmodule m\nCPU 1\n", "t.conf:3: unknown key 'CPU'");
	one_error("Domain a\n", "t.conf:1: unknown key 'Domain'");
	assert_int_equal(C.ndom, 0);
	one_error("domain a\nmodule m\nmodules m\n",
		  "t.conf:3: unknown key 'modules'");
}

static void test_outside_domain(void **state)
{
	(void)state;
	one_error("# comment\ncpu 1\n",
		  "t.conf:2: 'cpu' outside a domain (expected 'domain NAME' "
		  "first)");
	parse("module m\nirq 3\ndomain a\nmodule m\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:1: 'module' outside a domain (expected 'domain "
		   "NAME' first)");
	expect_msg("t.conf:2: 'irq' outside a domain (expected 'domain NAME' "
		   "first)");
	assert_true(dom("a")->valid);
}

static void test_missing_argument(void **state)
{
	static const struct {
		const char *key, *expect;
	} k[] = {
		{ "module", "a module name" },
		{ "cpu", "a CPU number 0..15" },
		{ "priority", "a priority 1..63" },
		{ "quantum", "microseconds 100..1000000" },
		{ "memory", "a size 64K..1G" },
		{ "kmem", "a size 0..64M" },
		{ "ioport", "FIRST or FIRST-LAST in 0..0xffff" },
		{ "irq", "a GSI 0..23" },
		{ "provides", "a service name" },
		{ "call", "a service name" },
		{ "max-priority", "a priority 1..63" },
		{ "cpus", "a list of CPUs 0..15 such as 0,2-3" },
	};
	char text[200], want[200];
	(void)state;

	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		bool mod = strcmp(k[i].key, "module") == 0;
		snprintf(text, sizeof text, "domain a\n%s\n  %s   # nothing\n",
			 mod ? "" : "module m", k[i].key);
		snprintf(want, sizeof want,
			 "t.conf:3: missing argument for '%s' (expected %s)",
			 k[i].key, k[i].expect);
		parse(text);
		expect_msg(want);
		assert_int_equal(M.n, mod ? 2 : 1);
		assert_false(dom("a")->valid);
	}
	parse("domain\nmodule m\ndomain b\nmodule m\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:1: missing argument for 'domain' (expected a domain "
		   "name)");
	assert_false(C.dom[0].valid);
	assert_true(dom("b")->valid);
}

static void test_extra_argument(void **state)
{
	static const char *const keys[] = { "cpu 1",   "priority 2",
					     "quantum 100", "memory 1M",
					     "kmem 0",  "ioport 1-2",
					     "irq 1",   "provides x",
					     "call x",  "max-priority 20",
					     "cpus 0" };
	char text[200], want[200];
	(void)state;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char key[20];
		snprintf(text, sizeof text,
			 "domain a\nmodule m\n%s junk more\ndomain x\nmodule m"
			 "\nprovides x\n",
			 keys[i]);
		sscanf(keys[i], "%19s", key);
		snprintf(want, sizeof want,
			 "t.conf:3: unexpected extra argument 'junk' for '%s'",
			 key);
		one_error(text, want);
		assert_false(dom("a")->valid);
		assert_true(dom("x")->valid);
	}
	one_error("domain a b\nmodule m\n",
		  "t.conf:1: unexpected extra argument 'b' for 'domain'");
	assert_false(dom("a")->valid);
	assert_int_equal(dom("a")->module_line, 2);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	one_error("domain a\nmodule m\ncpu x\n",
		  "t.conf:3: bad number 'x' for cpu (expected decimal or 0x "
		  "hex)");
	one_error("domain a\nmodule m\ncpu 1x\n",
		  "t.conf:3: bad number '1x' for cpu (expected decimal or 0x "
		  "hex)");
	one_error("domain a\nmodule m\ncpu 0x\n",
		  "t.conf:3: bad number '0x' for cpu (expected decimal or 0x "
		  "hex)");
	one_error("domain a\nmodule m\npriority -1\n",
		  "t.conf:3: bad number '-1' for priority (expected decimal "
		  "or 0x hex)");
	one_error("domain a\nmodule m\nquantum +100\n",
		  "t.conf:3: bad number '+100' for quantum (expected decimal "
		  "or 0x hex)");
	one_error("domain a\nmodule m\nirq 0xg\n",
		  "t.conf:3: bad number '0xg' for irq (expected decimal or 0x "
		  "hex)");
	one_error("domain a\nmodule m\nquantum 1.5\n",
		  "t.conf:3: bad number '1.5' for quantum (expected decimal "
		  "or 0x hex)");
	/* 2^64 and beyond: out of range, not wrapped */
	one_error("domain a\nmodule m\ncpu 18446744073709551616\n",
		  "t.conf:3: cpu 18446744073709551616 out of range (0..15)");
	one_error("domain a\nmodule m\ncpu 0x10000000000000000\n",
		  "t.conf:3: cpu 0x10000000000000000 out of range (0..15)");
	/* leading zeros and upper-case hex are fine */
	no_error("domain a\nmodule m\ncpu 0007\npriority 0X3F\n");
	assert_int_equal(dom("a")->cpu, 7);
	assert_int_equal(dom("a")->prio, 63);
}

static void test_ranges(void **state)
{
	(void)state;
	ok_line("cpu 0");
	ok_line("cpu 15");
	bad_line("cpu 16", "cpu 16 out of range (0..15)");
	bad_line("priority 0", "priority 0 out of range (1..63)");
	ok_line("priority 1");
	ok_line("priority 63");
	bad_line("priority 64", "priority 64 out of range (1..63)");
	bad_line("priority 99", "priority 99 out of range (1..63)");
	bad_line("quantum 99", "quantum 99 out of range (100..1000000)");
	ok_line("quantum 1000000");
	bad_line("quantum 1000001",
		 "quantum 1000001 out of range (100..1000000)");
	ok_line("irq 0");
	ok_line("irq 23");
	bad_line("irq 24", "irq 24 out of range (0..23)");
	bad_line("irq 0x18", "irq 0x18 out of range (0..23)");

	ok_line("memory 64K");
	assert_int_equal(dom("a")->memory, 65536);
	bad_line("memory 65535", "memory 65535 out of range (64K..1G)");
	ok_line("memory 65537");
	assert_int_equal(dom("a")->memory, 65536 + 4096);
	ok_line("memory 1G");
	assert_int_equal(dom("a")->memory, 1ull << 30);
	ok_line("memory 1024M");
	bad_line("memory 1025M", "memory 1025M out of range (64K..1G)");
	bad_line("memory 1073741825",
		 "memory 1073741825 out of range (64K..1G)");
	bad_line("memory 0", "memory 0 out of range (64K..1G)");
	ok_line("memory 0x100k");
	assert_int_equal(dom("a")->memory, 0x100 << 10);
	ok_line("memory 2m");
	assert_int_equal(dom("a")->memory, 2 << 20);
	bad_line("memory 0xfffffffffffffffG",
		 "memory 0xfffffffffffffffG out of range (64K..1G)");
	bad_line("memory 17179869184G",
		 "memory 17179869184G out of range (64K..1G)");

	ok_line("kmem 0");
	ok_line("kmem 64M");
	assert_int_equal(dom("a")->kmem, 64ull << 20);
	ok_line("kmem 12345");
	assert_int_equal(dom("a")->kmem, 12345);
	bad_line("kmem 67108865", "kmem 67108865 out of range (0..64M)");
	bad_line("kmem 1G", "kmem 1G out of range (0..64M)");

	ok_line("ioport 0");
	ok_line("ioport 0xffff");
	ok_line("ioport 0xffff-0xffff");
	ok_line("ioport 10-10");
	bad_line("ioport 0x10000", "ioport 0x10000 out of range (0..0xffff)");
	bad_line("ioport 1-65536", "ioport 1-65536 out of range (0..0xffff)");
	bad_line("ioport 0x3ff-0x3f8", "ioport 0x3ff-0x3f8: FIRST is above LAST");
	bad_line("ioport 1-", "bad I/O port range '1-' (expected FIRST or "
			      "FIRST-LAST, decimal or 0x hex)");
	bad_line("ioport -1", "bad I/O port range '-1' (expected FIRST or "
			      "FIRST-LAST, decimal or 0x hex)");
	bad_line("ioport 1-2-3", "bad I/O port range '1-2-3' (expected FIRST "
				 "or FIRST-LAST, decimal or 0x hex)");
	bad_line("ioport 0x3f8..0x3ff",
		 "bad I/O port range '0x3f8..0x3ff' (expected FIRST or "
		 "FIRST-LAST, decimal or 0x hex)");
}

/* max-priority and cpus: values, and what they must admit (the domain's
 * own priority and CPU), checked at the end of the domain. */
static void test_limits(void **state)
{
	(void)state;
	ok_line("max-priority 63");
	assert_int_equal(dom("a")->max_prio, 63);
	bad_line("max-priority 0", "max-priority 0 out of range (1..63)");
	bad_line("max-priority 64", "max-priority 64 out of range (1..63)");
	bad_line("max-priority x", "bad number 'x' for max-priority (expected "
				   "decimal or 0x hex)");
	bad_line("max-priority 9", "max-priority 9 is below the domain's "
				   "priority 10");
	one_error("domain a\nmodule m\nmax-priority 20\npriority 21\n",
		  "t.conf:3: max-priority 20 is below the domain's priority "
		  "21");
	no_error("domain a\nmodule m\nmax-priority 0x14\npriority 20\n");
	assert_int_equal(dom("a")->max_prio, 20);

	ok_line("cpus 0");
	assert_int_equal(dom("a")->cpus, 1);
	ok_line("cpus 0,2-3,0xf");
	assert_int_equal(dom("a")->cpus, 0x800d);
	ok_line("cpus 3-3,0-1,1");
	assert_int_equal(dom("a")->cpus, 0xb);
	ok_line("cpus 0-15");
	assert_int_equal(dom("a")->cpus, 0xffff);
	bad_line("cpus 16", "cpus 16 out of range (0..15)");
	bad_line("cpus 0,1-16", "cpus 0,1-16 out of range (0..15)");
	bad_line("cpus 0,3-1", "cpus 0,3-1: FIRST is above LAST");
	static const char *const bad[] = { "0,",    ",0",  "0,,1", "0-", "-1",
					   "0-1-2", "0;1", "0..3", "x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[40], want[160];
		snprintf(line, sizeof line, "cpus %s", bad[i]);
		snprintf(want, sizeof want,
			 "bad CPU list '%s' (expected CPUs and ranges such as "
			 "0,2-3, decimal or 0x hex)",
			 bad[i]);
		bad_line(line, want);
	}
	one_error("domain a\nmodule m\ncpu 1\ncpus 0,2\n",
		  "t.conf:4: cpus does not include the domain's cpu 1");
	one_error("domain a\nmodule m\ncpus 1-2\n",
		  "t.conf:3: cpus does not include the domain's cpu 0");
	no_error("domain a\nmodule m\ncpus 1-2\ncpu 2\n");
	assert_int_equal(dom("a")->cpus, 6);
}

static void test_sizes(void **state)
{
	(void)state;
	bad_line("memory 1X", "bad size suffix 'X' in '1X' for memory "
			      "(expected K, M or G)");
	bad_line("memory 1KB", "bad size suffix 'KB' in '1KB' for memory "
			       "(expected K, M or G)");
	bad_line("kmem 4 K", "unexpected extra argument 'K' for 'kmem'");
	bad_line("memory K", "bad number 'K' for memory (expected N, NK, NM "
			     "or NG; decimal or 0x hex)");
	bad_line("kmem 0x", "bad number '0x' for kmem (expected N, NK, NM or "
			    "NG; decimal or 0x hex)");
	ok_line("kmem 4k");
	assert_int_equal(dom("a")->kmem, 4096);
	ok_line("memory 1g");
	ok_line("memory 0x40000");
	assert_int_equal(dom("a")->memory, 0x40000);
}

static void test_names(void **state)
{
	(void)state;
	no_error("domain abcdefghijklmno\nmodule m\n");
	no_error("domain A-b_C9\nmodule m\nprovides X_y-0\n");
	one_error("domain abcdefghijklmnop\nmodule m\n",
		  "t.conf:1: bad domain name 'abcdefghijklmnop' (expected "
		  "1..15 characters of A-Z a-z 0-9 _ -)");
	assert_false(C.dom[0].valid);
	one_error("domain a.b\nmodule m\n",
		  "t.conf:1: bad domain name 'a.b' (expected 1..15 characters "
		  "of A-Z a-z 0-9 _ -)");
	one_error("domain a\nmodule m\nprovides a/b\n",
		  "t.conf:3: bad service name 'a/b' (expected 1..15 "
		  "characters of A-Z a-z 0-9 _ -)");
	one_error("domain a\nmodule m\ncall abcdefghijklmnop\n",
		  "t.conf:3: bad service name 'abcdefghijklmnop' (expected "
		  "1..15 characters of A-Z a-z 0-9 _ -)");

	parse("domain a\nmodule m\n\ndomain a\nmodule m\ndomain b\nmodule m\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:4: duplicate domain name 'a' (first on line 1)");
	assert_true(C.dom[0].valid);
	assert_false(C.dom[1].valid);
	assert_true(C.dom[2].valid);
	/* names are case-sensitive */
	no_error("domain a\nmodule m\ndomain A\nmodule m\n");

	/* a domain with a bad name keeps an empty one: it cannot be found,
	 * clash with a later valid name, or be named in messages */
	parse("domain abcdefghijklmnop\nprovides s\n"
	      "domain abcdefghijklmno\nmodule m\nprovides s\n");
	assert_int_equal(M.n, 3);
	expect_msg("t.conf:1: bad domain name 'abcdefghijklmnop' (expected "
		   "1..15 characters of A-Z a-z 0-9 _ -)");
	expect_msg("t.conf:1: domain has no 'module' line");
	expect_msg("t.conf:5: service 's' already provided by domain (line 2)");
	assert_string_equal(C.dom[0].name, "");
	assert_int_equal(cfg_find_domain(&C, ""), -1);
	assert_int_equal(cfg_find_domain(&C, "abcdefghijklmno"), 1);
	parse("domain a%b\nmodule m\ncall s\nprovides s\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:1: bad domain name 'a%b' (expected 1..15 characters "
		   "of A-Z a-z 0-9 _ -)");
	expect_msg("t.conf:3: domain calls its own service 's'");
}

static void test_too_many(void **state)
{
	static char text[8192];
	size_t n = 0;
	(void)state;

	for (unsigned i = 0; i < CFG_MAX_DOMAINS + 2; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
				      "domain d%u\nmodule m\n", i);
	n += (size_t)snprintf(text + n, sizeof text - n, "cpu 99\n");
	parse(text);
	assert_int_equal(C.ndom, CFG_MAX_DOMAINS);
	assert_int_equal(cfg_count_valid(&C), CFG_MAX_DOMAINS);
	assert_int_equal(M.n, 3);
	expect_msg("t.conf:65: too many domains (at most 32)");
	expect_msg("t.conf:67: too many domains (at most 32)");
	expect_msg("t.conf:69: cpu 99 out of range (0..15)");
	assert_int_equal(cfg_find_domain(&C, "d32"), -1);

	parse("domain a\nmodule m\nioport 1\nioport 2\nioport 3\nioport 4\n"
	      "ioport 5\nioport 6\nioport 7\nioport 8\nioport 9\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:11: too many 'ioport' lines (at most 8)");
	assert_int_equal(C.dom[0].nio, 8);

	parse("domain a\nmodule m\nirq 1\nirq 2\nirq 3\nirq 4\n"
	      "irq 5\nirq 6\nirq 7\nirq 8\nirq 9\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:11: too many 'irq' lines (at most 8)");

	parse("domain a\nmodule m\nprovides s1\nprovides s2\nprovides s3\n"
	      "provides s4\nprovides s5\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:7: too many 'provides' lines (at most 4)");

	parse("domain p\nmodule m\nprovides s1\nprovides s2\nprovides s3\n"
	      "provides s4\ndomain q\nmodule m\nprovides s5\nprovides s6\n"
	      "provides s7\nprovides s8\nprovides s9\n"
	      "domain a\nmodule m\n"
	      "call s1\ncall s2\ncall s3\ncall s4\ncall s5\ncall s6\ncall s7\n"
	      "call s8\ncall s9\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:13: too many 'provides' lines (at most 4)");
	expect_msg("t.conf:24: too many 'call' lines (at most 8)");
	assert_true(dom("p")->valid);
	assert_false(dom("q")->valid);
	assert_false(dom("a")->valid);
}

static void test_no_module(void **state)
{
	(void)state;
	parse("domain a\ncpu 1\ndomain b\nmodule m\ndomain c\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:1: domain 'a' has no 'module' line");
	expect_msg("t.conf:5: domain 'c' has no 'module' line");
	assert_false(dom("a")->valid);
	assert_true(dom("b")->valid);
	assert_false(dom("c")->valid);
}

static void test_repeated(void **state)
{
	static const char *const lines[] = { "module m", "cpu 1", "priority 2",
					     "quantum 200", "memory 2M",
					     "kmem 4K", "max-priority 30",
					     "cpus 0-3" };
	char text[200], want[200], key[20];
	(void)state;

	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		snprintf(text, sizeof text, "domain a\nmodule m\n%s\n%s\n",
			 i ? lines[i] : "# x", lines[i]);
		sscanf(lines[i], "%19s", key);
		snprintf(want, sizeof want,
			 "t.conf:4: '%s' given twice (first on line %u)", key,
			 i ? 3u : 2u);
		one_error(text, want);
		assert_false(dom("a")->valid);
	}
	one_error("domain a\nmodule m\nirq 3\nirq 4\nirq 0x3\n",
		  "t.conf:5: irq 3 granted twice (first on line 3)");
	one_error("domain a\nmodule m\ncall x\ncall x\ndomain b\nmodule m\n"
		  "provides x\n",
		  "t.conf:4: service 'x' called twice (first on line 3)");
	one_error("domain a\nmodule m\nprovides x\nprovides x\n",
		  "t.conf:4: service 'x' provided twice (first on line 3)");
	/* even a bad value counts as given */
	parse("domain a\nmodule m\ncpu 99\ncpu 1\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:4: 'cpu' given twice (first on line 3)");
}

static void test_long_line(void **state)
{
	char text[700];
	(void)state;

	/* exactly 255 characters (a comment pads it) */
	snprintf(text, sizeof text, "domain a\nmodule m #%0245d\n", 0);
	assert_int_equal(strlen("module m #") + 245, 255);
	no_error(text);
	snprintf(text, sizeof text, "domain a\nmodule m #%0245d\r\n", 0);
	no_error(text);
	snprintf(text, sizeof text, "domain a\nmodule m #%0246d\ncpu 1\n", 0);
	parse(text);
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:2: line too long (256 characters, at most 255)");
	expect_msg("t.conf:1: domain 'a' has no 'module' line");
	/* too long before any domain: reported, nothing invalidated */
	snprintf(text, sizeof text, "#%0599d\ndomain a\nmodule m\n", 0);
	one_error(text, "t.conf:1: line too long (600 characters, at most 255)");
	assert_true(dom("a")->valid);
}

static void test_nonprintable(void **state)
{
	static const char nul[] = "domain a\nmodule m\ncpu 1\0\ndomain b\n"
				  "module m\n";
	(void)state;

	parse_len(nul, sizeof nul - 1);
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:3: non-printable byte 0x00 in column 6");
	assert_false(dom("a")->valid);
	assert_true(dom("b")->valid);
	assert_int_equal(dom("a")->cpu_line, 0);

	one_error("domain a\nmodule m\n# \x01 in a comment\n",
		  "t.conf:3: non-printable byte 0x01 in column 3");
	one_error("domain a\nmodule m\n# caf\xc3\xa9\n",
		  "t.conf:3: non-printable byte 0xc3 in column 6");
	/* on the module line it also leaves the domain without a module */
	parse("domain a\nmodule m \xc3\xa9\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:2: non-printable byte 0xc3 in column 10");
	expect_msg("t.conf:1: domain 'a' has no 'module' line");
	one_error("domain a\rmodule m\n",
		  "t.conf:1: non-printable byte 0x0d in column 9");
	one_error("domain a\nmodule m\n\x7f\n",
		  "t.conf:3: non-printable byte 0x7f in column 1");
	one_error("\x1b[31mdomain a\n",
		  "t.conf:1: non-printable byte 0x1b in column 1");
	/* a lone CR at the end of the file is a line end */
	no_error("domain a\nmodule m\r");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_outside_domain),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_extra_argument),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_no_module),
		cmocka_unit_test(test_repeated),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nonprintable),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
