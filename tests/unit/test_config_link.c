/*
 * Unit tests of the configuration keys for links between domains: 'disk',
 * 'port' and 'allow' (servers/roottask/config_keys.c, the checks after the
 * whole file in config.c), values and every error message.
 */
#include "cfg_test.h"

#define SRV "domain srv\nmodule m\n"

static void test_disk_values(void **state)
{
	(void)state;
	no_error(SRV "domain a\nmodule m\ndisk srv\ndisk srv 2048+4096 ro\ndisk srv part2 size 1M\n"
		     "disk srv ro size 65537\n");
	const struct cfg_domain *a = dom("a");
	assert_int_equal(a->nlink, 4);
	assert_int_equal(a->ndisk, 4);
	assert_int_equal(a->link[0].kind, CFG_LINK_DISK);
	assert_string_equal(a->link[0].peer, "srv");
	assert_int_equal(a->link[0].first, 0);
	assert_int_equal(a->link[0].count, 0);
	assert_false(a->link[0].ro);
	assert_false(a->link[0].part);
	assert_int_equal(a->link[0].size, CFG_LINK_SIZE_DEFAULT);
	assert_int_equal(a->link[1].first, 2048);
	assert_int_equal(a->link[1].count, 4096);
	assert_true(a->link[1].ro);
	assert_true(a->link[2].part);
	assert_int_equal(a->link[2].first, 2);
	assert_int_equal(a->link[2].size, 1 << 20);
	assert_true(a->link[3].ro);
	assert_int_equal(a->link[3].size, 69632);
	assert_int_equal(a->link_line[3], 8);
	no_error(SRV "domain a\nmodule m\ndisk srv all\ndisk srv 0x10+0x20\n");
	assert_int_equal(dom("a")->link[1].first, 16);
	assert_int_equal(dom("a")->link[1].count, 32);
}

static void test_disk_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"disk", "missing argument for 'disk' (expected SERVER [all|FIRST+COUNT|partN] [ro] [size SIZE])"},
		{"disk s.x", "disk: bad domain name 's.x' (expected 1..15 characters of A-Z a-z 0-9 _ -)"},
		{"disk srv part0", "disk: bad partition 'part0' (expected part1..part128)"},
		{"disk srv part129", "disk: bad partition 'part129' (expected part1..part128)"},
		{"disk srv partx", "disk: bad partition 'partx' (expected part1..part128)"},
		{"disk srv 5", "disk: bad extent '5' (expected all, FIRST+COUNT in sectors, or partN)"},
		{"disk srv 5+", "disk: bad extent '5+' (expected all, FIRST+COUNT in sectors, or partN)"},
		{"disk srv 5+1x", "disk: bad extent '5+1x' (expected all, FIRST+COUNT in sectors, or partN)"},
		{"disk srv 5+0", "disk: extent '5+0' is empty or beyond any disk"},
		{"disk srv 18446744073709551615+1", "disk: extent '18446744073709551615+1' is empty or beyond any disk"},
		{"disk srv 99999999999999999999+1", "disk: extent '99999999999999999999+1' is empty or beyond any disk"},
		{"disk srv all rw", "unknown disk option 'rw' (expected ro, size SIZE)"},
		{"disk srv ro ro", "repeated disk option 'ro' (expected ro, size SIZE)"},
		{"disk srv all vlan 3", "unknown disk option 'vlan' (expected ro, size SIZE)"},
		{"disk srv size", "disk option 'size' needs a value"},
		{"disk srv size 32K", "disk 32K out of range (size 64K..16M)"},
		{"disk srv size 17M", "disk 17M out of range (size 64K..16M)"},
		{"disk srv all ro size 1M size 2M", "too many arguments for 'disk' (expected SERVER [all|FIRST+COUNT|partN] "
						    "[ro] [size SIZE])"},
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_line(bad[i].line, bad[i].msg);
	one_error("domain a\nmodule m\ndisk srv\ndisk srv\ndisk srv\ndisk srv\ndisk srv\n" SRV,
		  "t.conf:7: too many 'disk' lines (at most 4)");
}

