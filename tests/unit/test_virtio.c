/* virtio 1.x PCI transport, split virtqueues, virtio-rng and virtio-console:
 * configuration space and capabilities, feature negotiation, reset, INTx with
 * the ISR, MSI-X (masking, pending bits), EVENT_IDX and NO_INTERRUPT,
 * indirect descriptors, and malformed rings (loops, bad heads and indices,
 * chains longer than the queue, bad indirect tables, rings and buffers
 * outside RAM, queue sizes that are no power of two), plus random rings. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/virtio_blk.h"
#include "../../devices/virtio_console.h"
#include "../../devices/virtio_rng.h"

#define DEVFN 0x08
#define QSIZE 8
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define BUF 0x8000u
#define ITABLE 0x6000u


#define F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define F_V1 (1ull << VIRTIO_F_VERSION_1)

static struct virtio_rng rng;
static struct virtio_console con;
static struct virtio_blk blk;
static uint8_t disk[8 * 512 + 100]; /* 8 sectors and a partial one, which is not the disk's */
static struct virtio_pci *vp;
static uint16_t avail_idx;

static uint8_t out_buf[4096];
static size_t out_len;

static void out(void *ctx, const uint8_t *b, size_t n)
{
	assert_ptr_equal(ctx, &con);
	assert_true(out_len + n <= sizeof(out_buf));
	memcpy(out_buf + out_len, b, n);
	out_len += n;
}

static uint64_t rd(unsigned off, unsigned size) { return virtio_pci_bar_read(vp, off, size); }
static void wr(unsigned off, unsigned size, uint64_t v) { virtio_pci_bar_write(vp, off, size, v); }
static uint8_t status(void) { return (uint8_t)rd(CC_STATUS, 1); }
static bool broken(void) { return status() & VIRTIO_STATUS_NEEDS_RESET; }

static void put(uint64_t gpa, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fake_ram[gpa + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(uint64_t gpa, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | fake_ram[gpa + i];
	return v;
}

static void desc(uint32_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	put(table + 16 * i, addr, 8);
	put(table + 16 * i + 8, len, 4);
	put(table + 16 * i + 12, flags, 2);
	put(table + 16 * i + 14, next, 2);
}

static void make_avail(uint16_t head)
{
	put(AVAIL + 4 + 2 * (avail_idx % QSIZE), head, 2);
	avail_idx++;
	put(AVAIL + 2, avail_idx, 2);
}

static uint16_t used_idx(void) { return (uint16_t)get(USED + 2, 2); }
static uint32_t used_id(unsigned i) { return (uint32_t)get(USED + 4 + 8 * (i % QSIZE), 4); }
static uint32_t used_len(unsigned i) { return (uint32_t)get(USED + 8 + 8 * (i % QSIZE), 4); }

static void notify(unsigned q) { virtio_pci_notify_write(vp, VIRTIO_PCI_NOTIFY_MULT * q, 2, q); }

/* Driver initialisation (3.1.1) with the given features; queue q at the
 * test's rings (queue 0) or nearby (others). */
static void driver_init(uint64_t features, uint16_t qsize)
{
	wr(CC_STATUS, 1, 0);
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(CC_STATUS, 1, VIRTIO_STATUS_DRIVER);
	wr(CC_GFSELECT, 4, 0);
	wr(CC_GF, 4, (uint32_t)features);
	wr(CC_GFSELECT, 4, 1);
	wr(CC_GF, 4, (uint32_t)(features >> 32));
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	assert_true(status() & VIRTIO_STATUS_FEATURES_OK);
	unsigned nq = (unsigned)rd(CC_NUM_QUEUES, 2);
	for (unsigned q = 0; q < nq; q++) {
		uint32_t o = q * 0x400;
		wr(CC_Q_SELECT, 2, q);
		wr(CC_Q_SIZE, 2, qsize);
		wr(CC_Q_DESC, 4, DESC + o);
		wr(CC_Q_DESC + 4, 4, 0);
		wr(CC_Q_DRIVER, 4, AVAIL + o);
		wr(CC_Q_DRIVER + 4, 4, 0);
		wr(CC_Q_DEVICE, 8, USED + o);
		wr(CC_Q_ENABLE, 2, 1);
	}
	wr(CC_STATUS, 1, VIRTIO_STATUS_DRIVER_OK);
}

static int setup_rng(void **state)
{
	(void)state;
	fake_reset_all();
	virtio_rng_init(&rng, &fake_pf, DEVFN);
	vp = &rng.vp;
	avail_idx = 0;
	return 0;
}

static int setup_con(void **state)
{
	(void)state;
	fake_reset_all();
	virtio_console_init(&con, &fake_pf, DEVFN, out, &con);
	vp = &con.vp;
	avail_idx = 0;
	out_len = 0;
	return 0;
}

static int setup_blk(void **state)
{
	(void)state;
	fake_reset_all();
	for (unsigned i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)(i / 512 + 1);
	virtio_blk_init(&blk, &fake_pf, DEVFN, disk, sizeof(disk), false);
	vp = &blk.vp;
	avail_idx = 0;
	return 0;
}

/* ---- configuration space -------------------------------------------------------------- */

static void test_config_space(void **state)
{
	(void)state;
	struct pci_host host;
	pci_host_init(&host);
	assert_true(pci_add(&host, DEVFN, &vp->pci));
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_REVISION, 1), 1);
	assert_true(pci_cfg_read(&host, DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR0: 32 KiB of 32-bit memory; BAR2: 16 ports */
	pci_cfg_write(&host, DEVFN, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_BAR0, 4), 0xffff8000);
	pci_cfg_write(&host, DEVFN, PCI_BAR0 + 8, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&host, DEVFN, PCI_BAR0 + 8, 4), 0xfffffff1);
	/* the capability list: MSI-X, common, notify, ISR (no device config) */
	unsigned seen = 0, ptr = pci_cfg_read(&host, DEVFN, PCI_CAP_PTR, 1), n = 0;
	while (ptr && n++ < 16) {
		unsigned id = pci_cfg_read(&host, DEVFN, ptr, 1);
		if (id == PCI_CAP_ID_MSIX) {
			assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 2, 2) & 0x7ff, 1); /* 2 vectors */
			assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 4, 4), VIRTIO_PCI_MSIX_TABLE);
			assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 8, 4), VIRTIO_PCI_MSIX_PBA);
			seen |= 1;
		} else {
			assert_int_equal(id, PCI_CAP_ID_VNDR);
			unsigned type = pci_cfg_read(&host, DEVFN, ptr + 3, 1);
			unsigned bar = pci_cfg_read(&host, DEVFN, ptr + 4, 1);
			uint32_t off = pci_cfg_read(&host, DEVFN, ptr + 8, 4), len = pci_cfg_read(&host, DEVFN, ptr + 12, 4);
			assert_int_equal(bar, type == 2 ? 2 : 0); /* notifications in the I/O BAR */
			assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 2, 1), type == 2 || type == 5 ? 20 : 16);
			assert_true(off + len <= (type == 2 ? VIRTIO_PCI_NOTIFY_PORTS : VIRTIO_PCI_BAR_SIZE));
			if (type == 2)
				assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
			seen |= 1u << type;
		}
		ptr = pci_cfg_read(&host, DEVFN, ptr + 1, 1);
	}
	assert_int_equal(seen, 0x2f);
	assert_int_equal(rd(CC_NUM_QUEUES, 2), 1);
	wr(CC_Q_SELECT, 2, 0);
	assert_int_equal(rd(CC_Q_SIZE, 2), 64);
	assert_int_equal(rd(CC_Q_NOTIFY_OFF, 2), 0);
	/* ports beyond the queues notify nothing */
	virtio_pci_notify_write(vp, 4, 2, 1);
	virtio_pci_notify_write(vp, 15, 1, 0);
	wr(CC_Q_SELECT, 2, 1); /* absent queue */
	assert_int_equal(rd(CC_Q_SIZE, 2), 0);
}

