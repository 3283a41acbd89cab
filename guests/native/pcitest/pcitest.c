/*
 * pcitest: the device-assignment tests of a domain WITHOUT the device, and
 * the canary page a rogue driver aims its DMA at. Mode by argument:
 *   bar     reads HV_SI_BAR(0, 0), where a domain with a device finds its
 *           BAR 0: nothing is mapped there, the read faults and the
 *           roottask stops the domain
 *   config  HV_ROOT_PCI_READ / HV_ROOT_PCI_WRITE of device indices it
 *           does not have: each must be refused (exit 0 if all were)
 *   port    writes port 0xcf8 (PCI configuration mechanism #1) and reads
 *           0xcfc: the domain has no I/O ports, it faults and is stopped
 *   canary  fills its 'dma' memory with a pattern and registers service
 *           "canary": mr[0] = 1 returns mr[1] = the memory's physical
 *           address, mr[0] = 2 checks the pattern, prints the result and
 *           returns mr[1] = 1 if intact (reply mr[0] = status)
 */
#include <stdio.h>
#include <string.h>
#include <hv/hip.h>
#include <hv/portio.h>
#include <hv/runtime.h>

enum { CANARY_PHYS = 1, CANARY_CHECK = 2 };

static const struct hv_startinfo *si;

static unsigned char canary_byte(hv_word_t i)
{
	return (unsigned char)(0xa5u ^ (i * 13u) ^ (i >> 8));
}

/* The offset of the first byte that differs from the pattern, or size. */
static hv_word_t canary_scan(void)
{
	const volatile unsigned char *m = (const volatile unsigned char *)si->dma_addr;

	for (hv_word_t i = 0; i < si->dma_size; i++)
		if (m[i] != canary_byte(i))
			return i;
	return si->dma_size;
}

HV_PORTAL_ENTRY(canary_portal, canary_handler);

hv_word_t canary_handler(hv_word_t portal_id, hv_word_t tag)
{
	struct hv_utcb *u = hv_utcb();
	hv_word_t op = HV_TAG_UNTYPED(tag) >= 1 ? u->mr[0] : 0, bad;

	if (op == CANARY_PHYS) {
		u->mr[0] = HV_OK;
		u->mr[1] = si->dma_phys;
		return HV_TAG(2, 0);
	}
	if (op == CANARY_CHECK) {
		bad = canary_scan();
		if (bad == si->dma_size)
			printf("canary: %lu bytes at physical 0x%lx intact (checked for domain %lu)\n",
			       si->dma_size, si->dma_phys, portal_id);
		else
			printf("canary: CORRUPTED at offset 0x%lx (checked for domain %lu)\n", bad,
			       portal_id);
		u->mr[0] = HV_OK;
		u->mr[1] = bad == si->dma_size;
		return HV_TAG(2, 0);
	}
	u->mr[0] = HV_EPARAM;
	return HV_TAG(1, 0);
}

static int run_canary(void)
{
	hv_sel_t ecs[HV_HIP_MAX_CPUS];
	unsigned c, ncpu = (unsigned)si->num_cpus;
	volatile unsigned char *m = (volatile unsigned char *)si->dma_addr;
	hv_status_t st;

	if (!si->dma_size || si->dma_addr != HV_SI_DMA || !ncpu || ncpu > HV_HIP_MAX_CPUS) {
		printf("canary: needs 'dma' memory\n");
		return 1;
	}
	for (hv_word_t i = 0; i < si->dma_size; i++)
		m[i] = canary_byte(i);
	for (c = 0; c < ncpu; c++) {
		st = hv_handler_create(c, &ecs[c]);
		if (st != HV_OK) {
			printf("canary: handler for cpu %u: %s\n", c, hv_status_str(st));
			return 1;
		}
	}
	st = hv_register_service("canary", (hv_word_t)canary_portal, ecs, ncpu);
	if (st != HV_OK) {
		printf("canary: register: %s\n", hv_status_str(st));
		return 1;
	}
	printf("canary: %lu bytes at physical 0x%lx hold the pattern\n", si->dma_size, si->dma_phys);
	hv_block_forever();
}

static hv_status_t pci_call(hv_word_t op, hv_word_t d, hv_word_t off, hv_word_t size)
{
	struct hv_utcb *u = hv_utcb();
	hv_word_t rtag = 0;
	hv_status_t st;

	u->mr[0] = op;
	u->mr[1] = d;
	u->mr[2] = off;
	u->mr[3] = size;
	u->mr[4] = 0xffffffffu;
	st = hv_call(HV_SI_SEL_ROOT, HV_TAG(op == HV_ROOT_PCI_WRITE ? 5 : 4, 0), &rtag);
	if (st != HV_OK || HV_TAG_UNTYPED(rtag) < 1)
		return st != HV_OK ? st : HV_EPARAM;
	return (hv_status_t)u->mr[0];
}

static int run_config(void)
{
	static const struct {
		hv_word_t op, d, off, size;
	} probes[] = {
		{ HV_ROOT_PCI_READ, 0, 0, 4 },        /* vendor/device of "device 0" */
		{ HV_ROOT_PCI_READ, 0, 0x10, 4 },     /* its BAR 0 */
		{ HV_ROOT_PCI_WRITE, 0, 0x04, 2 },    /* its command register */
		{ HV_ROOT_PCI_READ, 3, 0, 4 },
		{ HV_ROOT_PCI_READ, ~0ul, 0, 4 },
		{ HV_ROOT_PCI_WRITE, 1ul << 40, 0x10, 4 },
	};
	int accepted = 0;

	printf("pcitest: %lu devices in the start info\n", si->num_dev);
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		hv_status_t st = pci_call(probes[i].op, probes[i].d, probes[i].off, probes[i].size);

		printf("pcitest: config %s of device index 0x%lx offset 0x%lx: %s%s\n",
		       probes[i].op == HV_ROOT_PCI_READ ? "read" : "write", probes[i].d, probes[i].off,
		       hv_status_str(st), st == HV_OK ? " - ACCEPTED" : " (refused)");
		accepted += st == HV_OK;
	}
	printf("pcitest: config: %d of %u accesses accepted\n", accepted,
	       (unsigned)(sizeof(probes) / sizeof(probes[0])));
	return accepted ? 1 : 0;
}

int main(const struct hv_startinfo *start)
{
	char args[HV_SI_ARGS + 1];
	const char *mode;

	if (!start || start != hv_si())
		return 1;
	si = start;
	memcpy(args, si->args, HV_SI_ARGS);
	args[HV_SI_ARGS] = '\0';
	mode = args;
	if (!strncmp(mode, "pcitest ", 8))
		mode += 8;
	if (!strcmp(mode, "canary"))
		return run_canary();
	if (!strcmp(mode, "config"))
		return run_config();
	if (!strcmp(mode, "bar")) {
		volatile unsigned *bar = (volatile unsigned *)HV_SI_BAR(0, 0);
		printf("pcitest: reading 0x%lx (where BAR 0 of a device would be)\n", (hv_word_t)bar);
		printf("pcitest: read 0x%x - NOT STOPPED\n", *bar);
		return 1;
	}
	if (!strcmp(mode, "port")) {
		printf("pcitest: writing port 0xcf8 (PCI configuration address)\n");
		__asm__ volatile("outl %0, %1" : : "a"(0x80000000u), "Nd"((unsigned short)0xcf8));
		printf("pcitest: port 0xcf8 written - NOT STOPPED\n");
		return 1;
	}
	printf("pcitest: usage: pcitest bar | config | port | canary\n");
	return 2;
}
