/*
 * Unit tests of the configuration keys for device assignment: 'device'
 * and 'dma' (servers/roottask/config_keys.c), every error message.
 */
#include "cfg_test.h"

static void test_device_values(void **state)
{
	(void)state;
	no_error("domain a\nmodule m\ndevice 00:03.0\ndevice 8086:100e wc\n"
		 "device 1:2.7\ndevice fF:1f.7 wc\n");
	const struct cfg_domain *a = dom("a");
	assert_int_equal(a->ndev, 4);
	assert_false(a->dev[0].by_id);
	assert_int_equal(a->dev[0].bdf, 0x18);
	assert_false(a->dev[0].wc);
	assert_true(a->dev[1].by_id);
	assert_int_equal(a->dev[1].vendor, 0x8086);
	assert_int_equal(a->dev[1].device, 0x100e);
	assert_true(a->dev[1].wc);
	assert_int_equal(a->dev[2].bdf, 0x117);
	assert_int_equal(a->dev[3].bdf, 0xffff);
	assert_true(a->dev[3].wc);
	assert_int_equal(a->dev_line[3], 6);
	/* IDs twice in one domain: two functions with these IDs */
	no_error("domain a\nmodule m\ndevice 8086:100e\ndevice 8086:100e\n");
	/* and in two domains */
	no_error("domain a\nmodule m\ndevice 8086:100e\ndomain b\nmodule m\ndevice 8086:100e\n");
}

static void test_device_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"device x", "bad device 'x' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 00:03.", "bad device '00:03.' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 00:03.0.1", "bad device '00:03.0.1' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device :03.0", "bad device ':03.0' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 00-03.0", "bad device '00-03.0' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 0x00:03.0", "bad device '0x00:03.0' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 123456789:1", "bad device '123456789:1' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 100:00.0", "device 100:00.0 out of range (bus 00..ff, device 00..1f, function 0..7)"},
		{"device 00:20.0", "device 00:20.0 out of range (bus 00..ff, device 00..1f, function 0..7)"},
		{"device 00:03.8", "device 00:03.8 out of range (bus 00..ff, device 00..1f, function 0..7)"},
		{"device 10000:1", "bad device '10000:1' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 8086:10000", "bad device '8086:10000' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 00:03", "bad device '00:03' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 808:100e", "bad device '808:100e' (expected BB:DD.F or VVVV:DDDD, hex)"},
		{"device 8086:100e.0", "device 8086:100e.0 out of range (bus 00..ff, device 00..1f, function 0..7)"},
		{"device ffff:1234", "device ffff:1234: vendor ID ffff means no device"},
		{"device 00:03.0 uc", "unknown device option 'uc' (expected wc or msix, each once)"},
		{"device 00:03.0 WC", "unknown device option 'WC' (expected wc or msix, each once)"},
		{"device 00:03.0 MSIX", "unknown device option 'MSIX' (expected wc or msix, each once)"},
		{"device 00:03.0 wc wc", "repeated device option 'wc' (expected wc or msix, each once)"},
		{"device 00:03.0 msix msix", "repeated device option 'msix' (expected wc or msix, each once)"},
		{"device 00:03.0 msix x", "unknown device option 'x' (expected wc or msix, each once)"},
		{"device 00:03.0 wc msix wc",
		 "too many arguments for 'device' (expected BB:DD.F or VVVV:DDDD (hex), then optionally wc and/or msix)"},
		{"device", "missing argument for 'device' (expected BB:DD.F or VVVV:DDDD (hex), then optionally wc and/or "
			   "msix)"},
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_line(bad[i].line, bad[i].msg);
	ok_line("device 0000:0003");
	ok_line("device 00:03.0 wc");
	ok_line("device 00:03.0 msix");
	ok_line("device 00:03.0 msix wc");
}

static void test_device_msix(void **state)
{
	(void)state;
	no_error("domain a\nmodule m\ndevice 00:03.0 msix\ndevice 8086:10d3 wc msix\ndevice 00:04.0 msix wc\n"
		 "device 00:05.0\n");
	const struct cfg_domain *a = dom("a");
	assert_int_equal(a->ndev, 4);
	assert_true(a->dev[0].msix);
	assert_false(a->dev[0].wc);
	assert_true(a->dev[1].msix);
	assert_true(a->dev[1].wc);
	assert_true(a->dev[2].msix);
	assert_true(a->dev[2].wc);
	assert_false(a->dev[3].msix);
}

