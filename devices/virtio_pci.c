/*
 * The virtio 1.x PCI transport (virtio spec 4.1), modern interface only:
 * capabilities in configuration space, common configuration with feature
 * negotiation and reset, the split virtqueues' addresses, notifications,
 * ISR status with INTx A, and MSI-X. Section numbers are the virtio 1.2
 * spec's.
 */
#include "virtio_pci.h"
#include <string.h>

/* Capabilities in configuration space (4.1.4): MSI-X, then the virtio
 * structures (struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id,
 * padding[2], offset, length; the notify one adds notify_off_multiplier). */
#define CAP_MSIX 0x40
#define CAP_COMMON 0x50
#define CAP_NOTIFY 0x60
#define CAP_ISR 0x78
#define CAP_DEVICE 0x88
#define CAP_PCI_CFG 0x98 /* struct virtio_pci_cfg_cap: the cap, then pci_cfg_data[4] */
#define PCI_CFG_DATA (CAP_PCI_CFG + 16)
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define MSIX_ENABLE 0x80    /* message control, high byte */
#define MSIX_FN_MASK 0x40

/* struct virtio_pci_common_cfg (4.1.4.3): CC_* in virtio_pci.h */
#define TRANSPORT_FEATURES                                                                                     \
	(1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_VERSION_1)

static uint64_t device_features(const struct virtio_pci *vp)
{
	return vp->ops->features | TRANSPORT_FEATURES;
}

/* ---- interrupts ---------------------------------------------------------- */

static bool msix_enabled(const struct virtio_pci *vp) { return vp->pci.cfg[CAP_MSIX + 3] & MSIX_ENABLE; }

/* INTx A follows the ISR status while MSI-X is off (4.1.4.5). */
static void intx_update(struct virtio_pci *vp)
{
	uint16_t cmd = (uint16_t)virtio_get_le(&vp->pci.cfg[PCI_COMMAND], 2);
	bool level = vp->isr && !msix_enabled(vp) && !(cmd & PCI_COMMAND_INTX_DISABLE);
	if (level == vp->intx)
		return;
	vp->intx = level;
	if (level)
		vp->pci.cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		vp->pci.cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	platform_pci_intx(vp->pf, vp->devfn, 1, level);
}

/* Sends MSI-X vector vec, or marks it pending while it is masked. */
static void msix_send(struct virtio_pci *vp, unsigned vec)
{
	if (vec >= vp->nvectors)
		return; /* VIRTIO_MSI_NO_VECTOR: no interrupt */
	const struct msix_entry *e = &vp->msix[vec];
	if ((vp->pci.cfg[CAP_MSIX + 3] & MSIX_FN_MASK) || (e->ctrl & 1)) {
		vp->pending |= 1u << vec;
		return;
	}
	vp->pending &= ~(1u << vec);
	struct apic_msg m;
	if (pci_msi_decode((uint64_t)e->addr_hi << 32 | e->addr_lo, e->data, &m))
		platform_apic_send(vp->pf, &m);
}

/* Vectors unmasked with their pending bit set go out now. */
static void msix_unmasked(struct virtio_pci *vp)
{
	if (!msix_enabled(vp))
		return;
	for (unsigned v = 0; v < vp->nvectors; v++)
		if (vp->pending & (1u << v))
			msix_send(vp, v);
}

static void interrupt(struct virtio_pci *vp, uint16_t vector, uint8_t isr)
{
	if (msix_enabled(vp)) {
		vp->isr |= isr & VIRTIO_ISR_CONFIG; /* 4.1.4.5.1: config changes set it always */
		msix_send(vp, vector);
		return;
	}
	vp->isr |= isr;
	intx_update(vp);
}