/* The PCI configuration access capability: BAR accesses through a window
 * in configuration space. */
static void test_cfg_window(void **state)
{
	(void)state;
	struct pci_host host;
	pci_host_init(&host);
	assert_true(pci_add(&host, DEVFN, &vp->pci));
	unsigned ptr = pci_cfg_read(&host, DEVFN, PCI_CAP_PTR, 1), n = 0;
	while (ptr && n++ < 16 && !(pci_cfg_read(&host, DEVFN, ptr, 1) == PCI_CAP_ID_VNDR &&
				    pci_cfg_read(&host, DEVFN, ptr + 3, 1) == 5))
		ptr = pci_cfg_read(&host, DEVFN, ptr + 1, 1);
	assert_true(ptr >= 0x40);
	/* device_feature, high word, through the window */
	wr(CC_DFSELECT, 4, 1);
	pci_cfg_write(&host, DEVFN, ptr + 4, 1, 0);
	pci_cfg_write(&host, DEVFN, ptr + 8, 4, CC_DF);
	pci_cfg_write(&host, DEVFN, ptr + 12, 4, 4);
	assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 16, 4), 1);
	assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 4, 1), 0);
	assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 8, 4), CC_DF);
	/* a status write, one byte */
	pci_cfg_write(&host, DEVFN, ptr + 8, 4, CC_STATUS);
	pci_cfg_write(&host, DEVFN, ptr + 12, 4, 1);
	pci_cfg_write(&host, DEVFN, ptr + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(status(), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* a notification through the I/O BAR */
	driver_init(F_V1, QSIZE);
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	pci_cfg_write(&host, DEVFN, ptr + 4, 1, VIRTIO_PCI_NOTIFY_BAR);
	pci_cfg_write(&host, DEVFN, ptr + 8, 4, 0);
	pci_cfg_write(&host, DEVFN, ptr + 12, 4, 2);
	pci_cfg_write(&host, DEVFN, ptr + 16, 2, 0);
	assert_int_equal(used_idx(), 1);
	/* bad windows: no BAR 1, length 3, unaligned, beyond the BAR: nothing */
	static const uint32_t bad[][3] = { { 1, 0, 4 }, { 0, 0, 3 }, { 0, 2, 4 }, { 0, VIRTIO_PCI_BAR_SIZE, 4 },
					   { 2, VIRTIO_PCI_NOTIFY_PORTS - 2, 4 }, { 0, 0xfffffffe, 4 } };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pci_cfg_write(&host, DEVFN, ptr + 4, 1, bad[i][0]);
		pci_cfg_write(&host, DEVFN, ptr + 8, 4, bad[i][1]);
		pci_cfg_write(&host, DEVFN, ptr + 12, 4, bad[i][2]);
		pci_cfg_write(&host, DEVFN, ptr + 16, 4, 0);
		assert_int_equal(pci_cfg_read(&host, DEVFN, ptr + 16, 4), 0);
	}
	assert_int_equal(status(), 0xf);
	/* the capability's header stays read-only */
	pci_cfg_write(&host, DEVFN, ptr, 4, 0);
	assert_int_equal(pci_cfg_read(&host, DEVFN, ptr, 1), PCI_CAP_ID_VNDR);
}

