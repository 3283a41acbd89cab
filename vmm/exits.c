/*
 * VM-exit dispatch and the handlers both guest kinds share. Each exit
 * reason of each vCPU is a portal into this VMM (id = vcpu << 8 | reason);
 * the kernel has put the guest state the portal's MTD names into the
 * handler's UTCB, and the reply writes back the parts st->mtd names. The
 * vCPU's guest kind (exits.h) says which handler serves which reason.
 */
#include "exits.h"
#include "profile.h"
#include "pc.h"
#include "x86/emulate.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <hv/vcpu.h>

/* ---- dispatch ---------------------------------------------------------------- */

#define NAME(r) [EXIT_REASON_##r] = #r
static const char *const reason_names[HV_VMEVT_COUNT] = {
	NAME(EXCEPTION_NMI), NAME(EXTERNAL_INTERRUPT), NAME(TRIPLE_FAULT), NAME(INIT_SIGNAL),
	NAME(SIPI_SIGNAL), NAME(INTERRUPT_WINDOW), NAME(NMI_WINDOW), NAME(TASK_SWITCH),
	NAME(CPUID), NAME(HLT), NAME(INVD), NAME(INVLPG), NAME(RDPMC), NAME(RDTSC), NAME(VMCALL),
	NAME(VMCLEAR), NAME(VMXON), NAME(CR_ACCESS), NAME(DR_ACCESS), NAME(IO_INSTRUCTION),
	NAME(MSR_READ), NAME(MSR_WRITE), NAME(INVALID_STATE), NAME(MSR_LOAD_FAIL),
	NAME(MWAIT_INSTRUCTION), NAME(MONITOR_TRAP_FLAG), NAME(MONITOR_INSTRUCTION),
	NAME(PAUSE_INSTRUCTION), NAME(MCE_DURING_VMENTRY), NAME(EPT_VIOLATION), NAME(EPT_MISCONFIG),
	NAME(INVEPT), NAME(INVVPID), NAME(PREEMPTION_TIMER), NAME(WBINVD), NAME(XSETBV),
	[HV_VMEVT_RECALL] = "RECALL", [HV_VMEVT_STARTUP] = "STARTUP",
};
#undef NAME

/* The name hv/vmexit.h gives an exit reason, for the log. */
const char *exit_reason_name(unsigned reason)
{
	const char *n = reason < HV_VMEVT_COUNT ? reason_names[reason] : NULL;
	return n ? n : "unnamed";
}

/*
 * The end of every exit: the kind's work before the guest resumes (on the
 * PC: reset, INIT, interrupt and NMI windows); a vCPU that cannot go on, or
 * whose guest is stopping, stops for good and replies with nothing.
 */
bool exit_epilogue(struct vcpu *v, struct hv_cpu_state *st, bool ok)
{
	const struct guest_kind *k = v->kind;
	if (ok && k->resume)
		ok = k->resume(v, st);
	if (ok && vm.stopping)
		ok = false;
	if (!ok && k->stopped)
		k->stopped(v);
	if (!ok)
		st->mtd = 0;
	return ok;
}

/* Serves exit reason of vCPU v with its kind's handler; false: the vCPU stops. */
bool exit_dispatch(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	reason %= HV_VMEVT_COUNT;
	const struct exit_handler *h = &v->kind->exit[reason];
	v->exits[reason]++;
	v->reason = reason;
	if (++v->nexits == v->fault_at)
		vmm_test_exit(v);
	return exit_epilogue(v, st, (h->fn ? h->fn : v->kind->other)(v, reason, st));
}

HV_PORTAL_ENTRY(vmexit_entry, vmexit_serve);

