/*
 * e1000: a user-level driver for the Intel 82540EM ("e1000", INTx) and
 * 82574L ("e1000e", MSI, or MSI-X vector 0 when the start info says
 * HV_SI_IRQ_MSIX: IVAR routes every cause there, and one interrupt raised
 * by an ICS write must arrive first), as QEMU and Bochs emulate them. Everything comes
 * from the start info (<hv/startinfo.h>): BAR 0 mapped uncached at
 * HV_SI_BAR(d, 0), the interrupt semaphore, the MSI address/data, and the
 * 'dma' memory at HV_SI_DMA with its physical (bus) address; configuration
 * space only through the roottask (HV_ROOT_PCI_READ/WRITE, <hv/pci.h>).
 *
 * Arguments (module arguments after the program name; dev=D picks
 * dev[D] of the start info, default 0):
 *   ping N [forever] send N test frames one by one, each until a 'pong'
 *                    domain on the same hub answers it; exits 0 when all
 *                    were; 'forever': round after round, reporting each
 *   pong [N]         answer every test frame forever; reports when pings
 *                    0..N-1 (default 10) have been answered
 *   arp HOST MYIP    ARP who-has HOST from MYIP until the emulator's virtual
 *                    host answers (QEMU user network: 10.0.2.2 10.0.2.15;
 *                    Bochs vnet: 192.168.10.1 192.168.10.2)
 *   rogue HOST MYIP  the DMA test: points every receive buffer at the
 *                    page of the 'canary' service domain, sends an ARP
 *                    request so that the reply is written there, then
 *                    asks the canary whether its page is intact (under an
 *                    IOMMU the write must fault and be blocked)
 *   msisrc           the source check of interrupt remapping (MSI only):
 *                    binds its MSI entry to another device (irq_ctrl
 *                    HV_IRQ_SOURCE), raises an interrupt (ICS), which must
 *                    not arrive; bound to its own device again, it must
 * Every mode first checks that the roottask refuses a write to BAR 0, a
 * device index not ours and an MSI message other than ours, then resets
 * the NIC, reads its MAC (RAL/RAH, else the EEPROM through EERD), brings
 * the link up and sets up 16-entry legacy RX/TX rings.
 *
 * DMA layout (bus address = dma_phys + offset): RX ring at 0, TX ring at
 * 256, RX buffers (16 x 2 KiB) at 4 KiB, TX buffers after them.
 */
#include <stdio.h>
#include <string.h>
#include <hv/pci.h>
#include <hv/runtime.h>
#include "e1000.h"

#define NDESC 16u
#define BUF_SIZE 2048u
#define DMA_RX_RING 0u
#define DMA_TX_RING 256u
#define DMA_RX_BUF 4096u
#define DMA_TX_BUF (DMA_RX_BUF + NDESC * BUF_SIZE)
#define DMA_NEEDED (DMA_TX_BUF + NDESC * BUF_SIZE)

#define PCI_BAR0 0x10u

/* Canary service protocol (guests/native/pcitest): mr[0] = op. */
enum { CANARY_PHYS = 1, CANARY_CHECK = 2 };

static struct nic {
	const struct hv_startinfo *si;
	unsigned d;                  /* index in si->dev[] */
	volatile uint32_t *regs;     /* BAR 0 */
	int e1000e;                  /* 82574L (else 82540EM) */
	uint8_t mac[ETH_ALEN];
	hv_sel_t irq;
	int msi;                     /* 0: INTx, 1: MSI, 2: MSI-X (82574L, vector 0) */
	struct e1000_rx_desc *rx;
	struct e1000_tx_desc *tx;
	uint8_t *dma;                /* HV_SI_DMA */
	hv_word_t phys;              /* its bus address */
	unsigned rx_next, tx_next;
	unsigned long irqs, rx_frames, tx_frames;
} nic;

static const char *irq_kind(void)
{
	return nic.msi == 2 ? "MSI-X" : nic.msi ? "MSI" : "INTx";
}

static uint32_t rd(unsigned reg)
{
	return nic.regs[reg / 4];
}

static void wr(unsigned reg, uint32_t v)
{
	nic.regs[reg / 4] = v;
}

