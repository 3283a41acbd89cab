/*
 * VT-x: feature detection from the VMX capability MSRs, VMXON on every CPU,
 * one VMCS per vCPU, VM entry and exit. Exits the kernel need not handle
 * become events (portal calls to the VMM); see vmexit.c.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/virt.h>
#include <arch/vmx.h>
#include <arch/entry.h>

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED_CTLS 0x481
#define MSR_VMX_PROCBASED_CTLS 0x482
#define MSR_VMX_EXIT_CTLS 0x483
#define MSR_VMX_ENTRY_CTLS 0x484
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED_CTLS2 0x48b
#define MSR_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define CAP_INVEPT (1ull << 20)
#define CAP_INVEPT_ALL (1ull << 26)
#define CAP_INVVPID (1ull << 32)
#define CAP_INVVPID_SINGLE (1ull << 41)
#define CAP_INVVPID_ALL (1ull << 42)

/* SDM 24.6.1-24.8: the controls used */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define MSR_VMX_MISC 0x485
#define VMX_PREEMPTION_TIMER_VALUE 0x482e
#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_USE_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_ACTIVATE_SECONDARY (1u << 31)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_SAVE_IA32_PAT (1u << 18)
#define EXIT_LOAD_IA32_PAT (1u << 19)
#define EXIT_SAVE_IA32_EFER (1u << 20)
#define EXIT_LOAD_IA32_EFER (1u << 21)
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE (1u << 9)
#define ENTRY_LOAD_IA32_PAT (1u << 14)
#define ENTRY_LOAD_IA32_EFER (1u << 15)

#define CR0_PE (1ul << 0)
#define CR0_NE (1ul << 5)
#define CR0_PG (1ul << 31)
#define CR4_VMXE (1ul << 13)

static struct {
	u32 revision;
	u32 pin, proc, proc2, exit, entry;
	unsigned preempt_shift; /* the VMX-preemption timer counts TSC >> this */
	unsigned invvpid_type;  /* 1 single-context, 2 all-context */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
} vmx;

static u8 *io_bitmap_a, *io_bitmap_b, *msr_bitmap; /* every port and most MSRs exit */
static struct vmx_msr *host_msrs;                    /* VM-exit MSR-load area: the same on every CPU */

/* The syscall MSRs a guest reads and writes without exits; the first VMX_GUEST_MSRS are switched by VMX. */
static const u32 guest_msrs[] = { MSR_STAR, MSR_LSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
				  MSR_CSTAR, MSR_FS_BASE, MSR_GS_BASE };
/*
 * VPIDs tag a vCPU's TLB entries; 0 is the host's. They are recycled: freed
 * when the vCPU goes, invalidated (INVVPID) on its CPU when the next owner
 * first runs there, the only CPU that owner ever uses. (AMD-V's ASIDs need
 * no such care: each CPU hands them out per generation and flushes all of
 * them when it starts a new one, svm.c.)
 */
static u64 vpid_map[VMX_VPIDS / 64] = { 1 };
static unsigned vpid_hint;
static u64 vmclear_req[MAX_CPUS]; /* a VMCS another CPU asks this one to clear */

/* allowed-0 bits forced on, allowed-1 bits limit; false if `need` cannot be met */
static bool adjust(u32 msr, u32 want, u32 need, u32 *out)
{
	u64 caps = rdmsr(msr);
	u32 v = (want | (u32)caps) & (u32)(caps >> 32);
	*out = v;
	return (v & need) == need;
}