bool virtio_pci_running(const struct virtio_pci *vp)
{
	return (vp->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ==
	       VIRTIO_STATUS_FEATURES_OK;
}

void virtio_pci_queue_done(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->ops->nqueues && vq_should_notify(&vp->vq[q]))
		interrupt(vp, vp->queue_vector[q], VIRTIO_ISR_QUEUE);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

void virtio_pci_broken(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->broken++;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET; /* 2.1.2: and a configuration change notification */
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

void virtio_pci_serve(struct virtio_pci *vp, unsigned q, struct vq_req *req,
		      uint32_t (*handle)(struct virtio_pci *vp, const struct vq_req *req))
{
	if (q >= vp->ops->nqueues || !virtio_pci_running(vp))
		return;
	struct virtq *vq = &vp->vq[q];
	unsigned budget = 2u * vq->size;
	for (;;) {
		enum vq_status s = VQ_EMPTY;
		while (budget && (s = vq_pop(vq, req)) == VQ_OK) {
			budget--;
			if (!vq_push(vq, req->head, handle(vp, req)))
				s = VQ_BROKEN;
			if (s == VQ_BROKEN)
				break;
		}
		if (s == VQ_BROKEN) {
			virtio_pci_broken(vp);
			return;
		}
		if (!budget || !vq_enable_notify(vq))
			break;
	}
	virtio_pci_queue_done(vp, q);
}

/* ---- common configuration -------------------------------------------------- */

/* Device reset (2.4): everything the driver set up is gone. The MSI-X table
 * is the PCI function's and stays. */
static void device_reset(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->status = 0;
	vp->isr = 0;
	intx_update(vp);
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		vq_reset(&vp->vq[q], vp->pf, q < vp->ops->nqueues ? vp->ops->queue_max : 0);
		vp->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	}
	vp->pending = 0;
	if (vp->ops->reset)
		vp->ops->reset(vp);
}

static struct virtq *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->ops->nqueues ? &vp->vq[vp->queue_select] : NULL;
}

static void common_read_all(struct virtio_pci *vp, uint8_t *b)
{
	uint64_t df = device_features(vp);
	memset(b, 0, CC_SIZE);
	virtio_put_le(b + CC_DFSELECT, vp->dfselect, 4);
	virtio_put_le(b + CC_DF, vp->dfselect < 2 ? (uint32_t)(df >> (32 * vp->dfselect)) : 0, 4);
	virtio_put_le(b + CC_GFSELECT, vp->gfselect, 4);
	virtio_put_le(b + CC_GF, vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0, 4);
	virtio_put_le(b + CC_MSIX_CONFIG, vp->config_vector, 2);
	virtio_put_le(b + CC_NUM_QUEUES, vp->ops->nqueues, 2);
	b[CC_STATUS] = vp->status;
	b[CC_GENERATION] = vp->generation;
	virtio_put_le(b + CC_Q_SELECT, vp->queue_select, 2);
	const struct virtq *q = selected(vp);
	if (!q)
		return; /* an absent queue reads size 0 (4.1.4.3.2) */
	virtio_put_le(b + CC_Q_SIZE, q->size, 2);
	virtio_put_le(b + CC_Q_MSIX, vp->queue_vector[vp->queue_select], 2);
	virtio_put_le(b + CC_Q_ENABLE, q->enabled, 2);
	virtio_put_le(b + CC_Q_NOTIFY_OFF, vp->queue_select, 2);
	virtio_put_le(b + CC_Q_DESC, q->desc, 8);
	virtio_put_le(b + CC_Q_DRIVER, q->avail, 8);
	virtio_put_le(b + CC_Q_DEVICE, q->used, 8);
}

/* FEATURES_OK (3.1.1): only what the device offers, and VERSION_1, since
 * there is no legacy interface. */
static bool features_acceptable(const struct virtio_pci *vp)
{
	return !(vp->driver_features & ~device_features(vp)) &&
	       (vp->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

static void status_write(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		device_reset(vp);
		return;
	}
	uint8_t old = vp->status;
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vp))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* the driver never clears a bit (2.1.1); NEEDS_RESET is the device's */
	vp->status = old | (v & (uint8_t)~VIRTIO_STATUS_NEEDS_RESET);
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		for (unsigned q = 0; q < vp->ops->nqueues && virtio_pci_running(vp); q++)
			if (vp->vq[q].enabled)
				vp->ops->notify(vp, q);
}

static void queue_enable(struct virtio_pci *vp, struct virtq *q)
{
	if (q->enabled)
		return;
	if (!vq_valid(q) || q->size > vp->ops->queue_max) {
		virtio_pci_broken(vp); /* e.g. a size that is not a power of two */
		return;
	}
	q->event_idx = vp->driver_features & (1ull << VIRTIO_F_EVENT_IDX);
	q->indirect = vp->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC);
	q->enabled = true;
}