static hv_word_t ms_to_tsc(unsigned long ms)
{
	return ms * nic.si->tsc_khz;
}

static void sleep_ms(unsigned long ms)
{
	(void)hv_sleep_until(hv_rdtsc() + ms_to_tsc(ms));
}

/* ---- Configuration space through the roottask (<hv/pci.h>) ---------------- */

static uint32_t cfg_read(unsigned off, unsigned size)
{
	hv_word_t v = 0;
	hv_status_t st = hv_pci_read(nic.d, off, size, &v);
	if (st != HV_OK) {
		printf("e1000: config read at 0x%x: %s\n", off, hv_status_str(st));
		return 0;
	}
	return (uint32_t)v;
}

static hv_status_t cfg_write(unsigned off, unsigned size, uint32_t v)
{
	return hv_pci_write(nic.d, off, size, v);
}

/* The roottask must refuse what the device's driver may not write. */
static int check_refusals(unsigned msi)
{
	const struct hv_si_dev *dev = &nic.si->dev[nic.d];
	hv_status_t st;
	int bad = 0;

	st = cfg_write(PCI_BAR0, 4, 0xffffffffu);
	printf("e1000: config write to BAR 0: %s%s\n", hv_status_str(st),
	       st == HV_EPERM ? " (refused)" : " - SHOULD BE REFUSED");
	bad |= st != HV_EPERM;
	st = hv_pci_read((unsigned)nic.si->num_dev, 0, 4, NULL);
	printf("e1000: config read of device index %lu (not ours): %s%s\n", nic.si->num_dev,
	       hv_status_str(st), st == HV_EPARAM ? " (refused)" : " - SHOULD BE REFUSED");
	bad |= st != HV_EPARAM;
	if (msi) {
		unsigned ctl = cfg_read(msi + 2, 2);
		unsigned data_off = msi + ((ctl & 0x80u) ? 12 : 8);

		st = cfg_write(data_off, 2, (uint32_t)(dev->msi_data ^ 0x0fu));
		printf("e1000: MSI data 0x%lx instead of 0x%lx: %s%s\n", dev->msi_data ^ 0x0fu,
		       dev->msi_data, hv_status_str(st),
		       st == HV_EPERM ? " (refused)" : " - SHOULD BE REFUSED");
		bad |= st != HV_EPERM;
	}
	if (nic.si->dev[nic.d].irq_flags & HV_SI_IRQ_MSIX) {
		st = hv_pci_msi_enable(nic.d, 1);
		printf("e1000: MSI enable while the interrupt is MSI-X: %s%s\n", hv_status_str(st),
		       st == HV_EPERM ? " (refused)" : " - SHOULD BE REFUSED");
		bad |= st != HV_EPERM;
	}
	return bad;
}

/* Bus master on; MSI (with the start info's address and data, which the
 * roottask has written into the capability) or INTx. */