static void test_device_twice(void **state)
{
	(void)state;
	one_error("domain a\nmodule m\ndevice 00:03.0\ndevice 0:3.0\n",
		  "t.conf:4: device 00:03.0 given twice (first on line 3)");
	parse("domain a\nmodule m\ndevice 00:03.0\ndomain b\nmodule m\ndevice 00:03.0 wc\n");
	assert_int_equal(M.n, 1);
	expect_msg("t.conf:6: device 00:03.0 already granted to domain 'a' (line 3)");
	assert_true(dom("a")->valid);
	assert_false(dom("b")->valid);
	/* also when the first domain is invalid */
	parse("domain a\ndevice 00:03.0\ndomain b\nmodule m\ndevice 00:03.0\n");
	expect_msg("t.conf:5: device 00:03.0 already granted to domain 'a' (line 2)");
	assert_false(dom("b")->valid);
	one_error("domain a\nmodule m\ndevice 1:2.3\ndevice 1:2.4\ndevice 1:2.5\ndevice 1:2.6\ndevice 1:2.7\n",
		  "t.conf:7: too many 'device' lines (at most 4)");
}

static void test_device_spill(void **state)
{
	char text[4096];
	size_t n = 0;
	(void)state;
	/* a domain beyond the table is checked too, against the table and itself */
	for (unsigned i = 0; i < CFG_MAX_DOMAINS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "domain d%u\nmodule m\n", i);
	snprintf(text + n, sizeof(text) - n, "device 00:03.0\ndomain x\nmodule m\ndevice 00:03.0\ndevice 00:04.0\n"
					     "device 00:04.0\n");
	parse(text);
	expect_msg("t.conf:66: too many domains (at most 32)");
	expect_msg("t.conf:68: device 00:03.0 already granted to domain 'd31' (line 65)");
	expect_msg("t.conf:70: device 00:04.0 given twice (first on line 69)");
	assert_int_equal(M.n, 3);
}

static void test_dma(void **state)
{
	(void)state;
	no_error("domain a\nmodule m\nmemory 2M\ndma 64K\n");
	assert_int_equal(dom("a")->dma, 64 << 10);
	assert_int_equal(dom("a")->dma_line, 4);
	no_error("domain a\nmodule m\ndma 4097\n");
	assert_int_equal(dom("a")->dma, 8192);
	no_error("domain a\nmodule m\n");
	assert_int_equal(dom("a")->dma, 0);
	bad_line("dma 4095", "dma 4095 out of range (4K..64M)");
	bad_line("dma 0", "dma 0 out of range (4K..64M)");
	bad_line("dma 65M", "dma 65M out of range (4K..64M)");
	bad_line("dma 1KB", "bad size suffix 'KB' in '1KB' for dma (expected K, M or G)");
	bad_line("dma K", "bad number 'K' for dma (expected N, NK, NM or NG; decimal or 0x hex)");
	bad_line("dma", "missing argument for 'dma' (expected a size 4K..64M)");
	bad_line("dma 4K 8K", "unexpected extra argument '8K' for 'dma'");
	one_error("domain a\nmodule m\ndma 4K\ndma 8K\n", "t.conf:4: 'dma' given twice (first on line 3)");
	one_error("domain a\nmodule m\ndma 1M\n",
		  "t.conf:3: dma 1024K does not fit in the domain's memory 1024K (dma is part of memory)");
	one_error("domain a\nmodule m\ndma 4M\nmemory 2M\n",
		  "t.conf:3: dma 4096K does not fit in the domain's memory 2048K (dma is part of memory)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_values),
		cmocka_unit_test(test_device_errors),
		cmocka_unit_test(test_device_msix), cmocka_unit_test(test_device_twice),
		cmocka_unit_test(test_device_spill),  cmocka_unit_test(test_dma),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
