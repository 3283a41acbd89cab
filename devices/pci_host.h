#ifndef DEVICES_PCI_HOST_H
#define DEVICES_PCI_HOST_H

#include "platform.h"
#include <stdbool.h>
#include <stdint.h>

/*
 * PCI configuration mechanism #1 with bus 0 and a host bridge at 00:00.0.
 * Bus mapping (ctx = struct pci_host *):
 *   0xcf8        pci_host_addr_read/write  (a one-port device: only dword
 *                accesses starting at 0xcf8 reach it; 0xcf9 is pc_misc's)
 *   0xcfc-0xcff  pci_host_data_read/write
 */
#define PCI_DEVFN(dev, fn) ((unsigned)(((dev) & 0x1f) << 3 | ((fn) & 7)))
#define PCI_MAX_DEVFN 256

/* Standard configuration header offsets */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8

/*
 * One function. The owner fills cfg[] (IDs, class, BAR type bits, interrupt
 * pin, capabilities) and bar_size[] (a power of two, 0 = no BAR; a 64-bit
 * BAR's size is in its low slot, the high slot stays 0) before pci_add().
 * The host keeps the header's read-only fields read-only.
 */
struct pci_func {
	uint8_t cfg[256];
	uint32_t bar_size[6];
	/* A BAR's decoded address or enable changed (command register or BAR
	 * write); addr is meaningful only when enabled. Optional. */
	void (*bar_update)(struct pci_func *f, unsigned bar, uint64_t addr, bool enabled);
	/* Writes at offsets >= 0x40 (capabilities, device-specific): the owner
	 * updates cfg[] itself. Optional: without it they are ignored. */
	void (*cfg_write)(struct pci_func *f, unsigned off, unsigned size, uint32_t val);
	/* Reads at offsets >= 0x40 whose value the owner computes (size 1, 2 or
	 * 4, within 256 bytes). Optional: without it they read cfg[]. */
	uint32_t (*cfg_read)(struct pci_func *f, unsigned off, unsigned size);
	void *opaque;
	/* host-private: what bar_update last reported */
	uint64_t bar_addr[6];
	bool bar_on[6];
};

struct pci_host {
	uint32_t addr;                     /* 0xcf8 */
	struct pci_func bridge;
	struct pci_func *fn[PCI_MAX_DEVFN]; /* bus 0 */
};

void pci_host_init(struct pci_host *h);
/* Puts f at devfn on bus 0; false if taken or out of range. */
bool pci_add(struct pci_host *h, unsigned devfn, struct pci_func *f);
uint64_t pci_host_addr_read(void *ctx, uint64_t off, unsigned size);
void pci_host_addr_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t pci_host_data_read(void *ctx, uint64_t off, unsigned size);
void pci_host_data_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
/* Direct configuration access (off any byte, size 1/2/4 within the dword). */
uint32_t pci_cfg_read(struct pci_host *h, unsigned devfn, unsigned off, unsigned size);
void pci_cfg_write(struct pci_host *h, unsigned devfn, unsigned off, unsigned size, uint32_t val);
/* Helpers for owners: little-endian fields of cfg[]. */
void pci_set16(struct pci_func *f, unsigned off, uint16_t v);
void pci_set32(struct pci_func *f, unsigned off, uint32_t v);
uint32_t pci_get32(const struct pci_func *f, unsigned off);
/* An MSI (address, data) as the local APIC message it is on a PC (false:
 * the address is not in the 0xfeexxxxx interrupt range or the delivery
 * mode is reserved (3, 6: start-up): nothing to send). */
bool pci_msi_decode(uint64_t addr, uint32_t data, struct apic_msg *msg);

#endif