/* Every VM exit of every vCPU comes here. */
hv_word_t vmexit_serve(hv_word_t id, hv_word_t tag)
{
	if (!(tag & HV_TAG_EVENT)) /* one of this VMM's own threads called an exit portal */
		return 0;
	struct vcpu *v = &vcpus[(id >> 8) % VMM_MAX_VCPUS];
	/* in place: printing (a console call) puts back the UTCB words it uses,
	 * and if the handler faults, fault.c finds the exit it was serving in
	 * this UTCB (the fault's message goes to the fault handler's) */
	return exit_dispatch(v, id & 0xff, &hv_utcb()->st) ? 0 : HV_TAG_STOP;
}

/* Creates vCPU v of the given kind: its handler (whose faults this VMM
 * serves: fault.c), the exit portals in the VM PD (each with its handler's
 * MTD), the vCPU and its SC. */
hv_status_t vcpu_setup(struct vcpu *v, const struct guest_kind *kind)
{
	v->kind = kind;
	hv_sel_t evt;
	hv_status_t st = fault_setup(v, &evt);
	if (st == HV_OK)
		st = hv_handler_create_evt(v->cpu, evt, &v->handler, &v->handler_sp);
	v->wake = hv_sel_alloc();
	if (st == HV_OK)
		st = hv_create_sm(v->wake, HV_SI_SEL_PD, 0);
	if (st != HV_OK)
		return st;
	for (unsigned r = 0; r < HV_VMEVT_COUNT && st == HV_OK; r++) {
		hv_sel_t pt = hv_sel_alloc();
		hv_word_t mtd = kind->exit[r].fn ? kind->exit[r].mtd : HV_MTD_ALL;
		st = hv_create_pt(pt, HV_SI_SEL_PD, v->handler, mtd, (hv_word_t)vmexit_entry, (v->id << 8) | r);
		if (st == HV_OK)
			st = hv_delegate(HV_SI_SEL_PD, vm.pd, HV_ITEM(HV_KIND_OBJ, HV_R_PT_CALL, 0), pt,
					 VMM_EVT_BASE + v->id * 256 + r);
	}
	if (st != HV_OK)
		return st;
	v->ec = hv_sel_alloc();
	v->sc = hv_sel_alloc();
	st = hv_create_vcpu(v->ec, vm.pd, v->cpu, VMM_EVT_BASE + v->id * 256);
	if (st == HV_OK)
		st = hv_create_sc(v->sc, HV_SI_SEL_PD, v->ec, HV_QOS(10, 0));
	return st;
}

/* ---- building blocks ------------------------------------------------------------ */

void exit_skip_insn(struct hv_cpu_state *st)
{
	st->rip += st->inst_len;
	st->mtd |= HV_MTD_RIP_LEN;
}

void exit_inject_gp(struct hv_cpu_state *st)
{
	st->inj_info = HV_INJ_VALID | HV_INJ_HWEXC | HV_INJ_ERRCODE | 13;
	st->inj_error = 0;
	st->mtd |= HV_MTD_INJ;
}

void exit_inject_ud(struct hv_cpu_state *st)
{
	st->inj_info = HV_INJ_VALID | HV_INJ_HWEXC | 6;
	st->mtd |= HV_MTD_INJ;
}

/* General register n (x86 encoding order) of the message. */
uint64_t *exit_gpr(struct hv_cpu_state *st, unsigned n)
{
	static const uint8_t off[16] = {
		offsetof(struct hv_cpu_state, rax), offsetof(struct hv_cpu_state, rcx),
		offsetof(struct hv_cpu_state, rdx), offsetof(struct hv_cpu_state, rbx),
		offsetof(struct hv_cpu_state, rsp), offsetof(struct hv_cpu_state, rbp),
		offsetof(struct hv_cpu_state, rsi), offsetof(struct hv_cpu_state, rdi),
		offsetof(struct hv_cpu_state, r8),  offsetof(struct hv_cpu_state, r9),
		offsetof(struct hv_cpu_state, r10), offsetof(struct hv_cpu_state, r11),
		offsetof(struct hv_cpu_state, r12), offsetof(struct hv_cpu_state, r13),
		offsetof(struct hv_cpu_state, r14), offsetof(struct hv_cpu_state, r15),
	};
	return (uint64_t *)((char *)st + off[n & 15]);
}

