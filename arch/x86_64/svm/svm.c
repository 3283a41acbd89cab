/*
 * AMD-V: detection, EFER.SVME and the host save area on every CPU, a VMCB
 * per vCPU with nested paging (the PD's guest-physical table, gpt.c) and
 * an ASID, VMRUN and #VMEXIT. Exits become the same events as on VT-x:
 * the exit code is mapped to the VT-x exit reason and the exit information
 * to its layout (translate.c), so VMMs see one protocol (docs/abi.md).
 *
 * What AMD-V lacks is built here: the NMI window (NMIs stay blocked from
 * an injected NMI to the guest's IRET, which is intercepted and then
 * single-stepped), the interrupt window (a virtual interrupt request with
 * the VINTR intercept), and instruction lengths without NRIP save (the
 * intercepted instructions have fixed lengths; IOIO gives the next RIP).
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/svm.h>
#include <arch/virt.h>
#include <arch/vmx.h> /* the exit reason numbers of the message protocol */
#include <arch/entry.h>

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_SVMDIS (1u << 4)

static struct {
	bool nrips, flush_by_asid;
	u32 nasid;
} svm;

/* every port and every MSR but those the guest owns exit; 12 and 8 KiB, contiguous */
static u8 iopm[3 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u8 msrpm[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* Loaded by VMLOAD and saved by VMSAVE with the rest of the guest's VMCB. */
static const u32 guest_msrs[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
				  MSR_FS_BASE, MSR_GS_BASE };


static void vmsave(paddr_t pa) { __asm__ volatile("vmsave %0" ::"a"(pa) : "memory"); }

bool svm_probe(void)
{
	u32 a, b, c, d;
	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x8000000au)
		return false;
	cpuid(0x80000001u, 0, &a, &b, &c, &d);
	if (!(c & (1u << 2)))
		return false;
	cpuid(0x8000000au, 0, &a, &b, &c, &d);
	if (!(d & 1)) {
		printk("hypervisor: AMD-V without nested paging\n");
		return false;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		printk("hypervisor: AMD-V disabled by firmware\n");
		return false;
	}
	svm.nrips = d & (1u << 3);
	svm.flush_by_asid = d & (1u << 6);
	svm.nasid = b;
	if (svm.nasid < 2)
		return false;
	memset(iopm, 0xff, sizeof(iopm));
	memset(msrpm, 0xff, sizeof(msrpm));
	/* two bits (read, write) per MSR; 0xc0000000.. from byte 0x800 */
	for (unsigned i = 0; i < ARRAY_SIZE(guest_msrs); i++) {
		u32 n = guest_msrs[i] - 0xc0000000u;
		msrpm[0x800 + n / 4] &= (u8)~(3u << (n % 4 * 2));
	}
	printk("hypervisor: AMD-V with nested paging, %u ASIDs%s\n", svm.nasid, svm.nrips ? ", NRIP save" : "");
	return true;
}

/* EFER.SVME, the host save area and the host's VMSAVE state on this CPU. */
bool svm_init_cpu(void)
{
	struct percpu *c = this_cpu();
	void *hsave = page_alloc(), *host = page_alloc();
	if (!hsave || !host) {
		printk("hypervisor: CPU %u: no memory for AMD-V\n", c->id);
		return false;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(hsave));
	c->svm_host_vmcb = virt_to_phys(host);
	c->asid_gen = 1;
	c->next_asid = 1;
	vmsave(c->svm_host_vmcb); /* FS/GS/TR/LDTR and the syscall MSRs, restored after every exit */
	return true;
}

bool svm_vcpu_create(struct ec *ec)
{
	struct vmcb *b = kmem_alloc(&ec->pd->quota, PAGE_SIZE); /* page-aligned: kmem size classes */
	if (!b)
		return false;
	memset(b, 0, PAGE_SIZE);
	ec->vcpu->vmcb = b;
	return true;
}

void svm_vcpu_destroy(struct ec *ec) { kmem_free(&ec->pd->quota, ec->vcpu->vmcb, PAGE_SIZE); }

static void seg_real(struct vmcb_seg *s, u16 sel, u16 attrib)
{
	*s = (struct vmcb_seg){ sel, attrib, 0xffff, (u64)sel << 4 };
}

/* First run: intercepts, nested paging, and the state of a PC after reset. */
static void vmcb_setup(struct ec *ec)
{
	struct vmcb *b = ec->vcpu->vmcb;
	/* INIT exits as on VT-x; RDPMC would read the host's counters, WBINVD flush its caches */
	b->intercept1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_INIT | SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD |
			SVM_I1_HLT | SVM_I1_INVLPGA | SVM_I1_IOIO | SVM_I1_MSR | SVM_I1_TASK_SWITCH | SVM_I1_SHUTDOWN;
	b->intercept2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD | SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI |
			SVM_I2_SKINIT | SVM_I2_RDTSCP | SVM_I2_WBINVD | SVM_I2_MONITOR | SVM_I2_MWAIT | SVM_I2_XSETBV;
	/*
	 * #AC and #DB exit and go straight back into the guest (svm_exit_handler):
	 * a #AC raised while a #AC is delivered (a misaligned CPL 3 stack in
	 * legacy mode), or a #DB while a #DB is delivered (a breakpoint on the
	 * IDT or stack), would otherwise make the CPU loop in microcode, deaf
	 * to interrupts (CVE-2015-5307, CVE-2015-8104); this way every round is
	 * a #VMEXIT the host can preempt. The #DB intercept also ends the
	 * single step over an NMI handler's IRET.
	 */
	b->intercept_exc = SVM_EXC_DB | SVM_EXC_AC;
	b->iopm_pa = virt_to_phys(iopm);
	b->msrpm_pa = virt_to_phys(msrpm);
	b->tsc_offset = 0;
	/*
	 * V_INTR_MASKING: host interrupts exit whatever the guest's IF, and a
	 * guest's MOV to CR8 writes V_TPR here, never the local APIC's TPR (a
	 * CR8 that reached the host's TPR would mask its timer and IPIs: on
	 * VT-x CR8 accesses exit for that reason). V_TPR gates only virtual
	 * interrupts, and the interrupt window's ignores it (V_IGN_TPR). CR8
	 * accesses are not intercepted: without DecodeAssists (QEMU has none)
	 * the register operand is unknown, so they stay the guest's own.
	 */
	b->vintr = SVM_V_INTR_MASKING;
	b->np_enable = 1;
	b->n_cr3 = ec->pd->gpt_root;
	seg_real(&b->cs, 0xf000, 0x9b);
	b->cs.base = 0xffff0000;
	seg_real(&b->ds, 0, 0x93);
	seg_real(&b->es, 0, 0x93);
	seg_real(&b->ss, 0, 0x93);
	seg_real(&b->fs, 0, 0x93);
	seg_real(&b->gs, 0, 0x93);
	seg_real(&b->ldtr, 0, 0x82);
	seg_real(&b->tr, 0, 0x8b);
	b->gdtr = b->idtr = (struct vmcb_seg){ 0, 0, 0xffff, 0 };
	b->rip = 0xfff0;
	b->rflags = 2;
	b->cr0 = 0x60000010;
	b->efer = EFER_SVME; /* VMRUN requires it; the guest never sees it */
	b->dr6 = 0xffff0ff0;
	b->dr7 = 0x400;
	b->g_pat = 0x0007040600070406ull;
	memset(&ec->regs, 0, offsetof(struct regs, vec));
	ec->vcpu->initialized = true;
}

static void vmcb_dump(struct ec *ec)
{
	struct vmcb *b = ec->vcpu->vmcb;
	printk("hypervisor: vCPU %u VMCB: rip %lx rsp %lx rflags %lx cr0 %lx cr3 %lx cr4 %lx efer %lx cpl %u\n",
	       ec->id, b->rip, b->rsp, b->rflags, b->cr0, b->cr3, b->cr4, b->efer, b->cpl);
	printk("hypervisor:   cs %x/%lx/%x/%x ss %x/%x ds %x/%x tr %x/%x gdtr %lx/%x idtr %lx/%x eventinj %lx\n",
	       b->cs.sel, b->cs.base, b->cs.limit, b->cs.attrib, b->ss.sel, b->ss.attrib, b->ds.sel, b->ds.attrib,
	       b->tr.sel, b->tr.attrib, b->gdtr.base, b->gdtr.limit, b->idtr.base, b->idtr.limit, b->eventinj);
}

/* NMI blocking as the guest sees it: until the IRET of an injected NMI's handler. */
static void set_nmi_blocked(struct vcpu *v, bool blocked)
{
	v->nmi_blocked = blocked;
	if (blocked)
		v->vmcb->intercept1 |= SVM_I1_IRET;
	else
		v->vmcb->intercept1 &= ~SVM_I1_IRET;
}

static bool nmi_stepping(const struct vcpu *v) { return v->nmi_step; }

/* A fresh ASID of this CPU's generation; a new generation flushes every ASID. */
static u8 asid_check(struct percpu *c, struct vcpu *v)
{
	u8 flush = SVM_TLB_FLUSH_NONE;
	if (v->asid_gen != c->asid_gen) {
		if (c->next_asid >= svm.nasid) {
			c->asid_gen++;
			c->next_asid = 1;
			flush = SVM_TLB_FLUSH_ALL;
		}
		v->asid = c->next_asid++;
		v->asid_gen = c->asid_gen;
	}
	return flush;
}

/* Enters the guest of vCPU ec (on its own CPU); the STARTUP event comes first. */
NORETURN void svm_run(struct ec *ec)
{
	struct percpu *c = this_cpu();
	struct vcpu *v = ec->vcpu;
	struct vmcb *b = v->vmcb;
	c->cur_ec = ec;
	if (!v->initialized)
		vmcb_setup(ec);
	if (!v->started) /* set once the message is delivered (vcpu_get_state) */
		ipc_event(ec, HV_VMEVT_STARTUP);
	if (v->nmi_window && !v->nmi_blocked && !nmi_stepping(v) && !(b->eventinj & SVM_EVT_VALID)) {
		v->qual = v->gpa = 0; /* the NMI window is open: exit at once, as VT-x would */
		v->inst_len = v->vect_info = v->vect_error = 0;
		ipc_event(ec, EXIT_REASON_NMI_WINDOW);
	}
	vcpu_lazy_switch(ec);
	u8 flush = asid_check(c, v);
	u64 gen = __atomic_load_n(&ec->pd->gpt_gen, __ATOMIC_ACQUIRE);
	if (v->gpt_gen != gen) { /* translations were removed since this vCPU last ran */
		v->gpt_gen = gen;
		if (flush == SVM_TLB_FLUSH_NONE)
			flush = svm.flush_by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
	}
	b->asid = v->asid;
	b->tlb_control = flush;
	b->clean = 0; /* nothing cached across VMRUNs */
	b->rax = ec->regs.rax;
	if (read_cr3() != kernel_cr3) /* #VMEXIT restores this CR3: no PD's tables */
		write_cr3(kernel_cr3);
	ec->regs.vec = virt_to_phys(b);
	ec->regs.err = c->svm_host_vmcb;
	bkl_unlock();
	svm_enter(&ec->regs);
	__builtin_unreachable();
}

static void inject_exc(struct vmcb *b, unsigned vec, bool err)
{
	b->eventinj = SVM_EVT_VALID | (SVM_EVT_EXC << 8) | vec | (err ? SVM_EVT_ERR : 0);
}

/*
 * The guest's RIP moved past an instruction the VMM or the kernel carried
 * out for it; `rflags` is what it started with. As the CPU would: the
 * interrupt shadow ends, and with TF set (the guest's, not the NMI step's)
 * a single-step trap follows: #DB injected with DR6.BS. Not when an event
 * is injected at the same entry: that comes first, its handler without TF.
 */
static void insn_done(struct vcpu *v, u64 rflags)
{
	struct vmcb *b = v->vmcb;
	b->int_state &= ~1ull;
	if ((rflags & RFLAGS_TF) && !nmi_stepping(v) && !(b->eventinj & SVM_EVT_VALID)) {
		b->dr6 |= DR6_BS;
		inject_exc(b, 1, false);
	}
}

/* The exits the kernel handles itself (by VT-x reason, as vmexit.c); true: done, back to the guest. */

/* A skipped instruction (length from the exit), finished as the CPU would. */
static void skip_insn(struct vcpu *v)
{
	v->vmcb->rip += v->inst_len;
	insn_done(v, v->vmcb->rflags);
}

/*
 * A host NMI (the host took it at STGI), or #DB or #AC, which go straight
 * back into the guest (see vmcb_setup). RF is set for #AC, as the CPU sets
 * it for a fault.
 */
static bool exception_exit(struct ec *ec)
{
	struct vmcb *b = ec->vcpu->vmcb;
	if (b->exitcode == SVM_EXIT_EXC_DB) {
		inject_exc(b, 1, false);
	} else if (b->exitcode == SVM_EXIT_EXC_AC) {
		b->rflags |= RFLAGS_RF;
		inject_exc(b, 17, true);
	}
	return true;
}

static bool extint_exit(struct ec *ec) /* the interrupt window took it */
{
	(void)ec;
	return true;
}

/* XSETBV, as on VT-x: #GP(0) for CPL > 0 and invalid values. */
static bool xsetbv_exit(struct ec *ec)
{
	struct vcpu *v = ec->vcpu;
	u64 value = (ec->regs.rdx << 32) | (u32)ec->regs.rax;
	if (v->vmcb->cpl == 0 && vcpu_xsetbv(ec, (u32)ec->regs.rcx, value))
		skip_insn(v);
	else
		inject_exc(v->vmcb, 13, true);
	return true;
}

static bool wbinvd_exit(struct ec *ec) /* skipped: the host's caches are the host's */
{
	skip_insn(ec->vcpu);
	return true;
}

static bool svm_insn_exit(struct ec *ec) /* SVM is not offered to guests, nor RDTSCP (as on VT-x): #UD */
{
	inject_exc(ec->vcpu->vmcb, 6, false);
	return true;
}

static bool (*const kernel_exits[])(struct ec *) = {
	[EXIT_REASON_EXCEPTION_NMI] = exception_exit,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = extint_exit,
	[EXIT_REASON_VMCLEAR ... EXIT_REASON_VMXON] = svm_insn_exit,
	[EXIT_REASON_RDTSCP] = svm_insn_exit,
	[EXIT_REASON_INVVPID] = svm_insn_exit,
	[EXIT_REASON_WBINVD] = wbinvd_exit,
	[EXIT_REASON_XSETBV] = xsetbv_exit,
};

/*
 * Before the exit is looked at: an event whose delivery it interrupted is
 * delivered again; NMI blocking: the intercepted IRET of an NMI handler is
 * single-stepped, and the #DB after it unblocks NMIs. True: that was all.
 */
static bool exit_prologue(struct vcpu *v)
{
	struct vmcb *b = v->vmcb;
	u64 ii = b->exitintinfo;
	v->vect_info = svm_evt_to_vmx(ii);
	v->vect_error = (u32)(ii >> 32);
	if (ii & SVM_EVT_VALID) {
		unsigned type = (ii >> 8) & 7, vec = ii & 0xff;
		/* INT n, INT3 and INTO are executed again instead: RIP is at the instruction */
		if (!(type == SVM_EVT_SOFT || (type == SVM_EVT_EXC && (vec == 3 || vec == 4))))
			b->eventinj = ii;
	}
	if (b->exitcode == SVM_EXIT_IRET) {
		b->intercept1 &= ~SVM_I1_IRET;
		v->nmi_step = true;
		b->rflags |= RFLAGS_TF;
		return true;
	}
	if (b->exitcode == SVM_EXIT_EXC_DB && nmi_stepping(v)) { /* the IRET is done: TF is the guest's own again */
		v->nmi_step = false;
		b->dr6 &= ~DR6_BS;
		set_nmi_blocked(v, false);
		return true;
	}
	return false;
}

/*
 * The guest's breakpoints must not fire in host code (the VMM's, or the
 * kernel's). AMD CPUs disarm them at #VMEXIT. QEMU before 9.1 sets DR7 to
 * 0x400 there but leaves the guest's instruction breakpoints in force, and
 * removes them only when a MOV to DR7 changes more than the enable bits: so
 * one with LE set, then 0x400. Its data breakpoints do not fire in the host
 * (it checks DR7 for those), and the detour is not safe with them armed.
 * (VT-x loads DR7 = 0x400 at every exit: vmx.c.)
 */
static void host_dr7(const struct vmcb *b)
{
	u64 on = b->dr7 & 0xff, types = b->dr7 >> 16;
	for (unsigned i = 0; i < 4; i++)
		if (on & (3u << (2 * i)) && types & (3u << (4 * i)))
			return; /* a data or I/O breakpoint */
	if (on) {
		__asm__ volatile("mov %0, %%dr7" ::"r"(0x500ul));
		__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ul));
	}
}