/* Reads the capability MSRs once (on the boot CPU) and picks the controls. */
bool vmx_probe(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 5)))
		return false;
	u64 basic = rdmsr(MSR_VMX_BASIC);
	bool tru = basic & (1ull << 55);
	vmx.revision = (u32)basic & 0x7fffffff;
	bool ok = adjust(tru ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS,
			 PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER,
			 PIN_EXT_INTR_EXITING, &vmx.pin);
	vmx.preempt_shift = rdmsr(MSR_VMX_MISC) & 0x1f;
	if (!(vmx.pin & PIN_NMI_EXITING))
		vmx.pin &= ~PIN_VIRTUAL_NMIS; /* needs NMI exiting */
	/*
	 * Without a TPR shadow, a guest's MOV to/from CR8 reaches the local
	 * APIC's TPR: `mov $15, %cr8` would mask the host's timer and IPIs on
	 * this CPU (and the next TLB shootdown would wait forever). So CR8
	 * accesses always exit (to the VMM, reason 28). So do RDPMC (it would
	 * read the host's counters) and MONITOR/MWAIT (the guest would doze
	 * on the host's CPU), as on AMD-V.
	 */
	u32 need = PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY |
		   PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_RDPMC_EXITING | PROC_MWAIT_EXITING |
		   PROC_MONITOR_EXITING;
	ok &= adjust(tru ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS, need | PROC_USE_TSC_OFFSETTING,
		     need, &vmx.proc);
	vmx.proc &= ~((1u << 15) | (1u << 16)); /* CR3 load/store exiting: not with EPT */
	/* WBINVD would flush all the host CPU's caches: it exits and is skipped (vmexit.c) */
	need = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_WBINVD_EXITING;
	ok &= adjust(MSR_VMX_PROCBASED_CTLS2, need | PROC2_ENABLE_VPID, need, &vmx.proc2);
	/*
	 * Invalidation types, before any use: INVEPT all-context (every
	 * shootdown) is required; VPIDs only with an INVVPID type to
	 * invalidate a recycled one (single-context, else all-context).
	 */
	u64 cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	if (!(cap & CAP_INVEPT) || !(cap & CAP_INVEPT_ALL)) {
		printk("hypervisor: VT-x without INVEPT all-context\n");
		ok = false;
	}
	vmx.invvpid_type = cap & CAP_INVVPID_SINGLE ? 1 : 2;
	if (!(cap & CAP_INVVPID) || !(cap & (CAP_INVVPID_SINGLE | CAP_INVVPID_ALL)))
		vmx.proc2 &= ~PROC2_ENABLE_VPID;
	/*
	 * The guest's DR7 and IA32_DEBUGCTL are saved at every exit and loaded
	 * at every entry; in between the host runs with DR7 = 0x400 and
	 * DEBUGCTL 0, which every VM exit loads (SDM Vol. 3C, loading host
	 * control and debug registers): a guest's breakpoints never fire in
	 * host code. (AMD-V has to see to it itself: svm.c.)
	 */
	need = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
	       EXIT_SAVE_DEBUG_CONTROLS;
	ok &= adjust(tru ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS, need | EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT,
		     need, &vmx.exit);
	need = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_DEBUG_CONTROLS;
	ok &= adjust(tru ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS, need | ENTRY_LOAD_IA32_PAT, need, &vmx.entry);
	vmx.entry &= ~ENTRY_IA32E_MODE;
	vmx.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vmx.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vmx.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vmx.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	if (!ok)
		return false;
	io_bitmap_a = page_alloc();
	io_bitmap_b = page_alloc();
	msr_bitmap = page_alloc();
	host_msrs = page_alloc();
	if (!io_bitmap_a || !io_bitmap_b || !msr_bitmap || !host_msrs)
		return false;
	memset(io_bitmap_a, 0xff, PAGE_SIZE);
	memset(io_bitmap_b, 0xff, PAGE_SIZE);
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	/* bitmap: reads of 0xc0000000.. at byte 1024, writes at 3072 (SDM 24.6.9) */
	for (unsigned i = 0; i < ARRAY_SIZE(guest_msrs); i++) {
		u32 n = guest_msrs[i] - 0xc0000000u;
		msr_bitmap[1024 + n / 8] &= (u8)~(1u << (n % 8));
		msr_bitmap[3072 + n / 8] &= (u8)~(1u << (n % 8));
	}
	/* what the host runs with after an exit: its SYSCALL entry, user GS base 0 */
	for (unsigned i = 0; i < VMX_GUEST_MSRS; i++) {
		host_msrs[i].index = guest_msrs[i];
		host_msrs[i].value = guest_msrs[i] == MSR_KERNEL_GS_BASE ? 0 : rdmsr(guest_msrs[i]);
	}
	return true;
}

