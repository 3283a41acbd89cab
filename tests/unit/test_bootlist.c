/*
 * Tests of the boot-list machine lines (scripts/bootlist.sh, scripts/boot):
 * `machine`, `iommu` and `nic` become the right QEMU options (the IOMMU
 * before every other device) and Bochs configuration, and every malformed
 * or unsupported line is refused with exit status 2 and a message naming
 * the file and line. Runs `scripts/boot --dry-run` on boot lists written
 * to a temporary directory (the kernel "image" is the Makefile: only its
 * existence is checked).
 */
#include "unit.h"

#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/test_bootlist.XXXXXX";
static char out[16384];

/* Writes `text` as boot list NAME.boot and runs scripts/boot --dry-run
 * with `opts` on it (and `env`, e.g. "QEMU_MACHINE=pc", in its
 * environment); the output (stdout and stderr) goes to out[]. Returns the
 * exit status. */
static int dry_run_env(const char *env, const char *name, const char *opts, const char *text)
{
	char path[256], cmd[1024];
	FILE *f;
	size_t n;
	int st;

	snprintf(path, sizeof path, "%s/%s.boot", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("kernel Makefile\n", f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "env %s scripts/boot --dry-run %s %s 2>&1", env, opts, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int dry_run(const char *name, const char *opts, const char *text)
{
	return dry_run_env("", name, opts, text);
}

static void expect_in(const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("'%s' not in the output:\n%s", needle, out);
}

static void expect_not_in(const char *needle)
{
	if (strstr(out, needle))
		fail_msg("'%s' in the output:\n%s", needle, out);
}

static void test_default_machine(void **state)
{
	(void)state;
	assert_int_equal(dry_run("plain", "--emu qemu", ""), 0);
	expect_in("-machine pc ");
	expect_not_in("intel-iommu");
	expect_not_in("-netdev");
}

static void test_q35_iommu_nics(void **state)
{
	const char *iommu, *debug_exit, *nic0;
	(void)state;
	assert_int_equal(dry_run("q35", "--emu qemu",
				 "machine q35\niommu on\nnic e1000e hub 0\nnic e1000e hub 0 # two\n"
				 "nic e1000 user\nnic e1000e\nnic virtio-net-pci\n"),
			 0);
	expect_in("-machine q35 ");
	expect_in("-device intel-iommu\\,intremap=off ");
	expect_in("-netdev hubport\\,id=nic0\\,hubid=0 -device e1000e\\,netdev=nic0\\,mac=52:54:00:12:34:10 ");
	expect_in("-netdev hubport\\,id=nic1\\,hubid=0 -device e1000e\\,netdev=nic1\\,mac=52:54:00:12:34:11 ");
	expect_in("-netdev user\\,id=nic2\\,restrict=on -device e1000\\,netdev=nic2\\,mac=52:54:00:12:34:12 ");
	expect_in("-netdev user\\,id=nic3\\,restrict=on -device e1000e\\,netdev=nic3\\,mac=52:54:00:12:34:13 ");
	expect_in("-netdev user\\,id=nic4\\,restrict=on -device virtio-net-pci\\,netdev=nic4\\,mac=52:54:00:12:34:14 ");
	/* the IOMMU comes before every other device */
	iommu = strstr(out, "intel-iommu");
	debug_exit = strstr(out, "isa-debug-exit");
	nic0 = strstr(out, "netdev=nic0");
	assert_non_null(debug_exit);
	assert_true(iommu < debug_exit && iommu < nic0);
	assert_int_equal(dry_run("ir", "--emu qemu", "machine q35\niommu intremap\n"), 0);
	expect_in("-device intel-iommu\\,intremap=on ");
	assert_int_equal(dry_run("off", "--emu qemu", "machine q35\niommu off\n"), 0);
	expect_not_in("intel-iommu");
	/* the environment still overrides the machine */
	assert_int_equal(dry_run_env("QEMU_MACHINE=pc", "env", "--emu qemu", "machine q35\n"), 0);
	expect_in("-machine pc ");
}

static void test_bochs(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "machine q35\n", "Bochs emulates no q35" },
		{ "machine q35\niommu on\n", "Bochs emulates no q35" },
		{ "nic e1000e\n", "Bochs emulates no e1000e" },
		{ "nic virtio-net-pci\n", "Bochs emulates no virtio-net-pci" },
		{ "nic e1000 hub 1\n", "Bochs has no hub" },
		{ "nic e1000\nnic e1000\n", "Bochs takes one NIC at most" },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(dry_run("bochs", "--emu bochs", bad[i].text), 2);
		expect_in(bad[i].msg);
	}
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "machine\n", "bad.boot:2: expected 'machine pc' or 'machine q35'" },
		{ "machine isapc\n", "bad.boot:2: unknown machine 'isapc' (expected pc or q35)" },
		{ "machine pc q35\n", "bad.boot:2: expected 'machine pc' or 'machine q35'" },
		{ "machine pc\nmachine q35\n", "bad.boot:3: second 'machine' line" },
		{ "iommu on\n", "bad.boot: 'iommu on' needs 'machine q35'" },
		{ "machine q35\niommu yes\n", "bad.boot:3: unknown iommu setting 'yes'" },
		{ "machine q35\niommu on\niommu on\n", "bad.boot:4: second 'iommu' line" },
		{ "iommu\n", "bad.boot:2: expected 'iommu on', 'iommu intremap' or 'iommu off'" },
		{ "nic\n", "bad.boot:2: 'nic' needs a model" },
		{ "nic rtl8139\n", "bad.boot:2: unknown nic model 'rtl8139'" },
		{ "nic e1000 hub\n", "bad.boot:2: expected 'nic MODEL', 'nic MODEL user' or 'nic MODEL hub N'" },
		{ "nic e1000 hub 10\n", "bad.boot:2: expected 'nic MODEL'" },
		{ "nic e1000 hub x\n", "bad.boot:2: expected 'nic MODEL'" },
		{ "nic e1000 tap\n", "bad.boot:2: expected 'nic MODEL'" },
		{ "nic e1000 user 1\n", "bad.boot:2: expected 'nic MODEL'" },
		{ "nic e1000\nnic e1000\nnic e1000\nnic e1000\nnic e1000\nnic e1000\nnic e1000\n"
		  "nic e1000\nnic e1000\n",
		  "bad.boot:10: at most 8 'nic' lines" },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(dry_run("bad", "--emu qemu", bad[i].text), 2);
		expect_in(bad[i].msg);
	}
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_machine),
		cmocka_unit_test(test_q35_iommu_nics),
		cmocka_unit_test(test_bochs),
		cmocka_unit_test(test_errors),
	};
	unsetenv("QEMU_MACHINE");
	return cmocka_run_group_tests(tests, setup, teardown);
}