/* A 64-bit queue address written as one access or two 32-bit halves. */
static void queue_addr(uint64_t *a, unsigned half, unsigned size, uint64_t val)
{
	if (size == 8 && half == 0)
		*a = val;
	else if (size == 4)
		*a = half ? (*a & 0xffffffffull) | val << 32 : (*a & ~0xffffffffull) | (uint32_t)val;
}

static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t val)
{
	struct virtq *q = selected(vp);
	switch (off) {
	case CC_DFSELECT:
		if (size == 4)
			vp->dfselect = (uint32_t)val;
		return;
	case CC_GFSELECT:
		if (size == 4)
			vp->gfselect = (uint32_t)val;
		return;
	case CC_GF:
		if (size == 4 && vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;
			vp->driver_features = (vp->driver_features & ~(0xffffffffull << sh)) | (uint64_t)(uint32_t)val << sh;
		}
		return;
	case CC_MSIX_CONFIG:
		if (size == 2) /* a vector the table lacks reads back NO_VECTOR (4.1.4.3.1) */
			vp->config_vector = val < vp->nvectors ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
		return;
	case CC_STATUS:
		if (size == 1)
			status_write(vp, (uint8_t)val);
		return;
	case CC_Q_SELECT:
		if (size == 2)
			vp->queue_select = (uint16_t)val;
		return;
	}
	if (!q)
		return;
	if (off == CC_Q_MSIX && size == 2) {
		vp->queue_vector[vp->queue_select] = val < vp->nvectors ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
		return;
	}
	if (off == CC_Q_ENABLE && size == 2) {
		if (val == 1)
			queue_enable(vp, q);
		return;
	}
	if (q->enabled)
		return; /* size and addresses are fixed while enabled */
	if (off == CC_Q_SIZE && size == 2)
		q->size = (uint16_t)val; /* checked when enabled */
	else if (off >= CC_Q_DESC && off < CC_SIZE && !(off & 3)) {
		uint64_t *a = off < CC_Q_DRIVER ? &q->desc : off < CC_Q_DEVICE ? &q->avail : &q->used;
		queue_addr(a, (off >> 2) & 1, size, val);
	}
}

/* ---- the BAR ------------------------------------------------------------------- */

static uint32_t msix_read(const struct virtio_pci *vp, unsigned off)
{
	unsigned v = off / 16;
	if (v >= vp->nvectors)
		return 0;
	const struct msix_entry *e = &vp->msix[v];
	switch (off & 15) {
	case 0: return e->addr_lo;
	case 4: return e->addr_hi;
	case 8: return e->data;
	default: return e->ctrl;
	}
}

static void msix_write(struct virtio_pci *vp, unsigned off, uint32_t val)
{
	unsigned v = off / 16;
	if (v >= vp->nvectors)
		return;
	struct msix_entry *e = &vp->msix[v];
	switch (off & 15) {
	case 0: e->addr_lo = val & ~3u; break;
	case 4: e->addr_hi = val; break;
	case 8: e->data = val; break;
	default:
		e->ctrl = val & 1;
		if (!e->ctrl)
			msix_unmasked(vp);
	}
}

uint64_t virtio_pci_bar_read(void *ctx, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = ctx;
	uint8_t b[CC_SIZE];
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return ~0ull;
	if (off < CC_SIZE && off + size <= CC_SIZE) {
		common_read_all(vp, b);
		return virtio_get_le(b + off, size);
	}
	if (off == VIRTIO_PCI_ISR) { /* reading clears it and the INTx (4.1.4.5) */
		uint8_t isr = vp->isr;
		vp->isr = 0;
		intx_update(vp);
		return isr;
	}
	if (off >= VIRTIO_PCI_DEVCFG && off - VIRTIO_PCI_DEVCFG + size <= vp->ops->cfg_size)
		return virtio_get_le(vp->cfg + (off - VIRTIO_PCI_DEVCFG), size);
	if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_TABLE + 16u * vp->nvectors && !(off & 3)) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_MSIX_TABLE);
		uint64_t v = msix_read(vp, o);
		if (size == 8)
			v |= (uint64_t)msix_read(vp, o + 4) << 32;
		return size >= 4 ? v : 0;
	}
	if (off == VIRTIO_PCI_MSIX_PBA || off == VIRTIO_PCI_MSIX_PBA + 4)
		return off == VIRTIO_PCI_MSIX_PBA ? vp->pending : 0;
	return 0;
}

