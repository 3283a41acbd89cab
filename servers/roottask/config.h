/*
 * Roottask configuration parser: turns the text of a configuration file
 * (docs/config.md describes the format) into a table of domains.
 *
 * Pure logic: no allocation, no global state, no I/O. Errors are handed to a
 * caller-supplied report function as complete "FILE:LINE: message" lines.
 * A domain with any error is kept in the table but marked invalid; the
 * roottask starts only the valid ones.
 */
#ifndef ROOTTASK_CONFIG_H
#define ROOTTASK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_DOMAINS 32
#define CFG_NAME_MAX 16     /* domain and service names: 1..15 chars + NUL */
#define CFG_MODULE_MAX 32   /* module name: 1..31 chars + NUL */
#define CFG_ARGS_MAX 192    /* module arguments: 0..191 chars + NUL */
#define CFG_MAX_IO 8        /* 'ioport' lines per domain */
#define CFG_MAX_IRQ 8       /* 'irq' lines per domain */
#define CFG_MAX_PROVIDES 4  /* 'provides' lines per domain */
#define CFG_MAX_CALLS 8     /* 'call' lines per domain */
#define CFG_MAX_FILES 4     /* 'file' lines per domain */
#define CFG_MAX_DEV 4       /* 'device' lines per domain */
#define CFG_MAX_DISK 4      /* 'disk' lines per domain */
#define CFG_MAX_PORT_LINKS 4 /* 'port' lines per domain */
#define CFG_MAX_LINKS (CFG_MAX_DISK + CFG_MAX_PORT_LINKS)
#define CFG_MAX_ALLOW 32    /* 'allow' lines per domain */
#define CFG_MAX_DOM_LINKS 16 /* links of one domain, as client and server */
#define CFG_LINE_MAX 255    /* characters per line, without the line end */

#define CFG_MAX_CPU 15u     /* 'cpu' 0..CFG_MAX_CPU */
#define CFG_MAX_GSI 23u     /* 'irq' 0..CFG_MAX_GSI */
#define CFG_PRIO_MIN 1u
#define CFG_PRIO_MAX 63u
#define CFG_QUANTUM_MIN 100u
#define CFG_QUANTUM_MAX 1000000u
#define CFG_MEMORY_MIN (64ull << 10)
#define CFG_MEMORY_MAX (1ull << 30)
#define CFG_KMEM_MAX (64ull << 20)
#define CFG_MAX_PORT 0xffffu
#define CFG_DMA_MIN (4ull << 10)
#define CFG_DMA_MAX (64ull << 20)
#define CFG_LINK_SIZE_MIN (64ull << 10)
#define CFG_LINK_SIZE_MAX (16ull << 20)
#define CFG_LINK_SIZE_DEFAULT (256ull << 10)
#define CFG_MAX_PART 128u
#define CFG_RATE_MIN 1024ull

#define CFG_DEFAULT_CPU 0u
#define CFG_DEFAULT_PRIO 10u
#define CFG_CPUS_ALL UINT64_MAX /* 'cpus' not given: every CPU */
#define CFG_DEFAULT_QUANTUM 10000u
#define CFG_DEFAULT_MEMORY (1ull << 20)
#define CFG_DEFAULT_KMEM (64ull << 10)

/* An inclusive I/O port range granted by 'ioport'. */
struct cfg_io {
	unsigned first, last;
};

/* A PCI function granted by 'device': by address or by IDs. */
struct cfg_dev {
	bool by_id;              /* VVVV:DDDD (else BB:DD.F) */
	unsigned bdf;            /* bus << 8 | dev << 3 | fn */
	unsigned vendor, device; /* IDs */
	bool wc;                 /* memory BARs write-combining */
	bool msix;               /* MSI-X even where the function has MSI */
};

/* 'restart': when the roottask starts a domain again after its end. */
enum cfg_restart { CFG_RESTART_NEVER, CFG_RESTART_ON_CRASH, CFG_RESTART_ALWAYS };
#define CFG_DEFAULT_RESTARTS 3u
#define CFG_MAX_RESTARTS 1000u

/* A link this domain asks for as the client ('disk' or 'port'). */
enum cfg_link_kind { CFG_LINK_DISK = 1, CFG_LINK_PORT = 2 }; /* = HV_LINK_DISK/PORT */
struct cfg_link {
	unsigned kind;            /* enum cfg_link_kind */
	char peer[CFG_NAME_MAX];  /* the server domain */
	uint64_t size;            /* region bytes, multiple of 4 KiB */
	/* disk */
	uint64_t first, count;    /* extent in sectors (count 0: to the end), or first = partition */
	bool part, ro;            /* 'partN', 'ro' */
	/* port */
	uint64_t mac;             /* first octet in bits 40..47 */
	unsigned vlan;            /* 0: untagged */
	uint64_t rate;            /* bytes per second, 0: unlimited */
};