static void test_port_values(void **state)
{
	(void)state;
	no_error("domain sw\nmodule m\nallow a b\n"
		 "domain a\nmodule m\nport sw 52:54:00:12:34:56 vlan 7 rate 1M size 128K\n"
		 "domain b\nmodule m\nport sw 02:00:00:00:00:0B\n");
	const struct cfg_domain *a = dom("a"), *b = dom("b"), *sw = dom("sw");
	assert_int_equal(a->nport, 1);
	assert_int_equal(a->link[0].kind, CFG_LINK_PORT);
	assert_true(a->link[0].mac == 0x525400123456ull);
	assert_int_equal(a->link[0].vlan, 7);
	assert_int_equal(a->link[0].rate, 1 << 20);
	assert_int_equal(a->link[0].size, 128 << 10);
	assert_true(b->link[0].mac == 0x02000000000bull);
	assert_int_equal(b->link[0].vlan, 0);
	assert_int_equal(b->link[0].rate, 0);
	assert_int_equal(sw->nallow, 1);
	assert_string_equal(sw->allow[0][0], "a");
	assert_string_equal(sw->allow[0][1], "b");
	assert_int_equal(cfg_port_of(&C, 0, "a"), 0);
	assert_int_equal(cfg_port_of(&C, 0, "sw"), -1);
	assert_int_equal(cfg_port_of(&C, 1, "b"), -1);
}

static void test_port_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"port sw", "port: bad MAC '' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 52:54:00:12:34", "port: bad MAC '52:54:00:12:34' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 52:54:00:12:34:5", "port: bad MAC '52:54:00:12:34:5' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 52:54:00:12:34:567", "port: bad MAC '52:54:00:12:34:567' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 52-54-00-12-34-56", "port: bad MAC '52-54-00-12-34-56' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 5g:54:00:12:34:56", "port: bad MAC '5g:54:00:12:34:56' (expected six hex octets such as 52:54:00:12:34:56)"},
		{"port sw 01:00:5e:00:00:01", "port: MAC 01:00:5e:00:00:01 is multicast (a port needs a unicast MAC)"},
		{"port sw ff:ff:ff:ff:ff:ff", "port: MAC ff:ff:ff:ff:ff:ff is multicast (a port needs a unicast MAC)"},
		{"port sw 00:00:00:00:00:00", "port: MAC 00:00:00:00:00:00 is all zero (a port needs a unicast MAC)"},
		{"port sw 52:54:00:00:00:01 vlan 0", "port 0 out of range (vlan 1..4094)"},
		{"port sw 52:54:00:00:00:01 vlan 4095", "port 4095 out of range (vlan 1..4094)"},
		{"port sw 52:54:00:00:00:01 vlan", "port option 'vlan' needs a value"},
		{"port sw 52:54:00:00:00:01 rate 1023", "port 1023 out of range (rate at least 1K bytes/s)"},
		{"port sw 52:54:00:00:00:01 rate 1X", "bad size suffix 'X' in '1X' for port (expected K, M or G)"},
		{"port sw 52:54:00:00:00:01 ro", "unknown port option 'ro' (expected vlan N, rate RATE, size SIZE)"},
		{"port sw 52:54:00:00:00:01 vlan 2 vlan 3", "repeated port option 'vlan' (expected vlan N, rate RATE, size SIZE)"},
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_line(bad[i].line, bad[i].msg);
	parse("domain sw\nmodule m\ndomain a\nmodule m\nport sw 52:54:00:00:00:01\n"
	      "domain b\nmodule m\nport sw 52:54:00:00:00:01\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:8: port 52:54:00:00:00:01 is taken by domain 'a' (line 5)");
	assert_false(dom("b")->valid);
	one_error("domain a\nmodule m\nport sw 52:54:00:00:00:01\nport sw 52:54:00:00:00:01\ndomain sw\nmodule m\n",
		  "t.conf:4: port 52:54:00:00:00:01 is taken by domain 'a' (line 3)");
}

