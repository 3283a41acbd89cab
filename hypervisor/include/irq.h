#ifndef HV_IRQ_H
#define HV_IRQ_H

#include "objects.h"

/* Interrupt n (GSI n, or MSI n - IRQ_MAX_GSI) arrives as vector VEC_IRQ_BASE + n. */
#define IRQ_MAX_GSI 64
#define IRQ_COUNT (IRQ_MAX_GSI + HV_MSI_COUNT)

extern struct sm *irq_sm[IRQ_COUNT]; /* NULL: a GSI no IOAPIC has */
extern unsigned irq_num_gsi;

bool irq_init(void);
hv_status_t irq_configure(struct sm *sm, unsigned cpu, unsigned flags);
void irq_handle(unsigned irq);

#endif