static int setup_pci(void)
{
	const struct hv_si_dev *dev = &nic.si->dev[nic.d];
	unsigned msi = 0;
	hv_status_t st;

	if (dev->msi_addr && (dev->irq_flags & HV_SI_IRQ_MSIX)) {
		/* the roottask wrote table entry 0; its pages are not ours */
		if (check_refusals(hv_pci_find_cap(nic.d, HV_PCI_CAP_MSI)))
			return -1;
		st = hv_pci_command(nic.d, HV_PCI_CMD_MEM | HV_PCI_CMD_MASTER | HV_PCI_CMD_INTX_OFF, 0);
		if (st == HV_OK)
			st = hv_pci_msix_enable(nic.d, 1);
		if (st != HV_OK) {
			printf("e1000: enabling MSI-X: %s\n", hv_status_str(st));
			return -1;
		}
		nic.msi = 2;
		return 0;
	}
	if (dev->msi_addr) {
		msi = hv_pci_find_cap(nic.d, HV_PCI_CAP_MSI);
		if (!msi) {
			printf("e1000: MSI assigned, but the device has no MSI capability\n");
			return -1;
		}
	}
	if (check_refusals(msi))
		return -1;
	st = hv_pci_command(nic.d, HV_PCI_CMD_MEM | HV_PCI_CMD_MASTER, 0);
	if (st == HV_OK && msi)
		st = hv_pci_command(nic.d, HV_PCI_CMD_INTX_OFF, 0);
	if (st != HV_OK) {
		printf("e1000: command register: %s\n", hv_status_str(st));
		return -1;
	}
	if (msi) {
		unsigned ctl = cfg_read(msi + 2, 2);
		unsigned data_off = msi + ((ctl & 0x80u) ? 12 : 8);
		uint32_t addr = cfg_read(msi + 4, 4), data = cfg_read(data_off, 2);

		if (addr != (uint32_t)dev->msi_addr || data != (uint32_t)dev->msi_data) {
			printf("e1000: MSI capability holds 0x%x/0x%x, not 0x%lx/0x%lx\n", addr, data,
			       dev->msi_addr, dev->msi_data);
			return -1;
		}
		st = hv_pci_msi_enable(nic.d, 1);
		if (st != HV_OK) {
			printf("e1000: enabling MSI: %s\n", hv_status_str(st));
			return -1;
		}
		nic.msi = 1;
	} else {
		/* PCI INTx: level triggered, active low (the MADT may override) */
		st = hv_irq_ctrl(nic.irq, (unsigned)nic.si->cpu, HV_IRQ_LEVEL | HV_IRQ_ACTIVE_LOW);
		if (st != HV_OK) {
			printf("e1000: irq_ctrl on GSI %lu: %s\n", dev->gsi, hv_status_str(st));
			return -1;
		}
	}
	return 0;
}

/* ---- The NIC ------------------------------------------------------------------ */

/* Checks what the start info says about device d and the DMA memory. */
static int check_startinfo(const struct hv_startinfo *si, unsigned d)
{
	const struct hv_si_dev *dev;
	const struct hv_si_bar *bar;

	if (si->num_dev > HV_SI_MAX_DEV || d >= si->num_dev) {
		printf("e1000: no device %u in the start info (%lu assigned)\n", d, si->num_dev);
		return -1;
	}
	dev = &si->dev[d];
	bar = &dev->bar[0];
	if (dev->vendor != E1000_VENDOR ||
	    (dev->device != E1000_DEV_82540EM && dev->device != E1000_DEV_82574L)) {
		printf("e1000: device %u is %04lx:%04lx, not an 82540EM or 82574L\n", d,
		       dev->vendor, dev->device);
		return -1;
	}
	if (!bar->phys || (bar->flags & HV_SI_BAR_IO) || bar->size < E1000_REGS_END ||
	    bar->addr != HV_SI_BAR(d, 0)) {
		printf("e1000: BAR 0 unusable (phys 0x%lx size 0x%lx flags 0x%lx at 0x%lx)\n",
		       bar->phys, bar->size, bar->flags, bar->addr);
		return -1;
	}
	if (si->dma_addr != HV_SI_DMA || si->dma_size < DMA_NEEDED || (si->dma_phys & 0xfff) ||
	    si->dma_phys + si->dma_size < si->dma_phys) {
		printf("e1000: need 'dma' memory of %u bytes (have %lu at 0x%lx, phys 0x%lx)\n",
		       DMA_NEEDED, si->dma_size, si->dma_addr, si->dma_phys);
		return -1;
	}
	return 0;
}

/* Reads EEPROM word `w` through EERD, -1 if it does not complete. */
static int eeprom_read(unsigned w)
{
	unsigned shift = nic.e1000e ? 2 : 8;
	uint32_t done = nic.e1000e ? 1u << 1 : 1u << 4, v = 0;
	hv_word_t end;

	wr(E1000_EERD, (w << shift) | E1000_EERD_START);
	end = hv_rdtsc() + ms_to_tsc(10);
	while (!((v = rd(E1000_EERD)) & done))
		if (hv_rdtsc() > end)
			return -1;
	return (int)(v >> 16);
}