static void test_console_config(void **state)
{
	(void)state;
	assert_int_equal(vp->pci.cfg[PCI_DEVICE_ID], 0x43);
	assert_int_equal(rd(CC_NUM_QUEUES, 2), 2);
	assert_int_equal(rd(VIRTIO_PCI_DEVCFG + 4, 4), 1); /* max_nr_ports */
	assert_int_equal(rd(VIRTIO_PCI_DEVCFG + 12, 4), 0); /* beyond the configuration */
}

/* ---- features, status, reset ------------------------------------------------------------- */

static void test_features(void **state)
{
	(void)state;
	wr(CC_DFSELECT, 4, 0);
	assert_int_equal(rd(CC_DF, 4), (uint32_t)(F_INDIRECT | F_EVENT_IDX));
	wr(CC_DFSELECT, 4, 1);
	assert_int_equal(rd(CC_DF, 4), 1);
	wr(CC_DFSELECT, 4, 7);
	assert_int_equal(rd(CC_DF, 4), 0);
	/* no VERSION_1: refused (no legacy interface) */
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(CC_GFSELECT, 4, 0);
	wr(CC_GF, 4, (uint32_t)F_EVENT_IDX);
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	assert_false(status() & VIRTIO_STATUS_FEATURES_OK);
	/* a bit the device does not offer: refused */
	wr(CC_STATUS, 1, 0);
	assert_int_equal(status(), 0);
	wr(CC_GFSELECT, 4, 0);
	wr(CC_GF, 4, 1u << 5);
	wr(CC_GFSELECT, 4, 1);
	wr(CC_GF, 4, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	assert_false(status() & VIRTIO_STATUS_FEATURES_OK);
	/* a proper subset: accepted; then the features are fixed */
	wr(CC_STATUS, 1, 0);
	wr(CC_GFSELECT, 4, 1);
	wr(CC_GF, 4, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	assert_true(status() & VIRTIO_STATUS_FEATURES_OK);
	wr(CC_GFSELECT, 4, 0);
	wr(CC_GF, 4, (uint32_t)F_INDIRECT);
	assert_int_equal(rd(CC_GF, 4), 0);
	/* the driver does not clear bits; NEEDS_RESET is not the driver's */
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(status(), VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_reset(void **state)
{
	(void)state;
	driver_init(F_V1 | F_EVENT_IDX, QSIZE);
	wr(CC_MSIX_CONFIG, 2, 0);
	wr(CC_Q_SELECT, 2, 0);
	wr(CC_Q_MSIX, 2, 1);
	wr(VIRTIO_PCI_MSIX_TABLE + 8, 4, 0x55);
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	notify(0);
	assert_true(fake_intx[DEVFN]);
	wr(CC_STATUS, 1, 0);
	assert_int_equal(status(), 0);
	assert_false(fake_intx[DEVFN]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	assert_int_equal(rd(CC_MSIX_CONFIG, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(CC_Q_ENABLE, 2), 0);
	assert_int_equal(rd(CC_Q_SIZE, 2), 64);
	assert_int_equal(rd(CC_Q_DESC, 8), 0);
	wr(CC_GFSELECT, 4, 1);
	assert_int_equal(rd(CC_GF, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_TABLE + 8, 4), 0x55); /* the PCI function's, not the device's */
	/* a notify after reset does nothing */
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 1);
	/* and the device works again after a new initialisation */
	memset(fake_ram + USED, 0, 0x100);
	avail_idx = 0;
	put(AVAIL + 2, 0, 2);
	driver_init(F_V1, QSIZE);
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 1);
}

/* ---- requests and interrupts ------------------------------------------------------------ */

static void test_rng_intx(void **state)
{
	(void)state;
	driver_init(F_V1, QSIZE);
	desc(DESC, 3, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	make_avail(3);
	assert_false(fake_intx[DEVFN]);
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(used_id(0), 3);
	assert_int_equal(used_len(0), 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(fake_ram[BUF + i], i);
	assert_int_equal(fake_ram[BUF + 16], 0);
	assert_true(fake_intx[DEVFN]);
	assert_true(vp->pci.cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), VIRTIO_ISR_QUEUE);
	assert_false(fake_intx[DEVFN]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	assert_int_equal(rng.bytes, 16);
	/* a source that runs dry answers short, then empty */
	fake_entropy_left = 5;
	desc(DESC, 4, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	make_avail(4);
	make_avail(4);
	notify(0);
	assert_int_equal(used_idx(), 3);
	assert_int_equal(used_len(1), 5);
	assert_int_equal(used_len(2), 0);
	/* NO_INTERRUPT: no interrupt */
	put(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT, 2);
	rd(VIRTIO_PCI_ISR, 1);
	make_avail(4);
	notify(0);
	assert_int_equal(used_idx(), 4);
	assert_false(fake_intx[DEVFN]);
	/* INTx disabled in the command register: ISR only */
	put(AVAIL, 0, 2);
	vp->pci.cfg[PCI_COMMAND + 1] |= PCI_COMMAND_INTX_DISABLE >> 8;
	make_avail(4);
	notify(0);
	assert_false(fake_intx[DEVFN]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), VIRTIO_ISR_QUEUE);
}

static void msix_enable(bool on, bool fn_mask)
{
	unsigned cap = vp->pci.cfg[PCI_CAP_PTR];
	vp->pci.cfg_write(&vp->pci, cap + 2, 2, (on ? 0x8000u : 0) | (fn_mask ? 0x4000u : 0) | 0x7ff);
	assert_int_equal(vp->pci.cfg[cap + 2], 1); /* the table size is read-only */
}

static void test_rng_msix(void **state)
{
	(void)state;
	driver_init(F_V1, QSIZE);
	msix_enable(true, false);
	wr(VIRTIO_PCI_MSIX_TABLE + 16, 4, 0xfee01000 | 3); /* vector 1: APIC 1; low bits read 0 */
	wr(VIRTIO_PCI_MSIX_TABLE + 20, 4, 0);
	wr(VIRTIO_PCI_MSIX_TABLE + 24, 4, 0x45);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_TABLE + 16, 4), 0xfee01000);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_TABLE + 28, 4), 1); /* masked after reset */
	wr(VIRTIO_PCI_MSIX_TABLE + 28, 4, 0);
	wr(CC_Q_SELECT, 2, 0);
	wr(CC_Q_MSIX, 2, 7); /* beyond the table */
	assert_int_equal(rd(CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(CC_Q_MSIX, 2, 1);
	assert_int_equal(rd(CC_Q_MSIX, 2), 1);

	desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	notify(0);
	assert_int_equal(fake_nmsgs, 1);
	assert_int_equal(fake_msgs[0].vector, 0x45);
	assert_int_equal(fake_msgs[0].dest, 1);
	assert_int_equal(fake_msgs[0].mode, APIC_DM_FIXED);
	assert_false(fake_msgs[0].logical);
	assert_false(fake_msgs[0].level_trig);
	assert_false(fake_intx[DEVFN]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);

	/* masked: pending, sent when unmasked */
	wr(VIRTIO_PCI_MSIX_TABLE + 28, 4, 1);
	make_avail(0);
	notify(0);
	assert_int_equal(fake_nmsgs, 1);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA, 8), 2);
	wr(VIRTIO_PCI_MSIX_TABLE + 28, 4, 0);
	assert_int_equal(fake_nmsgs, 2);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA, 8), 0);
	/* the function mask too */
	msix_enable(true, true);
	make_avail(0);
	notify(0);
	assert_int_equal(fake_nmsgs, 2);
	msix_enable(true, false);
	assert_int_equal(fake_nmsgs, 3);
	/* an address outside the interrupt range sends nothing */
	wr(VIRTIO_PCI_MSIX_TABLE + 16, 4, 0x1000);
	make_avail(0);
	notify(0);
	assert_int_equal(fake_nmsgs, 3);
	/* MSI-X off: back to INTx */
	msix_enable(false, false);
	make_avail(0);
	notify(0);
	assert_true(fake_intx[DEVFN]);
	/* enabling MSI-X drops INTx */
	msix_enable(true, false);
	assert_false(fake_intx[DEVFN]);
}

