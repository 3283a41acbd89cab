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

/*
 * Which argument a failed call blames, in RSI next to the status in RAX:
 * its register's place in the argument list, or HV_ARG_NONE when no
 * argument in particular is wrong (a partner went away, a quota ran out).
 * On success RSI holds the call's result where it has one: user code must
 * treat RSI as clobbered by every system call.
 */
enum hv_arg { HV_ARG_NONE, HV_ARG_RDI, HV_ARG_RSI, HV_ARG_RDX, HV_ARG_R10, HV_ARG_R8, HV_ARG_R9 };

/* ---- System call numbers (in RAX; arguments in RDI RSI RDX R10 R8 R9) ---- */
enum hv_syscall {
	HV_SYS_CALL = 0,      /* rdi=portal  rsi=msg tag                -> rsi=reply tag */
	HV_SYS_REPLY = 1,     /* rdi=msg tag  (handlers only; does not return) */
	HV_SYS_CREATE_PD = 2, /* rdi=dst rsi=parent pd rdx=kmem quota r10=flags r8=max prio r9=CPUs */
	HV_SYS_CREATE_EC = 3, /* rdi=dst rsi=pd rdx=flags r10=utcb r8=sp r9=ip */
	HV_SYS_CREATE_SC = 4, /* rdi=dst  rsi=pd  rdx=ec  r10=qos */
	HV_SYS_CREATE_PT = 5, /* rdi=dst rsi=pd rdx=ec r10=mtd r8=ip r9=id */
	HV_SYS_CREATE_SM = 6, /* rdi=dst  rsi=pd  rdx=initial count */
	HV_SYS_DELEGATE = 7,  /* rdi=src pd  rsi=dst pd  rdx=item  r10=src  r8=dst */
	HV_SYS_REVOKE = 8,    /* rdi=item (kind|order|HV_REVOKE_SELF) rsi=base */
	HV_SYS_LOOKUP = 9,    /* rdi=kind rsi=base -> rsi=item descriptor */
	HV_SYS_SM_CTRL = 10,  /* rdi=sm  rsi=op  rdx=deadline (TSC, 0 = none; down only) */
	HV_SYS_SC_CTRL = 11,  /* rdi=sc -> rsi=consumed time (TSC ticks) */
	HV_SYS_EC_CTRL = 12,  /* rdi=ec  rsi=op */
	HV_SYS_IRQ_CTRL = 13, /* rdi=irq sm  rsi=cpu  rdx=flags */
	HV_SYS_NULL = 14,     /* does nothing; for measuring entry/exit cost */
	HV_SYS_PD_CTRL = 15,  /* rdi=pd rsi=op -> rsi rdx r8 (KMEM: used, limit, free pages; LIMITS) */
	HV_SYS_ASSIGN_DEV = 16, /* rdi=authority pd (HV_R_PD_DEV) rsi=pd rdx=PCI BDF r10=op */
	HV_SYS_COUNT = 17
};

/* ---- Capabilities --------------------------------------------------------- */
/* Kinds of address space a delegation or revocation refers to. */
enum hv_kind {
	HV_KIND_OBJ = 0, /* capability selectors */
	HV_KIND_MEM = 1, /* virtual pages (base in bytes, page aligned) */
	HV_KIND_IO = 2,  /* I/O ports */
	HV_KIND_GMEM = 3 /* guest-physical pages of a VM PD (base in bytes) */
};

/* create_pd flags (R10) */
#define HV_PD_VM (1u << 0) /* the PD has a guest-physical space (EPT/NPT) */
#define HV_PD_FLAGS_VALID HV_PD_VM
/* create_pd limits (R8, R9): the highest priority of an SC for an EC of the
 * PD (or created by one of its ECs) and the CPUs its ECs may be created on
 * (bit n = CPU n); never above the creating EC's PD's own. The roottask has
 * HV_PRIO_MAX and HV_CPUS_ALL. */
