/*
 * VM exits, in the shape svm.c shares: a prologue (host state, an
 * interrupted event delivered again, NMI blocking), then the table of the
 * reasons the kernel handles itself (host interrupts and NMIs, #AC, XSETBV,
 * WBINVD, the VMX instructions); every other reason becomes an event, a
 * portal call from the vCPU to the VMM at evt_base + reason, carrying the
 * state the portal's MTD names. An entry failure is reported with a VMCS
 * dump and ends that vCPU, never the kernel.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/virt.h>
#include <arch/vmx.h>
#include <arch/entry.h>


static void vmcs_dump(struct ec *ec)
{
	printk("hypervisor: vCPU %u VMCS: rip %lx rsp %lx rflags %lx cr0 %lx cr3 %lx cr4 %lx efer %lx\n", ec->id,
	       vmcs_readl(GUEST_RIP), vmcs_readl(GUEST_RSP), vmcs_readl(GUEST_RFLAGS), vmcs_readl(GUEST_CR0),
	       vmcs_readl(GUEST_CR3), vmcs_readl(GUEST_CR4), vmcs_read64(GUEST_IA32_EFER));
	printk("hypervisor:   cs %x/%lx/%x/%x ss %x/%x ds %x/%x tr %x/%x ldtr %x/%x gdtr %lx/%x idtr %lx/%x\n",
	       vmcs_read16(GUEST_CS_SELECTOR), vmcs_readl(GUEST_CS_BASE), vmcs_read32(GUEST_CS_LIMIT),
	       vmcs_read32(GUEST_CS_AR_BYTES), vmcs_read16(GUEST_SS_SELECTOR), vmcs_read32(GUEST_SS_AR_BYTES),
	       vmcs_read16(GUEST_DS_SELECTOR), vmcs_read32(GUEST_DS_AR_BYTES), vmcs_read16(GUEST_TR_SELECTOR),
	       vmcs_read32(GUEST_TR_AR_BYTES), vmcs_read16(GUEST_LDTR_SELECTOR), vmcs_read32(GUEST_LDTR_AR_BYTES),
	       vmcs_readl(GUEST_GDTR_BASE), vmcs_read32(GUEST_GDTR_LIMIT), vmcs_readl(GUEST_IDTR_BASE),
	       vmcs_read32(GUEST_IDTR_LIMIT));
	printk("hypervisor:   entry ctls %x intr info %x intr state %x activity %x exit qual %lx\n",
	       vmcs_read32(VM_ENTRY_CONTROLS), vmcs_read32(VM_ENTRY_INTR_INFO_FIELD),
	       vmcs_read32(GUEST_INTERRUPTIBILITY_INFO), vmcs_read32(GUEST_ACTIVITY_STATE),
	       vmcs_readl(EXIT_QUALIFICATION));
}

/*
 * A VM exit leaves the GDTR limit at 0xffff and TR's limit at 0x67 (SDM
 * Vol. 3C, loading host segment and descriptor-table registers). With that GDT limit user selectors would reach past the GDT into
 * the TSS, its I/O bitmap, the IST stack and the next CPU's per-CPU data
 * (LAR/LSL/VERR at CPL 3 read them; bytes there could form a call gate), so
 * the real limit is loaded again before anything else; TR is reloaded so
 * that user I/O bitmaps work again.
 */
_Static_assert(SEL_TSS + 16 <= sizeof(((struct percpu *)0)->gdt), "the GDT limit covers the TSS descriptor");
static void restore_gdt_tr(struct percpu *c)
{
	struct PACKED {
		u16 limit;
		u64 base;
	} gdtr = { sizeof(c->gdt) - 1, (u64)c->gdt };
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	c->gdt[5] &= ~(1ull << 41); /* clear the TSS's busy bit */
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

/* VMLAUNCH/VMRESUME failed (VM-instruction error): report, stop the vCPU. */
NORETURN void vmx_entry_failed(void)
{
	bkl_lock();
	struct ec *ec = this_cpu()->cur_ec;
	char why[64];
	snprintk(why, sizeof(why), "VM entry failed (VM-instruction error %u)", vmcs_read32(VM_INSTRUCTION_ERROR));
	vmcs_dump(ec);
	ec_kill(ec, why);
	sched_schedule();
}

#define INTR_STATE_STI_MOVSS 3u /* blocking by STI, by MOV SS */
#define INTR_STATE_NMI (1u << 3)
#define NMI_UNBLOCKED_BY_IRET (1u << 12) /* exit qualification / interruption info */

/*
 * An exit that interrupted the delivery of an event: the event is put back
 * into the VM-entry interruption field at once, so the next entry delivers
 * it again unless the VMM, which sees it as a pending injection (INJ) and
 * as vect_info, deliberately replaces it. An NMI that is delivered again
 * must not find NMIs blocked (SDM 27.3.4 / 26.3.1.5).
 */
static void reinject(u32 vect)
{
	u32 type = (vect >> 8) & 7;
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, vect & ~(1u << 12));
	if (vect & HV_INJ_ERRCODE)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	if (type >= 4) /* software interrupt or exception: the instruction's length */
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	if (type == 2)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & ~INTR_STATE_NMI);
}

