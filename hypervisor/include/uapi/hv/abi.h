/*
 * The system-call ABI of the microhypervisor, shared by the kernel and by
 * every user-space program. docs/abi.md describes it register by register.
 *
 * Everything here is plain C99 usable in a freestanding build: no libc.
 */
#ifndef HV_UAPI_ABI_H
#define HV_UAPI_ABI_H

typedef unsigned long hv_word_t; /* one machine word (64 bits) */
typedef unsigned long hv_sel_t;  /* capability selector */

/* ---- Status codes: returned in RAX by every system call ------------------ */
typedef enum hv_status {
	HV_OK = 0,        /* success */
	HV_ETIMEOUT = 1,  /* would block and the call was non-blocking */
	HV_EABORT = 2,    /* partner went away (handler or caller destroyed) */
	HV_ESYS = 3,      /* unknown system call number */
	HV_ECAP = 4,      /* empty selector or capability of the wrong type */
	HV_EPERM = 5,     /* capability lacks a required right */
	HV_EPARAM = 6,    /* malformed argument (range, alignment, flag, value) */
	HV_EMEM = 7,      /* out of kernel memory or over the PD's quota */
	HV_ECPU = 8,      /* CPU does not exist or object lives on another CPU */
	HV_EBUSY = 9,     /* destination selector or range already in use */
	HV_EOVERFLOW = 10 /* counter would overflow */
} hv_status_t;

#define HV_STATUS_COUNT 11

/* ---- System call numbers (in RAX; arguments in RDI RSI RDX R10 R8 R9) ---- */
enum hv_syscall {
	HV_SYS_CALL = 0,      /* rdi=portal  rsi=msg tag                -> rsi=reply tag */
	HV_SYS_REPLY = 1,     /* rdi=msg tag  (handlers only; does not return) */
	HV_SYS_CREATE_PD = 2, /* rdi=dst  rsi=parent pd  rdx=kmem quota (bytes) */
	HV_SYS_CREATE_EC = 3, /* rdi=dst rsi=pd rdx=flags r10=utcb r8=sp r9=ip */
	HV_SYS_CREATE_SC = 4, /* rdi=dst  rsi=pd  rdx=ec  r10=qos */
	HV_SYS_CREATE_PT = 5, /* rdi=dst rsi=pd rdx=ec r10=mtd r8=ip r9=id */
	HV_SYS_CREATE_SM = 6, /* rdi=dst  rsi=pd  rdx=initial count */
	HV_SYS_DELEGATE = 7,  /* rdi=src pd  rsi=dst pd  rdx=item  r10=src  r8=dst */
	HV_SYS_REVOKE = 8,    /* rdi=item (kind|order|HV_REVOKE_SELF) rsi=base */
	HV_SYS_LOOKUP = 9,    /* rdi=kind rsi=base -> rsi=item descriptor */
	HV_SYS_SM_CTRL = 10,  /* rdi=sm  rsi=op */
	HV_SYS_SC_CTRL = 11,  /* rdi=sc -> rsi=consumed time (TSC ticks) */
	HV_SYS_EC_CTRL = 12,  /* rdi=ec  rsi=op */
	HV_SYS_IRQ_CTRL = 13, /* rdi=irq sm  rsi=cpu  rdx=flags */
	HV_SYS_NULL = 14,     /* does nothing; for measuring entry/exit cost */
	HV_SYS_COUNT = 15
};

/* ---- Capabilities --------------------------------------------------------- */
/* Kinds of address space a delegation or revocation refers to. */
enum hv_kind {
	HV_KIND_OBJ = 0, /* capability selectors */
	HV_KIND_MEM = 1, /* virtual pages (base in bytes, page aligned) */
	HV_KIND_IO = 2   /* I/O ports */
};

/* Object types, as HV_SYS_LOOKUP reports them. */
enum hv_obj_type {
	HV_OBJ_NONE = 0,
	HV_OBJ_PD = 1,
	HV_OBJ_EC = 2,
	HV_OBJ_SC = 3,
	HV_OBJ_PT = 4,
	HV_OBJ_SM = 5
};

