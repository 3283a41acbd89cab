/*
 * DMA remapping with Intel VT-d (arch/iommu.h; docs/security.md): legacy mode,
 * register-based global invalidations. Every unit of PCI segment 0 walks one
 * root table: bus -> context table -> an entry per device. A device assigned
 * to no PD has none (its DMA faults); an assigned one points to its PD's
 * second-level table (vtd.c) under the PD's domain id. A fault is logged once
 * and blocks the device: its entry then points to an empty table with fault
 * processing disabled. Without a usable DMAR table nothing is enforced.
 * Interrupt remapping where every unit has it (and queued invalidation):
 * one table of entries by interrupt number (irq.h), compatibility-format
 * interrupts blocked; invalidations then go through each unit's queue.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/acpi.h>
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/layout.h>
#include <arch/percpu.h>
#include <arch/vtd.h>

/* registers (spec. 10.4) and the bits used */
enum { VTD_CAP = 0x08, VTD_ECAP = 0x10, VTD_GCMD = 0x18, VTD_GSTS = 0x1c, VTD_RTADDR = 0x20, VTD_CCMD = 0x28,
       VTD_FSTS = 0x34, VTD_FECTL = 0x38, VTD_FEDATA = 0x3c, VTD_FEADDR = 0x40, VTD_FEUADDR = 0x44,
       VTD_IQT = 0x88, VTD_IQA = 0x90, VTD_IRTA = 0xb8 };
#define CAP_RWBF (1ul << 4)
#define CAP_CM (1ul << 7)
#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
#define GCMD_WBF (1u << 27)
#define GCMD_QIE (1u << 26)
#define GCMD_IRE (1u << 25)
#define GCMD_SIRTP (1u << 24)
#define ECAP_QI (1ul << 1)
#define ECAP_IR (1ul << 3)
#define GSTS_ENABLES 0x96800000u /* TES, AFLS, QIES, IRES, CFIS: written back with every command */
#define CCMD_ICC_GLOBAL (5ul << 61)  /* ICC, CIRG 01 */
#define IOTLB_IVT_GLOBAL (9ul << 60) /* IVT, IIRG 01 */
#define FSTS_PPF (1u << 1)
#define FSTS_CLEAR 0x7du /* PFO, AFO, APF, IQE, ICE, ITE: write 1 to clear */
#define FRCD_F (1ul << 63) /* upper qword of a fault record: F(ault), T(ype) 1 = read */
#define FRCD_READ (1ul << 62)
#define FR_IR 0x20 /* fault reasons from here on: interrupt remapping (7.1.3) */
#define CTX_P (1ul << 0) /* root and context entries: present, fault processing disable */
#define CTX_FPD (1ul << 1)
#define CTX_ADDR 0x000ffffffffff000ul
#define DID_NONE 1 /* domain id of blocked devices assigned to no PD */
#define MAX_DID 64
#define IRT_SIZE 256 /* interrupt remapping table entries: one page */
/* queued invalidation descriptors (6.5.2), low qwords; the high ones are 0 but for the wait's */
#define QI_CC_GLOBAL 0x11ul    /* context cache, global */
#define QI_IOTLB_GLOBAL 0x12ul /* IOTLB, global; DW 6, DR 7 */
#define QI_IEC_GLOBAL 0x4ul    /* interrupt entry cache, global */
#define QI_WAIT_SW 0x25ul      /* invalidation wait, status write of data 63..32 to the high qword */

static struct vtd_unit {
	volatile u8 *regs;
	u64 cap;
	unsigned iotlb;     /* IOTLB invalidate register (ECAP.IRO * 16 + 8) */
	unsigned frcd, nfr; /* fault recording registers (CAP.FRO * 16) and their number */
	u64 *iq;            /* invalidation queue (one page, 256 descriptors), NULL: registers */
	unsigned iq_tail;
	volatile u32 iq_done; /* written by the unit at each wait descriptor */
} units[VTD_MAX_UNITS];
static unsigned nunits;  /* 0: no IOMMU in use */
static u64 *root_table;  /* 256 root entries of 2 qwords, by bus */
static u64 *empty_table; /* second-level table of blocked devices */
static unsigned levels;  /* of every second-level table: 3 or 4 */
static u64 dma_limit;    /* IOVAs below it can be mapped */
static unsigned num_did; /* domain ids of every unit */
static bool coherent, caching_mode, flush_pending;
static u64 *irt;        /* interrupt remapping table, NULL: remapping off */
static int ioapic_sid;  /* requester id of the IOAPIC (-1: not known, not checked) */
static struct pd *did_pd[MAX_DID]; /* domain id -> PD (0 and DID_NONE: none) */