/*
 * The guest's RIP moved past an instruction the VMM or the kernel carried
 * out for it (CPUID, I/O, MMIO, MSRs, XSETBV, HLT, ...); `rflags` is what
 * it started with. As the CPU would: the STI/MOV SS interrupt shadow ends,
 * and with TF set a single-step trap (#DB, DR6.BS) follows, through the
 * pending-debug-exceptions field (SDM Vol. 3C, guest non-register state).
 * Not when an event is injected at the same entry: that comes first, and
 * its handler starts with TF clear.
 */
static void insn_done(u64 rflags)
{
	u32 is = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (is & INTR_STATE_STI_MOVSS)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, is & ~INTR_STATE_STI_MOVSS);
	if ((rflags & RFLAGS_TF) && !(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & HV_INJ_VALID))
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | DR6_BS);
}

/* The exits the kernel handles itself; true: done, back to the guest. */

static void inject_hwexc(unsigned vec, bool err, u32 code)
{
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, HV_INJ_VALID | HV_INJ_HWEXC | (err ? HV_INJ_ERRCODE : 0) | vec);
	vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, code);
}

/* A skipped instruction (length from the exit), finished as the CPU would. */
static void skip_insn(void)
{
	vmcs_writel(GUEST_RIP, vmcs_readl(GUEST_RIP) + vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	insn_done(vmcs_readl(GUEST_RFLAGS));
}

/*
 * A host NMI (raised again in the prologue), or #AC, in the exception
 * bitmap: it goes straight back into the guest. A #AC raised while a #AC
 * is delivered (a misaligned CPL 3 stack in legacy mode) would otherwise
 * make the CPU loop in microcode, deaf to interrupts (CVE-2015-5307); this
 * way every round is a VM exit the host can preempt. RF is set in the
 * guest's RFLAGS, as the CPU sets it for a fault; an event whose delivery
 * raised it is dropped, as the CPU would.
 */
static bool exception_exit(struct ec *ec)
{
	(void)ec;
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);
	if (((info >> 8) & 7) == 2)
		return true;
	if ((info & 0xff) != 17)
		return false;
	inject_hwexc(17, true, vmcs_read32(VM_EXIT_INTR_ERROR_CODE));
	vmcs_writel(GUEST_RFLAGS, vmcs_readl(GUEST_RFLAGS) | RFLAGS_RF);
	return true;
}

static bool extint_exit(struct ec *ec)
{
	(void)ec;
	trap_interrupt(vmcs_read32(VM_EXIT_INTR_INFO) & 0xff);
	return true;
}

static bool preemption_timer_exit(struct ec *ec) /* the host timer's deadline passed */
{
	(void)ec;
	sched_tick();
	return true;
}

/*
 * XSETBV: ECX selects the XCR, EDX:EAX the value. Invalid values and CPL
 * > 0 give #GP(0) as on real hardware.
 */