/* VMXON on the calling CPU (all CPUs are alike: the boot CPU probed). */
bool vmx_init_cpu(void)
{
	struct percpu *c = this_cpu();
	u64 fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & 1))
		wrmsr(MSR_FEATURE_CONTROL, fc | 1 | 4);
	else if (!(fc & 4)) {
		printk("hypervisor: CPU %u: VMX disabled by firmware\n", c->id);
		return false;
	}
	u64 cr0 = (read_cr0() | vmx.cr0_fixed0) & vmx.cr0_fixed1;
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	write_cr4((read_cr4() | CR4_VMXE | vmx.cr4_fixed0) & vmx.cr4_fixed1);
	u32 *region = page_alloc();
	if (!region)
		return false;
	region[0] = vmx.revision;
	u64 pa = virt_to_phys(region);
	bool ok;
	__asm__ volatile("vmxon %1; seta %0" : "=r"(ok) : "m"(pa) : "cc", "memory");
	if (!ok)
		printk("hypervisor: CPU %u: VMXON failed\n", c->id);
	return ok;
}

static void vmptrld(paddr_t pa)
{
	__asm__ volatile("vmptrld %0" ::"m"(pa) : "cc", "memory");
}

static void vmclear(paddr_t pa)
{
	__asm__ volatile("vmclear %0" ::"m"(pa) : "cc", "memory");
}

/* A free VPID (0: none left, or VPIDs are off). */
static u16 vpid_alloc(void)
{
	if (!(vmx.proc2 & PROC2_ENABLE_VPID))
		return 0;
	for (unsigned n = 0; n < ARRAY_SIZE(vpid_map); n++, vpid_hint = (vpid_hint + 1) % ARRAY_SIZE(vpid_map)) {
		u64 *w = &vpid_map[vpid_hint];
		if (~*w) {
			unsigned bit = (unsigned)__builtin_ctzll(~*w);
			*w |= 1ull << bit;
			return (u16)(vpid_hint * 64 + bit);
		}
	}
	return 0;
}

static void vpid_free(u16 vpid)
{
	if (vpid)
		vpid_map[vpid / 64] &= ~(1ull << (vpid % 64));
}

/* INVVPID of a VPID on this CPU (linear and combined mappings). */
static void invvpid(u16 vpid)
{
	struct {
		u64 vpid, addr;
	} desc = { vpid, 0 };
	__asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"((u64)vmx.invvpid_type) : "cc", "memory");
}

/* The VT-x part of a new vCPU (vcpu.c made the rest): a VMCS, the MSR area, a VPID. */
bool vmx_vcpu_create(struct ec *ec)
{
	u16 vpid = vpid_alloc();
	if (!vpid && (vmx.proc2 & PROC2_ENABLE_VPID))
		return false;
	struct kmem_quota *q = &ec->pd->quota;
	struct vcpu *v = ec->vcpu;
	u32 *vmcs = kmem_alloc(q, PAGE_SIZE);
	struct vmx_msr *msrs = kmem_alloc(q, sizeof(*msrs) * VMX_GUEST_MSRS);
	if (!vmcs || !msrs) {
		vpid_free(vpid);
		kmem_free(q, vmcs, PAGE_SIZE);
		kmem_free(q, msrs, sizeof(*msrs) * VMX_GUEST_MSRS);
		return false;
	}
	memset(vmcs, 0, PAGE_SIZE);
	vmcs[0] = vmx.revision;
	v->vmcs = virt_to_phys(vmcs);
	/* the guest's syscall MSRs start at 0 */
	for (unsigned i = 0; i < VMX_GUEST_MSRS; i++)
		msrs[i] = (struct vmx_msr){ guest_msrs[i], 0, 0 };
	v->msrs = msrs;
	v->vpid = vpid;
	return true;
}

/*
 * A VMCS that ran is active on its CPU, which may keep parts of it cached
 * and write them back at any time: it is VMCLEARed there before its page
 * goes. From another CPU that takes a shootdown of that CPU
 * (vmx_flush_local there).
 */
