/* The roottask's shared state: domains, services, logging. */
#ifndef ROOTTASK_H
#define ROOTTASK_H

#include "config.h"
#include "pcicfg.h"
#include "ralloc.h"
#include <hv/hip.h>
#include <hv/runtime.h>

#define RT_MAX_CPUS HV_HIP_MAX_CPUS
#define RT_MAX_SERVICES 16
#define RT_MAX_MEM 24 /* RAM pieces of one domain: segments, stack, start info, dma, heap */
#define RT_MAX_OWNED (4 + (CFG_MAX_CALLS + 1) * RT_MAX_CPUS) /* portals the roottask makes for a domain */

enum dom_state { DOM_INVALID, DOM_WAITING, DOM_STARTING, DOM_RUNNING, DOM_FAILED, DOM_EXITED };

struct pci_fn;

struct domain {
	const struct cfg_domain *cfg;
	enum dom_state state;
	unsigned id;      /* portal id of everything it calls: index + 1 */
	hv_sel_t pd, ec, sc;
	hv_sel_t owned[RT_MAX_OWNED]; /* the roottask's portals for it: revoked at its end */
	unsigned nowned;
	bool kmem_pending, kmem_reported;  /* 'report kmem' (report.c) */
	hv_word_t kmem_used, kmem_free;    /* before its start */
	struct pci_fn *dev[CFG_MAX_DEV];   /* its PCI functions: start info dev[i] */
	unsigned ndev;
	struct { hv_word_t pa, size; } mem[RT_MAX_MEM]; /* its RAM: freed at its end */
	unsigned nmem;
	unsigned restarts; /* times started again ('restart') */
};

/* A PCI function found at boot (pci.c). */
struct pci_fn {
	unsigned bdf;
	unsigned vendor, device;
	unsigned class;  /* base << 16 | sub << 8 | prog-if */
	unsigned header; /* header type, without the multi-function bit */
	unsigned int_line, int_pin;
	unsigned nbars;  /* 6 (type 0), 2 (bridge) or 0 */
	struct pci_bar bar[PCI_NBARS];
	struct pci_caps caps;
	struct domain *owner; /* NULL: not granted */
	int msi_slot;         /* MSI semaphore HV_SEL_MSI_BASE + slot, or -1 */
	unsigned gsi;         /* INTx GSI granted, or PCI_NO_GSI */
	uint32_t msi_addr, msi_data;
	bool msix_on;             /* the semaphore is delivered by MSI-X table entry 0 */
	volatile uint32_t *msix_tab; /* the table, mapped for the roottask (NULL: not yet) */
	uint32_t bar_reg[PCI_NBARS]; /* BAR registers as the firmware left them */
};
#define PCI_NO_GSI (~0u)

struct service {
	char name[CFG_NAME_MAX];
	struct domain *provider;
	hv_word_t entry;
	unsigned ncpus;
	hv_sel_t handler[RT_MAX_CPUS]; /* handler ECs, in the roottask's space */
};

extern const struct hv_hip *hip;
extern struct cfg config;
extern const char *config_name;
extern struct domain domains[CFG_MAX_DOMAINS];
extern struct service services[RT_MAX_SERVICES];
extern unsigned nservices;
extern struct ralloc ram;

/* logging (main.c): to the console once it is there, else to the UART */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_report(void *ctx, const char *msg);
struct service *service_find(const char *name);
hv_sel_t root_portal(unsigned cpu, unsigned id, bool fault);
void console_name(unsigned id, const char *name);

/* PCI (pci.c) */
void pci_init(void);
bool pci_grant(struct domain *d, struct hv_startinfo *si, hv_sel_t *next);
void pci_release(struct domain *d);
hv_status_t pci_serve(struct domain *d, struct hv_utcb *u, unsigned words);

/* links between domains (links.c) */
void links_init(void);
bool links_grant(struct domain *d, struct hv_startinfo *si, hv_sel_t *next);
void links_reset(struct domain *d);

/* domains (domain.c) */
hv_status_t give_mem(hv_sel_t pd, hv_word_t src, hv_word_t dst, hv_word_t size, hv_word_t item_flags,
		     unsigned rights);
hv_status_t give_io(hv_sel_t pd, unsigned first, unsigned last);
hv_status_t give_cap(hv_sel_t pd, hv_sel_t src, hv_sel_t dst, unsigned rights);
bool module_find(const char *name, const struct hv_hip_mod **out);
bool domain_start(struct domain *d);
bool domain_ready(const struct domain *d);
void domain_stop(struct domain *d);
void domain_end(struct domain *d, bool crash);

#define RT_ID_MAIN 0x10000u /* portal id bit: the event is from the main EC */
void domains_start_ready(void);

/* 'report kmem' (report.c) */
bool report_init(void);
void report_start(struct domain *d);
void report_end(struct domain *d);

#endif
