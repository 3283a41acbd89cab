/*
 * Bringing up the other CPUs (INIT-SIPI-SIPI through the trampoline),
 * IPIs for rescheduling and TLB shootdown.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/virt.h>
#include <arch/entry.h>

#define TRAMP_PHYS 0x8000


static volatile unsigned ap_booting;
static volatile bool ap_up;
static u8 ap_boot_stack[4096] __attribute__((aligned(16)));


static NORETURN void ap_main(void *unused)
{
	lapic_init();
	virt_init_cpu();
	this_cpu()->online = true;
	__atomic_store_n(&ap_up, true, __ATOMIC_RELEASE);
	sched_start_cpu();
}

/* First C code of an AP, still on the shared boot stack: leave it at once. */
NORETURN void ap_entry(void)
{
	unsigned id = ap_booting;
	cpu_init(id, acpi.cpu_apic_id[id]);
	cpu_continue(ap_main, NULL);
}

static u64 *tramp_var(u64 *var)
{
	return phys_to_virt(TRAMP_PHYS + (u64)((const u8 *)var - tramp_start));
}

/* Starts every CPU the MADT lists, one at a time. */
void smp_boot_aps(void)
{
	u32 self = lapic_id();
	memcpy(phys_to_virt(TRAMP_PHYS), tramp_start, (size_t)(tramp_end - tramp_start));
	*tramp_var(&tramp_cr3) = virt_to_phys(boot_pml4);
	*tramp_var(&tramp_entry) = (u64)ap_entry;
	*tramp_var(&tramp_efer) = rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
	for (unsigned i = 0; i < acpi.ncpus && num_cpus < MAX_CPUS; i++) {
		if (acpi.cpu_apic_id[i] == self)
			continue;
		unsigned id = num_cpus;
		acpi.cpu_apic_id[id] = acpi.cpu_apic_id[i];
		*tramp_var(&tramp_stack) = (u64)ap_boot_stack + sizeof(ap_boot_stack);
		paging_map_stacks(id);
		ap_booting = id;
		ap_up = false;
		lapic_start_ap(acpi.cpu_apic_id[id], TRAMP_PHYS);
		for (u64 t = rdtsc(); !__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE);) {
			if (rdtsc() - t > tsc_khz * 1000) {
				printk("hypervisor: CPU with APIC id %u did not start\n", acpi.cpu_apic_id[id]);
				break;
			}
			cpu_relax();
		}
		if (ap_up)
			num_cpus++;
	}
}

/*
 * Batched TLB shootdown: tlb_invalidate() notes the CPUs that may cache a
 * PD's translations; the operation ends with one tlb_flush_pending(). They
 * are the CPUs whose CR3 may hold its tables (cr3_pd: set by ec_resume(),
 * dropped when a flush finds the kernel's tables loaded), whose TSS holds
 * its I/O bitmap (io_pd), and for a VM those of its vCPUs, live or gone
 * (gpt_cpus): EPT translations outlive VM exits. All under the big lock.
 */
_Static_assert(MAX_CPUS <= 32, "CPU masks are 32 bits");

static u32 flush_cpus; /* CPUs that flush at the next tlb_flush_pending() */

void tlb_invalidate(struct pd *pd)
{
	u32 gpt = pd->gpt_cpus;
	for (struct ec *e = pd->vm ? pd->ecs : NULL; e; e = e->pd_next)
		gpt |= 1u << e->cpu; /* a VM's ECs are vCPUs, each bound to its CPU */
	for (unsigned i = 0; i < num_cpus; i++) {
		struct percpu *c = &percpu_area[i];
		if (c->cr3_pd == pd || c->io_pd == pd || (gpt >> i & 1))
			flush_cpus |= 1u << i;
	}
}

/* Makes CPU `cpu` flush now (VT-x: and clear a VMCS it was asked to); waits for it. */
void tlb_flush_cpu(unsigned cpu)
{
	flush_cpus |= 1u << cpu;
	tlb_flush_pending();
}

/* Makes the CPUs tlb_invalidate() noted flush (IPIs to the others); waits for them. */
void tlb_flush_pending(void)
{
	struct percpu *me = this_cpu();
	u32 mask = flush_cpus;
	flush_cpus = 0;
	for (unsigned i = 0; i < num_cpus; i++) {
		struct percpu *c = &percpu_area[i];
		if (!(mask >> i & 1) || !c->online)
			continue;
		c->tlb_flush = true;
		if (c == me)
			tlb_poll();
		else
			lapic_send_ipi(c->apic_id, VEC_IPI_TLB);
	}
	for (unsigned i = 0; i < num_cpus; i++)
		for (u64 t = rdtsc(); percpu_area[i].tlb_flush; cpu_relax())
			if (rdtsc() - t > tsc_khz * 2000) {
				printk("hypervisor: CPU %u is slow to answer a TLB shootdown\n", i);
				t = rdtsc();
			}
}

/* Serves a pending shootdown request of this CPU. */
void tlb_poll(void)
{
	struct percpu *c = this_cpu();
	if (c->tlb_flush) {
		write_cr3(read_cr3());
		gpt_flush_local();
		c->io_pd = NULL;
		if (read_cr3() == kernel_cr3)
			c->cr3_pd = NULL; /* holds no PD's translations any more */
		__atomic_store_n(&c->tlb_flush, false, __ATOMIC_RELEASE);
	}
}

void ipi_resched(unsigned cpu)
{
	if (cpu != this_cpu()->id)
		lapic_send_ipi(percpu_area[cpu].apic_id, VEC_IPI_RESCHED);
}

volatile u32 cpus_stopping, cpus_stopped; /* entry.S: trap_nmi */

/* For a panic: an NMI stops the other CPUs in any state (trap_nmi). Returns how many stopped
 * within about 100 ms, or -1 if another CPU got here first (it stops this one too). */
int smp_stop_others(void)
{
	if (__atomic_exchange_n(&cpus_stopping, 1, __ATOMIC_SEQ_CST))
		return -1;
	if (num_cpus > 1)
		lapic_send_nmi_others();
	for (u64 t = rdtsc(); cpus_stopped < num_cpus - 1 && rdtsc() - t < MAX(tsc_khz, 1000ul) * 100;)
		cpu_relax();
	return (int)cpus_stopped;
}
