/* Local APIC, inter-processor interrupts, timers and CPU bring-up. */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include "types.h"

struct pd;

extern u64 tsc_khz;
extern bool x2apic_mode, tsc_deadline_mode;

void lapic_init(void);
void lapic_eoi(void);
u32 lapic_id(void);
void lapic_send_ipi(u32 apic_id, u8 vector);
void lapic_send_nmi_others(void);
void lapic_start_ap(u32 apic_id, u32 tramp_phys); /* INIT, STARTUP, STARTUP */
void lapic_timer_oneshot(u64 tsc_ticks); /* 0 = stop */
void timer_calibrate(void);
void smp_boot_aps(void);
void tlb_invalidate(struct pd *pd);
void tlb_flush_pending(void);
void tlb_flush_cpu(unsigned cpu);
void tlb_poll(void);
void ipi_resched(unsigned cpu);
int smp_stop_others(void);

#endif
