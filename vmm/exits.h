/*
 * How the VMM serves VM exits. Each kind of guest has a table from exit
 * reason to handler (and to the guest state the reason's portal carries):
 * pc_guest for Linux on the PC platform (pc_exits.c), test_guest for the
 * test guest (test_exits.c). vcpu_setup() gives a vCPU its kind once;
 * exit_dispatch() (exits.c) runs the handler, then the common epilogue.
 * Handlers shared by both kinds are in exits.c.
 */
#ifndef VMM_EXITS_H
#define VMM_EXITS_H

#include "vmm.h"

/* Serves one exit: st holds what the portal's MTD asked for and becomes the
 * reply (st->mtd names what it writes back). false: this vCPU cannot go on. */
typedef bool exit_fn(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);

struct exit_handler {
	exit_fn *fn;
	hv_word_t mtd; /* the guest state the exit's portal carries */
};

struct guest_kind {
	struct exit_handler exit[HV_VMEVT_COUNT]; /* fn NULL: other, with HV_MTD_ALL */
	exit_fn *other;                           /* reasons without an entry */
	/* ok, before the guest resumes: false if it must not (optional) */
	bool (*resume)(struct vcpu *v, struct hv_cpu_state *st);
	/* the vCPU stops for good (optional) */
	void (*stopped)(struct vcpu *v);
	/* the guest did what its platform cannot serve; what says it, for the
	 * log line. true: the vCPU goes on (the guest restarts). */
	bool (*crash)(struct vcpu *v, struct hv_cpu_state *st, const char *what);
	/* the vCPU's handler faulted: give back what it may hold (optional) */
	void (*faulted)(struct vcpu *v);
};

extern const struct guest_kind pc_guest, test_guest;

/* The guest state the exits both kinds serve alike ask for. */
#define EXIT_MTD_INSN HV_MTD_RIP_LEN /* an instruction skipped or answered with an exception */
#define EXIT_MTD_IO (HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | HV_MTD_QUAL)
#define EXIT_MTD_MSR (HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | HV_MTD_EFER | HV_MTD_TSC | HV_MTD_SYSENTER)

/* Creates vCPU v of a kind: its handler, exit portals, the vCPU and its SC. */
hv_status_t vcpu_setup(struct vcpu *v, const struct guest_kind *kind);

/* exits.c: dispatch; the end of every exit (ok: the handler's result) */
bool exit_dispatch(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);
hv_word_t vmexit_serve(hv_word_t id, hv_word_t tag); /* every exit of every vCPU (its address: port 0x520) */
bool exit_epilogue(struct vcpu *v, struct hv_cpu_state *st, bool ok);
const char *exit_reason_name(unsigned reason);

/* exits.c: handlers every kind may put in its table */
bool exit_unknown(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);
bool exit_recall(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);
bool exit_skip(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);     /* WBINVD, INVD */
bool exit_gp(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);       /* RDPMC */
bool exit_ud(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);       /* VMCALL, MONITOR, MWAIT */

/* exits.c: building blocks of the kinds' handlers */
void exit_startup_state(struct hv_cpu_state *st);
void exit_bad_state(struct hv_cpu_state *st);
void exit_skip_insn(struct hv_cpu_state *st);
void exit_inject_gp(struct hv_cpu_state *st);
void exit_inject_ud(struct hv_cpu_state *st);
uint64_t *exit_gpr(struct hv_cpu_state *st, unsigned n);

/* The port access of an I/O exit (the kind's bus, its locking and hooks). */
typedef void port_fn(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t *val);
bool exit_io(struct vcpu *v, struct hv_cpu_state *st, port_fn *access);

/* An MSR of one kind: 1 served, 0 not one of its MSRs, -1 #GP. */
typedef int msr_fn(struct vcpu *v, struct hv_cpu_state *st, uint32_t idx, bool write, uint64_t *val);
/* RDMSR/WRMSR: the kind's MSRs, then those of every guest; else #GP (logged if log). */
bool exit_msr(struct vcpu *v, unsigned reason, struct hv_cpu_state *st, msr_fn *kind_msr, bool log);

/* CR8 of one kind: a read into *val or a write of *val; false: #GP. */
typedef bool cr8_fn(struct vcpu *v, bool write, uint64_t *val);
bool exit_cr(struct vcpu *v, struct hv_cpu_state *st, cr8_fn *cr8);

/* An access to guest-physical memory that is not RAM; lock: the PC's device lock. */
bool exit_mmio(struct vcpu *v, struct hv_cpu_state *st, bool lock);

#endif
