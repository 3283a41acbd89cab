/*
 * Unit tests of the roottask configuration parser (servers/roottask/config.c):
 * valid files, service resolution, isolation of errors, and fuzzing.
 * test_config_errors.c checks every error message.
 */
#include "cfg_test.h"

static const char example[] =
	"# default.conf\n"
	"domain console                 # the console server\n"
	"    module console  -v  --baud=115200   # args\n"
	"    cpu 0\n"
	"    priority 20\n"
	"    quantum 10000\n"
	"    memory 1M\n"
	"    kmem 64K\n"
	"    ioport 0x3f8-0x3ff\n"
	"    irq 4\n"
	"    provides console\n"
	"\n"
	"domain echo\n"
	"\tmodule echo\n"
	"\tcpu 0xf\n"
	"\tpriority 63\n"
	"\tmax-priority 63\n"
	"\tcpus 0-1,15\n"
	"\tquantum 100\n"
	"\tmemory 0x10000\n"
	"\tkmem 0\n"
	"\tioport 0x60\n"
	"\tioport 0-0xffff\n"
	"\tirq 0\n"
	"\tirq 23\n"
	"\tcall console\n"
	"\tprovides echo\n"
	"\tprovides echo-2\n"
	"domain client\n"
	"  module client a b\n"
	"  call echo\n"
	"  call echo-2\n"
	"  call console\n";

static void test_example(void **state)
{
	(void)state;
	no_error(example);
	assert_int_equal(C.ndom, 3);
	assert_int_equal(cfg_count_valid(&C), 3);

	const struct cfg_domain *d = &C.dom[0];
	assert_true(d->valid);
	assert_string_equal(d->name, "console");
	assert_string_equal(d->module, "console");
	assert_string_equal(d->args, "-v  --baud=115200");
	assert_int_equal(d->cpu, 0);
	assert_int_equal(d->prio, 20);
	assert_int_equal(d->max_prio, 20); /* its priority, by default */
	assert_true(d->cpus == CFG_CPUS_ALL);
	assert_int_equal(d->quantum_us, 10000);
	assert_int_equal(d->memory, 1 << 20);
	assert_int_equal(d->kmem, 64 << 10);
	assert_int_equal(d->nio, 1);
	assert_int_equal(d->io[0].first, 0x3f8);
	assert_int_equal(d->io[0].last, 0x3ff);
	assert_int_equal(d->nirq, 1);
	assert_int_equal(d->irq[0], 4);
	assert_int_equal(d->nprovides, 1);
	assert_string_equal(d->provides[0], "console");
	assert_int_equal(d->ncalls, 0);
	assert_int_equal(d->line, 2);
	assert_int_equal(d->module_line, 3);
	assert_int_equal(d->cpu_line, 4);
	assert_int_equal(d->prio_line, 5);
	assert_int_equal(d->quantum_line, 6);
	assert_int_equal(d->memory_line, 7);
	assert_int_equal(d->kmem_line, 8);
	assert_int_equal(d->io_line[0], 9);
	assert_int_equal(d->irq_line[0], 10);
	assert_int_equal(d->provides_line[0], 11);

	d = &C.dom[1];
	assert_true(d->valid);
	assert_string_equal(d->name, "echo");
	assert_string_equal(d->args, "");
	assert_int_equal(d->cpu, 15);
	assert_int_equal(d->prio, 63);
	assert_int_equal(d->max_prio, 63);
	assert_int_equal(d->cpus, 0x8003);
	assert_int_equal(d->max_prio_line, 17);
	assert_int_equal(d->cpus_line, 18);
	assert_int_equal(d->quantum_us, 100);
	assert_int_equal(d->memory, 0x10000);
	assert_int_equal(d->kmem, 0);
	assert_int_equal(d->nio, 2);
	assert_int_equal(d->io[0].first, 0x60);
	assert_int_equal(d->io[0].last, 0x60);
	assert_int_equal(d->io[1].first, 0);
	assert_int_equal(d->io[1].last, 0xffff);
	assert_int_equal(d->io_line[1], 23);
	assert_int_equal(d->nirq, 2);
	assert_int_equal(d->irq[1], 23);
	assert_int_equal(d->ncalls, 1);
	assert_string_equal(d->calls[0], "console");
	assert_int_equal(d->call_line[0], 26);
	assert_int_equal(d->nprovides, 2);
	assert_string_equal(d->provides[1], "echo-2");

	d = &C.dom[2];
	assert_true(d->valid);
	assert_string_equal(d->args, "a b");
	assert_int_equal(d->ncalls, 3);
	assert_int_equal(d->call_line[2], 33);

	assert_int_equal(cfg_find_provider(&C, "console"), 0);
	assert_int_equal(cfg_find_provider(&C, "echo-2"), 1);
	assert_int_equal(cfg_find_provider(&C, "nothing"), -1);
	assert_int_equal(cfg_find_domain(&C, "client"), 2);
	assert_int_equal(cfg_find_domain(&C, "Client"), -1);
}