void vmx_vcpu_destroy(struct ec *ec)
{
	struct vcpu *v = ec->vcpu;
	if (v->initialized && this_cpu()->id == ec->cpu) {
		vmclear(v->vmcs);
	} else if (v->initialized) {
		vmclear_req[ec->cpu] = v->vmcs;
		tlb_flush_cpu(ec->cpu);
	}
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_vmcs == v->vmcs)
			percpu_area[i].cur_vmcs = 0; /* only its own CPU ever loaded it */
	vpid_free(v->vpid);
	struct kmem_quota *q = &ec->pd->quota;
	kmem_free(q, phys_to_virt(v->vmcs), PAGE_SIZE);
	kmem_free(q, v->msrs, sizeof(*v->msrs) * VMX_GUEST_MSRS);
}

static void seg_real(u64 sel_f, u64 base_f, u64 limit_f, u64 ar_f, u16 sel, u32 ar)
{
	vmx_vmwrite(sel_f, sel);
	vmx_vmwrite(base_f, (u64)sel << 4);
	vmx_vmwrite(limit_f, 0xffff);
	vmx_vmwrite(ar_f, ar);
}

/* The CR0 / CR4 the guest really runs with for the value it asked for. */
u64 vmx_cr0_guest(u64 v)
{
	u64 need = vmx.cr0_fixed0 & ~(CR0_PE | CR0_PG); /* unrestricted guest */
	return (v | need) & vmx.cr0_fixed1;
}

u64 vmx_cr4_guest(u64 v) { return (v | vmx.cr4_fixed0) & vmx.cr4_fixed1; }

/* First run on its CPU: controls, host state, and a PC reset state. */
static void vmcs_setup(struct ec *ec)
{
	struct percpu *c = this_cpu();
	struct vcpu *v = ec->vcpu;
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, vmx.pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmx.proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmx.proc2);
	vmcs_write32(VM_EXIT_CONTROLS, vmx.exit);
	vmcs_write32(VM_ENTRY_CONTROLS, vmx.entry);
	vmcs_write32(EXCEPTION_BITMAP, 1u << 17); /* #AC: reflected by the kernel (vmexit.c) */
	vmcs_write32(CR3_TARGET_COUNT, 0);
	/* the guest's syscall MSRs: stored at exit, loaded at entry; the host's loaded at exit */
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, VMX_GUEST_MSRS);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, VMX_GUEST_MSRS);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, VMX_GUEST_MSRS);
	vmcs_write64(VM_EXIT_MSR_STORE_ADDR, virt_to_phys(v->msrs));
	vmcs_write64(VM_EXIT_MSR_LOAD_ADDR, virt_to_phys(host_msrs));
	vmcs_write64(VM_ENTRY_MSR_LOAD_ADDR, virt_to_phys(v->msrs));
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(IO_BITMAP_A, virt_to_phys(io_bitmap_a));
	vmcs_write64(IO_BITMAP_B, virt_to_phys(io_bitmap_b));
	vmcs_write64(MSR_BITMAP, virt_to_phys(msr_bitmap));
	vmcs_write64(EPT_POINTER, ec->pd->gpt_root | (3ul << 3) | 6); /* 4-level walk, WB */
	vmcs_write16(VIRTUAL_PROCESSOR_ID, v->vpid);
	if (v->vpid)
		invvpid(v->vpid); /* a previous owner may have left translations here */
	vmcs_write64(VMCS_LINK_POINTER, ~0ull);
	vmcs_write64(TSC_OFFSET, 0);

	/* host state: this CPU's kernel */
	vmcs_writel(HOST_CR0, read_cr0() | CR0_TS); /* TS: see cpu_init() */
	vmcs_writel(HOST_CR3, kernel_cr3);
	vmcs_writel(HOST_CR4, read_cr4() & ~CR4_OSXSAVE);
	vmcs_write16(HOST_CS_SELECTOR, SEL_KCODE);
	vmcs_write16(HOST_SS_SELECTOR, SEL_KDATA);
	vmcs_write16(HOST_DS_SELECTOR, SEL_KDATA);
	vmcs_write16(HOST_ES_SELECTOR, SEL_KDATA);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, SEL_TSS);
	vmcs_writel(HOST_FS_BASE, 0);
	vmcs_writel(HOST_GS_BASE, (u64)c);
	vmcs_writel(HOST_TR_BASE, (u64)&c->tss);
	vmcs_writel(HOST_GDTR_BASE, (u64)c->gdt);
	vmcs_writel(HOST_IDTR_BASE, cpu_idt_base());
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_PAT));
	vmcs_writel(HOST_RIP, (u64)vmx_exit_entry);

	/* guest: the state of a PC after reset (the VMM's STARTUP reply changes it) */
	v->cr0_shadow = 0x60000010;
	vmcs_writel(GUEST_CR0, vmx_cr0_guest(v->cr0_shadow));
	vmcs_writel(CR0_READ_SHADOW, v->cr0_shadow);
	vmcs_writel(CR0_GUEST_HOST_MASK, (vmx.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~vmx.cr0_fixed1);
	vmcs_writel(GUEST_CR4, vmx_cr4_guest(0));
	vmcs_writel(CR4_READ_SHADOW, 0);
	vmcs_writel(CR4_GUEST_HOST_MASK, vmx.cr4_fixed0 | ~vmx.cr4_fixed1);
	vmcs_writel(GUEST_CR3, 0);
	vmcs_writel(GUEST_DR7, 0x400);
	seg_real(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, 0xf000, 0x9b);
	seg_real(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, 0, 0x93);
	seg_real(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, 0, 0x93);
	seg_real(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, 0, 0x93);
	seg_real(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, 0, 0x93);
	seg_real(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, 0, 0x93);
	seg_real(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES, 0, 0x82);
	seg_real(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES, 0, 0x8b);
	vmcs_writel(GUEST_CS_BASE, 0xffff0000);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RIP, 0xfff0);
	vmcs_writel(GUEST_RFLAGS, 2);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	memset(&ec->regs, 0, offsetof(struct regs, vec));
	v->initialized = true;
}