#define HV_CPUS_ALL (~(hv_word_t)0)

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
#define HV_R_PD_DEV (1u << 2)    /* authority to assign PCI devices (assign_dev RDI):
				  * only the roottask's own PD capability has it;
				  * create_pd never gives it */
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
/* HV_SYS_DELEGATE only, memory: map device memory write-combining (default:
 * uncached); HV_EPARAM on RAM. */
#define HV_ITEM_WC ((hv_word_t)1 << 14)
/* HV_SYS_DELEGATE only, memory: the pages (RAM only, HV_EPARAM on device
 * memory) also become DMA-able by the devices assigned to the destination
 * PD, at I/O virtual address = physical address (IOMMU page tables). */
#define HV_ITEM_DMA ((hv_word_t)1 << 15)
/* The bits an item may have as an argument (bit 7 is ignored; bits 14..15
 * only in HV_SYS_DELEGATE). */
#define HV_ITEM_ARG_MASK ((hv_word_t)0x3fff)
#define HV_ITEM_DELEGATE_MASK ((hv_word_t)0xffff)

/* ---- Message tags (RSI of call, RDI of reply) ----------------------------- */
/*
 *   bits 0..7   number of untyped words in mr[]
 *   bits 8..15  number of typed items following them (two words each)
 *   bit  16     HV_TAG_NONBLOCK: call fails with HV_ETIMEOUT instead of waiting
 *   bit  17     HV_TAG_STOP: reply only: terminate the caller instead of resuming
 *               it (exception handlers use it to stop a faulting EC)
 *   bit  18     HV_TAG_EVENT: set by the kernel, in the tag a handler receives,
 *               for an event (exception, VM exit, recall, STARTUP) and only
 *               then: a thread that calls an event portal cannot pose as one
 * A handler receives, and a caller gets back, only the word counts and
 * HV_TAG_EVENT (HV_TAG_MSG of the tag).
 */
#define HV_TAG(untyped, typed) ((hv_word_t)(untyped) | ((hv_word_t)(typed) << 8))
#define HV_TAG_UNTYPED(t) ((unsigned)((t) & 0xffu))
#define HV_TAG_TYPED(t) ((unsigned)(((t) >> 8) & 0xffu))
#define HV_TAG_NONBLOCK ((hv_word_t)1 << 16)
#define HV_TAG_STOP ((hv_word_t)1 << 17)
#define HV_TAG_EVENT ((hv_word_t)1 << 18)
#define HV_TAG_MSG(t) ((t) & (hv_word_t)0xffff)

/* ---- SM, EC and IRQ control ----------------------------------------------- */
enum hv_sm_op {
	HV_SM_UP = 0,
	HV_SM_DOWN = 1,    /* block until the counter is positive, then decrement;
			    * with a deadline (absolute TSC) give up with HV_ETIMEOUT then */
	HV_SM_TRYDOWN = 2  /* decrement if positive, else HV_ETIMEOUT at once */
};
#define HV_SM_COUNT_MAX 0xfffffffful /* the highest count of a semaphore */

enum hv_pd_op {
	HV_PD_KMEM = 0,  /* the PD's kernel-memory quota (used, limit in bytes) and the
			  * pages free in the kernel's pool */
	HV_PD_LIMITS = 1 /* the PD's maximum priority and CPU mask */
};

enum hv_ec_op {
	HV_EC_RECALL = 0 /* force the EC into its HV_EVT_RECALL portal */
};

/* create_ec flags (RDX): bits 0..15 CPU number, bit 16 global (has its own
 * SC and starts at ip), bits 32..63 event base selector. */
#define HV_EC_CPU(f) ((unsigned)((f) & 0xffffu))
#define HV_EC_GLOBAL ((hv_word_t)1 << 16)
#define HV_EC_VCPU ((hv_word_t)1 << 17) /* a virtual CPU of a VM PD (no UTCB) */
#define HV_EC_EVT(f) ((hv_sel_t)((f) >> 32))
#define HV_EC_FLAGS_VALID ((hv_word_t)0xffffffff0003ffff)
#define HV_EC_FLAGS(cpu, global, evt)                                        \
	((hv_word_t)(cpu) | ((global) ? HV_EC_GLOBAL : 0) | ((hv_word_t)(evt) << 32))

