/*
 * The system-call fuzzer (README.md in this folder): shared declarations.
 *
 * Who runs what. Workers (several global ECs per CPU) make a fixed number
 * of random and semi-random system calls each; they never block without a
 * deadline and call portals only with HV_TAG_NONBLOCK, so they always
 * finish. Victims (ECs the workers spawn) may do anything: block forever,
 * fault, call portals that stop them. Handlers (local ECs, a few per CPU)
 * answer portal calls, exceptions and VM exits with random replies and
 * never block. Everything random stays inside a playground of selectors
 * and addresses, so the fuzzer cannot destroy its own workers; only the
 * kernel can break them.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <hv/runtime.h>
#include <stdbool.h>
#include <stdint.h>

#define FZ_MAX_CPUS 16
#define FZ_MAX_WORKERS 64
#define FZ_MAX_THREADS 8 /* workers per CPU */

/* Selectors. Below FZ_SEL_EXC: start info and infrastructure (hv_sel_alloc). */
#define FZ_SEL_EXC 1024   /* per CPU c: 64 selectors at FZ_SEL_EXC + 64c, event portals 0..32 */
#define FZ_SEL_EMPTY 2048 /* 64 selectors never filled: an event base without portals */
#define FZ_SEL_PLAY 4096  /* the playground: every object random calls create or destroy */
#define FZ_SEL_PLAY_N 4096
#define FZ_VICTIM_SLOTS 16 /* per worker: victim i uses partition + 2i (EC) and + 2i + 1 (SC) */
#define FZ_VM_SLOT (2 * FZ_VICTIM_SLOTS) /* VM PD, vCPU, SC, then its exit portals */
#define FZ_VM_PORTALS 20
#define FZ_DENSE 256       /* creations land mostly in the first FZ_DENSE of a partition */

/* Virtual addresses (all above the domain's image, heap and UTCBs). */
#define FZ_VA_PLAY 0x100000000000ul /* random mappings and receive windows */
#define FZ_VA_PLAY_PAGES 16384ul    /* a 64 MiB window: page tables stay few */
#define FZ_VA_UTCB 0x200000000000ul /* victims' UTCBs, per worker */
#define FZ_VA_STACK 0x300000000000ul /* victims' stacks (aliases of stack-pool pages) */
#define FZ_VA_STRIDE (1ul << 32)     /* per worker in the two regions above */
#define FZ_UTCB_RING 256             /* UTCB addresses a worker cycles through */

/* Pools of heap pages (main.c): what random delegations may take. */
#define FZ_SCRATCH_PAGES 32 /* contents never matter */
#define FZ_GUEST_PAGES 64   /* guest-physical 0..256 KiB of every VM the fuzzer makes */
#define FZ_GUEST_CODE 0x10000ul /* where vCPUs start (real mode, CS 0x1000) */

/* Portal ids of the fuzzer's handlers: kind << 8 | CPU. */
enum fz_handler_kind { FZ_H_RAND = 1, FZ_H_EXC = 2, FZ_H_VMM = 3 };
#define FZ_ID(kind, cpu) (((hv_word_t)(kind) << 8) | (cpu))
#define FZ_ID_KIND(id) (((id) >> 8) & 0xff)

/* mr[0] of a call that allows the random handler to reply HV_TAG_STOP. */
#define FZ_STOP_OK 0x5709500000000000ul
#define FZ_STOP_MASK 0xfffff00000000000ul

enum fz_role { FZ_WORKER, FZ_VICTIM, FZ_HANDLER };

#define FZ_TYPES (HV_OBJ_SM + 1) /* recent objects by type; 0: any */
#define FZ_RECENT 8

/* Counters of events that are not system calls. */
enum fz_event {
	FZ_EV_VICTIMS,   /* victims spawned */
	FZ_EV_VMS,       /* VM PDs set up with a vCPU */
	FZ_EV_EXC,       /* exceptions served */
	FZ_EV_VMEXIT,    /* VM exits served */
	FZ_EV_CALLS_IN,  /* portal calls served */
	FZ_EV_STOPS,     /* replies with HV_TAG_STOP */
	FZ_EV_STORMS,    /* create/destroy storms */
	FZ_EV_CYCLES,    /* cyclic delegations */
	FZ_EV_FAULTS,    /* faults victims raised on purpose */
	FZ_EV_ANOMALY,   /* results the ABI rules out */
	FZ_EV_COUNT
};

struct fz_rng {
	uint64_t s;
};

/* Per EC that makes random calls (worker, victim, handler). */
struct fz_ctx {
	struct fz_rng rng;
	struct hv_utcb *utcb;
	unsigned role, cpu, worker;
	uint64_t calls;         /* system calls it made */
	hv_sel_t part;          /* first selector of its worker's playground partition */
	hv_sel_t recent[FZ_TYPES][FZ_RECENT]; /* objects it created lately, by type (0: all) */
	unsigned nrecent[FZ_TYPES];
	/* workers only */
	unsigned victim_next;   /* victim slot to use next */
	uint64_t utcb_next;     /* victims' UTCB ring position */
	hv_word_t stack_pages;  /* its FZ_VICTIM_SLOTS stack-pool pages */
	unsigned prio;          /* its own priority */
	hv_sel_t nap;           /* a semaphore nobody ups: it waits on it with a deadline */
};

