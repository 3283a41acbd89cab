/*
 * Driver side of the mediated PCI configuration space: calls on the
 * roottask portal (HV_SI_SEL_ROOT) for the devices of the start info
 * (dev[d]); the protocol and the write filter are described in
 * <hv/startinfo.h> and docs/config.md.
 */
#ifndef HV_PCI_H
#define HV_PCI_H

#include <hv/startinfo.h>

/* Configuration-space offsets a driver uses. */
#define HV_PCI_COMMAND 0x04
#define HV_PCI_CMD_IO (1u << 0)
#define HV_PCI_CMD_MEM (1u << 1)
#define HV_PCI_CMD_MASTER (1u << 2)
#define HV_PCI_CMD_INTX_OFF (1u << 10)
#define HV_PCI_STATUS 0x06
#define HV_PCI_CAP_PTR 0x34
#define HV_PCI_CAP_MSI 0x05
#define HV_PCI_CAP_MSIX 0x11
#define HV_PCI_CAP_PM 0x01

/* Reads size (1, 2 or 4) bytes at off of device d into *val. */
hv_status_t hv_pci_read(unsigned d, unsigned off, unsigned size, hv_word_t *val);

/* Writes size bytes at off of device d (HV_EPERM where the filter refuses). */
hv_status_t hv_pci_write(unsigned d, unsigned off, unsigned size, hv_word_t val);

/* Offset of the first capability `id` of device d, or 0 (none, or an error). */
unsigned hv_pci_find_cap(unsigned d, unsigned id);

/* Sets the command register bits `set` (e.g. HV_PCI_CMD_MASTER) and clears `clear`. */
hv_status_t hv_pci_command(unsigned d, unsigned set, unsigned clear);

/* Enables (or disables) the MSI of device d with the values the roottask
 * wrote into its capability (the start info's msi_addr/msi_data). */
hv_status_t hv_pci_msi_enable(unsigned d, int on);

/* Enables (or disables) the MSI-X of device d, function mask clear: table
 * entry 0 holds what the roottask wrote (start info HV_SI_IRQ_MSIX). */
hv_status_t hv_pci_msix_enable(unsigned d, int on);

#endif
