/*
 * Per-CPU set-up: GDT with this CPU's TSS and stacks, the shared IDT, the
 * system-call MSRs, the GS base pointing at struct percpu, and the
 * protections the CPU offers (docs/security.md).
 */
#include "kernel.h"
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/virt.h>
#include <arch/entry.h>

struct percpu percpu_area[MAX_CPUS];
unsigned num_cpus = 1;
struct cpu_prot cpu_prot;
u8 cpu_verw; /* entry.S: VERW before returning to user mode */

struct PACKED idt_entry {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
};

static struct idt_entry idt[256] __attribute__((aligned(16)));

struct PACKED desc_ptr {
	u16 limit;
	u64 base;
};

static void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		u64 off = entry_vectors[v];
		idt[v] = (struct idt_entry){
			.off_lo = (u16)off,
			.sel = SEL_KCODE,
			/* NMI, #DF and #MC each on a stack of its own (IST 1, 2, 3) */
			.ist = v == 2 ? 1 : v == 8 ? 2 : v == 18 ? 3 : 0,
			.type = 0x8e, /* present, DPL 0, interrupt gate */
			.off_mid = (u16)(off >> 16),
			.off_hi = (u32)(off >> 32),
		};
	}
}

static void gdt_init(struct percpu *c)
{
	u64 t = (u64)&c->tss;
	u64 limit = sizeof(c->tss) - 1;
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffff; /* kernel code */
	c->gdt[2] = 0x00cf92000000ffff; /* kernel data */
	c->gdt[3] = 0x00cff2000000ffff; /* user data (sysret SS) */
	c->gdt[4] = 0x00affa000000ffff; /* user code, 64-bit */
	c->gdt[5] = (limit & 0xffff) | ((t & 0xffffff) << 16) | (0x89ul << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((t >> 24) & 0xff) << 56);
	c->gdt[6] = t >> 32;
	c->tss.iomap_base = (u16)sizeof(c->tss); /* no I/O bitmap: all denied */
	for (unsigned i = 0; i < 3; i++)
		c->tss.ist[i] = IST_TOP(c->id, i);
	c->tss.iomap[8192] = 0xff;
}

#define BIT(v, n) (((v) >> (n)) & 1)
static char prot_list[2][96]; /* for the boot line: on, needed but not reported by the CPU */

static bool prot(bool need, bool on, const char *name)
{
	size_t n = strlen(prot_list[!on]);
	if (need)
		snprintk(prot_list[!on] + n, sizeof(prot_list[0]) - n, " %s", name);
	return on;
}

/* The boot CPU decides from CPUID and IA32_ARCH_CAPABILITIES; the APs are taken to be alike. */
static void prot_probe(void)
{
	u32 a, b, c, d, b7 = 0, c7 = 0, d7 = 0, eb = 0;
	cpuid(0, 0, &a, &b, &c, &d);
	bool intel = b == 0x756e6547; /* "Genu": L1TF and MDS affect Intel CPUs only */
	if (a >= 7)
		cpuid(7, 0, &a, &b7, &c7, &d7);
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000008)
		cpuid(0x80000008, 0, &a, &eb, &c, &d);
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	u32 d81 = d;
	cpuid(1, 0, &a, &b, &c, &d);
	cpu_prot.mce = BIT(d, 7);
	cpu_prot.mca = BIT(d, 14);
	cpu_prot.smep = prot(1, BIT(b7, 7), "SMEP");
	cpu_prot.smap = prot(1, BIT(b7, 20), "SMAP");
	cpu_prot.umip = prot(1, BIT(c7, 2), "UMIP");
	cpu_prot.nx = prot(1, BIT(d81, 20), "NX W^X");
	prot(1, 1, "guard-pages");
	cpu_prot.ibpb = prot(1, BIT(d7, 26) || BIT(eb, 12), "IBPB");
	u64 caps = BIT(d7, 29) ? rdmsr(MSR_ARCH_CAPABILITIES) : 0;
	cpu_prot.eibrs = prot(BIT(caps, 1), BIT(caps, 1), "eIBRS"); /* IBRS_ALL */
	cpu_prot.verw_need = intel && !BIT(caps, 5);    /* MDS_NO */
	cpu_verw = prot(cpu_prot.verw_need, cpu_prot.verw_need && BIT(d7, 10), "VERW");
	cpu_prot.l1d_need = intel && !BIT(caps, 0) && !BIT(caps, 3); /* RDCL_NO, SKIP_L1DFL_VMENTRY */
	cpu_prot.l1d_flush = prot(cpu_prot.l1d_need, cpu_prot.l1d_need && BIT(d7, 28), "L1D-flush");
	printk("hypervisor: protections:%s (not reported:%s)\n", prot_list[0], *prot_list[1] ? prot_list[1] : " -");
}