/* Makes ec's VMCS the current one of this CPU. */
void vmx_load(struct ec *ec)
{
	struct percpu *c = this_cpu();
	if (c->cur_vmcs != ec->vcpu->vmcs) {
		vmptrld(ec->vcpu->vmcs);
		c->cur_vmcs = ec->vcpu->vmcs;
	}
}

/* Enters the guest of vCPU ec (on its own CPU); the STARTUP event comes first. */
NORETURN void vmx_run(struct ec *ec)
{
	struct percpu *c = this_cpu();
	struct vcpu *v = ec->vcpu;
	c->cur_ec = ec;
	vmx_load(ec);
	if (!v->initialized)
		vmcs_setup(ec);
	if (!v->started) /* set once the message is delivered (vcpu_get_state) */
		ipc_event(ec, HV_VMEVT_STARTUP);
	vcpu_lazy_switch(ec);
	if (vmx.pin & PIN_PREEMPTION_TIMER) {
		/* the host timer's deadline also as a VM exit: some CPUs (Bochs) hold
		 * external interrupts back while the guest runs with IF=0 */
		u64 now = rdtsc(), left = c->timer_when > now ? (c->timer_when - now) >> vmx.preempt_shift : 0;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE,
			     !c->timer_when ? 0xffffffffu : left > 0xffffffffu ? 0xffffffffu : (u32)left);
	}
	__asm__ volatile("mov %0, %%cr2" ::"r"(v->cr2));
	vmcs_writel(HOST_RSP, (u64)&ec->regs.vec);
	bkl_unlock();
	cpu_vm_entry_barrier();
	if (v->launched)
		vmx_resume(&ec->regs);
	else
		vmx_launch(&ec->regs);
	__builtin_unreachable();
}

bool vmx_ept_2m(void)
{
	static int cap = -1;
	if (cap < 0)
		cap = (rdmsr(MSR_VMX_EPT_VPID_CAP) >> 16) & 1;
	return cap;
}

/* This CPU's part of a shootdown: all EPT translations, and a VMCS to clear (vmx_vcpu_destroy). */
void vmx_flush_local(void)
{
	struct {
		u64 eptp, zero;
	} desc = { 0, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(2ul) : "cc", "memory");
	u64 *req = &vmclear_req[this_cpu()->id];
	if (*req) {
		vmclear(*req);
		__atomic_store_n(req, 0, __ATOMIC_RELEASE);
	}
}