/* create_sc quality of service (R10): bits 0..7 priority (higher runs first,
 * HV_PRIO_MAX at most), bits 32..63 time slice in microseconds (0 = default). */
#define HV_QOS(prio, quantum_us) ((hv_word_t)(prio) | ((hv_word_t)(quantum_us) << 32))
#define HV_QOS_PRIO(q) ((unsigned)((q) & 0xffu))
#define HV_QOS_QUANTUM(q) ((unsigned)((q) >> 32))
#define HV_QOS_VALID ((hv_word_t)0xffffffff000000ff)
#define HV_PRIO_MAX 63u
#define HV_QUANTUM_DEFAULT_US 10000u
#define HV_QUANTUM_MAX_US 10000000u /* 10 s */

/* irq_ctrl flags (RDX) */
#define HV_IRQ_LEVEL (1u << 0)      /* level triggered (default: edge) */
#define HV_IRQ_ACTIVE_LOW (1u << 1) /* active low (default: high) */
#define HV_IRQ_MASK (1u << 2)       /* mask the line */
#define HV_IRQ_FLAGS_VALID 0x7u
/* irq_ctrl on an MSI semaphore (HV_SEL_MSI_BASE + n in the roottask) takes
 * only HV_IRQ_MASK and HV_IRQ_SOURCE (with the PCI requester id, HV_BDF, in
 * bits 16..31), and returns in RSI the MSI address and in RDX the MSI data
 * the device must send (fixed delivery, edge, to that CPU). With interrupt
 * remapping these are in remappable format (address bit 4 set, data 0),
 * and with HV_IRQ_SOURCE only that device may send the interrupt. */
#define HV_IRQ_SOURCE (1u << 3)
#define HV_IRQ_SOURCE_BDF(bdf) ((hv_word_t)(bdf) << 16)

/* assign_dev (R10) */
enum hv_dev_op {
	HV_DEV_ASSIGN = 0, /* DMA of the device goes through the PD's DMA space */
	HV_DEV_RELEASE = 1 /* the device is blocked again (no DMA at all) */
};
/* PCI requester id: bus 8 bits, device 5 bits, function 3 bits. */
#define HV_BDF(bus, dev, fn) ((hv_word_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define HV_BDF_BUS(b) ((unsigned)(((b) >> 8) & 0xffu))
#define HV_BDF_DEV(b) ((unsigned)(((b) >> 3) & 0x1fu))
#define HV_BDF_FN(b) ((unsigned)((b)&0x7u))

/* ---- Events: exceptions (and later VM exits) are IPC to evt_base + event --- */
#define HV_EVT_EXC(vector) (vector) /* 0..31: CPU exceptions; 14 is the pager */
#define HV_EVT_RECALL 32
#define HV_EVT_COUNT 33

/*
 * Events of a vCPU: VM exits are calls to the portal at evt_base + exit
 * reason (the VT-x basic exit reason on VT-x and AMD-V alike; docs/abi.md lists them). Two
 * events are the kernel's own: STARTUP (before the vCPU first runs: the
 * VMM sets the initial state) and RECALL (after ec_ctrl HV_EC_RECALL).
 */
