/*
 * What the roottask gives every domain it starts: the start-info page,
 * mapped read-only at HV_SI_ADDR; RDI points to it when the first EC starts.
 * This is a user-space convention between the roottask and the runtime
 * library, not part of the kernel ABI.
 */
#ifndef HV_STARTINFO_H
#define HV_STARTINFO_H

#include <hv/abi.h>
#include <hv/link.h>

#define HV_SI_MAGIC 0x4f464e49534476ul /* "vDSINFO" */
#define HV_SI_ADDR 0x00007f0000000000ul
#define HV_SI_UTCB 0x00007f0000001000ul      /* main EC's UTCB */
#define HV_SI_STACK_TOP 0x00007f0000100000ul /* main stack (HV_SI_STACK_SIZE) */
#define HV_SI_STACK_SIZE 0x10000ul
#define HV_SI_HEAP 0x0000000040000000ul      /* domain memory not used by the image */
#define HV_SI_FREE_VA 0x0000000080000000ul   /* nothing is mapped from here up */

/* Fixed selectors in every domain. */
#define HV_SI_SEL_PD 0      /* own PD: HV_R_PD_CREATE (quota from 'kmem') */
#define HV_SI_SEL_EC 1      /* main EC */
#define HV_SI_SEL_SC 2      /* main SC */
#define HV_SI_SEL_CONSOLE 3 /* console portal (0 caps if no console) */
#define HV_SI_SEL_ROOT 4    /* roottask service portal (register/exit) */
#define HV_SI_SEL_EVT_MAIN 64 /* the main EC's event portals (+ HV_EVT_EXC(v)): a fault there ends the domain */
/* Event portals for the other ECs on CPU `cpu` (+ HV_EVT_EXC(v)), to the
 * roottask's handler there: events are CPU-local, so each CPU has its own. */
#define HV_SI_SEL_EVT(cpu) (128 + 64 * (hv_sel_t)(cpu))
/* Grants (see below), then the domain's free selectors, start after the
 * last CPU's event portals: at HV_SI_SEL_EVT(number of CPUs). */
#define HV_SI_SEL_GRANTS(ncpus) HV_SI_SEL_EVT(ncpus)

#define HV_SI_NAME 16
#define HV_SI_ARGS 192
#define HV_SI_MAX_SVC 8
#define HV_SI_MAX_IRQ 8
#define HV_SI_MAX_IO 8
#define HV_SI_MAX_FILES 4
#define HV_SI_FILES 0x0000600000000000ul   /* 'file' modules, read-only, from here */
#define HV_SI_MAX_DEV 4
#define HV_SI_MAX_BAR 6
/* 'device': memory BAR b of device d is mapped (uncached, or write-combining
 * where the configuration says 'wc') at HV_SI_BAR(d, b): a 4 GiB slot each. */
#define HV_SI_BARS 0x0000500000000000ul
#define HV_SI_BAR(d, b) (HV_SI_BARS + (((hv_word_t)(d) * HV_SI_MAX_BAR + (b)) << 32))
/* 'dma': physically contiguous RAM, mapped read-write here and DMA-able by
 * the domain's devices at I/O virtual address = its physical address. */
#define HV_SI_DMA 0x0000480000000000ul

struct hv_si_service {
	char name[HV_SI_NAME];
	hv_sel_t sel;       /* portal to the server's handler on CPU c is sel + c */
	hv_word_t num_cpus; /* how many consecutive selectors */
};

struct hv_si_irq {
	hv_word_t gsi;
	hv_sel_t sel; /* semaphore signalled by that interrupt */
};

struct hv_si_io {
	hv_word_t first, last; /* inclusive port range granted */
};

/* One BAR of an assigned PCI function. */
struct hv_si_bar {
	hv_word_t phys;  /* bus address (memory) or first port (I/O); 0 = no BAR */
	hv_word_t size;  /* bytes or ports */
	hv_word_t flags; /* HV_SI_BAR_* */
	hv_word_t addr;  /* memory BAR: where it is mapped (HV_SI_BAR(d, b)) */
};
#define HV_SI_BAR_IO (1u << 0)       /* I/O ports, granted in the I/O space */
#define HV_SI_BAR_64 (1u << 1)       /* 64-bit memory BAR (b + 1 is its upper half: size 0) */
#define HV_SI_BAR_PREFETCH (1u << 2) /* prefetchable */
#define HV_SI_BAR_WC (1u << 3)       /* mapped write-combining */
#define HV_SI_BAR_HOLE (1u << 4)     /* pages holding the MSI-X table/PBA are not mapped */