static void test_defaults(void **state)
{
	(void)state;
	no_error("domain a\nmodule m\n");
	const struct cfg_domain *d = dom("a");
	assert_true(d->valid);
	assert_int_equal(d->cpu, CFG_DEFAULT_CPU);
	assert_int_equal(d->prio, 10);
	assert_int_equal(d->max_prio, 10);
	assert_true(d->cpus == CFG_CPUS_ALL);
	assert_int_equal(d->quantum_us, 10000);
	assert_int_equal(d->memory, 1 << 20);
	assert_int_equal(d->kmem, 64 << 10);
	assert_int_equal(d->nio + d->nirq + d->nprovides + d->ncalls, 0);
	assert_int_equal(d->cpu_line + d->prio_line + d->quantum_line, 0);
	assert_int_equal(d->max_prio_line + d->cpus_line, 0);
	assert_int_equal(d->memory_line + d->kmem_line, 0);
	assert_int_equal(d->module_line, 2);
}

static void test_empty_and_layout(void **state)
{
	(void)state;
	no_error("");
	assert_int_equal(C.ndom, 0);
	no_error("\n\n   \n\t\n# only a comment\n   # indented comment\n");
	assert_int_equal(C.ndom, 0);

	memset(&M, 0, sizeof M);
	cfg_parse(NULL, 0, "t.conf", &C, collect, &M);
	assert_int_equal(C.ndom, 0);
	assert_int_equal(C.nerrors, 0);
	cfg_parse(NULL, 100, NULL, &C, NULL, NULL);
	assert_int_equal(C.ndom, 0);

	/* CRLF line ends, no final newline, comments glued to tokens */
	no_error("domain a\r\nmodule m x#c\r\n\r\ncpu 3#three\r\nirq 5");
	const struct cfg_domain *d = dom("a");
	assert_string_equal(d->args, "x");
	assert_int_equal(d->cpu, 3);
	assert_int_equal(d->cpu_line, 4);
	assert_int_equal(d->irq[0], 5);
	assert_int_equal(d->irq_line[0], 5);

	/* tabs and spaces mixed everywhere */
	no_error(" \t domain\t \tb \t\n\t module \t m \t arg \t one\t \n");
	assert_string_equal(dom("b")->args, "arg \t one");
}

static void test_module(void **state)
{
	char buf[400];
	(void)state;

	/* 31-character name is fine, 32 is not */
	no_error("domain a\nmodule abcdefghijklmnopqrstuvwxyz01234\n");
	assert_string_equal(dom("a")->module,
			    "abcdefghijklmnopqrstuvwxyz01234");
	one_error("domain a\nmodule abcdefghijklmnopqrstuvwxyz012345\n",
		  "t.conf:2: module name 'abcdefghijklmnopqrstuvwxyz012345' "
		  "too long (at most 31 characters)");
	assert_false(C.dom[0].valid);

	/* arguments: 191 characters fine, 192 not */
	snprintf(buf, sizeof buf, "domain a\nmodule m %0191d\n", 7);
	no_error(buf);
	assert_int_equal(strlen(dom("a")->args), 191);
	snprintf(buf, sizeof buf, "domain a\nmodule m %0192d\n", 7);
	one_error(buf, "t.conf:2: module arguments too long (192 characters, "
		       "at most 191)");

	/* paths are names too */
	no_error("domain a\nmodule /boot/a.elf\n");
	assert_string_equal(dom("a")->module, "/boot/a.elf");
}

