/* Driver side of the mediated PCI configuration space (see <hv/pci.h>). */
#include <hv/pci.h>
#include <hv/runtime.h>

static hv_status_t pci_call(unsigned op, unsigned d, unsigned off, unsigned size, hv_word_t val, hv_word_t *out)
{
	struct hv_utcb *u = hv_utcb();
	hv_word_t tag;
	u->mr[0] = op;
	u->mr[1] = d;
	u->mr[2] = off;
	u->mr[3] = size;
	u->mr[4] = val;
	hv_status_t st = hv_call(HV_SI_SEL_ROOT, HV_TAG(op == HV_ROOT_PCI_WRITE ? 5 : 4, 0), &tag);
	if (st != HV_OK)
		return st;
	if (HV_TAG_UNTYPED(tag) < 1)
		return HV_EABORT;
	st = (hv_status_t)u->mr[0];
	if (st == HV_OK && out) {
		if (HV_TAG_UNTYPED(tag) < 2)
			return HV_EABORT;
		*out = u->mr[1];
	}
	return st;
}

hv_status_t hv_pci_read(unsigned d, unsigned off, unsigned size, hv_word_t *val)
{
	return pci_call(HV_ROOT_PCI_READ, d, off, size, 0, val);
}

hv_status_t hv_pci_write(unsigned d, unsigned off, unsigned size, hv_word_t val)
{
	return pci_call(HV_ROOT_PCI_WRITE, d, off, size, val, NULL);
}

unsigned hv_pci_find_cap(unsigned d, unsigned id)
{
	hv_word_t v;
	if (hv_pci_read(d, HV_PCI_STATUS, 2, &v) != HV_OK || !(v & (1u << 4)) ||
	    hv_pci_read(d, HV_PCI_CAP_PTR, 1, &v) != HV_OK)
		return 0;
	for (unsigned n = 0; n < 48 && (v & 0xfc) >= 0x40; n++) {
		unsigned p = v & 0xfc;
		if (hv_pci_read(d, p, 2, &v) != HV_OK)
			return 0;
		if ((v & 0xff) == id)
			return p;
		v >>= 8;
	}
	return 0;
}

/* Read-modify-write of the 16-bit register at off: the bits of clear go,
 * then the bits of set come. */
static hv_status_t update16(unsigned d, unsigned off, hv_word_t clear, hv_word_t set)
{
	hv_word_t v;
	hv_status_t st = hv_pci_read(d, off, 2, &v);
	if (st != HV_OK)
		return st;
	return hv_pci_write(d, off, 2, ((v & ~clear) | set) & 0xffff);
}

hv_status_t hv_pci_command(unsigned d, unsigned set, unsigned clear)
{
	return update16(d, HV_PCI_COMMAND, clear, set & ~clear); /* clear wins */
}

/* The message-control register of capability id (at its offset + 2). */
static hv_status_t update_cap_control(unsigned d, unsigned id, hv_word_t clear, hv_word_t set)
{
	unsigned p = hv_pci_find_cap(d, id);
	return p ? update16(d, p + 2, clear, set) : HV_EPARAM;
}

hv_status_t hv_pci_msi_enable(unsigned d, int on)
{
	return update_cap_control(d, HV_PCI_CAP_MSI, 0x71, on ? 1 : 0);
}

hv_status_t hv_pci_msix_enable(unsigned d, int on)
{
	return update_cap_control(d, HV_PCI_CAP_MSIX, 0xc000, on ? 0x8000 : 0);
}
