/*
 * The virtio 1.x PCI transport (modern only, no legacy interface), for the
 * device models virtio_rng.c and virtio_console.c. One PCI function with a
 * 32-bit memory BAR (BAR0, VIRTIO_PCI_BAR_SIZE) holding the structures the
 * capabilities point at:
 *
 *   0x0000  common configuration (4.1.4.3)
 *   0x1000  ISR status (4.1.4.5)
 *   0x2000  device-specific configuration
 *   0x4000  MSI-X table (one vector per queue, one for configuration changes)
 *   0x5000  MSI-X pending bits
 *
 * and an I/O BAR (BAR2, VIRTIO_PCI_NOTIFY_PORTS) for notifications: queue n
 * at port 4n (notify_off_multiplier 4). A port write is the cheapest exit
 * to serve (no instruction to fetch and decode: README.md's vmexit_pio_out
 * against vmexit_mmio_write), and a notification is the one access a busy
 * driver makes per request.
 *
 * The VMM maps the BARs where the guest puts them (pci_func.bar_update):
 * BAR0 with virtio_pci_bar_read/write, BAR2 with virtio_pci_notify_read/
 * write as bus functions (ctx = struct virtio_pci *).
 * Interrupts: MSI-X messages through platform_apic_send(), else INTx A
 * through platform_pci_intx() with the ISR status. Feature bits offered on
 * top of the device's: VIRTIO_F_VERSION_1, VIRTIO_F_RING_EVENT_IDX,
 * VIRTIO_F_RING_INDIRECT_DESC. A malformed ring sets DEVICE_NEEDS_RESET (with
 * a configuration-change interrupt) and the device does nothing more until
 * the driver resets it.
 */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include "pci_host.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device id: modern-only devices */
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVCFG 0x2000
#define VIRTIO_PCI_NOTIFY_BAR 2
#define VIRTIO_PCI_NOTIFY_PORTS 16
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE 0x4000
#define VIRTIO_PCI_MSIX_PBA 0x5000
#define VIRTIO_PCI_MAX_QUEUES 4
#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_PCI_DEVCFG_SIZE 64

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Reserved feature bits (6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

struct virtio_pci;

/* What a device model gives the transport. */
struct virtio_ops {
	uint16_t device_id;        /* virtio device id (5): 3 console, 4 entropy */
	uint32_t pci_class;        /* class code << 8 (revision 1 is added) */
	unsigned nqueues;          /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max;        /* entries per queue, a power of two <= VQ_MAX_SIZE */
	uint64_t features;         /* device-specific feature bits */
	unsigned cfg_size;         /* bytes of device configuration (<= VIRTIO_PCI_DEVCFG_SIZE) */
	/* the driver made buffers available on queue q (or DRIVER_OK) */
	void (*notify)(struct virtio_pci *vp, unsigned q);
	/* a write into the device configuration (cfg[] holds what reads see) */
	void (*cfg_write)(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t val);
	/* the driver reset the device */
	void (*reset)(struct virtio_pci *vp);
};

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct virtio_pci {
	struct pci_func pci;       /* first: the PCI host's view */
	const struct platform *pf;
	const struct virtio_ops *ops;
	void *dev;                 /* the device model */
	unsigned devfn;
	/* common configuration */
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint8_t status, generation, isr;
	uint16_t queue_select, config_vector;
	uint16_t queue_vector[VIRTIO_PCI_MAX_QUEUES];
	struct virtq vq[VIRTIO_PCI_MAX_QUEUES];
	uint8_t cfg[VIRTIO_PCI_DEVCFG_SIZE]; /* device configuration as the driver reads it */
	/* MSI-X */
	unsigned nvectors;
	struct msix_entry msix[VIRTIO_PCI_MAX_VECTORS];
	uint32_t pending;          /* pending bit per vector */
	bool intx;                 /* INTx A asserted */
	unsigned broken;           /* times the device entered DEVICE_NEEDS_RESET */
};

/* The common configuration structure (virtio 1.x, 4.1.4.3): byte offsets. */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX_CONFIG 0x10
#define CC_NUM_QUEUES 0x12
#define CC_STATUS 0x14
#define CC_GENERATION 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOTIFY_OFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_DRIVER 0x28
#define CC_Q_DEVICE 0x30
#define CC_SIZE 0x38

/* Little-endian fields of n bytes in configuration and request headers. */
static inline void virtio_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t virtio_get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Sets up vp as PCI function devfn (add &vp->pci to the host afterwards);
 * the power-on state. */
void virtio_pci_init(struct virtio_pci *vp, const struct platform *pf, unsigned devfn, const struct virtio_ops *ops,
		     void *dev);
uint64_t virtio_pci_bar_read(void *ctx, uint64_t off, unsigned size);
void virtio_pci_bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t virtio_pci_notify_read(void *ctx, uint64_t off, unsigned size);
void virtio_pci_notify_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

/* For device models: */
/* whether VIRTIO_STATUS_DRIVER_OK is set and the device is not broken */
bool virtio_pci_running(const struct virtio_pci *vp);
/* interrupt for queue q if the driver wants one (after vq_push()es) */
void virtio_pci_queue_done(struct virtio_pci *vp, unsigned q);
/* the device configuration changed: new generation, interrupt */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* a malformed ring: DEVICE_NEEDS_RESET */
void virtio_pci_broken(struct virtio_pci *vp);
/* Serves queue q: every available request goes to handle (req is the
 * model's buffer), whose result is the length written into it; then the
 * interrupt the driver asked for. At most twice the queue's size per call,
 * so a driver that keeps adding cannot hold the VMM. */
void virtio_pci_serve(struct virtio_pci *vp, unsigned q, struct vq_req *req,
		      uint32_t (*handle)(struct virtio_pci *vp, const struct vq_req *req));

#endif