void virtio_pci_bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *vp = ctx;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return;
	if (off < CC_SIZE) {
		common_write(vp, (unsigned)off, size, val);
	} else if (off >= VIRTIO_PCI_DEVCFG && off - VIRTIO_PCI_DEVCFG + size <= vp->ops->cfg_size) {
		if (vp->ops->cfg_write)
			vp->ops->cfg_write(vp, (unsigned)(off - VIRTIO_PCI_DEVCFG), size, (uint32_t)val);
	} else if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_TABLE + 16u * vp->nvectors && !(off & 3) &&
		   size >= 4) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_MSIX_TABLE);
		msix_write(vp, o, (uint32_t)val);
		if (size == 8)
			msix_write(vp, o + 4, (uint32_t)(val >> 32));
	}
}

uint64_t virtio_pci_notify_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)off, (void)size;
	return 0;
}

void virtio_pci_notify_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *vp = ctx;
	(void)size, (void)val;
	/* the port names the queue (no VIRTIO_F_NOTIFICATION_DATA) */
	unsigned q = (unsigned)(off / VIRTIO_PCI_NOTIFY_MULT);
	if (q < vp->ops->nqueues && virtio_pci_running(vp) && vp->vq[q].enabled)
		vp->ops->notify(vp, q);
}

/* ---- configuration space ------------------------------------------------------------ */

/*
 * The PCI configuration access capability (4.1.4.9): the driver sets bar,
 * offset and length in it, then reading or writing pci_cfg_data accesses
 * that BAR there. Anything but a length of 1, 2 or 4 at an aligned offset
 * inside one of the BARs does nothing (reads give 0).
 */
static bool cfg_window(const struct virtio_pci *vp, unsigned *bar, uint32_t *off, uint32_t *len)
{
	const uint8_t *c = &vp->pci.cfg[CAP_PCI_CFG];
	*bar = c[4];
	*off = (uint32_t)virtio_get_le(c + 8, 4);
	*len = (uint32_t)virtio_get_le(c + 12, 4);
	uint32_t size = *bar == 0 ? VIRTIO_PCI_BAR_SIZE : *bar == VIRTIO_PCI_NOTIFY_BAR ? VIRTIO_PCI_NOTIFY_PORTS : 0;
	return (*len == 1 || *len == 2 || *len == 4) && !(*off & (*len - 1)) && *off < size && *len <= size - *off;
}

static uint32_t cfg_read(struct pci_func *f, unsigned off, unsigned size)
{
	struct virtio_pci *vp = (struct virtio_pci *)f;
	if (off < PCI_CFG_DATA + 4 && off + size > PCI_CFG_DATA) {
		unsigned bar;
		uint32_t o, len;
		uint64_t v = 0;
		if (cfg_window(vp, &bar, &o, &len))
			v = bar == 0 ? virtio_pci_bar_read(vp, o, len) : virtio_pci_notify_read(vp, o, len);
		virtio_put_le(&f->cfg[PCI_CFG_DATA], v, 4);
	}
	return (uint32_t)virtio_get_le(&f->cfg[off], size);
}

/* Writes to capabilities: MSI-X's enable and function mask bits, and the
 * configuration access capability's window and data. */