static void test_msi_decode(void **state)
{
	(void)state;
	struct apic_msg m;
	assert_true(pci_msi_decode(0xfee0300cull, 0x81c1, &m)); /* logical, RH; level, lowest priority */
	assert_int_equal(m.dest, 3);
	assert_true(m.logical);
	assert_int_equal(m.vector, 0xc1);
	assert_int_equal(m.mode, APIC_DM_LOWEST);
	assert_true(m.level_trig);
	assert_int_equal(m.src, -1);
	assert_false(pci_msi_decode(0xfed00000ull, 0x30, &m));
	assert_false(pci_msi_decode(0x1fee00000ull, 0x30, &m));
	assert_false(pci_msi_decode(0xfee00000ull, 0x630, &m)); /* start-up */
	assert_false(pci_msi_decode(0xfee00000ull, 0x330, &m)); /* reserved */
	assert_true(pci_msi_decode(0xfee00000ull, 0x400, &m));  /* NMI */
	assert_int_equal(m.mode, APIC_DM_NMI);
}

static void test_event_idx(void **state)
{
	(void)state;
	driver_init(F_V1 | F_EVENT_IDX, QSIZE);
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	put(AVAIL + 4 + 2 * QSIZE, 1, 2); /* used_event: interrupt once the used index passes 1 */
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_false(fake_intx[DEVFN]);
	assert_int_equal(get(USED + 4 + 8 * QSIZE, 2), 1); /* avail_event: the next entry */
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 2);
	assert_true(fake_intx[DEVFN]);
	rd(VIRTIO_PCI_ISR, 1);
	/* several at once: one interrupt for the batch */
	put(AVAIL + 4 + 2 * QSIZE, 2, 2);
	make_avail(0);
	make_avail(0);
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 5);
	assert_int_equal(fake_intx_raises[DEVFN], 2);
	assert_int_equal(get(USED + 4 + 8 * QSIZE, 2), 5);
}

