/* PCI host: mechanism #1 addressing, the host bridge's header, absent
 * functions, byte/word access, read-only fields, BAR sizing (32-bit, 64-bit,
 * I/O), BAR change callbacks, device-specific writes. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/pci_host.h"

static struct pci_host host;
static struct pci_func dev;
static unsigned updates;
static unsigned last_bar;
static uint64_t last_addr;
static bool last_on;
static unsigned cfg_writes;

static void on_bar(struct pci_func *f, unsigned bar, uint64_t addr, bool on)
{
	assert_ptr_equal(f, &dev);
	updates++;
	last_bar = bar;
	last_addr = addr;
	last_on = on;
}

static void on_cfg(struct pci_func *f, unsigned off, unsigned size, uint32_t val)
{
	assert_true(off >= 0x40 && off + size <= 256);
	cfg_writes++;
	memcpy(&f->cfg[off], &val, size);
}

static uint32_t cfg_addr(unsigned dev_, unsigned fn, unsigned reg)
{
	return 0x80000000u | dev_ << 11 | fn << 8 | reg;
}

static uint32_t rd(unsigned devfn, unsigned reg, unsigned size)
{
	pci_host_addr_write(&host, 0, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
	return (uint32_t)pci_host_data_read(&host, reg & 3, size);
}

static void wr(unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
	pci_host_addr_write(&host, 0, 4, 0x80000000u | devfn << 8 | (reg & 0xfc));
	pci_host_data_write(&host, reg & 3, size, v);
}

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	pci_host_init(&host);
	memset(&dev, 0, sizeof(dev));
	pci_set16(&dev, PCI_VENDOR_ID, 0x1af4);
	pci_set16(&dev, PCI_DEVICE_ID, 0x1041);
	pci_set32(&dev, 0x08, 0x02000001); /* network controller, rev 1 */
	pci_set32(&dev, PCI_BAR0, 0);                        /* 4 KiB mem32 */
	pci_set32(&dev, PCI_BAR0 + 4, PCI_BAR_IO);           /* 32 ports */
	pci_set32(&dev, PCI_BAR0 + 8, PCI_BAR_MEM64 | PCI_BAR_PREFETCH); /* 1 MiB */
	dev.bar_size[0] = 0x1000;
	dev.bar_size[1] = 0x20;
	dev.bar_size[2] = 0x100000;
	dev.cfg[PCI_INTERRUPT_PIN] = 1;
	dev.bar_update = on_bar;
	dev.cfg_write = on_cfg;
	updates = cfg_writes = 0;
	assert_true(pci_add(&host, PCI_DEVFN(3, 0), &dev));
	return 0;
}