static void cfg_write(struct pci_func *f, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_pci *vp = (struct virtio_pci *)f;
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o == CAP_MSIX + 3) {
			f->cfg[o] = (uint8_t)((f->cfg[o] & ~(MSIX_ENABLE | MSIX_FN_MASK)) | (b & (MSIX_ENABLE | MSIX_FN_MASK)));
			intx_update(vp); /* no INTx while MSI-X is on */
			msix_unmasked(vp);
		} else if (o == CAP_PCI_CFG + 4 || (o >= CAP_PCI_CFG + 8 && o < PCI_CFG_DATA + 4)) {
			f->cfg[o] = b; /* bar, offset, length, data */
		}
	}
	unsigned bar;
	uint32_t o, len;
	if (off < PCI_CFG_DATA + 4 && off + size > PCI_CFG_DATA && cfg_window(vp, &bar, &o, &len)) {
		uint64_t v = virtio_get_le(&f->cfg[PCI_CFG_DATA], len);
		if (bar == 0)
			virtio_pci_bar_write(vp, o, len, v);
		else
			virtio_pci_notify_write(vp, o, len, v);
	}
}

static void add_cap(struct pci_func *f, unsigned at, unsigned next, uint8_t type, uint8_t bar, uint32_t off,
		    uint32_t len, unsigned caplen)
{
	uint8_t *c = &f->cfg[at];
	c[0] = PCI_CAP_ID_VNDR;
	c[1] = (uint8_t)next;
	c[2] = (uint8_t)caplen;
	c[3] = type;
	c[4] = bar;
	virtio_put_le(c + 8, off, 4);
	virtio_put_le(c + 12, len, 4);
}

void virtio_pci_init(struct virtio_pci *vp, const struct platform *pf, unsigned devfn, const struct virtio_ops *ops,
		     void *dev)
{
	memset(vp, 0, sizeof(*vp));
	vp->pf = pf;
	vp->ops = ops;
	vp->dev = dev;
	vp->devfn = devfn;
	vp->nvectors = ops->nqueues + 1;

	struct pci_func *f = &vp->pci;
	pci_set16(f, PCI_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_set16(f, PCI_DEVICE_ID, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id));
	pci_set32(f, PCI_REVISION, ops->pci_class | 1); /* revision 1: not transitional (4.1.2.1) */
	pci_set16(f, PCI_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR);
	pci_set16(f, PCI_SUBSYS_ID, 0x1100);
	pci_set16(f, PCI_STATUS, PCI_STATUS_CAP_LIST);
	f->cfg[PCI_CAP_PTR] = CAP_MSIX;
	f->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA */
	f->bar_size[0] = VIRTIO_PCI_BAR_SIZE;
	pci_set32(f, PCI_BAR0 + 4 * VIRTIO_PCI_NOTIFY_BAR, PCI_BAR_IO);
	f->bar_size[VIRTIO_PCI_NOTIFY_BAR] = VIRTIO_PCI_NOTIFY_PORTS;
	f->cfg_write = cfg_write;
	f->cfg_read = cfg_read;

	uint8_t *m = &f->cfg[CAP_MSIX];
	m[0] = PCI_CAP_ID_MSIX;
	m[1] = CAP_COMMON;
	virtio_put_le(m + 2, vp->nvectors - 1, 2);      /* table size - 1; disabled, unmasked */
	virtio_put_le(m + 4, VIRTIO_PCI_MSIX_TABLE, 4); /* BIR 0 */
	virtio_put_le(m + 8, VIRTIO_PCI_MSIX_PBA, 4);
	add_cap(f, CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG, 0, VIRTIO_PCI_COMMON, CC_SIZE, 16);
	add_cap(f, CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_BAR, 0,
		VIRTIO_PCI_NOTIFY_MULT * ops->nqueues, 20);
	virtio_put_le(&f->cfg[CAP_NOTIFY + 16], VIRTIO_PCI_NOTIFY_MULT, 4);
	/* a device without configuration (entropy) has no such capability */
	add_cap(f, CAP_ISR, ops->cfg_size ? CAP_DEVICE : CAP_PCI_CFG, VIRTIO_PCI_CAP_ISR_CFG, 0, VIRTIO_PCI_ISR, 1, 16);
	if (ops->cfg_size)
		add_cap(f, CAP_DEVICE, CAP_PCI_CFG, VIRTIO_PCI_CAP_DEVICE_CFG, 0, VIRTIO_PCI_DEVCFG, ops->cfg_size, 16);
	add_cap(f, CAP_PCI_CFG, 0, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 20);

	for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
		vp->msix[v].ctrl = 1; /* masked after reset (PCI) */
	device_reset(vp);
}