static bool xsetbv_exit(struct ec *ec)
{
	u64 value = (ec->regs.rdx << 32) | (u32)ec->regs.rax;
	unsigned cpl = (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
	if (cpl == 0 && vcpu_xsetbv(ec, (u32)ec->regs.rcx, value))
		skip_insn();
	else
		inject_hwexc(13, true, 0);
	return true;
}

static bool wbinvd_exit(struct ec *ec) /* skipped: the host's caches are the host's */
{
	(void)ec;
	skip_insn();
	return true;
}

static bool vmx_insn_exit(struct ec *ec) /* VMX is not offered to guests: #UD */
{
	(void)ec;
	inject_hwexc(6, false, 0);
	return true;
}

static bool (*const kernel_exits[])(struct ec *) = {
	[EXIT_REASON_EXCEPTION_NMI] = exception_exit,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = extint_exit,
	[EXIT_REASON_VMCLEAR ... EXIT_REASON_VMXON] = vmx_insn_exit,
	[EXIT_REASON_INVEPT] = vmx_insn_exit,
	[EXIT_REASON_PREEMPTION_TIMER] = preemption_timer_exit,
	[EXIT_REASON_INVVPID] = vmx_insn_exit,
	[EXIT_REASON_WBINVD] = wbinvd_exit,
	[EXIT_REASON_XSETBV] = xsetbv_exit,
};

/*
 * Before the exit is looked at: an event whose delivery it interrupted
 * goes back into the entry field (reinject); a fault in an IRET that had
 * unblocked NMIs makes the IRET run again, so NMIs stay blocked.
 */
static void exit_prologue(unsigned reason)
{
	u32 vect = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	if (vect & HV_INJ_VALID) {
		reinject(vect);
	} else if (reason == EXIT_REASON_EPT_VIOLATION || reason == EXIT_REASON_EXCEPTION_NMI) {
		u32 q = reason == EXIT_REASON_EPT_VIOLATION ? (u32)vmcs_readl(EXIT_QUALIFICATION)
							    : vmcs_read32(VM_EXIT_INTR_INFO);
		bool df = reason == EXIT_REASON_EXCEPTION_NMI && (q & 0xff) == 8;
		if ((q & NMI_UNBLOCKED_BY_IRET) && !df)
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
				     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) | INTR_STATE_NMI);
	}
}

NORETURN void vmx_exit_handler(void)
{
	struct percpu *c = this_cpu();
	struct ec *ec = c->cur_ec;
	struct vcpu *v = ec->vcpu;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v->cr2));
	restore_gdt_tr(c);
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	unsigned basic = reason & 0xffff;
	if (basic == EXIT_REASON_EXCEPTION_NMI && ((vmcs_read32(VM_EXIT_INTR_INFO) >> 8) & 7) == 2)
		__asm__ volatile("int $2"); /* the host's NMI exited the guest: its handler, before the lock */
	bool (*kernel_handler)(struct ec *) = basic < ARRAY_SIZE(kernel_exits) ? kernel_exits[basic] : NULL;
	if (kernel_handler)
		vcpu_irq_window(); /* host interrupts that came meanwhile: this exit may recur at once */
	bkl_lock();
	v->launched = true;
	if (reason & VMX_EXIT_ENTRY_FAILURE) {
		char why[64];
		snprintk(why, sizeof(why), "VM entry failed: invalid guest state (exit reason %u)", basic);
		vmcs_dump(ec);
		ec_kill(ec, why);
		sched_schedule();
	}
	exit_prologue(basic);
	if (kernel_handler && kernel_handler(ec))
		kernel_exit(ec);
	ipc_event(ec, basic);
}

