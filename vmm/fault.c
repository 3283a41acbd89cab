/*
 * A vCPU's exit handler that faults. The handler serves its vCPU's exits
 * on the vCPU's SC; if the roottask got its fault (as for the VMM's other
 * threads) and stopped it, the kernel would stop the vCPU waiting for its
 * reply, and the guest would go on half-alive: one vCPU gone, the others
 * stalling on it. So its exception portals lead into this VMM: to a fault
 * handler on the same CPU (events are CPU-local), which logs the fault and
 * sends the handler, on its fresh stack, to fault_recover(). That answers
 * the exit as a crash of the guest: the guest's kind stops it (all vCPUs;
 * the VMM ends) or, with on_crash=restart, restarts it. The fault handler's
 * own faults go to the roottask.
 */
#include "exits.h"
#include <stdio.h>

static const char *const exc_names[32] = {
	[0] = "divide error", [1] = "debug exception", [3] = "breakpoint", [4] = "overflow",
	[5] = "bound range exceeded", [6] = "invalid opcode", [7] = "device not available",
	[12] = "stack fault", [13] = "general protection fault", [14] = "page fault",
	[16] = "x87 error", [17] = "alignment check", [19] = "SIMD error",
};

HV_PORTAL_ENTRY(fault_entry, fault_serve);
HV_PORTAL_ENTRY(fault_recover_entry, fault_recover);

/* A fault of vCPU id's exit handler: log it, then let the handler start over
 * in fault_recover() (a second fault before it has answered stops it). */
hv_word_t fault_serve(hv_word_t id, hv_word_t tag)
{
	if (!(tag & HV_TAG_EVENT)) /* a plain call to the portal: no fault */
		return 0;
	struct vcpu *v = &vcpus[id % VMM_MAX_VCPUS];
	struct hv_cpu_state *u = &hv_utcb()->st;
	hv_word_t ev = u->event, rip = u->rip, err = u->qual[0], addr = u->qual[1]; /* printf reuses the UTCB */
	const char *name = ev < 32 && exc_names[ev] ? exc_names[ev] : "exception";
	if (ev == 14)
		printf("vmm: vCPU %u: exit handler faulted: %s at rip %#lx, address %#lx\n", v->id, name, rip, addr);
	else
		printf("vmm: vCPU %u: exit handler faulted: %s (vector %lu) at rip %#lx, error code %#lx\n", v->id,
		       name, ev, rip, err);
	if (v->recovering) {
		printf("vmm: vCPU %u: its exit handler faulted again before it answered the exit: stopping it\n",
		       v->id);
		return HV_TAG_STOP; /* the kernel stops the vCPU with it */
	}
	v->recovering = true;
	u->rip = (hv_word_t)fault_recover_entry;
	u->rsp = v->handler_sp; /* its frames are dropped: a fresh stack, as at every call */
	u->rdi = v->id;
	u->rsi = u->rbp = 0;
	u->rflags = 0; /* DF clear, as C expects */
	u->mtd = HV_MTD_RIP_LEN | HV_MTD_RSP | HV_MTD_GPR_BSD | HV_MTD_RFLAGS;
	return 0;
}

/* The exit v's handler was serving when it faulted (st, its UTCB's message
 * as far as the handler got with it) ends as a crash of the guest, as the
 * guest's kind treats one; false: the vCPU stops (the guest with it). */
bool fault_crash(struct vcpu *v, struct hv_cpu_state *st)
{
	char what[64];
	if (v->kind->faulted)
		v->kind->faulted(v);
	snprintf(what, sizeof(what), "exit handler fault (exit %s)", exit_reason_name(v->reason));
	st->mtd = 0;
	return exit_epilogue(v, st, v->kind->crash(v, st, what));
}

/* Where the faulted handler of vCPU id starts over: it answers the exit. */
hv_word_t fault_recover(hv_word_t id, hv_word_t tag)
{
	(void)tag;
	struct vcpu *v = &vcpus[id % VMM_MAX_VCPUS];
	bool ok = fault_crash(v, &hv_utcb()->st);
	v->recovering = false;
	return ok ? 0 : HV_TAG_STOP;
}

/* Exception portals for v's exit handler, at *evt_base + vector: one portal
 * into a fault handler of this VMM on v's CPU, with the portal id v->id. */
hv_status_t fault_setup(struct vcpu *v, hv_sel_t *evt_base)
{
	hv_sel_t ec, pt = hv_sel_alloc(), base = hv_sel_alloc_order(5);
	hv_status_t st = pt == HV_SEL_NONE || base == HV_SEL_NONE ? HV_EMEM : hv_handler_create(v->cpu, &ec);
	if (st == HV_OK)
		st = hv_create_pt(pt, HV_SI_SEL_PD, ec, HV_MTD_RIP_LEN | HV_MTD_RSP | HV_MTD_QUAL, (hv_word_t)fault_entry,
				  v->id);
	for (unsigned e = 0; e < 32 && st == HV_OK; e++)
		st = hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_OBJ, HV_R_PT_CALL, 0), pt, base + e);
	*evt_base = base;
	return st;
}