#define HV_VMEVT_RECALL 0xfe
#define HV_VMEVT_STARTUP 0xff
#define HV_VMEVT_COUNT 0x100

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
/* vCPU state only: */
#define HV_MTD_DS_ES (1u << 7)
#define HV_MTD_FS_GS (1u << 8)
#define HV_MTD_CS_SS (1u << 9)
#define HV_MTD_TR (1u << 10)
#define HV_MTD_LDTR (1u << 11)
#define HV_MTD_GDTR (1u << 12)
#define HV_MTD_IDTR (1u << 13)
#define HV_MTD_CR (1u << 14)       /* cr0 cr2 cr3 cr4 */
#define HV_MTD_DR (1u << 15)       /* dr7 */
#define HV_MTD_SYSENTER (1u << 16)
#define HV_MTD_CTRL (1u << 17)     /* ctrl[]: interrupt/NMI-window exiting requests */
#define HV_MTD_INJ (1u << 18)      /* inj_info, inj_error (event to inject) */
#define HV_MTD_STA (1u << 19)      /* intr_state, actv_state */
#define HV_MTD_TSC (1u << 20)      /* tsc (read), tsc_offset (read/write) */
#define HV_MTD_EFER (1u << 21)     /* efer, pat */
#define HV_MTD_VMINFO (1u << 22)   /* read only: qual, gla, gpa, vect_info/error */
#define HV_MTD_ALL 0x7fffffu
#define HV_MTD_EC_ALL 0x7fu        /* the parts that exist for non-vCPU ECs */

/* ---- UTCB: one page per EC, mapped where create_ec says -------------------- */
#define HV_PAGE_SIZE 4096ul
#define HV_UTCB_MR 500 /* message registers */

/* A segment register as VMX and SVM both describe it. ar uses the VMX
 * access-rights layout: type 0..3, S 4, DPL 5..6, P 7, AVL 12, L 13, D/B 14,
 * G 15, unusable 16. */
struct hv_seg {
	hv_word_t sel, ar, limit, base;
};

/* Architectural state of an EC or vCPU as an event message carries it. */
struct hv_cpu_state {
	hv_word_t mtd;                    /* which fields are valid / written back */
	hv_word_t event;                  /* exception vector or VM-exit reason */
	hv_word_t qual[2];                /* exceptions: [0] error code [1] fault address
					   * VM exits: [0] exit qualification [1] guest-linear addr */
	hv_word_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	hv_word_t r8, r9, r10, r11, r12, r13, r14, r15;
	hv_word_t rsp, rip, rflags;
	hv_word_t inst_len;               /* 0 for exceptions */
	/* vCPUs only */
	hv_word_t gpa;                    /* guest-physical address (EPT violation or nested page fault) */
	hv_word_t vect_info, vect_error;  /* event being delivered when the exit happened */
	hv_word_t inj_info, inj_error;    /* event to inject (VMX entry format) */
	hv_word_t intr_state, actv_state;
	hv_word_t ctrl[2];                /* [0] HV_CTRL_* requests */
	hv_word_t cr0, cr2, cr3, cr4, dr7;
	hv_word_t efer, pat;
	hv_word_t sysenter_cs, sysenter_esp, sysenter_eip;
	hv_word_t tsc, tsc_offset;
	struct hv_seg es, cs, ss, ds, fs, gs, ldtr, tr, gdtr, idtr;
};

/* ctrl[0] bits: ask for an exit as soon as the guest can take an interrupt / NMI */
#define HV_CTRL_INTR_WINDOW (1u << 0)
#define HV_CTRL_NMI_WINDOW (1u << 1)
/* inj_info (VMX VM-entry interruption-information layout) */
#define HV_INJ_VALID (1u << 31)
#define HV_INJ_ERRCODE (1u << 11)
#define HV_INJ_EXTINT (0u << 8)
#define HV_INJ_NMI (2u << 8)
#define HV_INJ_HWEXC (3u << 8)
#define HV_INJ_SWINT (4u << 8)

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
#define HV_SEL_GSI_BASE 128  /* roottask: one SM per GSI (at most 64) */
#define HV_SEL_MSI_BASE 192  /* roottask: HV_MSI_COUNT MSI semaphores */
#define HV_MSI_COUNT 32
#define HV_SEL_MAX 8192      /* selectors are 0 .. HV_SEL_MAX-1 */

/* User-space virtual addresses are below this bound. */
#define HV_USER_END 0x0000800000000000ul

#endif