NORETURN void svm_exit_handler(void)
{
	struct percpu *c = this_cpu();
	struct ec *ec = c->cur_ec;
	struct vcpu *v = ec->vcpu;
	struct vmcb *b = v->vmcb;
	host_dr7(b);
	ec->regs.rax = b->rax;
	vcpu_irq_window(); /* host interrupts that exited the guest, or came meanwhile */
	bkl_lock();
	u64 code = b->exitcode;
	if (code == SVM_EXIT_INVALID || code == (u32)SVM_EXIT_INVALID) { /* QEMU stores -1 in 32 bits */
		vmcb_dump(ec);
		ec_kill(ec, "VM entry failed: invalid guest state (VMEXIT_INVALID)");
		sched_schedule();
	}
	if (exit_prologue(v))
		kernel_exit(ec);
	struct svm_exit e;
	if (!svm_exit_to_vmx(b, svm.nrips, &e)) {
		char why[64];
		snprintk(why, sizeof(why), "unexpected AMD-V exit code 0x%lx", code);
		vmcb_dump(ec);
		ec_kill(ec, why);
		sched_schedule();
	}
	v->inst_len = e.inst_len;
	v->qual = e.qual;
	v->gpa = e.gpa;
	if (e.reason < ARRAY_SIZE(kernel_exits) && kernel_exits[e.reason] && kernel_exits[e.reason](ec))
		kernel_exit(ec);
	ipc_event(ec, e.reason);
}