#define SEG_GET(st, name, NAME)                                              \
	do {                                                                 \
		st->name.sel = vmcs_read16(GUEST_##NAME##_SELECTOR);         \
		st->name.base = vmcs_readl(GUEST_##NAME##_BASE);             \
		st->name.limit = vmcs_read32(GUEST_##NAME##_LIMIT);          \
		st->name.ar = vmcs_read32(GUEST_##NAME##_AR_BYTES);          \
	} while (0)

#define SEG_SET(st, name, NAME)                                              \
	do {                                                                 \
		vmcs_write16(GUEST_##NAME##_SELECTOR, st->name.sel);         \
		vmcs_writel(GUEST_##NAME##_BASE, st->name.base);             \
		vmcs_write32(GUEST_##NAME##_LIMIT, st->name.limit);          \
		vmcs_write32(GUEST_##NAME##_AR_BYTES, st->name.ar);          \
	} while (0)

/* Guest state -> message, for the parts `mtd` names (GPRs come from regs). */
void vmx_get_state(struct ec *ec, u64 mtd, struct hv_cpu_state *st)
{
	struct vcpu *v = ec->vcpu;
	vmx_load(ec);
	if (mtd & HV_MTD_RSP)
		st->rsp = vmcs_readl(GUEST_RSP);
	if (mtd & HV_MTD_RIP_LEN) {
		st->rip = vmcs_readl(GUEST_RIP);
		st->inst_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	}
	if (mtd & HV_MTD_RFLAGS)
		st->rflags = vmcs_readl(GUEST_RFLAGS);
	if (mtd & (HV_MTD_QUAL | HV_MTD_VMINFO)) {
		st->qual[0] = vmcs_readl(EXIT_QUALIFICATION);
		st->qual[1] = vmcs_readl(GUEST_LINEAR_ADDRESS);
		st->gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
		st->vect_info = vmcs_read32(IDT_VECTORING_INFO_FIELD);
		st->vect_error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
	}
	if (mtd & HV_MTD_DS_ES) {
		SEG_GET(st, ds, DS);
		SEG_GET(st, es, ES);
	}
	if (mtd & HV_MTD_FS_GS) {
		SEG_GET(st, fs, FS);
		SEG_GET(st, gs, GS);
	}
	if (mtd & HV_MTD_CS_SS) {
		SEG_GET(st, cs, CS);
		SEG_GET(st, ss, SS);
	}
	if (mtd & HV_MTD_TR)
		SEG_GET(st, tr, TR);
	if (mtd & HV_MTD_LDTR)
		SEG_GET(st, ldtr, LDTR);
	if (mtd & HV_MTD_GDTR) {
		st->gdtr.base = vmcs_readl(GUEST_GDTR_BASE);
		st->gdtr.limit = vmcs_read32(GUEST_GDTR_LIMIT);
	}
	if (mtd & HV_MTD_IDTR) {
		st->idtr.base = vmcs_readl(GUEST_IDTR_BASE);
		st->idtr.limit = vmcs_read32(GUEST_IDTR_LIMIT);
	}
	if (mtd & HV_MTD_CR) {
		u64 m0 = vmcs_readl(CR0_GUEST_HOST_MASK), m4 = vmcs_readl(CR4_GUEST_HOST_MASK);
		st->cr0 = (vmcs_readl(GUEST_CR0) & ~m0) | (vmcs_readl(CR0_READ_SHADOW) & m0);
		st->cr4 = (vmcs_readl(GUEST_CR4) & ~m4) | (vmcs_readl(CR4_READ_SHADOW) & m4);
		st->cr2 = v->cr2;
		st->cr3 = vmcs_readl(GUEST_CR3);
	}
	if (mtd & HV_MTD_DR)
		st->dr7 = vmcs_readl(GUEST_DR7);
	if (mtd & HV_MTD_SYSENTER) {
		st->sysenter_cs = vmcs_read32(GUEST_SYSENTER_CS);
		st->sysenter_esp = vmcs_readl(GUEST_SYSENTER_ESP);
		st->sysenter_eip = vmcs_readl(GUEST_SYSENTER_EIP);
	}
	if (mtd & HV_MTD_CTRL) {
		u32 p = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
		st->ctrl[0] = (p & (1u << 2) ? HV_CTRL_INTR_WINDOW : 0) | (p & (1u << 22) ? HV_CTRL_NMI_WINDOW : 0);
	}
	if (mtd & HV_MTD_INJ) {
		st->inj_info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);
		st->inj_error = vmcs_read32(VM_ENTRY_EXCEPTION_ERROR_CODE);
	}
	if (mtd & HV_MTD_STA) {
		st->intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		st->actv_state = vmcs_read32(GUEST_ACTIVITY_STATE);
	}
	if (mtd & HV_MTD_TSC) {
		st->tsc_offset = vmcs_read64(TSC_OFFSET);
		st->tsc = rdtsc() + st->tsc_offset;
	}
	if (mtd & HV_MTD_EFER) {
		st->efer = vmcs_read64(GUEST_IA32_EFER);
		st->pat = vmcs_read64(GUEST_IA32_PAT);
	}
}

/*
 * Message -> guest state, for the parts st->mtd names. Values the VMCS
 * cannot hold are caught by VM entry, which then ends this vCPU; only the
 * fields whose effect reaches beyond the guest are checked here.
 */
bool vmx_set_state(struct ec *ec, const struct hv_cpu_state *st)
{
	struct vcpu *v = ec->vcpu;
	vmx_load(ec);
	u64 m = st->mtd;
	u64 rip = m & HV_MTD_RIP_LEN ? st->rip : 0; /* read once: a sibling thread may change it */
	bool moved = (m & HV_MTD_RIP_LEN) && rip != vmcs_readl(GUEST_RIP);
	u64 rflags = moved ? vmcs_readl(GUEST_RFLAGS) : 0;
	if (m & HV_MTD_RSP)
		vmcs_writel(GUEST_RSP, st->rsp);
	if (m & HV_MTD_RIP_LEN)
		vmcs_writel(GUEST_RIP, rip);
	if (m & HV_MTD_RFLAGS)
		vmcs_writel(GUEST_RFLAGS, (st->rflags & GUEST_RFLAGS_MASK) | 2);
	if (m & HV_MTD_DS_ES) {
		SEG_SET(st, ds, DS);
		SEG_SET(st, es, ES);
	}
	if (m & HV_MTD_FS_GS) {
		SEG_SET(st, fs, FS);
		SEG_SET(st, gs, GS);
	}
	if (m & HV_MTD_CS_SS) {
		SEG_SET(st, cs, CS);
		SEG_SET(st, ss, SS);
	}
	if (m & HV_MTD_TR)
		SEG_SET(st, tr, TR);
	if (m & HV_MTD_LDTR)
		SEG_SET(st, ldtr, LDTR);
	if (m & HV_MTD_GDTR) {
		vmcs_writel(GUEST_GDTR_BASE, st->gdtr.base);
		vmcs_write32(GUEST_GDTR_LIMIT, st->gdtr.limit);
	}
	if (m & HV_MTD_IDTR) {
		vmcs_writel(GUEST_IDTR_BASE, st->idtr.base);
		vmcs_write32(GUEST_IDTR_LIMIT, st->idtr.limit);
	}
	if (m & HV_MTD_CR) {
		u64 cr0 = st->cr0, cr4 = st->cr4; /* each read once */
		v->cr0_shadow = cr0;
		vmcs_writel(CR0_READ_SHADOW, cr0);
		vmcs_writel(GUEST_CR0, vmx_cr0_guest(cr0));
		vmcs_writel(CR4_READ_SHADOW, cr4);
		vmcs_writel(GUEST_CR4, vmx_cr4_guest(cr4));
		vmcs_writel(GUEST_CR3, st->cr3);
		v->cr2 = st->cr2;
	}
	if (m & HV_MTD_DR)
		vmcs_writel(GUEST_DR7, st->dr7 & 0xffffffffu);
	if (m & HV_MTD_SYSENTER) {
		vmcs_write32(GUEST_SYSENTER_CS, st->sysenter_cs);
		vmcs_writel(GUEST_SYSENTER_ESP, st->sysenter_esp);
		vmcs_writel(GUEST_SYSENTER_EIP, st->sysenter_eip);
	}
	if (m & HV_MTD_CTRL) {
		u32 p = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & ~((1u << 2) | (1u << 22));
		u64 ctrl = st->ctrl[0];
		if (ctrl & HV_CTRL_INTR_WINDOW)
			p |= 1u << 2;
		if (ctrl & HV_CTRL_NMI_WINDOW)
			p |= 1u << 22;
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, p);
	}
	if (m & HV_MTD_INJ) {
		u32 info = (u32)st->inj_info & (HV_INJ_VALID | HV_INJ_ERRCODE | (7u << 8) | 0xffu);
		u32 type = (info >> 8) & 7;
		if ((info & HV_INJ_VALID) && (type == 1 || type == 7))
			return false; /* reserved event types */
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, (u32)st->inj_error);
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, (u32)(st->inst_len & 0xf));
	}
	if (m & HV_MTD_STA) {
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, (u32)st->intr_state & 0x1f);
		u64 actv = st->actv_state;
		vmcs_write32(GUEST_ACTIVITY_STATE, actv <= 1 ? (u32)actv : 0);
	}
	if (m & HV_MTD_TSC)
		vmcs_write64(TSC_OFFSET, st->tsc_offset);
	if (m & HV_MTD_EFER) {
		u64 efer = st->efer;
		vmcs_write64(GUEST_IA32_EFER, efer & GUEST_EFER_MASK);
		u32 e = vmcs_read32(VM_ENTRY_CONTROLS) & ~(1u << 9);
		vmcs_write32(VM_ENTRY_CONTROLS, e | (efer & (1ull << 10) ? 1u << 9 : 0));
		vmcs_write64(GUEST_IA32_PAT, st->pat);
	}
	if (moved)
		insn_done(rflags);
	return true;
}
