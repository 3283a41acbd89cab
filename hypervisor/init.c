/* kernel_main: the order in which the machine is brought up. */
#include "boot.h"
#include "irq.h"
#include "kernel.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/bootinfo.h>
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/serial.h>
#include <arch/smp.h>
#include <arch/virt.h>
#include <arch/entry.h>

/* The rest of the boot, on the boot CPU's kernel stack (below it: a guard page). */
static NORETURN void kernel_start(void *unused)
{
	lapic_init();
	percpu_area[0].apic_id = lapic_id();
	percpu_area[0].online = true;
	timer_calibrate();
	if (!acpi_init(boot_info.rsdp))
		printk("hypervisor: no ACPI MADT, using one CPU\n");
	memory_init();
	virt_init_cpu();
	ioapic_init();
	if (!irq_init())
		panic("cannot create the interrupt semaphores");
	unsigned iommu = iommu_init();
	bkl_lock();
	smp_boot_aps();
	paging_init();
	printk("hypervisor: %s, %u CPU%s, %s, timer %s, TSC %lu kHz, %u GSIs\n", boot_info.loader, num_cpus,
	       num_cpus == 1 ? "" : "s", x2apic_mode ? "x2APIC" : "xAPIC",
	       tsc_deadline_mode ? "TSC-deadline" : "one-shot", tsc_khz, irq_num_gsi);
	roottask_start(iommu);
	sched_schedule();
}

NORETURN void kernel_main(u32 magic, u32 info)
{
	serial_init();
	printk("\nhypervisor: booting\n");
	if (!multiboot_parse(magic, info))
		panic("not started by a Multiboot loader (magic %x)", magic);
	selftest_init();
	cpu_init(0, 0);
	cpu_continue(kernel_start, NULL); /* leave the boot stack for the guarded one */
}