static int read_mac(void)
{
	uint32_t lo = rd(E1000_RAL0), hi = rd(E1000_RAH0);
	const char *from = "RAL/RAH";

	if (!(hi & E1000_RAH_AV)) {
		int w0 = eeprom_read(0), w1 = eeprom_read(1), w2 = eeprom_read(2);
		if (w0 < 0 || w1 < 0 || w2 < 0) {
			printf("e1000: no MAC address (RAH invalid, EEPROM silent)\n");
			return -1;
		}
		lo = (uint32_t)w0 | (uint32_t)w1 << 16;
		hi = (uint32_t)w2 | E1000_RAH_AV;
		wr(E1000_RAL0, lo);
		wr(E1000_RAH0, hi);
		from = "EEPROM";
	}
	for (int i = 0; i < 4; i++)
		nic.mac[i] = (uint8_t)(lo >> (8 * i));
	nic.mac[4] = (uint8_t)hi;
	nic.mac[5] = (uint8_t)(hi >> 8);
	printf("e1000: MAC %02x:%02x:%02x:%02x:%02x:%02x (from %s)\n", nic.mac[0], nic.mac[1],
	       nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5], from);
	return 0;
}

static int nic_init(void)
{
	hv_word_t end;
	unsigned i;

	wr(E1000_IMC, 0xffffffffu);
	wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
	sleep_ms(1);
	end = hv_rdtsc() + ms_to_tsc(100);
	while (rd(E1000_CTRL) & E1000_CTRL_RST)
		if (hv_rdtsc() > end) {
			printf("e1000: reset does not complete\n");
			return -1;
		}
	wr(E1000_IMC, 0xffffffffu);
	(void)rd(E1000_ICR);
	if (read_mac())
		return -1;
	wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);
	for (i = 0; i < 128; i++)
		wr(E1000_MTA + 4 * i, 0);

	/* receive: NDESC - 1 buffers given to the device */
	nic.rx = (struct e1000_rx_desc *)(nic.dma + DMA_RX_RING);
	nic.tx = (struct e1000_tx_desc *)(nic.dma + DMA_TX_RING);
	memset(nic.dma, 0, DMA_RX_BUF);
	for (i = 0; i < NDESC; i++)
		nic.rx[i].addr = nic.phys + DMA_RX_BUF + i * BUF_SIZE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(E1000_RDBAL, (uint32_t)(nic.phys + DMA_RX_RING));
	wr(E1000_RDBAH, (uint32_t)((nic.phys + DMA_RX_RING) >> 32));
	wr(E1000_RDLEN, NDESC * sizeof(struct e1000_rx_desc));
	wr(E1000_RDH, 0);
	wr(E1000_RDT, NDESC - 1);
	nic.rx_next = 0;
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);

	wr(E1000_TDBAL, (uint32_t)(nic.phys + DMA_TX_RING));
	wr(E1000_TDBAH, (uint32_t)((nic.phys + DMA_TX_RING) >> 32));
	wr(E1000_TDLEN, NDESC * sizeof(struct e1000_tx_desc));
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	nic.tx_next = 0;
	wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(0x0f) | E1000_TCTL_COLD(0x40));
	wr(E1000_TIPG, E1000_TIPG_DEFAULT);
	wr(E1000_ITR, 0);
	if (nic.msi == 2) { /* every cause to vector 0 */
		wr(E1000_IVAR, E1000_IVAR_ALL_0);
		wr(E1000_IMS, E1000_IMS_USED | E1000_ICR_RXQ0 | E1000_ICR_TXQ0 | E1000_ICR_OTHER);
	} else {
		wr(E1000_IMS, E1000_IMS_USED);
	}

	end = hv_rdtsc() + ms_to_tsc(3000);
	while (!(rd(E1000_STATUS) & E1000_STATUS_LU) && hv_rdtsc() < end)
		sleep_ms(10);
	printf("e1000: link %s (STATUS 0x%x), rings of %u descriptors at bus 0x%lx\n",
	       (rd(E1000_STATUS) & E1000_STATUS_LU) ? "up" : "DOWN", rd(E1000_STATUS), NDESC,
	       nic.phys);
	return 0;
}

/* Waits for the device's interrupt until `deadline` (TSC); on one, reads
 * (and so clears) the cause. Returns the cause, 0 on timeout. */
