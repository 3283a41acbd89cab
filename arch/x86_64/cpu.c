/*
 * Per-CPU set-up: GDT with this CPU's TSS, the shared IDT, the SYSCALL
 * MSRs and the GS base pointing at struct percpu.
 */
#include "kernel.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/virt.h>

struct percpu percpu_area[MAX_CPUS];
unsigned num_cpus = 1;
static u8 kstacks[MAX_CPUS][KSTACK_SIZE] __attribute__((aligned(4096)));

struct PACKED idt_entry {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
};

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern const u64 entry_vectors[256];
void syscall_entry(void);

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
			/* NMI, #DF, #MC run on their own stack */
			.ist = (v == 2 || v == 8 || v == 18) ? 1 : 0,
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
	c->tss.ist[0] = (u64)c->ist_stack + sizeof(c->ist_stack);
	c->tss.iomap[8192] = 0xff;
}

/* Brings up the calling CPU's descriptor tables and system-call MSRs. */
void cpu_init(unsigned id, u32 apic_id)
{
	struct percpu *c = &percpu_area[id];
	c->self = c;
	c->id = id;
	c->apic_id = apic_id;
	c->kstack_top = (u64)kstacks[id] + KSTACK_SIZE;
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

	u32 a, b, cx, d;
	cpuid(0x80000001, 0, &a, &b, &cx, &d);
	u64 efer = rdmsr(MSR_EFER) | EFER_SCE;
	if (d & (1u << 20))
		efer |= EFER_NXE;
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_STAR, ((u64)(SEL_UDATA - 8) << 48) | ((u64)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (u64)syscall_entry);
	wrmsr(MSR_SFMASK, 0x47700); /* TF IF DF IOPL NT AC cleared on entry */

	u64 cr4 = read_cr4() | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	write_cr4(cr4);
	/*
	 * Nothing in the host uses the FPU: the kernel and user programs are
	 * built without it. CR0.TS stays set so that a native task's FPU/SSE
	 * instruction faults (#NM) instead of reading or changing the state of
	 * the guest whose registers this CPU holds (vmx.c clears it briefly).
	 */
	write_cr0(read_cr0() | CR0_MP | CR0_TS);
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
