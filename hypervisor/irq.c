/* Hardware interrupts (GSIs through the IOAPIC, and MSIs) as semaphores. */
#include "kernel.h"
#include "irq.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/percpu.h>
#include <arch/smp.h>

struct sm *irq_sm[IRQ_COUNT];
unsigned irq_num_gsi;

/* Creates one semaphore per GSI and per MSI vector (masked until irq_ctrl);
 * the roottask receives capabilities to them. */
bool irq_init(void)
{
	irq_num_gsi = MIN(ioapic_num_gsi(), (unsigned)IRQ_MAX_GSI);
	for (unsigned i = 0; i < IRQ_COUNT; i++) {
		if (i >= irq_num_gsi && i < IRQ_MAX_GSI)
			continue;
		if (sm_create(NULL, 0, &irq_sm[i]) != HV_OK)
			return false;
		irq_sm[i]->gsi = (int)i;
		irq_sm[i]->msi_masked = i >= IRQ_MAX_GSI;
		obj_get(&irq_sm[i]->obj); /* the kernel's own reference: never destroyed */
	}
	return true;
}

/* Routes an interrupt semaphore's GSI to an online CPU with valid flags, or masks it. */
hv_status_t irq_configure(struct sm *sm, unsigned cpu, unsigned flags)
{
	unsigned gsi = (unsigned)sm->gsi;
	bool level = flags & HV_IRQ_LEVEL, low = flags & HV_IRQ_ACTIVE_LOW;
	if (gsi < 16 && acpi.isa_flags[gsi]) {
		/* ISA override from the MADT: polarity bits 0..1, trigger 2..3 */
		unsigned pol = acpi.isa_flags[gsi] & 3, trig = (acpi.isa_flags[gsi] >> 2) & 3;
		if (pol)
			low = pol == 3;
		if (trig)
			level = trig == 3;
	}
	sm->irq_level_masked = false;
	if (!ioapic_route(gsi, (u8)(VEC_IRQ_BASE + gsi), percpu_area[cpu].apic_id, level, low,
			  flags & HV_IRQ_MASK))
		return HV_EPARAM;
	return HV_OK;
}

/* Interrupt `irq` arrived: signal its semaphore (a masked MSI's is dropped). */
void irq_handle(unsigned irq)
{
	struct sm *sm = irq < IRQ_COUNT ? irq_sm[irq] : NULL;
	if (!sm || sm->msi_masked)
		return;
	if (irq < IRQ_MAX_GSI && ioapic_gsi_is_level(irq)) {
		ioapic_mask(irq, true);
		sm->irq_level_masked = true;
	}
	sm_up(sm);
}