static uint32_t wait_irq(hv_word_t deadline)
{
	uint32_t icr;

	if (hv_sm_down_until(nic.irq, deadline) != HV_OK)
		return 0;
	nic.irqs++;
	icr = rd(E1000_ICR);
	if (nic.msi == 2)
		wr(E1000_ICR, icr); /* with MSI-X, reading may not clear it */
	if (icr & E1000_ICR_RXO)
		printf("e1000: receiver overrun\n");
	return icr ? icr : 1;
}

/* Queues one frame; 0 if the ring is full. */
static int send(const uint8_t *frame, size_t len)
{
	unsigned i = nic.tx_next;
	struct e1000_tx_desc *t = &nic.tx[i];

	if (t->cmd && !(t->status & E1000_TXD_DD))
		return 0;
	memcpy(nic.dma + DMA_TX_BUF + i * BUF_SIZE, frame, len);
	t->addr = nic.phys + DMA_TX_BUF + i * BUF_SIZE;
	t->length = (uint16_t)len;
	t->cso = t->css = 0;
	t->special = 0;
	t->status = 0;
	t->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	nic.tx_next = (i + 1) % NDESC;
	wr(E1000_TDT, nic.tx_next);
	nic.tx_frames++;
	return 1;
}

/* Calls fn on every frame the device has written, then hands the
 * descriptors back. Returns the number of frames. */
static unsigned receive(void (*fn)(const uint8_t *frame, size_t len, void *arg), void *arg)
{
	unsigned n = 0;

	for (;;) {
		unsigned i = nic.rx_next;
		struct e1000_rx_desc *r = &nic.rx[i];
		uint8_t status = __atomic_load_n(&r->status, __ATOMIC_ACQUIRE);
		size_t len = r->length;

		if (!(status & E1000_RXD_DD))
			break;
		if ((status & E1000_RXD_EOP) && !r->errors && len >= 14 && len <= BUF_SIZE)
			fn(nic.dma + DMA_RX_BUF + i * BUF_SIZE, len, arg);
		r->status = 0;
		r->addr = nic.phys + DMA_RX_BUF + i * BUF_SIZE;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wr(E1000_RDT, i);
		nic.rx_next = (i + 1) % NDESC;
		nic.rx_frames++;
		n++;
	}
	return n;
}

/* ---- Test modes --------------------------------------------------------------- */

struct pingpong {
	uint32_t want;    /* ping: the sequence number awaited */
	int got;          /* ping: its pong arrived */
	uint32_t answered; /* pong: pings 0..answered-1 answered */
};

static void on_frame_ping(const uint8_t *f, size_t len, void *arg)
{
	struct pingpong *pp = arg;
	uint32_t seq;

	if (test_frame_parse(f, len, nic.mac, &seq) == TEST_PONG && seq == pp->want)
		pp->got = 1;
}

static void on_frame_pong(const uint8_t *f, size_t len, void *arg)
{
	struct pingpong *pp = arg;
	uint8_t reply[ETH_MIN_FRAME];
	uint32_t seq;

	if (test_frame_parse(f, len, nic.mac, &seq) != TEST_PING)
		return;
	if (!send(reply, test_frame(reply, nic.mac, TEST_PONG, seq)))
		printf("e1000: pong: transmit ring full, ping %u not answered\n", seq);
	else if (seq == pp->answered)
		pp->answered++;
}

/* One round of n pings (sequence numbers first..first+n-1). */
static int ping_round(uint32_t first, unsigned long n, unsigned long *resent)
{
	struct pingpong pp = { 0, 0, 0 };
	uint8_t frame[ETH_MIN_FRAME];

	for (uint32_t seq = first; seq - first < n; seq++) {
		unsigned tries;

		pp.want = seq;
		pp.got = 0;
		for (tries = 0; !pp.got && tries < 100; tries++) {
			hv_word_t end = hv_rdtsc() + ms_to_tsc(100);

			if (tries)
				(*resent)++;
			if (!send(frame, test_frame(frame, nic.mac, TEST_PING, seq)))
				(void)wait_irq(end); /* ring full: let it drain */
			while (!pp.got && hv_rdtsc() < end) {
				receive(on_frame_ping, &pp);
				if (!pp.got)
					(void)wait_irq(end);
			}
		}
		if (!pp.got) {
			printf("e1000: ping: no answer to ping %u\n", seq);
			return 1;
		}
	}
	return 0;
}

