/*
 * The kernel objects: protection domains (PD), execution contexts (EC),
 * scheduling contexts (SC), portals (PT) and semaphores (SM). Each starts
 * with struct kobj; capabilities (mdb nodes of an object space) hold a
 * reference, and an object is destroyed after its last reference goes.
 */
#ifndef HV_OBJECTS_H
#define HV_OBJECTS_H

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
};

enum ec_state {
	EC_RUNNABLE,   /* user state saved, may run when its SC runs */
	EC_HANDLER_IDLE, /* local EC waiting for a portal call */
	EC_WAIT_REPLY, /* called a portal (or raised an event), waits for reply */
	EC_BLOCKED,    /* in sm down, or waiting for a busy handler */
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
	unsigned cpu;
	bool global;
	bool in_event;        /* its call is an exception message */
	bool recall;          /* deliver HV_EVT_RECALL before it next runs */
	bool dying;           /* killed while its callee runs: dies at the reply */
	u64 fault_addr;       /* CR2 of its last page fault */
	u64 stack_top;        /* local ECs: RSP at each portal call */
	hv_sel_t evt_base;
	struct sc *sc;        /* own SC (global ECs) */
	struct sc *blocked_sc;/* SC to wake when it unblocks */
	struct ec *caller;    /* handler: whom to reply to */
	struct ec *callee;    /* caller: the handler it waits for */
	struct ec *qnext;     /* in an SM's or a handler's wait queue */
	struct sm *waiting_sm;
	u64 timeout;          /* TSC deadline of its sm down, 0 = none */
	struct ec *tnext;     /* in its CPU's timeout list, by deadline */
	struct ec *waiting_on;/* handler whose queue it is in */
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
	int gsi;             /* >= 0: signalled by that interrupt */
	bool irq_level_masked;
};

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
hv_status_t pd_create(struct pd *parent, u64 quota, bool vm, struct pd **out);
void pd_destroy(struct pd *pd);

/* EC (ec.c) */
hv_status_t ec_create(struct pd *pd, struct pd *charged, unsigned cpu, bool global, u64 utcb_va,
		      u64 sp, u64 ip, hv_sel_t evt, struct ec **out);
hv_status_t ec_create_vcpu(struct pd *pd, unsigned cpu, hv_sel_t evt, struct ec **out);
void ec_destroy(struct ec *ec);
void ec_kill(struct ec *ec, const char *why);
NORETURN void ec_resume(struct ec *ec);
NORETURN void kernel_exit(struct ec *ec);
static inline void ec_set_status(struct ec *ec, hv_status_t st) { ec->regs.rax = st; }
void ec_wake_waiters(struct ec *handler);

/* IPC (ipc.c) */
NORETURN void ipc_call(struct ec *ec, struct pt *pt, u64 tag);
NORETURN void ipc_reply(struct ec *h, u64 tag);
NORETURN void ipc_event(struct ec *ec, unsigned event);
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
void sm_remove_waiter(struct ec *ec);

#endif
