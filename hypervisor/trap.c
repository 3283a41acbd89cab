/* Exceptions and interrupts, from user mode and from the idle loop. */
#include "kernel.h"
#include "irq.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>

void trap_interrupt(unsigned vec);
void trap_interrupt(unsigned vec)
{
	struct percpu *c = this_cpu();
	if (vec == VEC_SPURIOUS)
		return;
	if (vec == VEC_TIMER)
		sched_tick();
	else if (vec == VEC_IPI_RESCHED)
		c->resched = true;
	else if (vec == VEC_IPI_TLB)
		tlb_poll();
	else if (vec >= VEC_IRQ_BASE && vec < VEC_IRQ_BASE + IRQ_MAX_GSI)
		irq_handle(vec - VEC_IRQ_BASE);
	lapic_eoi();
}

NORETURN void trap_user(void);
NORETURN void trap_user(void)
{
	struct percpu *c = this_cpu();
	struct ec *ec = c->cur_ec;
	unsigned vec = (unsigned)ec->regs.vec;
	if (vec == 14)
		ec->fault_addr = read_cr2();
	if (vec == VEC_IPI_TLB)
		tlb_poll(); /* before taking the lock: its holder may be waiting for us */
	bkl_lock();
	if (vec < 32)
		ipc_event(ec, vec);
	trap_interrupt(vec);
	kernel_exit(ec);
}

void trap_kernel(struct regs *r);
void trap_kernel(struct regs *r)
{
	if (r->vec == 2)
		return; /* NMI: nothing uses them */
	if (r->vec < 32)
		panic("exception %lu in the kernel at rip %lx, error %lx, cr2 %lx", r->vec, r->rip, r->err,
		      read_cr2());
	if (r->vec == VEC_IPI_TLB)
		tlb_poll();
	bkl_lock();
	trap_interrupt((unsigned)r->vec);
	if (this_cpu()->irq_window) { /* after a VM exit (vcpu_irq_window): back there */
		r->rflags &= ~RFLAGS_IF; /* with IF clear: a timer re-armed at once must not fire there for ever */
		bkl_unlock();
		return;
	}
	sched_schedule();
}