/* register access (through the direct map's uncached top GiB) */
static u32 rd32(struct vtd_unit *u, unsigned r) { return *(volatile u32 *)(u->regs + r); }
static u64 rd64(struct vtd_unit *u, unsigned r) { return *(volatile u64 *)(u->regs + r); }
static void wr32(struct vtd_unit *u, unsigned r, u32 v) { *(volatile u32 *)(u->regs + r) = v; }
static void wr64(struct vtd_unit *u, unsigned r, u64 v) { *(volatile u64 *)(u->regs + r) = v; }

void vtd_sync(const volatile void *p, size_t n)
{
	for (u64 a = ALIGN_DOWN((u64)p, 64); !coherent && a < (u64)p + n; a += 64)
		__asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

/* A global command (TE, SRTP or WBF), keeping the enables; waits until done (10.4.4-5). */
static void gcmd(struct vtd_unit *u, u32 bit)
{
	wr32(u, VTD_GCMD, (rd32(u, VTD_GSTS) & GSTS_ENABLES) | bit);
	while (!(rd32(u, VTD_GSTS) & bit) != (bit == GCMD_WBF)) /* WBFS clears when done, the others set */
		cpu_relax();
}

/* Queues descriptor lo (high qword 0) and a wait for it; waits (6.5.2). */
static void qi(struct vtd_unit *u, u64 lo)
{
	u64 *d = u->iq + 2 * u->iq_tail;
	d[0] = lo;
	d[1] = 0;
	d[2] = QI_WAIT_SW | 1ul << 32;
	d[3] = virt_to_phys(&u->iq_done);
	u->iq_done = 0;
	vtd_sync(d, 32);
	u->iq_tail = (u->iq_tail + 2) % 256;
	wr64(u, VTD_IQT, (u64)u->iq_tail << 4);
	while (!u->iq_done)
		vtd_sync(&u->iq_done, 4); /* (flushes the line where walks do not snoop) */
}

/* Global invalidation of the context caches (if context) and IOTLBs, on every unit (6.5). */
static void invalidate(bool context)
{
	for (struct vtd_unit *u = units; u < units + nunits; u++) {
		if (u->cap & CAP_RWBF)
			gcmd(u, GCMD_WBF);
		if (u->iq) {
			if (context)
				qi(u, QI_CC_GLOBAL);
			qi(u, QI_IOTLB_GLOBAL | ((u->cap >> 54) & 3) << 6);
			continue;
		}
		if (context)
			wr64(u, VTD_CCMD, CCMD_ICC_GLOBAL);
		while (rd64(u, VTD_CCMD) >> 63) /* ICC clears when done */
			cpu_relax();
		/* draining reads and writes where the unit can (CAP.DRD/DWD 55..54 -> DR/DW 49..48) */
		wr64(u, u->iotlb, IOTLB_IVT_GLOBAL | ((u->cap >> 54) & 3) << 48);
		while (rd64(u, u->iotlb) >> 63) /* IVT likewise */
			cpu_relax();
	}
	flush_pending = false;
}

/* The context entry (2 qwords) of device bdf, making its bus's table if alloc; NULL if none. */
static volatile u64 *context(u16 bdf, bool alloc)
{
	u64 *re = &root_table[2 * (bdf >> 8)];
	if (!(*re & CTX_P)) {
		u64 *t = alloc ? page_alloc() : NULL; /* the kernel's: 256 at most */
		if (!t)
			return NULL;
		vtd_sync(t, PAGE_SIZE);
		*re = virt_to_phys(t) | CTX_P;
		vtd_sync(re, 16);
	}
	return (volatile u64 *)phys_to_virt(*re & CTX_ADDR) + 2 * (bdf & 0xff);
}

/* The domain id of a context entry, 0 if it is not present. */
static unsigned ctx_did(volatile u64 *ce) { return ce[0] & CTX_P ? (ce[1] >> 8) & (MAX_DID - 1) : 0; }

/* Rewrites a context entry (not present while half written), then invalidates. */
static void set_context(volatile u64 *ce, u64 *table, u64 flags, unsigned did)
{
	ce[0] = 0;
	vtd_sync(ce, 16);
	ce[1] = table ? (levels - 2) | (u64)did << 8 : 0; /* AW: 1 = 3 levels, 2 = 4 */
	ce[0] = table ? virt_to_phys(table) | CTX_P | flags : 0;
	vtd_sync(ce, 16);
	invalidate(true);
}

/* pd's domain id (a free one taken if alloc), or 0. */
static unsigned pd_did(struct pd *pd, bool alloc)
{
	unsigned free = 0;
	for (unsigned d = DID_NONE + 1; d < num_did; d++) {
		if (did_pd[d] == pd)
			return d;
		if (!did_pd[d] && !free)
			free = d;
	}
	if (alloc && free)
		did_pd[free] = pd;
	return alloc ? free : 0;
}

unsigned iommu_reg_pages(u64 *out, unsigned max)
{
	struct vtd_drhd d[VTD_MAX_UNITS];
	int n = acpi.dmar ? vtd_parse_dmar(acpi.dmar, d, VTD_MAX_UNITS) : 0;
	unsigned k = 0;
	for (int i = 0; i < MIN(n, VTD_MAX_UNITS); i++)
		for (unsigned p = 0; p < d[i].pages && k < max; p++)
			out[k++] = d[i].base + p * PAGE_SIZE;
	return k;
}

/* Reads a unit's capabilities; the reason it cannot be used, or NULL. */
static const char *unit_probe(struct vtd_unit *u, const struct vtd_drhd *d, unsigned *sagaw, u64 *width, bool *ir)
{
	u64 size = d->pages * PAGE_SIZE, ecap;
	if (d->base & (PAGE_SIZE - 1) || d->base < 0xc0000000 || d->base + size > DMAP_SIZE)
		return "registers outside the direct map's uncached top GiB";
	u->regs = phys_to_virt(d->base);
	u->cap = rd64(u, VTD_CAP);
	ecap = rd64(u, VTD_ECAP);
	u->iotlb = (unsigned)((ecap >> 8) & 0x3ff) * 16 + 8;
	u->frcd = (unsigned)((u->cap >> 24) & 0x3ff) * 16;
	u->nfr = (unsigned)((u->cap >> 40) & 0xff) + 1;
	if (u->iotlb + 8 > size || u->frcd + 16 * u->nfr > size)
		return "registers beyond the register set";
	*sagaw &= (u->cap >> 8) & 0x1f;
	*width = MIN(*width, ((u->cap >> 16) & 0x3f) + 1); /* MGAW + 1 */
	num_did = MIN(num_did, 1u << (4 + 2 * (u->cap & 7)));
	coherent &= ecap & 1; /* ECAP.C: page walks snoop */
	caching_mode |= (u->cap & CAP_CM) != 0;
	*ir &= (ecap & (ECAP_IR | ECAP_QI)) == (ECAP_IR | ECAP_QI);
	if (d->ioapic_sid >= 0) /* more than one: none checked */
		ioapic_sid = ioapic_sid == -1 ? d->ioapic_sid : -2;
	return NULL;
}

/* Interrupt remapping on every unit (after SRTP): queued invalidation, the
 * table, its entry cache invalidated, then remapping on; CFI stays clear:
 * compatibility-format interrupts are blocked (5.1.4, 10.4.4). */
static bool ir_enable(void)
{
	bool ok = (irt = page_alloc()) != NULL;
	for (struct vtd_unit *u = units; u < units + nunits; u++)
		ok = ok && (u->iq = page_alloc()) != NULL;
	for (struct vtd_unit *u = units; !ok && u < units + nunits; u++)
		u->iq = irt = NULL; /* (what was allocated stays the kernel's) */
	if (!ok)
		return false;
	vtd_sync(irt, PAGE_SIZE);
	for (struct vtd_unit *u = units; u < units + nunits; u++) {
		vtd_sync(u->iq, PAGE_SIZE);
		wr64(u, VTD_IQT, 0);
		wr64(u, VTD_IQA, virt_to_phys(u->iq)); /* 128-bit descriptors, QS 0: one page */
		gcmd(u, GCMD_QIE);
		wr64(u, VTD_IRTA, virt_to_phys(irt) | 7); /* 2^(7+1) entries, EIME 0: xAPIC */
		gcmd(u, GCMD_SIRTP);
		qi(u, QI_IEC_GLOBAL);
		gcmd(u, GCMD_IRE);
	}
	return true;
}

unsigned iommu_init(void)
{
	struct vtd_drhd d[VTD_MAX_UNITS];
	int n = acpi.dmar ? vtd_parse_dmar(acpi.dmar, d, VTD_MAX_UNITS) : 0;
	const char *why = n < 0 ? "malformed DMAR table" : n > VTD_MAX_UNITS ? "too many units" : NULL;
	unsigned sagaw = ~0u;
	u64 width = 64;
	bool ir = true;
	ioapic_sid = -1;
	num_did = MAX_DID;
	coherent = true;
	for (int i = 0; !why && i < n; i++)
		if (d[i].segment == 0) /* the only one the roottask's PCI code knows */
			why = unit_probe(&units[nunits++], &d[i], &sagaw, &width, &ir);
	levels = sagaw & 4 ? 4 : 3; /* SAGAW bit 2: 48-bit 4-level tables, bit 1: 39-bit 3-level */
	dma_limit = 1ul << MIN(width, 12 + 9 * levels);
	if (!why && nunits && !(sagaw & 6))
		why = "no 3- or 4-level tables";
	if (!why && nunits && (!(root_table = page_alloc()) || !(empty_table = page_alloc())))
		why = "no memory";
	if (why || !nunits) {
		if (why)
			printk("hypervisor: IOMMU: VT-d not used: %s\n", why);
		printk("hypervisor: no IOMMU: devices assigned to drivers can reach all memory by DMA\n");
		nunits = 0;
		return HV_IOMMU_NONE;
	}
	vtd_sync(root_table, PAGE_SIZE);
	vtd_sync(empty_table, PAGE_SIZE);
	for (struct vtd_unit *u = units; u < units + nunits; u++) {
		/* fault events: fixed, edge, to CPU 0 (compatibility format) */
		wr32(u, VTD_FEDATA, VEC_IOMMU);
		wr32(u, VTD_FEADDR, 0xfee00000u | (percpu_area[0].apic_id & 0xff) << 12);
		wr32(u, VTD_FEUADDR, 0);
		wr32(u, VTD_FECTL, 0);
		wr64(u, VTD_RTADDR, virt_to_phys(root_table)); /* TTM 0: legacy mode */
		gcmd(u, GCMD_SRTP);
	}
	const char *irs = !ir ? "off (the unit has none)" : !ir_enable() ? "off (no memory)" : "on";
	if (acpi.nioapics != 1 || ioapic_sid < 0)
		ioapic_sid = -1;
	invalidate(true);
	for (struct vtd_unit *u = units; u < units + nunits; u++) {
		gcmd(u, GCMD_TE);
		printk("hypervisor: IOMMU: VT-d at 0x%lx, DMA remapping on, interrupt remapping %s\n",
		       virt_to_phys(u->regs), irs);
	}
	if (irt && ioapic_sid < 0)
		printk("hypervisor: IOMMU: compatibility-format interrupts blocked, IOAPIC requester id not known\n");
	else if (irt)
		printk("hypervisor: IOMMU: compatibility-format interrupts blocked, IOAPIC requester id %x\n", ioapic_sid);
	return HV_IOMMU_VTD;
}

hv_status_t iommu_assign(struct pd *pd, u16 bdf)
{
	volatile u64 *ce = nunits ? context(bdf, true) : NULL;
	unsigned owner = ce ? ctx_did(ce) : 0, did;
	if (!nunits)
		return HV_OK;
	if (owner > DID_NONE && did_pd[owner] != pd)
		return HV_EBUSY;
	if (!ce || (!pd->dma_root && !(pd->dma_root = vtd_pt_alloc(&pd->quota))) || !(did = pd_did(pd, true)))
		return HV_EMEM;
	if (owner != did || (ce[0] & CTX_FPD)) /* new, or blocked after a fault */
		set_context(ce, pd->dma_root, 0, did);
	return HV_OK;
}

void iommu_release(struct pd *pd, u16 bdf)
{
	volatile u64 *ce = nunits ? context(bdf, false) : NULL;
	if (ce && ctx_did(ce) > DID_NONE && did_pd[ctx_did(ce)] == pd)
		set_context(ce, NULL, 0, 0);
}

bool iommu_map(struct pd *pd, u64 iova, u64 pa, u64 npages, bool writable)
{
	bool stale = false;
	if (!nunits)
		return true;
	if (iova >= dma_limit || npages > (dma_limit - iova) >> 12 ||
	    (!pd->dma_root && !(pd->dma_root = vtd_pt_alloc(&pd->quota))) ||
	    !vtd_pt_map(&pd->quota, pd->dma_root, levels, iova, pa, npages, writable, &stale))
		return false;
	if (stale || caching_mode) /* caching mode: units may cache not-present entries too */
		invalidate(false);
	return true;
}

void iommu_unmap(struct pd *pd, u64 iova, u64 npages)
{
	if (!nunits || !pd->dma_root || iova >= dma_limit)
		return;
	vtd_pt_unmap(pd->dma_root, levels, iova, MIN(npages, (dma_limit - iova) >> 12));
	flush_pending = true;
}

void iommu_flush(void)
{
	if (flush_pending)
		invalidate(false);
}

void iommu_pd_destroy(struct pd *pd)
{
	unsigned did = nunits ? pd_did(pd, false) : 0;
	for (unsigned bdf = 0; did && bdf < 0x10000; bdf++) {
		volatile u64 *ce = context((u16)bdf, false);
		if (ce && ctx_did(ce) == did) {
			ce[0] = 0;
			vtd_sync(ce, 16);
		}
	}
	if (did) {
		invalidate(true);
		did_pd[did] = NULL;
	}
	if (pd->dma_root)
		vtd_pt_free(&pd->quota, pd->dma_root, levels);
	pd->dma_root = NULL;
}

bool iommu_irte(unsigned irq, u8 vector, u32 apic_id, bool level, int sid)
{
	u64 e[2];
	if (!irt || irq >= IRT_SIZE)
		return false;
	vtd_irte(e, vector, apic_id, level, sid == IOMMU_SID_IOAPIC ? ioapic_sid : sid);
	irt[2 * irq + 1] = e[1]; /* a present entry stays whole: the source check first */
	irt[2 * irq] = e[0];
	vtd_sync(&irt[2 * irq], 16);
	for (struct vtd_unit *u = units; u < units + nunits; u++)
		qi(u, QI_IEC_GLOBAL);
	return true;
}

/* The fault event interrupt (VEC_IOMMU): the primary fault records of every unit (7.3). */
void iommu_fault(void)
{
	for (struct vtd_unit *u = units; u < units + nunits; u++) {
		u32 fsts = rd32(u, VTD_FSTS);
		for (unsigned k = 0, r = (fsts >> 8) & 0xff; (fsts & FSTS_PPF) && k < u->nfr; k++, r = (r + 1) % u->nfr) {
			u64 hi = rd64(u, u->frcd + 16 * r + 8), lo = rd64(u, u->frcd + 16 * r);
			if (!(hi & FRCD_F))
				break;
			wr32(u, u->frcd + 16 * r + 12, (u32)(FRCD_F >> 32)); /* F: write 1 to clear */
			u16 sid = (u16)hi;
			volatile u64 *ce = context(sid, true);
			if (ce && (ce[0] & CTX_FPD))
				continue; /* blocked and reported before */
			if (((hi >> 32) & 0xff) >= FR_IR) /* interrupt request: its entry in 63..48 */
				printk("hypervisor: IOMMU fault: device %02x:%02x.%x interrupt (entry %lu) blocked (reason "
				       "0x%lx): device blocked\n", HV_BDF_BUS(sid), HV_BDF_DEV(sid), HV_BDF_FN(sid),
				       lo >> 48, (hi >> 32) & 0xff);
			else
				printk("hypervisor: IOMMU fault: device %02x:%02x.%x %s at 0x%lx (reason 0x%lx): device blocked\n",
				       HV_BDF_BUS(sid), HV_BDF_DEV(sid), HV_BDF_FN(sid), hi & FRCD_READ ? "read" : "write",
				       lo & ~0xffful, (hi >> 32) & 0xff);
			if (ce)
				set_context(ce, empty_table, CTX_FPD, ctx_did(ce) ? ctx_did(ce) : DID_NONE);
		}
		wr32(u, VTD_FSTS, fsts & FSTS_CLEAR);
	}
}
