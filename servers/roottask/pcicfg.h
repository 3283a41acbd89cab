/*
 * PCI configuration-space logic of the roottask: BAR decoding, the
 * capability walk and the filter for configuration writes of drivers.
 *
 * Pure logic: no I/O, no global state. The values come from the device
 * (through configuration mechanism #1 or ECAM) or from a driver's IPC
 * words; all of them are checked, none is trusted.
 */
#ifndef ROOTTASK_PCICFG_H
#define ROOTTASK_PCICFG_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CFG_SIZE 256    /* configuration space without ECAM */
#define PCI_ECAM_SIZE 4096  /* with ECAM */
#define PCI_NBARS 6

/* Offsets and bits of the configuration header. */
#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_CLASS 0x08 /* revision at 0x08, class code 0x09..0x0b */
#define PCI_HEADER 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 (bridge) header */
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d

#define PCI_CAP_PM 0x01
#define PCI_CAP_MSI 0x05
#define PCI_CAP_MSIX 0x11

/* BAR flags: the same bits as HV_SI_BAR_* of <hv/startinfo.h>. */
#define PCI_BAR_IO (1u << 0)
#define PCI_BAR_64 (1u << 1)
#define PCI_BAR_PREFETCH (1u << 2)

struct pci_bar {
	uint64_t base;  /* bus address or first port */
	uint64_t size;  /* 0: not implemented (or unusable) */
	unsigned flags; /* PCI_BAR_* */
};

/*
 * Decodes BAR i (0 .. nbars-1) from the register values before (orig) and
 * after (sized) writing all ones to them: for a 64-bit BAR the upper half
 * is register i + 1. Returns the number of registers the BAR takes (1 or
 * 2). out->size is 0 for a BAR that is not implemented, has a reserved
 * type, is 64-bit in the last register, is not naturally aligned, or ends
 * beyond 2^64 (memory) or 0x10000 (I/O).
 */
unsigned pci_bar_decode(const uint32_t *orig, const uint32_t *sized,
			unsigned i, unsigned nbars, struct pci_bar *out);

/* Where a function's capabilities are (0: it has none of that kind). */
struct pci_caps {
	unsigned pm, msi, msix; /* offsets of the capability headers */
	bool msi_64;            /* MSI address has an upper half */
	bool msi_mask;          /* MSI per-vector masking */
	unsigned msix_n;        /* MSI-X table entries */
	unsigned msix_bir, msix_off; /* table: BAR index and offset */
	unsigned pba_bir, pba_off;   /* pending-bit array */
};

/*
 * Walks the capability list in the first 256 bytes of a function's
 * configuration space (cfg), at most 48 entries, ignoring pointers below
 * 0x40 and unaligned ones. Capabilities that do not fit in 256 bytes are
 * ignored; the first of each kind counts.
 */
void pci_caps_parse(const uint8_t cfg[PCI_CFG_SIZE], struct pci_caps *out);

/* Offsets of the MSI registers of a function (for its capability). */
unsigned pci_msi_data_off(const struct pci_caps *c);

/*
 * Whether an access of size bytes at off is well-formed: size 1, 2 or 4,
 * naturally aligned, within limit bytes (PCI_CFG_SIZE or PCI_ECAM_SIZE).
 */
bool pci_access_ok(uint64_t off, uint64_t size, unsigned limit);

/* What a driver may write into its function's configuration space. */
struct pci_filter {
	struct pci_caps caps;
	bool msi;                 /* the function has an MSI semaphore, delivered by MSI */
	bool msix;                /* ... delivered by MSI-X (table entry 0, roottask-programmed) */
	uint32_t msi_data;        /* ... whose data is this */
	const uint32_t *msi_addr; /* the MSI addresses allowed (one per online CPU) */
	unsigned n_addr;
};

/*
 * The write filter (access checked by pci_access_ok already): command and
 * status; the power-management control/status register; the MSI
 * capability with Multiple Message Enable 0, enable only if f->msi,
 * address only one of f->msi_addr (upper half 0) and data only f->msi_data,
 * each written whole; the MSI mask bits; the MSI-X message control (the
 * enable bit set only if f->msix: the roottask has programmed the table,
 * which the driver cannot reach; the function mask freely).
 * The read-only capability headers may be written too. Returns 0 if the
 * write is allowed, else -1.
 */
int pci_write_check(const struct pci_filter *f, unsigned off, unsigned size,
		    uint32_t val);

#endif
