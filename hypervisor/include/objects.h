/*
 * The kernel objects: protection domains (PD), execution contexts (EC),
 * scheduling contexts (SC), portals (PT) and semaphores (SM). Each starts
 * with struct kobj; capabilities (mdb nodes of an object space) hold a
 * reference, and an object is destroyed after its last reference goes.
 */
#ifndef HV_OBJECTS_H
#define HV_OBJECTS_H

#include "kcalls.h"
#include "kmem.h"
#include "mdb.h"
#include <arch/layout.h>
#include <hv/abi.h>

struct kobj {
	u8 type;            /* enum hv_obj_type */
	bool zombie;        /* queued for destruction */
	u32 refs;
	struct kobj *zombie_next;
	struct pd *charged; /* whose quota paid for it (holds a reference) */
};

struct pd {
	struct kobj obj;
	struct kmem_quota quota;
	struct space spaces[4]; /* by enum hv_kind */
	bool vm;                /* has a guest-physical space (EPT or NPT) */
	u8 max_prio;            /* no SC above it for its ECs or created by them */
	u64 cpus;               /* CPUs its ECs may be created on (bit n: CPU n) */
	u64 *gpt;               /* kernel-virtual root of its guest-physical page table */
	paddr_t gpt_root;       /* its physical address (EPTP / nested CR3 from it) */
	u64 gpt_gen;            /* bumped when translations are removed (NPT flushes) */
	u32 gpt_cpus;           /* CPUs of its destroyed vCPUs: may cache its guest translations */
	u64 *pml4;              /* kernel-virtual address of the PML4 */
	paddr_t cr3;
	u8 *io_bitmap[2];       /* 2 x 4 KiB, bit set = port denied; NULL = none */
	u64 io_gen;
	u32 id;
	u32 users;              /* ECs in it and objects charged to it */
	bool killed;            /* last capability gone: spaces torn down */
	struct ec *ecs;         /* ECs executing in it */
	u64 *dma_root;          /* IOMMU page table of the devices assigned to it, or NULL
				 * (arch/iommu.c; freed by iommu_pd_destroy) */
};

/*
 * What an EC is doing. The blocked states name what it waits on (ec->wait);
 * ec_cancel_wait() undoes each kind of wait. Whichever way a wait ends,
 * the EC continues on the SC of its call chain's root (ec_chain_sc()),
 * which is derived when it wakes, never remembered while it waits.
 */
enum ec_state {
	EC_RUNNABLE,      /* may run when the SC of its chain runs */
	EC_HANDLER_IDLE,  /* portal handler between calls */
	EC_WAIT_REPLY,    /* in a call or event to ec->callee, waiting for the reply */
	EC_WAIT_SM,       /* queued in ec->wait.sm (and in the timeout list if ec->timeout) */
	EC_WAIT_HANDLER,  /* queued at the busy handler ec->wait.handler; retries the call when woken */
	EC_DEAD
};

struct sm;
struct sc;

struct ec {
	struct regs regs; /* first: the CPU saves user state here */
	struct kobj obj;
	struct pd *pd;
	struct hv_utcb *utcb; /* kernel-virtual */
	enum ec_state state;
	union {               /* valid in EC_WAIT_SM / EC_WAIT_HANDLER */
		struct sm *sm;
		struct ec *handler;
	} wait;
	unsigned cpu;
	bool global;
	bool in_event;        /* its call is an exception message */
	bool recall;          /* deliver HV_EVT_RECALL before it next runs */
	bool dying;           /* killed while its callee runs: dies at the reply */
	u64 fault_addr;       /* CR2 of its last page fault */
	u64 stack_top;        /* local ECs: RSP at each portal call */
	hv_sel_t evt_base;
	struct sc *sc;        /* own SC (global ECs) */
	struct ec *caller;    /* handler: whom to reply to */
	struct ec *callee;    /* caller: the handler it waits for */
	struct ec *qnext;     /* next in the queue of ec->wait's object */
	u64 timeout;          /* TSC deadline of its sm down, 0 = none */
	struct ec *tnext;     /* in its CPU's timeout list, by deadline */
	struct ec *waiters;   /* handler: ECs waiting for it to become idle */
	struct ec *pd_next;   /* in pd->ecs */
	struct vcpu *vcpu;    /* virtual CPU state, or NULL for a thread */
	u32 id;
};

struct sc {
	struct kobj obj;
	struct ec *ec;
	unsigned cpu, prio;
	u64 quantum, left;   /* TSC ticks */
	u64 consumed;
	bool ready;          /* in a run queue */
	struct sc *next;
};

#define PD_OF(o) container_of(o, struct pd, obj)

struct pt {
	struct kobj obj;
	struct ec *ec;
	u64 mtd, ip, id;
};

struct sm {
	struct kobj obj;
	u64 count;
	struct ec *waiters;  /* FIFO */
	int gsi;             /* >= 0: signalled by that interrupt (irq.h: GSI or MSI) */
	bool irq_level_masked;
	bool msi_masked;     /* an MSI dropped until irq_ctrl unmasks it */
};