#define SEG_GET(st, name)                                                   \
	do {                                                                \
		st->name.sel = b->name.sel;                                 \
		st->name.base = b->name.base;                               \
		st->name.limit = b->name.limit;                             \
		st->name.ar = svm_attrib_to_ar(b->name.attrib);             \
	} while (0)

#define SEG_SET(st, name)                                                   \
	do {                                                                \
		b->name.sel = (u16)st->name.sel;                            \
		b->name.base = st->name.base;                               \
		b->name.limit = (u32)st->name.limit;                        \
		b->name.attrib = svm_ar_to_attrib((u32)st->name.ar);        \
	} while (0)

/* Guest state -> message, for the parts `mtd` names (GPRs come from regs). */
void svm_get_state(struct ec *ec, u64 mtd, struct hv_cpu_state *st)
{
	struct vcpu *v = ec->vcpu;
	struct vmcb *b = v->vmcb;
	if (mtd & HV_MTD_RSP)
		st->rsp = b->rsp;
	if (mtd & HV_MTD_RIP_LEN) {
		st->rip = b->rip;
		st->inst_len = v->inst_len;
	}
	if (mtd & HV_MTD_RFLAGS)
		st->rflags = nmi_stepping(v) ? b->rflags & ~RFLAGS_TF : b->rflags;
	if (mtd & (HV_MTD_QUAL | HV_MTD_VMINFO)) {
		st->qual[0] = v->qual;
		st->qual[1] = 0; /* AMD-V does not report the guest-linear address */
		st->gpa = v->gpa;
		st->vect_info = v->vect_info;
		st->vect_error = v->vect_error;
	}
	if (mtd & HV_MTD_DS_ES) {
		SEG_GET(st, ds);
		SEG_GET(st, es);
	}
	if (mtd & HV_MTD_FS_GS) {
		SEG_GET(st, fs);
		SEG_GET(st, gs);
	}
	if (mtd & HV_MTD_CS_SS) {
		SEG_GET(st, cs);
		SEG_GET(st, ss);
	}
	if (mtd & HV_MTD_TR)
		SEG_GET(st, tr);
	if (mtd & HV_MTD_LDTR)
		SEG_GET(st, ldtr);
	if (mtd & HV_MTD_GDTR) {
		st->gdtr.base = b->gdtr.base;
		st->gdtr.limit = b->gdtr.limit;
	}
	if (mtd & HV_MTD_IDTR) {
		st->idtr.base = b->idtr.base;
		st->idtr.limit = b->idtr.limit;
	}
	if (mtd & HV_MTD_CR) {
		st->cr0 = b->cr0;
		st->cr2 = b->cr2;
		st->cr3 = b->cr3;
		st->cr4 = b->cr4;
	}
	if (mtd & HV_MTD_DR)
		st->dr7 = b->dr7;
	if (mtd & HV_MTD_SYSENTER) {
		st->sysenter_cs = b->sysenter_cs;
		st->sysenter_esp = b->sysenter_esp;
		st->sysenter_eip = b->sysenter_eip;
	}
	if (mtd & HV_MTD_CTRL)
		st->ctrl[0] = (b->intercept1 & SVM_I1_VINTR ? HV_CTRL_INTR_WINDOW : 0) |
			      (v->nmi_window ? HV_CTRL_NMI_WINDOW : 0);
	if (mtd & HV_MTD_INJ) {
		st->inj_info = svm_evt_to_vmx(b->eventinj);
		st->inj_error = (u32)(b->eventinj >> 32);
	}
	if (mtd & HV_MTD_STA) {
		st->intr_state = (b->int_state & 1 ? 1u : 0) | (v->nmi_blocked || nmi_stepping(v) ? 8u : 0);
		st->actv_state = 0;
	}
	if (mtd & HV_MTD_TSC) {
		st->tsc_offset = b->tsc_offset;
		st->tsc = rdtsc() + st->tsc_offset;
	}
	if (mtd & HV_MTD_EFER) {
		st->efer = b->efer & ~EFER_SVME;
		st->pat = b->g_pat;
	}
}