/* Brings up the calling CPU's protections, descriptor tables and MSRs. */
void cpu_init(unsigned id, u32 apic_id)
{
	struct percpu *c = &percpu_area[id];
	if (id == 0)
		prot_probe();
	u64 efer = rdmsr(MSR_EFER) | EFER_SCE | (cpu_prot.nx ? EFER_NXE : 0);
	wrmsr(MSR_EFER, efer);
	if (id == 0) {
		paging_init_kernel(); /* W^X: needs EFER.NXE */
		paging_map_stacks(0);
	}
	c->self = c;
	c->id = id;
	c->apic_id = apic_id;
	c->kstack_top = KSTACK_TOP(id);
	gdt_init(c);
	if (id == 0)
		idt_init();

	struct desc_ptr g = { sizeof(c->gdt) - 1, (u64)c->gdt };
	struct desc_ptr i = { sizeof(idt) - 1, (u64)idt };
	__asm__ volatile("lgdt %0; lidt %1" ::"m"(g), "m"(i));
	__asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss" ::"r"(SEL_KDATA));
	__asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:" ::"i"(SEL_KCODE) : "rax", "memory");
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
	__asm__ volatile("mov %0, %%fs; mov %0, %%gs" ::"r"(0));
	wrmsr(MSR_GS_BASE, (u64)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);

	wrmsr(MSR_STAR, ((u64)(SEL_UDATA - 8) << 48) | ((u64)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (u64)syscall_entry);
	/* no 32-bit code segment: compatibility mode is out of reach; were it not, its SYSCALL is safe too */
	wrmsr(MSR_CSTAR, (u64)syscall_entry);
	wrmsr(MSR_SFMASK, 0x47700); /* TF IF DF IOPL NT AC cleared on entry */
	for (u32 m = MSR_SYSENTER_CS; m <= MSR_SYSENTER_EIP; m++)
		wrmsr(m, 0); /* SYSENTER: CS 0 makes it raise #GP (Intel; AMD has none in long mode) */
	if (cpu_prot.eibrs)
		wrmsr(MSR_SPEC_CTRL, 1); /* enhanced IBRS: set once, stays on */

	u64 cr4 = read_cr4() | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	cr4 |= (cpu_prot.mce ? CR4_MCE : 0) | (cpu_prot.umip ? CR4_UMIP : 0) | (cpu_prot.smep ? CR4_SMEP : 0) |
	       (cpu_prot.smap ? CR4_SMAP : 0);
	write_cr4(cr4);
	/*
	 * Nothing in the host uses the FPU: the kernel and user programs are
	 * built without it. CR0.TS stays set so that a native task's FPU/SSE
	 * instruction faults (#NM) instead of reading or changing the state of
	 * the guest whose registers this CPU holds (vmx.c clears it briefly).
	 */
	write_cr0(read_cr0() | CR0_MP | CR0_TS);
	/* PAT: entry 1 (PWT alone) write-combining for HV_ITEM_WC, the others as after reset */
	u32 a, b, cx, d;
	cpuid(1, 0, &a, &b, &cx, &d);
	if (BIT(d, 16))
		wrmsr(MSR_PAT, 0x0007040600070106ull);
}

/* Loads a PD's I/O permission bitmap into the TSS, or denies all (NULL). */
void cpu_set_iobitmap(struct percpu *c, u8 *const bitmap[2])
{
	if (!bitmap || !bitmap[0]) {
		c->tss.iomap_base = (u16)sizeof(c->tss);
		return;
	}
	memcpy(c->tss.iomap, bitmap[0], 4096);
	memcpy(c->tss.iomap + 4096, bitmap[1], 4096);
	c->tss.iomap_base = (u16)offsetof(struct tss, iomap);
}

u64 cpu_idt_base(void) { return (u64)idt; }