/* A victim's start: at the top of its stack (read-only to it). */
struct fz_victim {
	uint64_t seed;
	hv_word_t utcb;
	unsigned cpu, worker, ncalls;
	hv_sel_t recent[FZ_TYPES][FZ_RECENT]; /* its worker's, when it was made */
	unsigned nrecent[FZ_TYPES];
};

/* Set up by main.c. */
extern unsigned fz_ncpus, fz_nworkers, fz_vm_ok, fz_prio, fz_vm_field, fz_ops;
/* Kinds of operations (module argument ops=MASK, to narrow a finding down). */
#define FZ_OP_SYSCALL 1u /* single random system calls */
#define FZ_OP_VICTIM 2u
#define FZ_OP_VM 4u
#define FZ_OP_STORM 8u
#define FZ_OP_CYCLE 16u
#define FZ_OP_SWEEP 32u
extern hv_word_t fz_tsc_khz, fz_part_size;
extern unsigned fz_max_prio; /* the scheduling limits of the fuzzer's PD: */
extern hv_word_t fz_cpus;     /* what its child PDs get (create_pd R8, R9) */
extern hv_word_t fz_scratch, fz_guest; /* pool bases (heap addresses) */
extern uint64_t fz_seed;
struct fz_handler {
	hv_sel_t ec;
	unsigned cpu, kind;
	hv_word_t ip;
	struct fz_rng rng;
};
extern struct fz_handler fz_handlers[];
extern unsigned fz_nhandlers;

/* Statistics (atomic counters). Row HV_SYS_COUNT: numbers outside the ABI. */
#define FZ_ST_OTHER HV_STATUS_COUNT
extern uint64_t fz_stats[HV_SYS_COUNT + 1][HV_STATUS_COUNT + 1];
extern uint64_t fz_events[FZ_EV_COUNT];
extern uint64_t fz_ticks[HV_SYS_COUNT + 1]; /* TSC ticks spent in each call */
static inline void fz_event(enum fz_event e) { __atomic_fetch_add(&fz_events[e], 1, __ATOMIC_RELAXED); }

/* ---- random values (gen.c) ---------------------------------------------------- */
uint64_t fz_rand(struct fz_rng *r);
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n) { return n ? fz_rand(r) % n : 0; }
static inline bool fz_chance(struct fz_rng *r, unsigned one_in) { return fz_below(r, one_in) == 0; }
uint64_t fz_seed_of(uint64_t seed, uint64_t stream);
uint64_t fz_word(struct fz_rng *r);        /* 0, ±1, powers of two, random ... */
uint64_t fz_hostile(struct fz_rng *r);     /* values that are never a mapped address */
unsigned fz_order(struct fz_rng *r);
unsigned fz_rights(struct fz_rng *r);
/* An object to act on, preferably of `type` (0: any): playground, own PD or bad. */
hv_sel_t fz_sel_obj(struct fz_ctx *c, unsigned type);
hv_sel_t fz_sel_play(struct fz_ctx *c, unsigned type); /* playground or bad (destructive uses) */
hv_sel_t fz_sel_dst(struct fz_ctx *c);    /* where to put a new capability */
hv_sel_t fz_sel_src(struct fz_ctx *c);    /* a capability of the own space to pass on */
hv_word_t fz_addr_beyond(struct fz_rng *r);
hv_word_t fz_addr_bad(struct fz_rng *r);
hv_word_t fz_addr_play(struct fz_rng *r, unsigned order); /* in the playground window */
hv_word_t fz_addr_dst(struct fz_rng *r, unsigned order);
hv_word_t fz_addr_src(struct fz_rng *r, unsigned order);   /* pools, code, playground or bad */
hv_word_t fz_gpa(struct fz_rng *r, unsigned order);
hv_word_t fz_port(struct fz_rng *r);
hv_word_t fz_deadline(struct fz_ctx *c, bool *blocking);
void fz_remember(struct fz_ctx *c, hv_sel_t s, unsigned type);

/* ---- system calls (ops.c) -------------------------------------------------- */
/* One counted system call with all six argument registers; rsi/rdx/r8 out. */
hv_status_t fz_sys(struct fz_ctx *c, hv_word_t nr, hv_word_t a0, hv_word_t a1, hv_word_t a2, hv_word_t a3,
		   hv_word_t a4, hv_word_t a5, hv_word_t out[3]);
void fz_op(struct fz_ctx *c);               /* one random operation */
void fz_message(struct fz_ctx *c, hv_word_t *tag, bool reply);
HV_NORETURN void fz_fault(struct fz_ctx *c); /* victims: raise an exception, never return */

/* ---- victims, handlers and the hostile VMM (serve.c, vm.c) -------------------- */
void fz_victim_entry(void);
void fz_pad(void);                          /* hlt forever: #GP at every byte */
hv_status_t fz_handlers_init(void);
hv_word_t fz_handler_ip(unsigned kind);
struct fz_handler *fz_handler_pick(struct fz_ctx *c, unsigned kind);
void fz_victim_spawn(struct fz_ctx *c);
void fz_vm_spawn(struct fz_ctx *c);
void fz_vm_reply(struct fz_rng *r, struct hv_cpu_state *st);
void fz_guest_init(void);

#endif
