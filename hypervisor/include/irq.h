#ifndef HV_IRQ_H
#define HV_IRQ_H

#include "objects.h"

#define IRQ_MAX_GSI 64

extern struct sm *gsi_sm[IRQ_MAX_GSI];
extern unsigned irq_num_gsi;

bool irq_init(void);
hv_status_t irq_configure(struct sm *sm, unsigned cpu, unsigned flags);
void irq_handle(unsigned gsi);

#endif
