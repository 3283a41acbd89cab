/* The VMM's bus: port I/O and MMIO ranges dispatched to device models. */
#include "vmm.h"
#include <string.h>

#define BUS_MAX 32

static struct bus_dev io_devs[BUS_MAX], mmio_devs[BUS_MAX];
static unsigned nio, nmmio;

static bool add(struct bus_dev *tab, unsigned *n, const struct bus_dev *d)
{
	if (*n >= BUS_MAX || d->first > d->last)
		return false;
	for (unsigned i = 0; i < *n; i++)
		if (d->first <= tab[i].last && tab[i].first <= d->last)
			return false; /* overlapping ranges */
	tab[(*n)++] = *d;
	return true;
}

bool bus_add_io(const struct bus_dev *d) { return add(io_devs, &nio, d); }
bool bus_add_mmio(const struct bus_dev *d) { return add(mmio_devs, &nmmio, d); }

/* A PCI BAR moved: the range with d's ctx goes away, and if on, comes back
 * at d's range (false if that overlaps another device: then the BAR decodes
 * nothing). */
static bool map(struct bus_dev *tab, unsigned *n, const struct bus_dev *d, bool on)
{
	for (unsigned i = 0; i < *n; i++)
		if (tab[i].ctx == d->ctx) {
			tab[i] = tab[--*n];
			break;
		}
	return !on || add(tab, n, d);
}

bool bus_map_io(const struct bus_dev *d, bool on) { return map(io_devs, &nio, d, on); }
bool bus_map_mmio(const struct bus_dev *d, bool on) { return map(mmio_devs, &nmmio, d, on); }

static const struct bus_dev *find(const struct bus_dev *tab, unsigned n, uint64_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (a >= tab[i].first && a <= tab[i].last)
			return &tab[i];
	return NULL;
}

/* One port access; false if no device claims the port (reads give all ones). */
bool bus_io(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t *val)
{
	(void)v;
	const struct bus_dev *d = find(io_devs, nio, port);
	if (!d) {
		if (in)
			*val = ~0ull;
		return false;
	}
	if (in)
		*val = d->read(d->ctx, port - d->first, size);
	else
		d->write(d->ctx, port - d->first, size, *val);
	return true;
}

/* One MMIO access; false if no device claims the address. */
bool bus_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	(void)v;
	const struct bus_dev *d = find(mmio_devs, nmmio, gpa);
	if (!d)
		return false;
	if (write)
		d->write(d->ctx, gpa - d->first, size, *val);
	else
		*val = d->read(d->ctx, gpa - d->first, size);
	return true;
}

/* Whether a device claims guest-physical address gpa. */
bool bus_probe_mmio(uint64_t gpa) { return find(mmio_devs, nmmio, gpa) != NULL; }