/* A PCI function assigned to the domain ('device' key). */
struct hv_si_dev {
	hv_word_t bdf;              /* HV_BDF(bus, dev, fn) */
	hv_word_t vendor, device;   /* IDs */
	hv_word_t class;            /* class code: base << 16 | sub << 8 | prog-if */
	struct hv_si_bar bar[HV_SI_MAX_BAR];
	hv_sel_t irq_sel;           /* semaphore signalled by the device's interrupt */
	hv_word_t gsi;              /* INTx: the GSI (msi_addr == 0) */
	hv_word_t msi_addr, msi_data; /* MSI: what the device must send (0: INTx) */
	hv_word_t irq_flags;        /* HV_SI_IRQ_* */
};
/* The message goes out through MSI-X table entry 0, which the roottask has
 * written (address/data above, every other entry masked); the table and
 * PBA pages are not mapped (HV_SI_BAR_HOLE). The driver sets the MSI-X
 * enable bit (hv_pci_msix_enable). Without it: the MSI capability. */
#define HV_SI_IRQ_MSIX (1u << 0)

struct hv_si_file {
	char name[32];
	hv_word_t addr, size; /* mapped read-only at addr */
};

struct hv_startinfo {
	hv_word_t magic;
	char name[HV_SI_NAME]; /* domain name from the configuration */
	char args[HV_SI_ARGS]; /* module arguments from the configuration */
	hv_word_t cpu;         /* CPU of the main EC */
	hv_word_t num_cpus;    /* CPUs in the machine */
	hv_word_t tsc_khz;
	hv_word_t heap_base, heap_size; /* RAM mapped RW for the domain's use */
	hv_word_t kmem_quota;
	hv_sel_t first_free_sel; /* selectors from here up are unused */
	hv_word_t num_svc, num_irq, num_io;
	struct hv_si_service svc[HV_SI_MAX_SVC]; /* services it may call */
	struct hv_si_irq irq[HV_SI_MAX_IRQ];
	struct hv_si_io io[HV_SI_MAX_IO];
	hv_word_t num_files;
	struct hv_si_file files[HV_SI_MAX_FILES];
	hv_word_t num_dev;
	struct hv_si_dev dev[HV_SI_MAX_DEV];
	hv_word_t dma_addr, dma_phys, dma_size; /* 'dma' memory (size 0: none) */
	hv_sel_t link_sm;     /* links: own doorbell, right to down it (hv/link.h) */
	hv_word_t num_links;
	struct hv_si_link link[HV_SI_MAX_LINKS];
	hv_word_t restarts;   /* times the roottask has started this domain again ('restart') */
};
_Static_assert(sizeof(struct hv_startinfo) <= 4096, "the start info is one page");

/*
 * Roottask service protocol (calls on HV_SI_SEL_ROOT), mr[0] = operation:
 *   HV_ROOT_REGISTER: mr[1] = entry IP, mr[2..3] = service name (16 bytes),
 *     mr[4] = n, mr[5..5+n) = selectors (in the caller's space) of the
 *     handler ECs for CPUs 0..n-1; the roottask takes those capabilities
 *     out of the caller's PD (it holds that PD with HV_R_PD_MAP) and creates
 *     one portal per client and CPU, with the client's domain id as the
 *     portal id (a handler receives it in RDI and can trust it).
 *   HV_ROOT_EXIT: mr[1] = exit code; the domain is stopped and reported.
 * Reply: mr[0] = hv_status_t.
 */
enum hv_root_op { HV_ROOT_REGISTER = 1, HV_ROOT_EXIT = 2, HV_ROOT_PCI_READ = 3, HV_ROOT_PCI_WRITE = 4 };
/*
 * Configuration space of an assigned device, mediated by the roottask:
 *   HV_ROOT_PCI_READ:  mr[1] = device index d (dev[d] of the start info),
 *     mr[2] = offset, mr[3] = size (1, 2 or 4, naturally aligned, below
 *     4096 with ECAM, 256 without); reply mr[1] = value.
 *   HV_ROOT_PCI_WRITE: the same and mr[4] = value. Only the command and
 *     status registers and the MSI, MSI-X and power-management capabilities
 *     may be written; MSI address/data only with the values of dev[d]
 *     (irq_ctrl on irq_sel returns them too), MSI enable only without
 *     HV_SI_IRQ_MSIX, MSI-X enable only with it. Anything else: HV_EPERM.
 * Reply mr[0] = hv_status_t (HV_EPARAM: no such device index, bad offset
 * or size).
 */

/*
 * Console protocol (calls on HV_SI_SEL_CONSOLE), mr[0] = operation:
 *   HV_CONS_WRITE: mr[1] = byte count n (<= HV_CONS_MAX), bytes from mr[2];
 *     the console prefixes each line with "[name] " (in its multiplexed
 *     mode the focused domain's bytes go out as they are, the others' are
 *     kept: servers/README.md).
 *   HV_CONS_READ:  reply mr[1] = byte count, bytes from mr[2] (non-blocking;
 *     0 when there is no input; in the multiplexed mode always 0 for a
 *     domain without the focus).
 *   HV_CONS_NAME:  roottask only (portal id 0): mr[1] = domain id, name in
 *     mr[2..3]; sets the prefix for that id.
 * Reply: mr[0] = hv_status_t.
 */
enum hv_cons_op { HV_CONS_WRITE = 1, HV_CONS_READ = 2, HV_CONS_NAME = 3 };
#define HV_CONS_MAX 256

#endif