/* STARTUP: a PC-like start in real mode at 1000:0000 (the test guest's entry). */
void exit_startup_state(struct hv_cpu_state *st)
{
	hv_vcpu_real_mode(st, 0x1000, 0);
}

/* For the tests (badstate=1): long mode without PAE, which VMX and SVM both refuse. */
void exit_bad_state(struct hv_cpu_state *st)
{
	if (!vm.bad_state)
		return;
	st->efer = 0x500;
	st->cr0 = 0x80000011;
	st->cr4 = 0;
	st->mtd |= HV_MTD_EFER | HV_MTD_CR;
}

/* ---- handlers both kinds use ------------------------------------------------------- */

/* An exit this VMM does not serve: the guest crashed, as its kind treats that. */
bool exit_unknown(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	char what[80];
	snprintf(what, sizeof(what), "unhandled VM exit %u (%s, qualification %#lx)", reason,
		 exit_reason_name(reason), st->qual[0]);
	return v->kind->crash(v, st, what);
}

bool exit_recall(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	if (!v->recalls++)
		printf("vmm: recall of vCPU %u delivered at rip %#lx\n", v->id, st->rip);
	st->mtd = 0;
	return true;
}

/* WBINVD, INVD: guest memory is always coherent for it; nothing to do. */
bool exit_skip(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v, (void)reason;
	st->mtd = 0;
	exit_skip_insn(st);
	return true;
}

/* RDPMC: no performance counters are offered (CPUID leaf 0xa is 0): #GP(0). */
bool exit_gp(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v, (void)reason;
	st->mtd = 0;
	exit_inject_gp(st);
	return true;
}

/* VMCALL (no hypercalls), MONITOR and MWAIT (CPUID does not offer them): #UD. */
bool exit_ud(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v, (void)reason;
	st->mtd = 0;
	exit_inject_ud(st);
	return true;
}

/* IN/OUT through the kind's bus access; string I/O is not needed by the guests we run. */
bool exit_io(struct vcpu *v, struct hv_cpu_state *st, port_fn *access)
{
	uint64_t q = st->qual[0];
	unsigned size = (unsigned)(q & 7) + 1;
	bool in = q & 8;
	uint16_t port = (uint16_t)(q >> 16);
	st->mtd = 0;
	if (q & 16) {
		printf("vmm: string I/O on port %#x not supported; skipped\n", port);
		exit_skip_insn(st);
		return true;
	}
	uint64_t val = st->rax, m = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
	access(v, port, size, in, &val);
	if (in) {
		st->rax = size == 4 ? (val & m) : (st->rax & ~m) | (val & m);
		st->mtd |= HV_MTD_GPR_ACDB;
	}
	exit_skip_insn(st);
	return true;
}

/* The MSRs of every guest: 1 served, 0 not one of them, -1 #GP. */
static int common_msr(struct hv_cpu_state *st, uint32_t idx, bool write, uint64_t *val)
{
	switch (idx) {
	case 0x277: /* IA32_PAT */
		if (write) {
			st->pat = *val;
			st->mtd |= HV_MTD_EFER;
		} else {
			*val = st->pat;
		}
		return 1;
	case 0xc0000080: /* IA32_EFER: SCE, LME, NXE */
		if (!write) {
			*val = st->efer;
			return 1;
		}
		if (*val & ~0xd01ull)
			return -1;
		st->efer = (st->efer & (1ull << 10)) | *val;
		st->mtd |= HV_MTD_EFER;
		return 1;
	case 0x10: /* IA32_TIME_STAMP_COUNTER */
		if (write) {
			st->tsc_offset += *val - st->tsc;
			st->mtd |= HV_MTD_TSC;
		} else {
			*val = st->tsc;
		}
		return 1;
	default:
		return 0;
	}
}

