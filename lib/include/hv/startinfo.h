/*
 * What the roottask gives every domain it starts: the start-info page,
 * mapped read-only at HV_SI_ADDR; RDI points to it when the first EC starts.
 * This is a user-space convention between the roottask and the runtime
 * library, not part of the kernel ABI.
 */
#ifndef HV_STARTINFO_H
#define HV_STARTINFO_H

#include <hv/abi.h>

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
#define HV_SI_SEL_FIRST_FREE HV_SI_SEL_EVT(16) /* grants start here; see below */

#define HV_SI_NAME 16
#define HV_SI_ARGS 192
#define HV_SI_MAX_SVC 8
#define HV_SI_MAX_IRQ 8
#define HV_SI_MAX_IO 8
#define HV_SI_MAX_FILES 4
#define HV_SI_FILES 0x0000600000000000ul   /* 'file' modules, read-only, from here */

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
};

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
enum hv_root_op { HV_ROOT_REGISTER = 1, HV_ROOT_EXIT = 2 };

/*
 * Console protocol (calls on HV_SI_SEL_CONSOLE), mr[0] = operation:
 *   HV_CONS_WRITE: mr[1] = byte count n (<= HV_CONS_MAX), bytes from mr[2];
 *     the console prefixes each line with "[name] ".
 *   HV_CONS_READ:  reply mr[1] = byte count, bytes from mr[2] (non-blocking;
 *     0 when there is no input).
 *   HV_CONS_NAME:  roottask only (portal id 0): mr[1] = domain id, name in
 *     mr[2..3]; sets the prefix for that id.
 * Reply: mr[0] = hv_status_t.
 */
enum hv_cons_op { HV_CONS_WRITE = 1, HV_CONS_READ = 2, HV_CONS_NAME = 3 };
#define HV_CONS_MAX 256

#endif