/*
 * Message -> guest state, for the parts st->mtd names. Values VMRUN
 * refuses end this vCPU (VMEXIT_INVALID); only the fields whose effect
 * reaches beyond the guest are checked here.
 */
bool svm_set_state(struct ec *ec, const struct hv_cpu_state *st)
{
	struct vcpu *v = ec->vcpu;
	struct vmcb *b = v->vmcb;
	u64 m = st->mtd, rflags = b->rflags;
	u64 rip = m & HV_MTD_RIP_LEN ? st->rip : 0; /* read once: a sibling thread may change it */
	bool moved = (m & HV_MTD_RIP_LEN) && rip != b->rip;
	if (m & HV_MTD_RSP)
		b->rsp = st->rsp;
	if (m & HV_MTD_RIP_LEN)
		b->rip = rip;
	if (m & HV_MTD_RFLAGS)
		b->rflags = (st->rflags & GUEST_RFLAGS_MASK) | 2 | (nmi_stepping(v) ? RFLAGS_TF : 0);
	if (m & HV_MTD_DS_ES) {
		SEG_SET(st, ds);
		SEG_SET(st, es);
	}
	if (m & HV_MTD_FS_GS) {
		SEG_SET(st, fs);
		SEG_SET(st, gs);
	}
	if (m & HV_MTD_CS_SS) {
		SEG_SET(st, cs);
		SEG_SET(st, ss);
		b->cpl = (u8)((b->ss.attrib >> 5) & 3); /* the DPL just set, not read again */
	}
	if (m & HV_MTD_TR)
		SEG_SET(st, tr);
	if (m & HV_MTD_LDTR)
		SEG_SET(st, ldtr);
	if (m & HV_MTD_GDTR) {
		b->gdtr.base = st->gdtr.base;
		b->gdtr.limit = (u32)st->gdtr.limit;
	}
	if (m & HV_MTD_IDTR) {
		b->idtr.base = st->idtr.base;
		b->idtr.limit = (u32)st->idtr.limit;
	}
	if (m & HV_MTD_CR) {
		b->cr0 = st->cr0;
		b->cr2 = st->cr2;
		b->cr3 = st->cr3;
		b->cr4 = st->cr4;
	}
	if (m & HV_MTD_DR)
		b->dr7 = st->dr7 & 0xffffffffu;
	if (m & HV_MTD_SYSENTER) {
		b->sysenter_cs = st->sysenter_cs;
		b->sysenter_esp = st->sysenter_esp;
		b->sysenter_eip = st->sysenter_eip;
	}
	if (m & HV_MTD_CTRL) {
		u64 ctrl = st->ctrl[0];
		if (ctrl & HV_CTRL_INTR_WINDOW) { /* a virtual interrupt nobody takes: VINTR exits */
			b->vintr |= SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT);
			b->intercept1 |= SVM_I1_VINTR;
		} else {
			b->vintr &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT));
			b->intercept1 &= ~SVM_I1_VINTR;
		}
		v->nmi_window = ctrl & HV_CTRL_NMI_WINDOW;
	}
	if (m & HV_MTD_STA) {
		u64 is = st->intr_state;
		b->int_state = is & 3 ? 1 : 0;
		if (!nmi_stepping(v))
			set_nmi_blocked(v, is & 8);
	}
	if (m & HV_MTD_INJ) {
		u64 evt;
		bool advance;
		if (!svm_evt_from_vmx((u32)st->inj_info, (u32)st->inj_error, &evt, &advance))
			return false; /* reserved event types */
		if (advance)
			b->rip += st->inst_len & 0xf;
		if (((evt >> 8) & 7) == SVM_EVT_NMI && (evt & SVM_EVT_VALID))
			set_nmi_blocked(v, true);
		b->eventinj = evt;
	}
	if (m & HV_MTD_TSC)
		b->tsc_offset = st->tsc_offset;
	if (m & HV_MTD_EFER) {
		b->efer = (st->efer & GUEST_EFER_MASK) | EFER_SVME;
		b->g_pat = st->pat;
	}
	if (moved)
		insn_done(v, rflags);
	return true;
}
