/*
 * vCPUs, whichever virtualization the CPU has: picks VT-x or AMD-V at
 * boot, dispatches to vmx/ or svm/, and holds what both share: the lazily
 * switched guest state (FPU/XSAVE and XCR0, debug registers, CSTAR), and
 * taking the host interrupts an exit left pending.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/svm.h>
#include <arch/virt.h>
#include <arch/vmx.h>
#include <arch/xcr0.h>

enum virt_kind virt_kind;
u32 fpu_size = 512;
static u64 host_xcr0; /* 0: no XSAVE, FXSAVE instead */

bool virt_available(void) { return virt_kind != VIRT_NONE; }

/*
 * XSAVE: the host enables every user state component a guest may use
 * (XCR0_GUEST_MAX) in XCR0, which is also the limit for a guest's XCR0;
 * the area size for them is CPUID.(0xd,0).EBX. CR4.OSXSAVE is set only
 * while the kernel itself executes XSETBV/XSAVE/XRSTOR, so native tasks
 * can neither read XCR0 nor use AVX.
 */
static void xsave_init_cpu(struct percpu *c)
{
	u32 a, b, cx, d;
	cpuid(1, 0, &a, &b, &cx, &d);
	if (c->id == 0) {
		host_xcr0 = 0;
		if (cx & (1u << 26)) {
			cpuid(0xd, 0, &a, &b, &cx, &d);
			host_xcr0 = (((u64)d << 32) | a) & XCR0_GUEST_MAX;
			if ((host_xcr0 & (XCR0_X87 | XCR0_SSE)) != (XCR0_X87 | XCR0_SSE))
				host_xcr0 = 0;
		}
	}
	if (!host_xcr0)
		return;
	u64 cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	xsetbv0(host_xcr0);
	if (c->id == 0) {
		cpuid(0xd, 0, &a, &b, &cx, &d);
		fpu_size = b;
		if (fpu_size > PAGE_SIZE || fpu_size < 576) {
			printk("hypervisor: XSAVE area of %u bytes: guests get FXSAVE only\n", fpu_size);
			fpu_size = 512;
			host_xcr0 = 0;
		}
	}
	write_cr4(cr4);
}

/* On every CPU: the boot CPU picks VT-x or AMD-V, then each enables it. */
void virt_init_cpu(void)
{
	struct percpu *c = this_cpu();
	if (c->id == 0) {
		if (vmx_probe())
			virt_kind = VIRT_VMX;
		else if (svm_probe())
			virt_kind = VIRT_SVM;
		else
			printk("hypervisor: neither VT-x (with EPT and unrestricted guest) nor AMD-V (with nested "
			       "paging): no VMs\n");
	}
	if (virt_kind == VIRT_NONE)
		return;
	xsave_init_cpu(c);
	c->virt_on = virt_kind == VIRT_VMX ? vmx_init_cpu() : svm_init_cpu();
}

bool vcpu_create(struct ec *ec)
{
	struct kmem_quota *q = &ec->pd->quota;
	struct vcpu *v = kmem_alloc(q, sizeof(*v));
	void *fpu = kmem_alloc(q, fpu_size); /* kmem blocks are aligned to their size class: >= 64 */
	if (!v || !fpu) {
		kmem_free(q, v, sizeof(*v));
		kmem_free(q, fpu, fpu_size);
		return false;
	}
	memset(v, 0, sizeof(*v));
	/*
	 * A valid initial x87/SSE state: FCW 0x37f, MXCSR 0x1f80; the XSAVE
	 * header (XSTATE_BV 0) puts every other component in its initial state.
	 */
	memset(fpu, 0, fpu_size);
	((u16 *)fpu)[0] = 0x37f;
	((u32 *)fpu)[6] = 0x1f80;
	v->fpu = fpu;
	v->xcr0 = XCR0_X87;
	v->dr[4] = 0xffff0ff0; /* DR6 at reset */
	ec->vcpu = v;
	if (virt_kind == VIRT_VMX ? vmx_vcpu_create(ec) : svm_vcpu_create(ec))
		return true;
	ec->vcpu = NULL;
	kmem_free(q, v, sizeof(*v));
	kmem_free(q, fpu, fpu_size);
	return false;
}

void vcpu_destroy(struct ec *ec)
{
	struct vcpu *v = ec->vcpu;
	if (!v)
		return;
	ec->pd->gpt_cpus |= 1u << ec->cpu; /* its CPU may still cache the VM's translations */
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].fpu_owner == ec)
			percpu_area[i].fpu_owner = NULL;
	if (virt_kind == VIRT_VMX)
		vmx_vcpu_destroy(ec);
	else
		svm_vcpu_destroy(ec);
	struct kmem_quota *q = &ec->pd->quota;
	kmem_free(q, v->fpu, fpu_size);
	kmem_free(q, v, sizeof(*v));
	ec->vcpu = NULL;
}

NORETURN void vcpu_run(struct ec *ec)
{
	if (virt_kind == VIRT_VMX)
		vmx_run(ec);
	svm_run(ec);
}

/*
 * Guest state -> the message of an event being delivered (st->event set).
 * The STARTUP message counts as delivered here, not when it is raised: a
 * busy handler makes the vCPU wait and raise it again.
 */
