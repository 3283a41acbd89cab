/* Hardware interrupts (GSIs) as semaphores. */
#include "kernel.h"
#include "irq.h"
#include "sched.h"
#include <arch/acpi.h>
#include <arch/percpu.h>
#include <arch/smp.h>

struct sm *gsi_sm[IRQ_MAX_GSI];
unsigned irq_num_gsi;

/* Creates one semaphore per GSI; the roottask receives capabilities to them. */
bool irq_init(void)
{
	irq_num_gsi = MIN(ioapic_num_gsi(), (unsigned)IRQ_MAX_GSI);
	for (unsigned g = 0; g < irq_num_gsi; g++) {
		if (sm_create(NULL, 0, &gsi_sm[g]) != HV_OK)
			return false;
		gsi_sm[g]->gsi = (int)g;
		obj_get(&gsi_sm[g]->obj); /* the kernel's own reference: never destroyed */
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

/* An interrupt arrived on GSI `gsi`: signal its semaphore. */
void irq_handle(unsigned gsi)
{
	if (gsi >= irq_num_gsi)
		return;
	struct sm *sm = gsi_sm[gsi];
	if (ioapic_gsi_is_level(gsi)) {
		ioapic_mask(gsi, true);
		sm->irq_level_masked = true;
	}
	sm_up(sm);
}