bool exit_msr(struct vcpu *v, unsigned reason, struct hv_cpu_state *st, msr_fn *kind_msr, bool log)
{
	bool write = reason == EXIT_REASON_MSR_WRITE, quiet = false;
	uint32_t idx = (uint32_t)st->rcx;
	uint64_t val = (st->rdx << 32) | (uint32_t)st->rax;
	st->mtd = 0;
	profile_count(PROF_MSR, idx);
	int r = kind_msr(v, st, idx, write, &val);
	if (!r) {
		r = common_msr(st, idx, write, &val);
		quiet = r < 0; /* a value EFER refuses: not worth a line */
	}
	if (r <= 0) {
		if (log && !quiet && v->bad_msrs++ < 16)
			printf("vmm: vCPU %u: %s of MSR %#x: #GP\n", v->id, write ? "write" : "read", idx);
		exit_inject_gp(st);
		return true;
	}
	if (!write) {
		st->rax = (uint32_t)val;
		st->rdx = val >> 32;
		st->mtd |= HV_MTD_GPR_ACDB;
	}
	exit_skip_insn(st);
	return true;
}

/* Writes CR0 as the guest asked; entering or leaving long mode updates EFER.LMA. */
static void set_cr0(struct hv_cpu_state *st, uint64_t v)
{
	bool pg = v & (1ull << 31), lme = st->efer & (1ull << 8);
	st->cr0 = v;
	st->efer = pg && lme ? st->efer | (1ull << 10) : st->efer & ~(1ull << 10);
	st->mtd |= HV_MTD_CR | HV_MTD_EFER;
}

/*
 * MOV to/from CR0, CR3, CR4 and CR8, CLTS and LMSW (SDM Vol. 3, "Exit
 * Qualification for Control-Register Accesses": CR number bits 3:0, access
 * type 5:4, GPR 11:8, LMSW source data 31:16). CR8 is the kind's.
 */
bool exit_cr(struct vcpu *v, struct hv_cpu_state *st, cr8_fn *cr8)
{
	uint64_t q = st->qual[0], val = 0;
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	char what[48];
	st->mtd = 0;
	if (type == 0) { /* mov to cr */
		val = *exit_gpr(st, reg);
		if (cr == 0)
			set_cr0(st, val);
		else if (cr == 3)
			st->cr3 = val, st->mtd |= HV_MTD_CR;
		else if (cr == 4)
			st->cr4 = val, st->mtd |= HV_MTD_CR;
		else if (cr != 8 || !cr8)
			goto bad;
		else if (!cr8(v, true, &val)) { /* reserved bits */
			exit_inject_gp(st);
			return true;
		}
	} else if (type == 1) { /* mov from cr */
		if (cr == 0)
			val = st->cr0;
		else if (cr == 3)
			val = st->cr3;
		else if (cr == 4)
			val = st->cr4;
		else if (cr != 8 || !cr8 || !cr8(v, false, &val))
			goto bad;
		*exit_gpr(st, reg) = val;
		st->mtd |= HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_RSP;
	} else if (type == 2) { /* clts */
		set_cr0(st, st->cr0 & ~8ull);
	} else { /* lmsw: low 4 bits; PE cannot be cleared */
		uint64_t src = (q >> 16) & 0xf;
		set_cr0(st, (st->cr0 & ~0xeull) | src | (st->cr0 & 1));
	}
	exit_skip_insn(st);
	return true;
bad:
	snprintf(what, sizeof(what), "%s CR%u (not emulated)", type ? "MOV from" : "MOV to", cr);
	return v->kind->crash(v, st, what);
}

/* ---- MMIO ----------------------------------------------------------------------- */

struct mmio_ctx {
	struct vcpu *v;
	uint64_t gpa_page;
};