void vcpu_get_state(struct ec *ec, u64 mtd, struct hv_cpu_state *st)
{
	if (st->event == HV_VMEVT_STARTUP)
		ec->vcpu->started = true;
	if (virt_kind == VIRT_VMX)
		vmx_get_state(ec, mtd, st);
	else
		svm_get_state(ec, mtd, st);
}

bool vcpu_set_state(struct ec *ec, const struct hv_cpu_state *st)
{
	return virt_kind == VIRT_VMX ? vmx_set_state(ec, st) : svm_set_state(ec, st);
}

#define DR_GET(n, v) __asm__ volatile("mov %%db" #n ", %0" : "=r"(v))
#define DR_SET(n, v) __asm__ volatile("mov %0, %%db" #n ::"r"(v))

/* Debug registers 0-3 (and DR6 on VT-x, where the VMCS does not hold it). */
static void dr_switch(struct vcpu *old, struct vcpu *v)
{
	if (old) {
		DR_GET(0, old->dr[0]);
		DR_GET(1, old->dr[1]);
		DR_GET(2, old->dr[2]);
		DR_GET(3, old->dr[3]);
		DR_GET(6, old->dr[4]);
	}
	DR_SET(0, v->dr[0]);
	DR_SET(1, v->dr[1]);
	DR_SET(2, v->dr[2]);
	DR_SET(3, v->dr[3]);
	if (virt_kind == VIRT_VMX)
		DR_SET(6, v->dr[4]);
}

/*
 * The old owner's XCR0 as the CPU has it (x): where a guest's XSETBV does
 * not exit (QEMU's AMD-V does not emulate that intercept), the guest's own
 * setting is adopted if XSETBV would have accepted it.
 */
static void xcr0_adopt_unintercepted(struct vcpu *old, u64 x)
{
	if (old && x != old->xcr0 && xcr0_valid(x, host_xcr0))
		old->xcr0 = x;
}

/*
 * x87/SSE/AVX registers and XCR0. Saving and restoring with the host's
 * full XCR0 moves every component, so a guest's XSETBV can never expose
 * another's state. CR0.TS and CR4.OSXSAVE are the host's again after.
 */
static void fpu_switch(struct vcpu *old, struct vcpu *v)
{
	u64 cr0 = read_cr0();
	write_cr0(cr0 & ~CR0_TS);
	if (host_xcr0) {
		u64 cr4 = read_cr4();
		write_cr4(cr4 | CR4_OSXSAVE);
		u64 x = xgetbv0();
		xcr0_adopt_unintercepted(old, x);
		if (x != host_xcr0)
			xsetbv0(host_xcr0);
		if (old)
			__asm__ volatile("xsave64 (%0)" ::"r"(old->fpu), "a"(~0u), "d"(~0u) : "memory");
		__asm__ volatile("xrstor64 (%0)" ::"r"(v->fpu), "a"(~0u), "d"(~0u) : "memory");
		xsetbv0(v->xcr0);
		write_cr4(cr4);
	} else {
		if (old)
			__asm__ volatile("fxsave64 (%0)" ::"r"(old->fpu) : "memory");
		__asm__ volatile("fxrstor64 (%0)" ::"r"(v->fpu) : "memory");
	}
	write_cr0(cr0);
}

/* IA32_CSTAR on VT-x (AMD-V switches it with VMLOAD/VMSAVE). */
static void cstar_switch(struct vcpu *old, struct vcpu *v)
{
	if (virt_kind != VIRT_VMX)
		return;
	if (old)
		old->cstar = rdmsr(MSR_CSTAR);
	wrmsr(MSR_CSTAR, v->cstar);
}

/*
 * The guest state the host never uses stays in the CPU after an exit and
 * is switched only when another vCPU runs here: the x87/SSE/AVX registers
 * and XCR0 (fpu_switch), DR0-3 and on VT-x DR6 (dr_switch), and on VT-x
 * IA32_CSTAR (cstar_switch).
 */
void vcpu_lazy_switch(struct ec *ec)
{
	struct percpu *c = this_cpu();
	if (c->fpu_owner == ec)
		return;
	struct vcpu *old = c->fpu_owner ? c->fpu_owner->vcpu : NULL, *v = ec->vcpu;
	fpu_switch(old, v);
	dr_switch(old, v);
	cstar_switch(old, v);
	c->fpu_owner = ec;
}

/*
 * A guest's XSETBV (it always exits): checked as the CPU would check it;
 * false means #GP. The vCPU has just run, so its state is in this CPU.
 */
bool vcpu_xsetbv(struct ec *ec, u32 xcr, u64 value)
{
	struct vcpu *v = ec->vcpu;
	struct percpu *c = this_cpu();
	if (!host_xcr0 || xcr != 0 || !xcr0_valid(value, host_xcr0) || c->fpu_owner != ec)
		return false;
	u64 cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	xsetbv0(value);
	write_cr4(cr4);
	v->xcr0 = value;
	return true;
}

/*
 * Takes a host interrupt that is pending after an exit (AMD-V leaves them
 * in the local APIC; on VT-x they come while the kernel runs with IF clear,
 * and a kernel-handled exit can recur before the guest reaches an
 * instruction boundary where they would exit it). The IDT delivers it
 * here, trap_kernel() sees irq_window, handles it as on any other path and
 * returns with IF clear: one per exit, since a timer whose SC has used its
 * slice fires again at once. Called without the kernel lock.
 */
void vcpu_irq_window(void)
{
	struct percpu *c = this_cpu();
	c->irq_window = true;
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	c->irq_window = false;
}