static int run_ping(unsigned long n, int forever)
{
	unsigned long resent = 0;

	for (unsigned long round = 1;; round++) {
		if (ping_round((uint32_t)((round - 1) * n), n, &resent))
			return 1;
		printf("e1000: ping: %s%lu of %lu pings answered (%lu resent), %lu frames sent, %lu received, %lu interrupts (%s)\n",
		       forever ? "round done: " : "", n, n, resent, nic.tx_frames, nic.rx_frames,
		       nic.irqs, irq_kind());
		if (!forever)
			return nic.irqs ? 0 : 1;
		sleep_ms(200);
	}
}

static HV_NORETURN void run_pong(unsigned long n)
{
	struct pingpong pp = { 0, 0, 0 };
	int reported = 0;

	printf("e1000: pong: answering test frames\n");
	for (;;) {
		receive(on_frame_pong, &pp);
		if (!reported && pp.answered >= n) {
			printf("e1000: pong: pings 0..%lu answered, %lu frames received, %lu interrupts (%s)\n",
			       n - 1, nic.rx_frames, nic.irqs, irq_kind());
			reported = 1;
		}
		(void)wait_irq(hv_rdtsc() + ms_to_tsc(1000));
	}
}

struct arpwait {
	const uint8_t *my_ip, *host_ip;
	uint8_t who[ETH_ALEN];
	int got;
};

static void on_frame_arp(const uint8_t *f, size_t len, void *arg)
{
	struct arpwait *a = arg;

	if (arp_is_reply(f, len, a->my_ip, a->host_ip, a->who))
		a->got = 1;
}

/* ARP who-has until a reply (or `tries` requests, 200 ms apart). */
static int arp(const uint8_t host[4], const uint8_t me[4], unsigned tries, struct arpwait *a)
{
	uint8_t frame[ETH_MIN_FRAME];
	unsigned t;

	a->my_ip = me;
	a->host_ip = host;
	a->got = 0;
	for (t = 0; t < tries && !a->got; t++) {
		hv_word_t end = hv_rdtsc() + ms_to_tsc(200);

		(void)send(frame, arp_request(frame, nic.mac, me, host));
		while (!a->got && hv_rdtsc() < end) {
			receive(on_frame_arp, a);
			if (!a->got)
				(void)wait_irq(end);
		}
	}
	return (int)t;
}

static int run_arp(const uint8_t host[4], const uint8_t me[4])
{
	struct arpwait a;
	int n = arp(host, me, 25, &a);

	if (!a.got) {
		printf("e1000: arp: no reply from %u.%u.%u.%u to %d requests\n", host[0], host[1],
		       host[2], host[3], n);
		return 1;
	}
	printf("e1000: arp: %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x (after %d request(s)), %lu frames sent, %lu received, %lu interrupts (%s)\n",
	       host[0], host[1], host[2], host[3], a.who[0], a.who[1], a.who[2], a.who[3], a.who[4],
	       a.who[5], n, nic.tx_frames, nic.rx_frames, nic.irqs, irq_kind());
	return nic.irqs ? 0 : 1;
}

static hv_status_t canary_call(hv_word_t op, hv_word_t *val)
{
	struct hv_utcb *u = hv_utcb();
	hv_word_t rtag = 0;
	hv_sel_t pt;
	hv_status_t st = hv_service("canary", (unsigned)nic.si->cpu, &pt);

	if (st != HV_OK)
		return st;
	u->mr[0] = op;
	st = hv_call(pt, HV_TAG(1, 0), &rtag);
	if (st != HV_OK)
		return st;
	if (HV_TAG_UNTYPED(rtag) < 2)
		return HV_EPARAM;
	*val = u->mr[1];
	return (hv_status_t)u->mr[0];
}