static int mmio_read(void *ctx, uint64_t addr, unsigned size, uint64_t *val)
{
	struct mmio_ctx *m = ctx;
	return bus_mmio(m->v, addr, size, false, val) ? 0 : -1;
}

static int mmio_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
	struct mmio_ctx *m = ctx;
	return bus_mmio(m->v, addr, size, true, &val) ? 0 : -1;
}

static int null_read(void *ctx, uint64_t addr, unsigned size, uint64_t *val)
{
	(void)ctx, (void)addr, (void)size;
	*val = ~0ull;
	return 0;
}

static int null_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
	(void)ctx, (void)addr, (void)size, (void)val;
	return 0;
}

/* Fetches the 15 bytes at the guest's rip through its page tables; false if unreadable. */
static bool fetch_insn(const struct hv_cpu_state *st, uint8_t bytes[15])
{
	uint64_t lin = st->cs.base + st->rip, code_gpa, next_gpa;
	size_t first = 4096 - (size_t)(lin & 0xfff);
	if (first > 15)
		first = 15;
	memset(bytes, 0, 15);
	return guest_translate(st, lin, &code_gpa) && guest_read(code_gpa, bytes, first) &&
	       !(first < 15 && guest_translate(st, lin + first, &next_gpa) &&
		 !guest_read(next_gpa, bytes + first, 15 - first));
}

/* An access to guest-physical memory that is not RAM: MMIO emulation. */
bool exit_mmio(struct vcpu *v, struct hv_cpu_state *st, bool lock)
{
	uint64_t gpa = st->gpa;
	uint8_t bytes[15];
	char what[80];
	st->mtd = 0;
	profile_count(PROF_MMIO, gpa & ~0xfffull);
	if (!fetch_insn(st, bytes)) {
		snprintf(what, sizeof(what), "access to %#lx outside guest memory (instruction unreadable)", gpa);
		return v->kind->crash(v, st, what);
	}
	enum x86_mode mode = (st->efer & (1u << 10)) && (st->cs.ar & (1u << 13)) ? X86_MODE_64
			     : (st->cs.ar & (1u << 14)) ? X86_MODE_32 : X86_MODE_16;
	struct x86_insn insn;
	int r = x86_decode(bytes, sizeof(bytes), mode, &insn);
	if (r < 0) {
		printf("vmm: vCPU %u: cannot decode the instruction at rip %#lx (error %d) accessing %#lx: #UD\n", v->id,
		       st->rip, r, gpa);
		exit_inject_ud(st);
		return true;
	}
	if (lock)
		pc_lock(v);
	bool served = bus_probe_mmio(gpa);
	if (!served && vm.unserved++ < 4)
		printf("vmm: vCPU %u: access to guest-physical %#lx (outside its memory) at rip %#lx: not served\n",
		       v->id, gpa, st->rip);
	struct x86_regs regs;
	for (unsigned i = 0; i < 16; i++)
		regs.gpr[i] = *exit_gpr(st, i);
	regs.rip = st->rip;
	regs.rflags = st->rflags;
	struct mmio_ctx mc = { v, gpa & ~0xfffull };
	struct x86_mem_ops ops = { mmio_read, mmio_write, NULL };
	if (!served) /* reads see all ones, writes vanish */
		ops = (struct x86_mem_ops){ null_read, null_write, NULL };
	r = x86_emulate(&insn, &regs, gpa, &ops, &mc);
	if (lock)
		pc_unlock();
	if (r < 0) {
		snprintf(what, sizeof(what), "cannot emulate the access to %#lx (error %d)", gpa, r);
		return v->kind->crash(v, st, what);
	}
	for (unsigned i = 0; i < 16; i++)
		*exit_gpr(st, i) = regs.gpr[i];
	st->rip = regs.rip;
	st->rflags = regs.rflags;
	st->mtd = HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_RSP | HV_MTD_RIP_LEN | HV_MTD_RFLAGS;
	return true;
}