/*
 * One 'domain' block. Line numbers (1-based, 0 = key not given) let the
 * roottask report later problems, such as a CPU that is not present, at
 * the place in the file that caused them.
 */
struct cfg_domain {
	char name[CFG_NAME_MAX];
	char module[CFG_MODULE_MAX];
	char args[CFG_ARGS_MAX];
	unsigned cpu;
	unsigned prio;
	unsigned max_prio;  /* highest priority of its SCs: 'max-priority', else prio */
	uint64_t cpus;      /* CPUs it may run threads on (bit n: CPU n) */
	unsigned quantum_us;
	uint64_t memory; /* bytes, multiple of 4 KiB */
	uint64_t kmem;   /* bytes */

	struct cfg_io io[CFG_MAX_IO];
	unsigned nio;
	unsigned irq[CFG_MAX_IRQ]; /* GSI numbers */
	unsigned nirq;
	char provides[CFG_MAX_PROVIDES][CFG_NAME_MAX];
	unsigned nprovides;
	char calls[CFG_MAX_CALLS][CFG_NAME_MAX];
	unsigned ncalls;
	char files[CFG_MAX_FILES][CFG_MODULE_MAX]; /* extra modules it may read */
	unsigned nfiles;
	bool report_kmem; /* 'report kmem': kernel memory before start and after end */
	struct cfg_dev dev[CFG_MAX_DEV]; /* 'device' lines */
	unsigned ndev;
	uint64_t dma; /* 'dma' bytes (multiple of 4 KiB, part of memory), 0: none */
	struct cfg_link link[CFG_MAX_LINKS]; /* 'disk' and 'port' lines, in file order */
	unsigned nlink, ndisk, nport;
	char allow[CFG_MAX_ALLOW][2][CFG_NAME_MAX]; /* 'allow A B' (a switch's policy) */
	unsigned nallow;
	unsigned restart;     /* enum cfg_restart */
	unsigned restart_max; /* restarts allowed in the system's life */

	unsigned line; /* of 'domain' */
	unsigned module_line, cpu_line, prio_line, quantum_line;
	unsigned max_prio_line, cpus_line;
	unsigned memory_line, kmem_line, report_line, dma_line, restart_line;
	unsigned io_line[CFG_MAX_IO];
	unsigned irq_line[CFG_MAX_IRQ];
	unsigned provides_line[CFG_MAX_PROVIDES];
	unsigned call_line[CFG_MAX_CALLS];
	unsigned file_line[CFG_MAX_FILES];
	unsigned dev_line[CFG_MAX_DEV];
	unsigned link_line[CFG_MAX_LINKS];
	unsigned allow_line[CFG_MAX_ALLOW];

	bool valid; /* false if any error was reported for this domain */
};

/* The parsed file: domains in file order (valid and invalid ones). */
struct cfg {
	struct cfg_domain dom[CFG_MAX_DOMAINS];
	unsigned ndom;
	unsigned nerrors; /* errors reported, 0 for a clean file */
};

/*
 * Receives one complete error line such as
 * "system.conf:12: unknown key 'foo'" (no trailing newline). The string is
 * valid only during the call.
 */
typedef void (*cfg_report_fn)(void *ctx, const char *msg);

/*
 * Parses len bytes of text (need not be NUL-terminated; NULL with len 0 is
 * an empty file) into *out. fname is used only in messages. report may be
 * NULL; errors are still counted in out->nerrors. Never fails as a whole:
 * every problem is reported and invalidates at most the domain holding it.
 */
void cfg_parse(const char *text, size_t len, const char *fname,
	       struct cfg *out, cfg_report_fn report, void *ctx);

/* Index of the domain named name, or -1. */
int cfg_find_domain(const struct cfg *c, const char *name);

/* Index of the valid domain that provides service svc, or -1. */
int cfg_find_provider(const struct cfg *c, const char *svc);

/* Whether the valid domain at index sw has a 'port' link to it from domain name. */
int cfg_port_of(const struct cfg *c, unsigned sw, const char *name);

/* Number of valid domains. */
unsigned cfg_count_valid(const struct cfg *c);

#endif