/* Rights of object capabilities; the meaning of a bit depends on the type. */
#define HV_R_PD_CREATE (1u << 0) /* create objects charged to this PD */
#define HV_R_PD_MAP (1u << 1)    /* delegate into / out of it by syscall */
#define HV_R_EC_CTRL (1u << 0)   /* ec_ctrl (recall) */
#define HV_R_EC_BIND_SC (1u << 1) /* attach a scheduling context */
#define HV_R_EC_BIND_PT (1u << 2) /* create a portal to this EC */
#define HV_R_SC_CTRL (1u << 0)   /* read consumed time */
#define HV_R_PT_CALL (1u << 0)   /* call the portal */
#define HV_R_SM_UP (1u << 0)     /* sm up */
#define HV_R_SM_DOWN (1u << 1)   /* sm down / try-down; irq_ctrl on a GSI sm */
#define HV_R_ALL 0x1fu

/* Rights of memory mappings. */
#define HV_R_MEM_R (1u << 0)
#define HV_R_MEM_W (1u << 1)
#define HV_R_MEM_X (1u << 2)
#define HV_R_MEM_RWX 0x7u
/* Rights of I/O port ranges: a single "may access" right. */
#define HV_R_IO (1u << 0)

/*
 * Item descriptor: one word naming a naturally aligned range in one space,
 * used by typed IPC items, HV_SYS_DELEGATE, HV_SYS_REVOKE and HV_SYS_LOOKUP.
 *   bits  0..1  kind (enum hv_kind)
 *   bits  2..6  rights (mask; delegation can only remove rights)
 *   bits  8..13 order: the range covers 2^order selectors, pages or ports
 *   bits 16..23 object type (LOOKUP output only)
 *   bit  24     HV_REVOKE_SELF: revoke also removes the caller's own range
 */
#define HV_ITEM(kind, rights, order)                                         \
	((hv_word_t)(kind) | ((hv_word_t)(rights) << 2) | ((hv_word_t)(order) << 8))
#define HV_ITEM_KIND(d) ((unsigned)((d) & 0x3u))
#define HV_ITEM_RIGHTS(d) ((unsigned)(((d) >> 2) & 0x1fu))
#define HV_ITEM_ORDER(d) ((unsigned)(((d) >> 8) & 0x3fu))
#define HV_ITEM_TYPE(d) ((unsigned)(((d) >> 16) & 0xffu))
#define HV_REVOKE_SELF ((hv_word_t)1 << 24)

/* ---- Message tags (RSI of call, RDI of reply) ----------------------------- */
/*
 *   bits 0..7   number of untyped words in mr[]
 *   bits 8..15  number of typed items following them (two words each)
 *   bit  16     HV_TAG_NONBLOCK: call fails with HV_ETIMEOUT instead of waiting
 *   bit  17     HV_TAG_STOP: reply only: terminate the caller instead of resuming
 *               it (exception handlers use it to stop a faulting EC)
 */
#define HV_TAG(untyped, typed) ((hv_word_t)(untyped) | ((hv_word_t)(typed) << 8))
#define HV_TAG_UNTYPED(t) ((unsigned)((t) & 0xffu))
#define HV_TAG_TYPED(t) ((unsigned)(((t) >> 8) & 0xffu))
#define HV_TAG_NONBLOCK ((hv_word_t)1 << 16)
#define HV_TAG_STOP ((hv_word_t)1 << 17)

/* ---- SM, EC and IRQ control ----------------------------------------------- */
enum hv_sm_op {
	HV_SM_UP = 0,
	HV_SM_DOWN = 1,    /* block until the counter is positive, then decrement */
	HV_SM_TRYDOWN = 2  /* decrement if positive, else HV_ETIMEOUT at once */
};

enum hv_ec_op {
	HV_EC_RECALL = 0 /* force the EC into its HV_EVT_RECALL portal */
};

/* create_ec flags (RDX): bits 0..15 CPU number, bit 16 global (has its own
 * SC and starts at ip), bits 32..63 event base selector. */
#define HV_EC_CPU(f) ((unsigned)((f) & 0xffffu))
#define HV_EC_GLOBAL ((hv_word_t)1 << 16)
#define HV_EC_EVT(f) ((hv_sel_t)((f) >> 32))
#define HV_EC_FLAGS(cpu, global, evt)                                        \
	((hv_word_t)(cpu) | ((global) ? HV_EC_GLOBAL : 0) | ((hv_word_t)(evt) << 32))