static void test_allow_errors(void **state)
{
	(void)state;
	bad_line("allow a", "allow: expected two domain names, got 1");
	bad_line("allow a b c", "too many arguments for 'allow' (expected two domain names with ports on this switch)");
	bad_line("allow a a", "allow a a: a port always reaches itself; name two domains");
	bad_line("allow a b!", "allow: bad domain name 'b!' (expected 1..15 characters of A-Z a-z 0-9 _ -)");
	/* names without a port on this switch: the switch is invalid, and so its clients */
	parse("domain sw\nmodule m\nallow a c\ndomain a\nmodule m\nport sw 52:54:00:00:00:01\n"
	      "domain c\nmodule m\n");
	expect_msg("t.conf:3: allow: domain 'c' has no valid port on switch 'sw'");
	expect_msg("t.conf:6: port 'sw': that domain is not valid");
	assert_int_equal(M.n, 2);
	assert_false(dom("sw")->valid);
	assert_false(dom("a")->valid);
	assert_true(dom("c")->valid);
}

static void test_link_refs(void **state)
{
	(void)state;
	one_error("domain a\nmodule m\ndisk nobody\n", "t.conf:3: disk 'nobody': no domain of that name");
	one_error("domain a\nmodule m\nport a 52:54:00:00:00:01\n", "t.conf:3: port 'a': a domain cannot link to itself");
	parse("domain bad\ndomain a\nmodule m\ndisk bad\ndomain b\nmodule m\ndisk a\n");
	expect_msg("t.conf:1: domain 'bad' has no 'module' line");
	expect_msg("t.conf:4: disk 'bad': that domain is not valid");
	expect_msg("t.conf:7: disk 'a': that domain is not valid");
	assert_int_equal(M.n, 3);
	/* 16 links in all per domain, as client and server */
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof text, "domain srv\nmodule m\n");
	for (unsigned i = 0; i < 5; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "domain c%u\nmodule m\ndisk srv\ndisk srv\ndisk srv\n"
								    "disk srv\n", i);
	parse(text);
	expect_msg("t.conf:1: domain 'srv' has 20 links as client and server (at most 16)");
	assert_false(dom("srv")->valid);
	assert_false(dom("c0")->valid);
}

static void test_restart(void **state)
{
	(void)state;
	no_error("domain a\nmodule m\n");
	assert_int_equal(dom("a")->restart, CFG_RESTART_NEVER);
	no_error("domain a\nmodule m\nrestart on-crash\ndomain b\nmodule m\nrestart always 10\n"
		 "domain c\nmodule m\nrestart never\nprovides x\n");
	assert_int_equal(dom("a")->restart, CFG_RESTART_ON_CRASH);
	assert_int_equal(dom("a")->restart_max, CFG_DEFAULT_RESTARTS);
	assert_int_equal(dom("b")->restart, CFG_RESTART_ALWAYS);
	assert_int_equal(dom("b")->restart_max, 10);
	bad_line("restart sometimes", "unknown restart 'sometimes' (expected never, on-crash or always)");
	bad_line("restart always 0", "restart 0 out of range (1..1000)");
	bad_line("restart always 1001", "restart 1001 out of range (1..1000)");
	bad_line("restart always 1 2",
		 "too many arguments for 'restart' (expected never, on-crash or always, then optionally the most "
		 "restarts 1..1000)");
	one_error("domain a\nmodule m\nrestart always\nrestart never\n",
		  "t.conf:4: 'restart' given twice (first on line 3)");
	one_error("domain a\nmodule m\nprovides x\nrestart on-crash\n",
		  "t.conf:4: restart: domain 'a' provides services, whose clients hold portals to it: it cannot be "
		  "restarted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_values), cmocka_unit_test(test_disk_errors),
		cmocka_unit_test(test_port_values), cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_allow_errors), cmocka_unit_test(test_link_refs),
		cmocka_unit_test(test_restart),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
