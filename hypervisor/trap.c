/* Exceptions and interrupts, from user mode and from the idle loop. */
#include "kernel.h"
#include "irq.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/entry.h>

void trap_interrupt(unsigned vec)
{
	struct percpu *c = this_cpu();
	if (vec == VEC_SPURIOUS)
		return;
	if (vec == VEC_TIMER) {
		if (unlikely(selftest_mode == SELFTEST_NMI))
			lapic_send_nmi_others(); /* selftest=nmi: NMIs must not disturb the others */
		sched_tick();
	} else if (vec == VEC_IPI_RESCHED)
		c->resched = true;
	else if (vec == VEC_IPI_TLB)
		tlb_poll();
	else if (vec >= VEC_IRQ_BASE && vec < VEC_IRQ_BASE + IRQ_COUNT)
		irq_handle(vec - VEC_IRQ_BASE);
	else if (vec == VEC_IOMMU)
		iommu_fault();
	lapic_eoi();
}

/* Entries from user mode but NMI, #DF and #MC (entry.S sends those elsewhere). */
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
	if (unlikely(selftest_mode))
		selftest_user(ec->regs.rip);
	if (vec < 32)
		ipc_event(ec, vec);
	trap_interrupt(vec);
	kernel_exit(ec);
}

/* An exception in kernel mode, #DF or #MC: fatal. No per-CPU state through GS: a #DF
 * or #MC may come while GS holds the user's value. */
NORETURN void trap_fatal(struct regs *r)
{
	u64 cr2 = read_cr2();
	int cpu = paging_stack_guard(cr2);
	if ((r->vec == 8 || r->vec == 14) && cpu >= 0)
		panic("kernel stack overflow on CPU %d (rip %lx, address %lx)", cpu, r->rip, cr2);
	u64 bank = 0, st = 0; /* #MC: the first bank holding an error (status bit 63: valid) */
	while (r->vec == 18 && cpu_prot.mca && bank < (rdmsr(MSR_MCG_CAP) & 0xff) &&
	       !((st = rdmsr(MSR_MC0_STATUS + 4 * bank)) >> 63))
		bank++;
	if (r->vec == 18)
		panic("machine check at rip %lx: bank %lu status %lx", r->rip, bank, st);
	panic("exception %lu in the kernel at rip %lx, error %lx, cr2 %lx", r->vec, r->rip, r->err, cr2);
}

void trap_kernel(struct regs *r)
{
	if (r->vec < 32) {
		if (unlikely(selftest_mode) && selftest_fixup(r))
			return;
		trap_fatal(r);
	}
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
