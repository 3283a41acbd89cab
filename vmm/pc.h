/* The PC platform of a Linux guest (pc.c). */
#ifndef VMM_PC_H
#define VMM_PC_H

#include "../devices/platform.h"
#include "vmm.h"

#define PC_RTC_EPOCH 1798761600ull /* 2027-01-01 00:00 UTC: the guest's wall clock at VM start */

struct lapic;
struct uart16550;
extern struct uart16550 pc_com1;

bool pc_setup(uint64_t ram_size);
/* Before pc_setup(): a memory-backed disk for virtio-blk (size: whole sectors). */
void pc_set_disk(uint8_t *data, uint64_t size);
bool pc_setup_lapics(void); /* a test guest's: the local APICs alone */
/* Guest time: ns since the VM started, and guest TSC values <-> ns. */
uint64_t pc_clock_ns(void);
uint64_t pc_tsc_to_ns(uint64_t tsc);
uint64_t pc_ns_to_tsc(uint64_t ns);
void pc_reset(uint64_t ram_size);
bool pc_start_timer(unsigned cpu); /* cpu: the main thread's */

/* Device state is shared by all vCPU handlers and the timer thread. v is
 * the vCPU whose handler takes the lock (NULL: the timer thread). */
void pc_lock(struct vcpu *v);
void pc_unlock(void);
void pc_unlock_faulted(struct vcpu *v);

/* With the lock held: */
bool pc_irq_pending(struct vcpu *v);
int pc_irq_ack(struct vcpu *v);  /* the vector to inject now, or -1 */
struct lapic *pc_lapic(struct vcpu *v);
void pc_reset_lapic(struct vcpu *v);
void pc_sleep(struct vcpu *v); /* until kicked; the lock is given up meanwhile */
void pc_take_init(struct vcpu *v, struct hv_cpu_state *st); /* INIT: wait for a start-up IPI */
bool pc_init_signal(struct vcpu *v);                 /* INIT and start-up IPIs for v: */
bool pc_sipi_signal(struct vcpu *v, uint8_t vector); /* true if v must be kicked */
void vm_stop_guest(void); /* every vCPU stops at its next exit; the VMM ends */
void pc_request_reset(void); /* every vCPU parks at its next exit; the guest reboots */

#endif