static void test_calls(void **state)
{
	(void)state;
	/* provider after the caller is fine */
	no_error("domain c\nmodule m\ncall s\ndomain p\nmodule m\nprovides s\n");

	one_error("domain a\nmodule m\ncall nobody\n",
		  "t.conf:3: domain 'a' calls service 'nobody' which no valid "
		  "domain provides");
	assert_false(dom("a")->valid);

	/* the only provider is invalid: the callers fall, transitively */
	parse("domain top\nmodule m\ncall mid\n"
	      "domain mid\nmodule m\nprovides mid\ncall base\n"
	      "domain base\nmodule m\nprovides base\npriority 0\n"
	      "domain other\nmodule m\nprovides other\n"
	      "domain user\nmodule m\ncall other\n");
	assert_int_equal(M.n, 3);
	expect_msg("t.conf:11: priority 0 out of range (1..63)");
	expect_msg("t.conf:7: domain 'mid' calls service 'base' which no "
		   "valid domain provides");
	expect_msg("t.conf:3: domain 'top' calls service 'mid' which no valid "
		   "domain provides");
	assert_false(dom("top")->valid);
	assert_false(dom("mid")->valid);
	assert_false(dom("base")->valid);
	assert_true(dom("other")->valid);
	assert_true(dom("user")->valid);

	/* both unresolved calls of one domain are reported */
	parse("domain a\nmodule m\ncall x\ncall y\n");
	assert_int_equal(M.n, 2);
	expect_msg("t.conf:3: domain 'a' calls service 'x' which no valid "
		   "domain provides");
	expect_msg("t.conf:4: domain 'a' calls service 'y' which no valid "
		   "domain provides");

	/* calling oneself */
	one_error("domain a\nmodule m\ncall s\nprovides s\n",
		  "t.conf:3: domain 'a' calls its own service 's'");
	assert_false(dom("a")->valid);

	/* a service provided twice: the second provider is invalid */
	parse("domain a\nmodule m\nprovides s\n"
	      "domain b\nmodule m\nprovides s\n"
	      "domain c\nmodule m\ncall s\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:6: service 's' already provided by domain 'a' "
		   "(line 3)");
	assert_true(dom("a")->valid);
	assert_false(dom("b")->valid);
	assert_true(dom("c")->valid);
	assert_int_equal(cfg_find_provider(&C, "s"), 0);

	/* ... even if the first one is invalid for another reason */
	parse("domain a\nmodule m\nprovides s\ncpu 16\n"
	      "domain b\nmodule m\nprovides s\n"
	      "domain c\nmodule m\ncall s\n");
	assert_int_equal(M.n, 3);
	expect_msg("t.conf:4: cpu 16 out of range (0..15)");
	expect_msg("t.conf:7: service 's' already provided by domain 'a' "
		   "(line 3)");
	expect_msg("t.conf:10: domain 'c' calls service 's' which no valid "
		   "domain provides");
}

static void test_isolation(void **state)
{
	(void)state;
	parse("domain a\nmodule m\ncpu 1\n"
	      "domain b\nmodule m\nbogus\npriority 0\nmemory 3Q\n"
	      "domain c\nmodule m\nirq 23\n");
	assert_int_equal(M.n, 3);
	expect_msg("t.conf:6: unknown key 'bogus'");
	expect_msg("t.conf:7: priority 0 out of range (1..63)");
	expect_msg("t.conf:8: bad size suffix 'Q' in '3Q' for memory "
		   "(expected K, M or G)");
	assert_true(dom("a")->valid);
	assert_false(dom("b")->valid);
	assert_true(dom("c")->valid);
	assert_int_equal(dom("c")->irq[0], 23);
	assert_int_equal(cfg_count_valid(&C), 2);
	/* a bad value leaves the default in place */
	assert_int_equal(dom("b")->prio, CFG_DEFAULT_PRIO);
}

static void test_long_fname(void **state)
{
	char fname[3000];
	unsigned n = 0;
	(void)state;

	memset(fname, 'f', sizeof fname - 1);
	fname[sizeof fname - 1] = '\0';
	cfg_parse("bogus\n", 6, fname, &C, count_only, &n);
	assert_int_equal(n, 1);
	cfg_parse("bogus\n", 6, NULL, &C, collect, &M);
	memset(&M, 0, sizeof M);
	cfg_parse("bogus\n", 6, NULL, &C, collect, &M);
	assert_string_equal(M.m[0], "(config):1: unknown key 'bogus'");
	cfg_parse("bogus\nbogus\n", 12, "x", &C, NULL, NULL);
	assert_int_equal(C.nerrors, 2);
}