static void test_host_bridge(void **state)
{
	(void)state;
	pci_host_addr_write(&host, 0, 4, cfg_addr(0, 0, 0));
	assert_int_equal(pci_host_addr_read(&host, 0, 4), 0x80000000u);
	assert_int_equal(pci_host_data_read(&host, 0, 4), 0x29c08086u);
	assert_int_equal(rd(0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(rd(0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(rd(0, PCI_DEVICE_ID, 2), 0x29c0);
	assert_int_equal(rd(0, 0x01, 1), 0x80);
	assert_int_equal(rd(0, 0x03, 1), 0x29);
	/* read-only IDs */
	wr(0, 0, 4, 0x12345678);
	assert_int_equal(rd(0, 0, 4), 0x29c08086u);
	/* no BARs on the bridge */
	wr(0, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(rd(0, PCI_BAR0, 4), 0);
}

static void test_absent_and_disabled(void **state)
{
	(void)state;
	assert_int_equal(rd(PCI_DEVFN(1, 0), 0, 4), 0xffffffffu);
	assert_int_equal(rd(PCI_DEVFN(3, 1), 0, 2), 0xffff);
	assert_int_equal(rd(PCI_DEVFN(31, 7), 0x3c, 1), 0xff);
	/* bus 1 does not exist */
	pci_host_addr_write(&host, 0, 4, 0x80010000u);
	assert_int_equal(pci_host_data_read(&host, 0, 4), 0xffffffffu);
	/* enable bit clear */
	pci_host_addr_write(&host, 0, 4, 0x00000000u);
	assert_int_equal(pci_host_data_read(&host, 0, 4), 0xffffffffu);
	/* only dword accesses reach 0xcf8 */
	pci_host_addr_write(&host, 0, 1, 0x80);
	assert_int_equal(pci_host_addr_read(&host, 0, 4), 0);
	assert_int_equal(pci_host_addr_read(&host, 0, 2), ~0ull);
	/* writes to absent functions are dropped */
	wr(PCI_DEVFN(1, 0), 0x3c, 1, 5);
	/* duplicate and out-of-range adds */
	struct pci_func other = { 0 };
	assert_false(pci_add(&host, PCI_DEVFN(3, 0), &other));
	assert_false(pci_add(&host, 256, &other));
	assert_false(pci_add(&host, 0, &other));
}

static void test_sub_dword_access(void **state)
{
	(void)state;
	unsigned d = PCI_DEVFN(3, 0);
	assert_int_equal(rd(d, 0, 4), 0x10411af4u);
	assert_int_equal(rd(d, 2, 2), 0x1041);
	assert_int_equal(rd(d, 1, 1), 0x1a);
	assert_int_equal(rd(d, 3, 1), 0x10);
	assert_int_equal(rd(d, 0x0b, 1), 0x02);
	/* a word straddling the dword: not decoded */
	pci_host_addr_write(&host, 0, 4, cfg_addr(3, 0, 0));
	assert_int_equal(pci_host_data_read(&host, 3, 2), 0xffff);
}

static void test_writable_fields(void **state)
{
	(void)state;
	unsigned d = PCI_DEVFN(3, 0);
	wr(d, PCI_INTERRUPT_LINE, 1, 11);
	assert_int_equal(rd(d, PCI_INTERRUPT_LINE, 1), 11);
	wr(d, PCI_INTERRUPT_PIN, 1, 4);
	assert_int_equal(rd(d, PCI_INTERRUPT_PIN, 1), 1);
	wr(d, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(rd(d, PCI_COMMAND, 2), 0x0547);
	wr(d, 0x08, 4, 0);
	assert_int_equal(rd(d, 0x08, 4), 0x02000001);
	/* status: error bits are write-1-to-clear, others read-only */
	dev.cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	dev.cfg[PCI_STATUS + 1] = 0x80;
	wr(d, PCI_STATUS, 2, 0x8010);
	assert_int_equal(rd(d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	/* device-specific space goes to the owner */
	wr(d, 0x40, 4, 0xdeadbeef);
	assert_int_equal(cfg_writes, 1);
	assert_int_equal(rd(d, 0x40, 4), 0xdeadbeef);
	/* without a callback it is read-only */
	dev.cfg_write = NULL;
	wr(d, 0x44, 4, 0xdeadbeef);
	assert_int_equal(rd(d, 0x44, 4), 0);
	/* no expansion ROM */
	wr(d, 0x30, 4, 0xfffff800);
	assert_int_equal(rd(d, 0x30, 4), 0);
}

/* Linux's __pci_read_base(): save, write ones, read mask, restore. */
static void test_bar_sizing(void **state)
{
	(void)state;
	unsigned d = PCI_DEVFN(3, 0);
	wr(d, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(rd(d, PCI_BAR0, 4), 0xfffff000u);
	wr(d, PCI_BAR0 + 4, 4, 0xffffffff);
	assert_int_equal(rd(d, PCI_BAR0 + 4, 4), 0xffffffe1u);
	wr(d, PCI_BAR0 + 8, 4, 0xffffffff);
	wr(d, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_int_equal(rd(d, PCI_BAR0 + 8, 4), 0xfff0000cu);
	assert_int_equal(rd(d, PCI_BAR0 + 12, 4), 0xffffffffu);
	for (unsigned b = 4; b < 6; b++) {
		wr(d, PCI_BAR0 + 4 * b, 4, 0xffffffff);
		assert_int_equal(rd(d, PCI_BAR0 + 4 * b, 4), 0);
	}
	/* unaligned addresses are truncated to the size */
	wr(d, PCI_BAR0, 4, 0xfebf1234);
	assert_int_equal(rd(d, PCI_BAR0, 4), 0xfebf1000u);
	wr(d, PCI_BAR0 + 4, 2, 0xc05f);
	assert_int_equal(rd(d, PCI_BAR0 + 4, 4), 0xffffc041u);
	assert_int_equal(updates, 0); /* decoding is still off */
}

static void test_bar_updates(void **state)
{
	(void)state;
	unsigned d = PCI_DEVFN(3, 0);
	wr(d, PCI_BAR0, 4, 0xfebf0000);
	wr(d, PCI_BAR0 + 4, 4, 0xc040);
	wr(d, PCI_BAR0 + 8, 4, 0x00000000);
	wr(d, PCI_BAR0 + 12, 4, 0x00000008); /* 32 GiB */
	wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(updates, 2); /* both memory BARs */
	assert_int_equal(last_bar, 2);
	assert_int_equal(last_addr, 0x800000000ull);
	assert_true(last_on);
	wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(updates, 3);
	assert_int_equal(last_bar, 1);
	assert_int_equal(last_addr, 0xc040);
	wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO); /* no change */
	assert_int_equal(updates, 3);
	wr(d, PCI_BAR0, 4, 0xfe000000); /* move while enabled */
	assert_int_equal(updates, 4);
	assert_int_equal(last_bar, 0);
	assert_int_equal(last_addr, 0xfe000000);
	wr(d, PCI_BAR0, 4, 0xffffffff); /* sizing with decode on: unmapped */
	assert_int_equal(updates, 5);
	assert_false(last_on);
	wr(d, PCI_COMMAND, 2, 0);
	assert_int_equal(updates, 7);
	assert_false(last_on);
}

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 0xcf8);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t x = unit_rng_next(&r);
		unsigned size = 1u << ((x >> 2) % 4);
		if (x & 1)
			pci_host_addr_write(&host, (x >> 8) % 5, size, x >> 16);
		else if (x & 2)
			pci_host_data_write(&host, (x >> 8) % 5, size, x >> 16);
		else
			(void)pci_host_data_read(&host, (x >> 8) % 5, size);
		if (i % 64 == 0)
			pci_host_addr_write(&host, 0, 4, 0x80000000u | ((x >> 20) & 0x1ff00) | ((x >> 40) & 0xfc));
	}
	/* the IDs survived */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0, 4), 0x10411af4u);
	assert_int_equal(rd(0, 0, 4), 0x29c08086u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_host_bridge, setup),
		cmocka_unit_test_setup(test_absent_and_disabled, setup),
		cmocka_unit_test_setup(test_sub_dword_access, setup),
		cmocka_unit_test_setup(test_writable_fields, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_bar_updates, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