/*
 * Every raw pointer between kernel objects, and who clears it before its
 * target goes. References (R) keep the target alive; the others are
 * cleared or unlinked by the function named.
 *
 *   pointer                   target  cleared / released by
 *   kobj.charged              PD      R (pd->users): obj_free
 *   mdb_node.target (OBJ)     any     R: space_uninstall
 *   sc.ec, pt.ec              EC      R: sc_destroy, pt_destroy
 *   ec.pd, pd.ecs/ec.pd_next  PD/EC   R (pd->users): ec_destroy unlinks
 *   ec.sc                     SC      sc_destroy
 *   ec.caller / ec.callee     EC      ec_kill (both ends), ipc_reply
 *   ec.wait.sm, sm.waiters    SM/EC   ec_cancel_wait: from ec_kill, sm_destroy, sm_up, timeouts
 *   ec.wait.handler, .waiters EC      ec_cancel_wait: from ec_kill (of either), ec_wake_waiters
 *   ec.tnext (timeout list)   EC      ec_cancel_wait
 *   sc.next (run queue)       SC      sched_unready: from sc_destroy
 *   percpu cur_ec / cur_sc    EC/SC   obj_reap defers destruction while set
 *   percpu io_pd, last_pd,    PD      compared only, never followed: a stale one costs at most
 *          cr3_pd                          an extra I/O-bitmap load, IBPB or shootdown IPI
 *   percpu fpu_owner          vCPU EC vcpu_destroy
 *   irq_sm[]                  SM      R (the kernel's own): never destroyed
 *   IOMMU context entries     PD      iommu_pd_destroy (from pd_destroy; also frees pd.dma_root)
 * No EC remembers the SC it blocked on: ec_chain_sc() finds the SC to
 * make ready when it wakes.
 */

/* The capability at `sel` of pd, or NULL: the hot path of every system call. */
static inline struct mdb_node *cap_node(struct pd *pd, hv_sel_t sel)
{
	if (sel >= HV_SEL_MAX)
		return NULL;
	struct mdb_node **leaf = pd->spaces[HV_KIND_OBJ].sel_leaf[sel / 512];
	return leaf ? leaf[sel % 512] : NULL;
}

/* object lifetime (obj.c) */
void obj_init(struct kobj *o, unsigned type, struct pd *charged);
void obj_free(struct kobj *o, void *mem, size_t size);
void pd_put_user(struct pd *pd);
void obj_get(struct kobj *o);
void obj_put(struct kobj *o);
void obj_reap(void);
void *obj_alloc(struct pd *charged, size_t size);

/* PD (pd.c) */
hv_status_t pd_create(struct pd *parent, u64 quota, bool vm, unsigned max_prio, u64 cpus, struct pd **out);
void pd_destroy(struct pd *pd);

/* EC (ec.c) */
hv_status_t ec_create(struct pd *pd, struct pd *charged, unsigned cpu, bool global, u64 utcb_va,
		      u64 sp, u64 ip, hv_sel_t evt, struct ec **out);
hv_status_t ec_create_vcpu(struct pd *pd, unsigned cpu, hv_sel_t evt, struct ec **out);
void ec_destroy(struct ec *ec);
void ec_cancel_wait(struct ec *ec, hv_status_t st);
struct sc *ec_chain_sc(struct ec *ec);
void ec_wake(struct ec *ec);
/* A system call's status in RAX and the argument a failure blames in RSI
 * (docs/abi.md; RSI is undefined after a success without a result there);
 * ec_set_status() blames none in particular. */
static inline void ec_set_result(struct ec *ec, hv_status_t st, enum hv_arg arg)
{
	ec->regs.rax = st;
	ec->regs.rsi = arg;
}
static inline void ec_set_status(struct ec *ec, hv_status_t st) { ec_set_result(ec, st, HV_ARG_NONE); }
void ec_wake_waiters(struct ec *handler);
NORETURN void ec_continue(struct ec *ec);

/* IPC (ipc.c) */
NORETURN void ipc_call(struct ec *ec, struct pt *pt, u64 tag);
NORETURN void ipc_reply(struct ec *h, u64 tag);
hv_status_t cap_lookup(struct pd *pd, hv_sel_t sel, unsigned type, unsigned rights, struct kobj **out);

/* SC (sc.c) */
hv_status_t sc_create(struct pd *charged, struct ec *ec, unsigned prio, unsigned quantum_us,
		      struct sc **out);
void sc_destroy(struct sc *sc);

/* PT (pt.c) */
hv_status_t pt_create(struct pd *charged, struct ec *ec, u64 mtd, u64 ip, u64 id, struct pt **out);
void pt_destroy(struct pt *pt);

/* SM (sm.c) */
hv_status_t sm_create(struct pd *charged, u64 count, struct sm **out);
void sm_destroy(struct sm *sm);
hv_status_t sm_up(struct sm *sm);
hv_status_t sm_down(struct sm *sm, bool block, u64 deadline);
void sm_timeouts(unsigned cpu, u64 now);
u64 sm_next_timeout(unsigned cpu);
void sm_unqueue(struct ec *ec);

#endif