/* Independent re-check of everything a valid domain promises. */
static void check_valid_domain(const struct cfg *c, const struct cfg_domain *d)
{
	assert_true(d->name[0] != '\0');
	assert_true(strlen(d->name) < CFG_NAME_MAX);
	assert_true(d->module[0] != '\0' && d->module_line > 0);
	assert_true(strlen(d->args) < CFG_ARGS_MAX);
	assert_in_range(d->cpu, 0, 15);
	assert_in_range(d->prio, 1, 63);
	assert_in_range(d->quantum_us, 100, 1000000);
	assert_in_range(d->memory, 64 << 10, 1 << 30);
	assert_int_equal(d->memory % 4096, 0);
	assert_in_range(d->kmem, 0, 64 << 20);
	assert_true(d->nio <= CFG_MAX_IO && d->nirq <= CFG_MAX_IRQ);
	assert_true(d->nprovides <= CFG_MAX_PROVIDES);
	assert_true(d->ncalls <= CFG_MAX_CALLS);
	for (unsigned i = 0; i < d->nio; i++)
		assert_true(d->io[i].first <= d->io[i].last &&
			    d->io[i].last <= 0xffff);
	for (unsigned i = 0; i < d->nirq; i++)
		assert_in_range(d->irq[i], 0, 23);
	for (unsigned i = 0; i < d->ncalls; i++) {
		int p = cfg_find_provider(c, d->calls[i]);
		assert_true(p >= 0 && &c->dom[p] != d);
	}
	assert_int_equal(cfg_find_domain(c, d->name), (int)(d - c->dom));
}

/* Checks the invariants of any parse result. */
static void check_result(const struct cfg *c, unsigned reported)
{
	unsigned invalid = 0;
	assert_true(c->ndom <= CFG_MAX_DOMAINS);
	assert_int_equal(reported, c->nerrors);
	for (unsigned i = 0; i < c->ndom; i++) {
		if (c->dom[i].valid)
			check_valid_domain(c, &c->dom[i]);
		else
			invalid++;
	}
	assert_true(c->nerrors >= invalid);
	if (c->nerrors == 0)
		assert_int_equal(invalid, 0);
}

static const char *const words[] = {
	"domain", "module", "cpu", "priority", "quantum", "memory", "kmem",
	"ioport", "irq", "provides", "call", " ", " ", "\t", "\n", "\n", "\n",
	"\r\n", "#", "a", "b", "s", "0", "1", "15", "63", "0x", "0xffff", "-",
	"K", "M", "G", "64K", "1M", "100", "99999999999999999999", "x", "\0",
};

/* Builds a random text of mostly configuration words into buf. */
static size_t random_text(struct unit_rng *r, char *buf, size_t max)
{
	size_t n = 0, want = (size_t)unit_rng_below(r, max);
	unsigned mode = (unsigned)unit_rng_below(r, 3);
	while (n < want) {
		if (mode == 0 || unit_rng_below(r, 8) == 0) {
			buf[n++] = (char)unit_rng_next(r);
			continue;
		}
		const char *w = words[unit_rng_below(r, sizeof words /
							    sizeof words[0])];
		size_t l = w[0] ? strlen(w) : 1;
		if (n + l > want)
			break;
		memcpy(buf + n, w, l);
		n += l;
	}
	return n;
}

static void test_fuzz_random(void **state)
{
	static char buf[2048];
	struct unit_rng r;
	(void)state;

	unit_rng_seed(&r, 0xc0ff1e);
	for (int it = 0; it < 20000; it++) {
		unsigned reported = 0;
		size_t n = random_text(&r, buf, sizeof buf);
		char *copy = unit_exact_copy(buf, n);
		cfg_parse(copy, n, "fuzz.conf", &C, count_only, &reported);
		free(copy);
		check_result(&C, reported);
	}
}

static void test_fuzz_mutate(void **state)
{
	static char buf[sizeof example + 64];
	struct unit_rng r;
	unsigned valid_seen = 0;
	(void)state;

	unit_rng_seed(&r, 42);
	for (int it = 0; it < 20000; it++) {
		size_t n = sizeof example - 1;
		unsigned muts = 1 + (unsigned)unit_rng_below(&r, 4), reported = 0;
		memcpy(buf, example, n);
		for (unsigned k = 0; k < muts; k++) {
			size_t at = (size_t)unit_rng_below(&r, n);
			switch (unit_rng_below(&r, 4)) {
			case 0: /* replace a byte */
				buf[at] = (char)unit_rng_next(&r);
				break;
			case 1: /* replace with a digit or letter */
				buf[at] = "0123456789abcdefxKMG-#\n "
					[unit_rng_below(&r, 25)];
				break;
			case 2: /* delete a byte */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: /* truncate */
				n = at;
				break;
			}
			if (n == 0)
				break;
		}
		char *copy = unit_exact_copy(buf, n);
		cfg_parse(copy, n, "mut.conf", &C, count_only, &reported);
		free(copy);
		check_result(&C, reported);
		valid_seen += cfg_count_valid(&C);
	}
	/* mutations must leave many domains intact, or the test is pointless */
	assert_true(valid_seen > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_layout),
		cmocka_unit_test(test_module),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_long_fname),
		cmocka_unit_test(test_fuzz_random),
		cmocka_unit_test(test_fuzz_mutate),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