static int run_rogue(const uint8_t host[4], const uint8_t me[4])
{
	hv_word_t target = 0, intact = 0;
	struct arpwait a;
	hv_status_t st = canary_call(CANARY_PHYS, &target);
	unsigned i;
	int n;

	if (st != HV_OK || !target || (target & 0xfff)) {
		printf("e1000: rogue: no canary page (%s, 0x%lx)\n", hv_status_str(st), target);
		return 1;
	}
	/* every receive buffer in the canary's page, which is not ours */
	for (i = 0; i < NDESC; i++)
		nic.rx[i].addr = target;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	printf("e1000: rogue: receive buffers at bus address 0x%lx (the canary's page, outside our DMA memory 0x%lx+0x%lx)\n",
	       target, nic.phys, nic.si->dma_size);
	n = arp(host, me, 10, &a);
	printf("e1000: rogue: %d ARP request(s) sent, %s, receive head %u, STATUS 0x%x\n", n,
	       a.got ? "a reply arrived - DMA NOT CONTAINED" : "no reply reached us", rd(E1000_RDH),
	       rd(E1000_STATUS));
	st = canary_call(CANARY_CHECK, &intact);
	printf("e1000: rogue: canary says its page is %s (%s)\n",
	       st == HV_OK && intact ? "intact" : "CORRUPTED", hv_status_str(st));
	return st == HV_OK && intact && !a.got ? 0 : 1;
}

/* Interrupt causes that nothing else raises here (82574L ICR: TXQE, SRPD,
 * ACK), one per step. QEMU's 82574L sends an MSI for each new cause and,
 * while ICR is not read, again when its throttling timer (some 100 us)
 * runs out: each step waits 50 ms, then reads ICR, then waits again. */
static const uint32_t msisrc_cause[3] = {1u << 1, 1u << 16, 1u << 17};

/* Raises cause; returns whether our semaphore was signalled (waiting up to 2 s if wait). */
static int msisrc_step(uint32_t cause, int wait)
{
	int got;

	wr(E1000_ICS, cause);
	got = wait ? hv_sm_down_until(nic.irq, hv_rdtsc() + ms_to_tsc(2000)) == HV_OK : 0;
	sleep_ms(50);
	(void)rd(E1000_ICR);
	sleep_ms(50);
	got |= hv_sm_trydown(nic.irq) == HV_OK;
	while (hv_sm_trydown(nic.irq) == HV_OK)
		; /* the throttling timer's second MSI */
	return got;
}

/* Binds our MSI entry to device bdf; 0 if irq_ctrl returned the start info's values. */
static int msi_source(hv_word_t bdf)
{
	const struct hv_si_dev *dev = &nic.si->dev[nic.d];
	hv_word_t a, d;
	hv_status_t st = hv_irq_msi(nic.irq, (unsigned)nic.si->cpu, HV_IRQ_SOURCE | HV_IRQ_SOURCE_BDF(bdf), &a, &d);

	if (st != HV_OK || a != dev->msi_addr || d != dev->msi_data) {
		printf("e1000: msisrc: irq_ctrl: %s, 0x%lx/0x%lx\n", hv_status_str(st), a, d);
		return 1;
	}
	return 0;
}

static int run_msisrc(void)
{
	const struct hv_si_dev *dev = &nic.si->dev[nic.d];
	hv_word_t other = dev->bdf ^ (1u << 3); /* the next or previous device number */
	int before, refused, arrived;

	if (nic.msi != 1 || !(dev->msi_addr & 0x10)) {
		printf("e1000: msisrc: needs MSI in remappable format (have 0x%lx): not run\n", dev->msi_addr);
		return 1;
	}
	wr(E1000_IMC, ~0u);
	wr(E1000_IMS, msisrc_cause[0] | msisrc_cause[1] | msisrc_cause[2]);
	while (hv_sm_trydown(nic.irq) == HV_OK)
		;
	/* bound to our device (by the roottask): arrives; bound to another: refused;
	 * bound to ours again: arrives */
	(void)rd(E1000_ICR);
	before = msisrc_step(msisrc_cause[0], 1);
	if (msi_source(other))
		return 1;
	refused = !msisrc_step(msisrc_cause[1], 0);
	if (msi_source(dev->bdf))
		return 1;
	arrived = msisrc_step(msisrc_cause[2], 1);
	printf("e1000: msisrc: our interrupt %s; with our MSI entry bound to device %02lx:%02lx.%lx: %s; bound to ours "
	       "again: %s\n", before ? "delivered" : "LOST", (hv_word_t)HV_BDF_BUS(other), (hv_word_t)HV_BDF_DEV(other),
	       (hv_word_t)HV_BDF_FN(other), refused ? "refused" : "DELIVERED", arrived ? "delivered" : "LOST");
	return before && refused && arrived ? 0 : 1;
}