/* create_sc quality of service (R10): bits 0..7 priority (higher runs first,
 * HV_PRIO_MAX at most), bits 32..63 time slice in microseconds (0 = default). */
#define HV_QOS(prio, quantum_us) ((hv_word_t)(prio) | ((hv_word_t)(quantum_us) << 32))
#define HV_QOS_PRIO(q) ((unsigned)((q) & 0xffu))
#define HV_QOS_QUANTUM(q) ((unsigned)((q) >> 32))
#define HV_PRIO_MAX 63u
#define HV_QUANTUM_DEFAULT_US 10000u

/* irq_ctrl flags (RDX) */
#define HV_IRQ_LEVEL (1u << 0)      /* level triggered (default: edge) */
#define HV_IRQ_ACTIVE_LOW (1u << 1) /* active low (default: high) */
#define HV_IRQ_MASK (1u << 2)       /* mask the line */

/* ---- Events: exceptions (and later VM exits) are IPC to evt_base + event --- */
#define HV_EVT_EXC(vector) (vector) /* 0..31: CPU exceptions; 14 is the pager */
#define HV_EVT_RECALL 32
#define HV_EVT_COUNT 33

/*
 * MTD: message transfer descriptor. A portal's MTD says which parts of the
 * caller's architectural state the kernel puts into the handler's UTCB when
 * it delivers an event; the handler's reply writes back the parts named by
 * utcb->st.mtd.
 */
#define HV_MTD_GPR_ACDB (1u << 0)  /* rax rcx rdx rbx */
#define HV_MTD_GPR_BSD (1u << 1)   /* rbp rsi rdi */
#define HV_MTD_GPR_R8_R15 (1u << 2)
#define HV_MTD_RSP (1u << 3)
#define HV_MTD_RIP_LEN (1u << 4)
#define HV_MTD_RFLAGS (1u << 5)
#define HV_MTD_QUAL (1u << 6)      /* event, error code, fault address (read only) */
#define HV_MTD_ALL 0x7fu

/* ---- UTCB: one page per EC, mapped where create_ec says -------------------- */
#define HV_PAGE_SIZE 4096ul
#define HV_UTCB_MR 500 /* message registers */

/* Architectural state of an EC as an exception message carries it. */
struct hv_cpu_state {
	hv_word_t mtd;                    /* which fields are valid / written back */
	hv_word_t event;                  /* exception vector */
	hv_word_t qual[2];                /* [0] error code  [1] fault address (CR2) */
	hv_word_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	hv_word_t r8, r9, r10, r11, r12, r13, r14, r15;
	hv_word_t rsp, rip, rflags;
	hv_word_t inst_len;               /* 0 for exceptions */
};

/* Receive windows: where typed items sent to this EC land. An item with
 * order o and hotspot h lands at base + h, which must lie in the window. */
struct hv_rcv_window {
	hv_word_t base;  /* first selector, byte address or port */
	hv_word_t order; /* window covers 2^order units; 0 with base 0 = closed */
};

struct hv_utcb {
	struct hv_rcv_window rcv[3]; /* indexed by enum hv_kind */
	hv_word_t reserved[2];
	union {
		hv_word_t mr[HV_UTCB_MR]; /* untyped words, then typed items */
		struct hv_cpu_state st;   /* exception messages */
	};
};

/*
 * Typed item as it appears in mr[] after the untyped words: two words.
 *   word 0: item descriptor (HV_ITEM); for the receiver it is rewritten to
 *           name what arrived (kind, rights, order) or 0 if it was refused
 *   word 1: sender: source base in its own space; receiver: where it landed
 * The hotspot (offset in the receive window) is the source base modulo the
 * window size, so equal layouts on both sides need no extra arithmetic.
 */

/* ---- Initial selectors of the roottask ------------------------------------- */
#define HV_SEL_PD 0          /* own PD */
#define HV_SEL_EC 1          /* own (first) EC */
#define HV_SEL_SC 2          /* its SC */
#define HV_SEL_EVT_BASE 32   /* event portals: 32 + HV_EVT_* */
#define HV_SEL_GSI_BASE 128  /* roottask: one SM per GSI */
#define HV_SEL_MAX 8192      /* selectors are 0 .. HV_SEL_MAX-1 */

/* User-space virtual addresses are below this bound. */
#define HV_USER_END 0x0000800000000000ul

#endif