static void test_indirect(void **state)
{
	(void)state;
	driver_init(F_V1 | F_INDIRECT, QSIZE);
	desc(ITABLE, 0, BUF, 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(ITABLE, 1, BUF + 0x100, 5, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 2, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(2);
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(used_id(0), 2);
	assert_int_equal(used_len(0), 8);
	assert_int_equal(fake_ram[BUF + 2], 2);
	assert_int_equal(fake_ram[BUF + 3], 0);
	assert_int_equal(fake_ram[BUF + 0x100], 3);
	assert_int_equal(fake_ram[BUF + 0x104], 7);
	assert_false(broken());
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	driver_init(F_V1, QSIZE);
	desc(ITABLE, 0, BUF, 3, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	notify(0);
	assert_true(broken());
	assert_int_equal(used_idx(), 0);
}

/* ---- malformed rings --------------------------------------------------------------------- */

/* After a setup with indirect descriptors, corrupt() damages the ring; the
 * device must enter NEEDS_RESET (with a configuration interrupt), use
 * nothing, ignore further notifications and work again after a reset. */
static void expect_broken(void (*corrupt)(void))
{
	driver_init(F_V1 | F_INDIRECT, QSIZE);
	corrupt();
	notify(0);
	assert_true(broken());
	assert_int_equal(used_idx(), 0);
	assert_int_equal(vp->broken, 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), VIRTIO_ISR_CONFIG);
	notify(0);
	assert_int_equal(vp->broken, 1);
	assert_int_equal(used_idx(), 0);
	/* a reset and a sane ring: served */
	memset(fake_ram, 0, sizeof(fake_ram));
	avail_idx = 0;
	driver_init(F_V1 | F_INDIRECT, QSIZE);
	assert_false(broken());
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	notify(0);
	assert_int_equal(used_idx(), 1);
}

static void c_self_loop(void)
{
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	make_avail(0);
}

static void c_long_loop(void)
{
	for (unsigned i = 0; i < QSIZE; i++)
		desc(DESC, i, BUF + 16 * i, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
	make_avail(5);
}

static void c_next_out_of_range(void)
{
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, QSIZE);
	make_avail(0);
}

static void c_head_out_of_range(void)
{
	make_avail(QSIZE);
}

static void c_avail_idx_jump(void)
{
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	put(AVAIL + 2, QSIZE + 1, 2);
}

static void c_avail_idx_backwards(void)
{
	put(AVAIL + 2, 0xffff, 2);
}

static void c_read_after_write(void)
{
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF + 16, 4, 0, 0);
	make_avail(0);
}

static void c_indirect_nested(void)
{
	desc(ITABLE, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_indirect_with_next(void)
{
	desc(ITABLE, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
}

static void c_indirect_bad_len(void)
{
	desc(ITABLE, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_indirect_empty(void)
{
	desc(DESC, 0, ITABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_indirect_loop(void)
{
	for (unsigned i = 0; i < 4; i++)
		desc(ITABLE, i, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
	desc(DESC, 0, ITABLE, 64, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_indirect_huge(void)
{
	/* longer than any queue: 0x10000 descriptors, most beyond RAM */
	desc(DESC, 0, ITABLE, 0x100000, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_indirect_outside_ram(void)
{
	desc(DESC, 0, 0xfffffffffffffff0ull, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(0);
}

static void c_desc_outside_ram(void)
{
	make_avail(0);
	wr(CC_STATUS, 1, 0); /* set up again with the table beyond RAM */
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(CC_GFSELECT, 4, 1);
	wr(CC_GF, 4, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	wr(CC_Q_SELECT, 2, 0);
	wr(CC_Q_SIZE, 2, QSIZE);
	wr(CC_Q_DESC, 8, 0x100000000ull);
	wr(CC_Q_DRIVER, 8, AVAIL);
	wr(CC_Q_DEVICE, 8, USED);
	wr(CC_Q_ENABLE, 2, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_DRIVER_OK);
}

static void c_used_outside_ram(void)
{
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	wr(CC_STATUS, 1, 0);
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(CC_GFSELECT, 4, 1);
	wr(CC_GF, 4, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
	wr(CC_Q_SELECT, 2, 0);
	wr(CC_Q_SIZE, 2, QSIZE);
	wr(CC_Q_DESC, 8, DESC);
	wr(CC_Q_DRIVER, 8, AVAIL);
	wr(CC_Q_DEVICE, 8, sizeof(fake_ram));
	wr(CC_Q_ENABLE, 2, 1);
	wr(CC_STATUS, 1, VIRTIO_STATUS_DRIVER_OK);
}

static void test_self_loop(void **s) { (void)s, expect_broken(c_self_loop); }
static void test_long_loop(void **s) { (void)s, expect_broken(c_long_loop); }
static void test_next_out_of_range(void **s) { (void)s, expect_broken(c_next_out_of_range); }
static void test_head_out_of_range(void **s) { (void)s, expect_broken(c_head_out_of_range); }
static void test_avail_idx_jump(void **s) { (void)s, expect_broken(c_avail_idx_jump); }
static void test_avail_idx_backwards(void **s) { (void)s, expect_broken(c_avail_idx_backwards); }
static void test_read_after_write(void **s) { (void)s, expect_broken(c_read_after_write); }
static void test_indirect_nested(void **s) { (void)s, expect_broken(c_indirect_nested); }
static void test_indirect_with_next(void **s) { (void)s, expect_broken(c_indirect_with_next); }
static void test_indirect_bad_len(void **s) { (void)s, expect_broken(c_indirect_bad_len); }
static void test_indirect_empty(void **s) { (void)s, expect_broken(c_indirect_empty); }
static void test_indirect_loop(void **s) { (void)s, expect_broken(c_indirect_loop); }
static void test_indirect_huge(void **s) { (void)s, expect_broken(c_indirect_huge); }
static void test_indirect_outside_ram(void **s) { (void)s, expect_broken(c_indirect_outside_ram); }
static void test_desc_outside_ram(void **s) { (void)s, expect_broken(c_desc_outside_ram); }
static void test_used_outside_ram(void **s) { (void)s, expect_broken(c_used_outside_ram); }

/* Sizes that are no power of two, zero or above the maximum cannot be enabled. */
static void test_bad_queue_size(void **state)
{
	(void)state;
	static const uint16_t sizes[] = { 0, 3, 6, 100, 128, 0x8000 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		wr(CC_STATUS, 1, 0);
		wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		wr(CC_GFSELECT, 4, 1);
		wr(CC_GF, 4, 1);
		wr(CC_STATUS, 1, VIRTIO_STATUS_FEATURES_OK);
		wr(CC_Q_SELECT, 2, 0);
		wr(CC_Q_SIZE, 2, sizes[i]);
		wr(CC_Q_DESC, 8, DESC);
		wr(CC_Q_DRIVER, 8, AVAIL);
		wr(CC_Q_DEVICE, 8, USED);
		wr(CC_Q_ENABLE, 2, 1);
		assert_true(broken());
		assert_int_equal(rd(CC_Q_ENABLE, 2), 0);
	}
	/* misaligned rings too */
	driver_init(F_V1, QSIZE);
	wr(CC_STATUS, 1, 0);
	wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(CC_Q_DESC, 8, DESC + 8);
	wr(CC_Q_ENABLE, 2, 1);
	assert_true(broken());
}

/* Buffers outside RAM fail their request only. */
static void test_bad_buffer(void **state)
{
	(void)state;
	driver_init(F_V1, QSIZE);
	desc(DESC, 0, sizeof(fake_ram) - 4, 16, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 1, 0xfffffffffffffff0ull, 0x100, VIRTQ_DESC_F_WRITE, 0); /* wraps */
	desc(DESC, 2, sizeof(fake_ram) - 0x800, 0xffffffff, VIRTQ_DESC_F_WRITE, 0); /* runs past RAM */
	desc(DESC, 3, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	make_avail(1);
	make_avail(2);
	make_avail(3);
	notify(0);
	assert_false(broken());
	assert_int_equal(used_idx(), 4);
	assert_int_equal(used_len(0), 0);
	assert_int_equal(used_len(1), 0);
	assert_int_equal(used_len(2), 0);
	assert_int_equal(used_len(3), 4);
	assert_int_equal(rng.failed, 3);
}

/* A driver that keeps the ring full cannot keep the device busy forever. */
static void test_budget(void **state)
{
	(void)state;
	driver_init(F_V1, QSIZE);
	desc(DESC, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	put(AVAIL + 2, QSIZE, 2); /* eight entries, all head 0 */
	notify(0);
	assert_int_equal(used_idx(), QSIZE);
	assert_false(broken());
}

/* Random ring contents and register writes: the device terminates and its
 * state stays consistent. */
static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	unit_rng_seed(&r, 0x5eed);
	for (unsigned round = 0; round < 3000; round++) {
		memset(fake_ram, 0, sizeof(fake_ram));
		avail_idx = 0;
		driver_init(F_V1 | (round & 1 ? F_INDIRECT : 0) | (round & 2 ? F_EVENT_IDX : 0), QSIZE);
		for (unsigned i = 0; i < QSIZE; i++) {
			uint64_t addr = unit_rng_below(&r, 4) == 0 ? unit_rng_next(&r) : BUF + unit_rng_below(&r, 0x4000);
			uint16_t flags = (uint16_t)unit_rng_below(&r, 8);
			uint32_t len = unit_rng_below(&r, 3) == 0 ? (uint32_t)unit_rng_next(&r) : (uint32_t)unit_rng_below(&r, 64);
			if (flags & VIRTQ_DESC_F_INDIRECT && unit_rng_below(&r, 2))
				addr = ITABLE, len = 16 * (uint32_t)unit_rng_below(&r, 6);
			desc(DESC, i, addr, len, flags, (uint16_t)unit_rng_below(&r, QSIZE + 2));
			desc(ITABLE, i, BUF + unit_rng_below(&r, 0x4000), (uint32_t)unit_rng_below(&r, 128),
			     (uint16_t)unit_rng_below(&r, 8), (uint16_t)unit_rng_below(&r, 6));
		}
		unsigned n = (unsigned)unit_rng_below(&r, QSIZE + 3);
		for (unsigned i = 0; i < n; i++)
			make_avail((uint16_t)unit_rng_below(&r, QSIZE + 1));
		if (unit_rng_below(&r, 8) == 0)
			wr((unsigned)unit_rng_below(&r, 0x40), 1u << unit_rng_below(&r, 4), unit_rng_next(&r));
		notify(0);
		assert_true(used_idx() <= n);
	}
}

/* ---- console ---------------------------------------------------------------------------- */

static void test_console_tx(void **state)
{
	(void)state;
	driver_init(F_V1 | F_INDIRECT, QSIZE);
	uint32_t tx = 0x400; /* queue 1's rings */
	memcpy(fake_ram + BUF, "hello, ", 7);
	memcpy(fake_ram + BUF + 0x100, "world\n", 6);
	desc(DESC + tx, 0, BUF, 7, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC + tx, 1, BUF + 0x100, 6, 0, 0);
	put(AVAIL + tx + 4, 0, 2);
	put(AVAIL + tx + 2, 1, 2);
	notify(VIRTIO_CONSOLE_TXQ);
	assert_int_equal(out_len, 13);
	assert_memory_equal(out_buf, "hello, world\n", 13);
	assert_int_equal(get(USED + tx + 2, 2), 1);
	assert_int_equal(get(USED + tx + 8, 4), 0);
	assert_true(fake_intx[DEVFN]);
	/* a buffer outside RAM: dropped, the device goes on */
	desc(DESC + tx, 2, 0xffff0000, 8, 0, 0);
	put(AVAIL + tx + 6, 2, 2);
	put(AVAIL + tx + 2, 2, 2);
	notify(VIRTIO_CONSOLE_TXQ);
	assert_int_equal(out_len, 13);
	assert_int_equal(get(USED + tx + 2, 2), 2);
	assert_false(broken());
	assert_int_equal(con.failed, 1);
}

static void test_console_rx(void **state)
{
	(void)state;
	const uint8_t in[] = "abcdefgh";
	assert_int_equal(virtio_console_receive(&con, in, 8), 0); /* no driver yet */
	driver_init(F_V1, QSIZE);
	assert_int_equal(virtio_console_receive(&con, in, 8), 0); /* no buffers */
	desc(DESC, 0, BUF, 3, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 1, BUF + 0x10, 16, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	make_avail(1);
	notify(VIRTIO_CONSOLE_RXQ);
	assert_int_equal(used_idx(), 0); /* buffers wait for input */
	assert_int_equal(virtio_console_receive(&con, in, 8), 8);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used_len(0), 3);
	assert_int_equal(used_len(1), 5);
	assert_memory_equal(fake_ram + BUF, "abc", 3);
	assert_memory_equal(fake_ram + BUF + 0x10, "defgh", 5);
	assert_true(fake_intx[DEVFN]);
	assert_int_equal(virtio_console_receive(&con, in, 8), 0);
	/* a broken ring: NEEDS_RESET, input refused */
	make_avail(QSIZE + 3);
	assert_int_equal(virtio_console_receive(&con, in, 8), 0);
	assert_true(broken());
}

/* ---- block ---------------------------------------------------------------------------- */

#define HDR 0x9000u
#define DATA 0xa000u
#define STATUS 0x9100u

/* One request: header, then data (readable for writes, writable for reads
 * and GET_ID, none if len 0), then the status byte; returns the status
 * (0xee if none was written) and the used length in *used. */
static uint8_t blk_req(uint32_t type, uint64_t sector, uint32_t len, bool data_in, uint32_t *used)
{
	static uint16_t next_head;
	uint16_t h = (uint16_t)(next_head++ % 2) * 3;
	put(HDR, type, 4);
	put(HDR + 4, 0, 4);
	put(HDR + 8, sector, 8);
	fake_ram[STATUS] = 0xee;
	desc(DESC, h, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(h + 1));
	if (len) {
		desc(DESC, h + 1u, DATA, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0)),
		     (uint16_t)(h + 2));
		desc(DESC, h + 2u, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		desc(DESC, h, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(h + 2));
		desc(DESC, h + 2u, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	uint16_t before = used_idx();
	make_avail(h);
	notify(0);
	assert_int_equal(used_idx(), (uint16_t)(before + 1));
	assert_int_equal(used_id(before), h);
	*used = used_len(before);
	return fake_ram[STATUS];
}

static void test_blk(void **state)
{
	(void)state;
	uint32_t used;
	assert_int_equal(vp->pci.cfg[PCI_DEVICE_ID], 0x42);
	assert_int_equal(rd(VIRTIO_PCI_DEVCFG, 8), 8); /* capacity: whole sectors */
	assert_int_equal(rd(VIRTIO_PCI_DEVCFG + 20, 4), 512);
	driver_init(F_V1 | F_INDIRECT | F_EVENT_IDX | 1u << 9 | 1u << 13 | 1u << 14, QSIZE);
	/* read sectors 2 and 3 */
	assert_int_equal(blk_req(0, 2, 1024, true, &used), 0);
	assert_int_equal(used, 1025);
	assert_int_equal(fake_ram[DATA], 3);
	assert_int_equal(fake_ram[DATA + 1023], 4);
	/* write sector 7 (the last), read it back */
	memset(fake_ram + DATA, 0x5a, 512);
	assert_int_equal(blk_req(1, 7, 512, false, &used), 0);
	assert_int_equal(used, 1);
	assert_int_equal(disk[7 * 512], 0x5a);
	assert_int_equal(disk[8 * 512], 9); /* past the disk: untouched */
	/* beyond the end, overflowing sectors, partial sectors: IOERR */
	assert_int_equal(blk_req(0, 7, 1024, true, &used), 1);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(1, 8, 512, false, &used), 1);
	assert_int_equal(blk_req(0, 0xffffffffffffffffull, 512, true, &used), 1);
	assert_int_equal(blk_req(0, 1ull << 55, 512, true, &used), 1);
	assert_int_equal(blk_req(1, 0, 100, false, &used), 1);
	assert_int_equal(disk[0], 1);
	/* FLUSH, GET_ID, unknown types */
	assert_int_equal(blk_req(4, 0, 0, false, &used), 0);
	assert_int_equal(blk.flushes, 1);
	assert_int_equal(blk_req(8, 0, 20, true, &used), 0);
	assert_int_equal(used, 21);
	assert_memory_equal(fake_ram + DATA, "mhv-memdisk", 12);
	assert_int_equal(blk_req(99, 0, 0, false, &used), 2);
	/* DISCARD and WRITE_ZEROES zero whole ranges, checked first */
	put(DATA, 1, 8);
	put(DATA + 8, 2, 4);
	put(DATA + 12, 0, 4);
	put(DATA + 16, 6, 8);
	put(DATA + 24, 1, 4);
	put(DATA + 28, 1, 4); /* unmap: allowed for WRITE_ZEROES */
	assert_int_equal(blk_req(13, 0, 32, false, &used), 0);
	assert_int_equal(disk[512], 0);
	assert_int_equal(disk[3 * 512 - 1], 0);
	assert_int_equal(disk[3 * 512], 4);
	assert_int_equal(disk[6 * 512 + 7], 0);
	assert_int_equal(blk_req(11, 0, 32, false, &used), 2); /* a flag on DISCARD */
	put(DATA + 28, 0, 4);
	put(DATA + 16, 7, 8);
	put(DATA + 24, 2, 4); /* runs past the end: nothing happens */
	disk[512] = 0x77;
	assert_int_equal(blk_req(11, 0, 32, false, &used), 1);
	assert_int_equal(disk[512], 0x77);
	assert_int_equal(blk_req(11, 0, 24, false, &used), 2); /* not whole segments */
	/* no header, no status */
	desc(DESC, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	fake_ram[STATUS] = 0xee;
	make_avail(0);
	notify(0);
	assert_int_equal(fake_ram[STATUS], 1);
	desc(DESC, 0, HDR, 16, 0, 0);
	make_avail(0);
	notify(0);
	assert_int_equal(used_len((uint16_t)(used_idx() - 1)), 0);
	/* the status byte outside RAM: used length 0, the device goes on */
	desc(DESC, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, 0x7ffffff0, 1, VIRTQ_DESC_F_WRITE, 0);
	make_avail(0);
	notify(0);
	assert_int_equal(used_len((uint16_t)(used_idx() - 1)), 0);
	assert_false(broken());
}

static void test_blk_ro(void **state)
{
	(void)state;
	uint32_t used;
	virtio_blk_init(&blk, &fake_pf, DEVFN, disk, sizeof(disk), true);
	wr(CC_DFSELECT, 4, 0);
	assert_true(rd(CC_DF, 4) & (1u << 5));
	assert_false(rd(CC_DF, 4) & (1u << 13));
	driver_init(F_V1 | 1u << 5, QSIZE);
	assert_int_equal(blk_req(1, 0, 512, false, &used), 1);
	assert_int_equal(blk_req(13, 0, 16, false, &used), 1);
	assert_int_equal(disk[0], 1);
	assert_int_equal(blk_req(0, 0, 512, true, &used), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_space, setup_rng),
		cmocka_unit_test_setup(test_cfg_window, setup_rng),
		cmocka_unit_test_setup(test_console_config, setup_con),
		cmocka_unit_test_setup(test_features, setup_rng),
		cmocka_unit_test_setup(test_reset, setup_rng),
		cmocka_unit_test_setup(test_rng_intx, setup_rng),
		cmocka_unit_test_setup(test_rng_msix, setup_rng),
		cmocka_unit_test(test_msi_decode),
		cmocka_unit_test_setup(test_event_idx, setup_rng),
		cmocka_unit_test_setup(test_indirect, setup_rng),
		cmocka_unit_test_setup(test_indirect_not_negotiated, setup_rng),
		cmocka_unit_test_setup(test_self_loop, setup_rng),
		cmocka_unit_test_setup(test_long_loop, setup_rng),
		cmocka_unit_test_setup(test_next_out_of_range, setup_rng),
		cmocka_unit_test_setup(test_head_out_of_range, setup_rng),
		cmocka_unit_test_setup(test_avail_idx_jump, setup_rng),
		cmocka_unit_test_setup(test_avail_idx_backwards, setup_rng),
		cmocka_unit_test_setup(test_read_after_write, setup_rng),
		cmocka_unit_test_setup(test_indirect_nested, setup_rng),
		cmocka_unit_test_setup(test_indirect_with_next, setup_rng),
		cmocka_unit_test_setup(test_indirect_bad_len, setup_rng),
		cmocka_unit_test_setup(test_indirect_empty, setup_rng),
		cmocka_unit_test_setup(test_indirect_loop, setup_rng),
		cmocka_unit_test_setup(test_indirect_huge, setup_rng),
		cmocka_unit_test_setup(test_indirect_outside_ram, setup_rng),
		cmocka_unit_test_setup(test_desc_outside_ram, setup_rng),
		cmocka_unit_test_setup(test_used_outside_ram, setup_rng),
		cmocka_unit_test_setup(test_bad_queue_size, setup_rng),
		cmocka_unit_test_setup(test_bad_buffer, setup_rng),
		cmocka_unit_test_setup(test_budget, setup_rng),
		cmocka_unit_test_setup(test_fuzz, setup_rng),
		cmocka_unit_test_setup(test_console_tx, setup_con),
		cmocka_unit_test_setup(test_console_rx, setup_con),
		cmocka_unit_test_setup(test_blk, setup_blk),
		cmocka_unit_test_setup(test_blk_ro, setup_blk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