/* ---- Arguments ------------------------------------------------------------------ */

static int usage(void)
{
	printf("e1000: usage: e1000 [dev=D] ping N [forever] | pong [N] | arp HOST MYIP | rogue HOST MYIP | msisrc\n");
	return 2;
}

int main(const struct hv_startinfo *si)
{
	char args[HV_SI_ARGS + 1], mode[16], w1[24] = "", w2[24] = "";
	const char *p = args;
	unsigned long d = 0, count = 10;
	uint8_t host[4], me[4];
	const struct hv_si_dev *dev;

	if (!si || si != hv_si())
		return 1;
	memcpy(args, si->args, HV_SI_ARGS);
	args[HV_SI_ARGS] = '\0';
	if (!str_next_word(&p, mode, sizeof(mode)))
		return usage();
	if (!strcmp(mode, "e1000") && !str_next_word(&p, mode, sizeof(mode)))
		return usage(); /* a leading program name */
	if (!strncmp(mode, "dev=", 4)) {
		if (!str_to_ulong(mode + 4, &d) || d >= HV_SI_MAX_DEV || !str_next_word(&p, mode, sizeof(mode)))
			return usage();
	}
	(void)str_next_word(&p, w1, sizeof(w1));
	(void)str_next_word(&p, w2, sizeof(w2));
	if (!strcmp(mode, "ping") || !strcmp(mode, "pong")) {
		if ((w1[0] && !str_to_ulong(w1, &count)) || count == 0)
			return usage();
		if (w2[0] && (strcmp(mode, "ping") || strcmp(w2, "forever")))
			return usage();
	} else if (!strcmp(mode, "msisrc")) {
		/* no words */
	} else if (!strcmp(mode, "arp") || !strcmp(mode, "rogue")) {
		if (!parse_ip(w1, host) || !parse_ip(w2, me))
			return usage();
	} else {
		return usage();
	}

	if (check_startinfo(si, (unsigned)d))
		return 1;
	dev = &si->dev[d];
	nic.si = si;
	nic.d = (unsigned)d;
	nic.regs = (volatile uint32_t *)dev->bar[0].addr;
	nic.e1000e = dev->device == E1000_DEV_82574L;
	nic.irq = dev->irq_sel;
	nic.dma = (uint8_t *)si->dma_addr;
	nic.phys = si->dma_phys;
	printf("e1000: %02lx:%02lx.%lx %04lx:%04lx (%s), BAR 0 at 0x%lx+0x%lx, %s\n",
	       (hv_word_t)HV_BDF_BUS(dev->bdf), (hv_word_t)HV_BDF_DEV(dev->bdf),
	       (hv_word_t)HV_BDF_FN(dev->bdf), dev->vendor, dev->device,
	       nic.e1000e ? "82574L" : "82540EM", dev->bar[0].phys, dev->bar[0].size,
	       dev->irq_flags & HV_SI_IRQ_MSIX ? "MSI-X" : dev->msi_addr ? "MSI" : "INTx");
	if (setup_pci() || nic_init())
		return 1;
	if (nic.msi == 2) { /* one interrupt raised by software: it must arrive */
		while (hv_sm_trydown(nic.irq) == HV_OK)
			;
		(void)rd(E1000_ICR);
		wr(E1000_ICR, ~0u);
		wr(E1000_ICS, E1000_ICR_LSC);
		uint32_t icr = wait_irq(hv_rdtsc() + ms_to_tsc(2000));
		printf("e1000: MSI-X: interrupt after an ICS write: %s (ICR 0x%x)\n", icr ? "arrived" : "NONE", icr);
		if (!icr)
			return 1;
	}

	if (!strcmp(mode, "ping"))
		return run_ping(count, w2[0] != '\0');
	if (!strcmp(mode, "pong"))
		run_pong(count);
	if (!strcmp(mode, "arp"))
		return run_arp(host, me);
	if (!strcmp(mode, "msisrc"))
		return run_msisrc();
	return run_rogue(host, me);
}
