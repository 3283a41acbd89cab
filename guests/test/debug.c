/*
 * Test guest: the checks debug (single-step traps and an instruction
 * breakpoint reach the guest's #DB handler), step (one single-step trap
 * after each instruction a VMM emulates), ac (alignment-check faults at
 * CPL 3 reach its #AC handler) and hostbp (a breakpoint on an address the
 * VMM executes fires neither there nor in the guest). A hypervisor may
 * intercept #DB and #AC (it must, against exception-delivery loops) but
 * must reflect them exactly. See README.md.
 */
#include "guest.h"

#define RFLAGS_TF (1UL << 8)
#define RFLAGS_RF (1UL << 16)
#define RFLAGS_AC (1UL << 18)
#define CR0_AM (1UL << 18)
#define DR6_B0 (1UL << 0)
#define DR6_BS (1UL << 14)
#define MAX_TRAPS 8

static volatile unsigned n_traps;
static volatile uint64_t trap_rip[MAX_TRAPS], trap_dr6[MAX_TRAPS], trap_err[MAX_TRAPS], trap_cs[MAX_TRAPS];

static uint64_t get_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void set_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" ::"r"(v)); }

/* #DB: record where and why; DR6 is sticky, so clear it; RF lets an instruction breakpoint's instruction run. */
static void db_hook(struct frame *f)
{
	unsigned n = n_traps++;
	if (n < MAX_TRAPS) {
		trap_rip[n] = f->rip;
		trap_dr6[n] = get_dr6();
	}
	set_dr6(0xffff0ff0);
	f->rflags |= RFLAGS_RF;
}

static void traps_reset(void)
{
	n_traps = 0;
	memset((void *)trap_rip, 0, sizeof trap_rip);
	memset((void *)trap_dr6, 0, sizeof trap_dr6);
}

/* An instruction-breakpoint target. */
static __attribute__((noinline)) int bp_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

void check_debug(void)
{
	uint64_t rip[4];

	begin("debug");
	exc_hook[VEC_DB] = db_hook;

	/* single-step three NOPs: a trap after each, and after the POPF that clears TF */
	traps_reset();
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, 0(%0)\n\t"
			 "lea 2f(%%rip), %%rax; mov %%rax, 8(%0)\n\t"
			 "lea 3f(%%rip), %%rax; mov %%rax, 16(%0)\n\t"
			 "lea 4f(%%rip), %%rax; mov %%rax, 24(%0)\n\t"
			 "pushfq; pushfq; orq %1, (%%rsp); popfq\n\t"
			 "nop\n1:\tnop\n2:\tnop\n3:\tpopfq\n4:"
			 :
			 : "r"(rip), "i"(RFLAGS_TF)
			 : "rax", "memory", "cc");
	if (n_traps != 4)
		fail("single step over nop, nop, nop, popf: %u traps, expected 4", n_traps);
	for (unsigned i = 0; i < 4 && i < n_traps; i++)
		if (trap_rip[i] != rip[i] || !(trap_dr6[i] & DR6_BS))
			fail("single step trap %u at rip 0x%lx DR6 0x%lx, expected rip 0x%lx with BS", i, trap_rip[i],
			     trap_dr6[i], rip[i]);

	/* an instruction breakpoint (DR0, DR7.L0, execute): one fault at the function */
	traps_reset();
	__asm__ volatile("mov %0, %%dr0" ::"r"((uintptr_t)bp_target));
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x401UL));
	int r = bp_target(1);
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400UL));
	if (n_traps != 1 || r != 2)
		fail("breakpoint at 0x%lx: %u #DB, result %d, expected 1 and 2", (uintptr_t)bp_target, n_traps, r);
	else if (trap_rip[0] != (uintptr_t)bp_target || !(trap_dr6[0] & DR6_B0))
		fail("breakpoint: #DB at rip 0x%lx DR6 0x%lx, expected rip 0x%lx with B0", trap_rip[0], trap_dr6[0],
		     (uintptr_t)bp_target);
	exc_hook[VEC_DB] = 0;
	info("4 single-step traps and 1 instruction breakpoint at their RIPs");
	end();
}

/* Single-step over instructions a VMM or hypervisor carries out: CPUID, OUT, an MMIO store, WBINVD; one trap after each. */
void check_step(void)
{
	uint64_t rip[8];
	uint32_t a = 0, b, c, d;

	begin("step");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	traps_reset();
	exc_hook[VEC_DB] = db_hook;
	__asm__ volatile("lea 1f(%%rip), %%r8; mov %%r8, 0(%4)\n\t"
			 "lea 2f(%%rip), %%r8; mov %%r8, 8(%4)\n\t"
			 "lea 3f(%%rip), %%r8; mov %%r8, 16(%4)\n\t"
			 "lea 4f(%%rip), %%r8; mov %%r8, 24(%4)\n\t"
			 "lea 5f(%%rip), %%r8; mov %%r8, 32(%4)\n\t"
			 "lea 6f(%%rip), %%r8; mov %%r8, 40(%4)\n\t"
			 "lea 7f(%%rip), %%r8; mov %%r8, 48(%4)\n\t"
			 "lea 8f(%%rip), %%r8; mov %%r8, 56(%4)\n\t"
			 "pushfq; pushfq; orq %5, (%%rsp); popfq\n\t"
			 "cpuid\n1:\tmovl %k8, %%edx\n2:\t"
			 "outb %%al, %%dx\n3:\tnop\n4:\t"
			 "movq %7, (%6)\n5:\tnop\n6:\t"
			 "wbinvd\n7:\tpopfq\n8:"
			 : "+a"(a), "=&b"(b), "=&c"(c), "=&d"(d)
			 : "r"(rip), "i"(RFLAGS_TF), "r"(MMIO_BASE + MMIO_SCRATCH), "r"(0x5aUL), "r"(PORT_TEST_CONST)
			 : "r8", "memory", "cc");
	exc_hook[VEC_DB] = 0;
	if (n_traps != 8)
		fail("single step over cpuid, mov, out, nop, MMIO store, nop, wbinvd, popf: %u traps, expected 8",
		     n_traps);
	for (unsigned i = 0; i < 8 && i < n_traps; i++)
		if (trap_rip[i] != rip[i] || !(trap_dr6[i] & DR6_BS))
			fail("trap %u at rip 0x%lx DR6 0x%lx, expected rip 0x%lx with BS", i, trap_rip[i], trap_dr6[i],
			     rip[i]);
	info("one trap after each of cpuid, out, an MMIO store, wbinvd and the instructions between");
	end();
}

/* #AC at CPL 3: record it, step over the (2-byte) load. */
static void ac_hook(struct frame *f)
{
	unsigned n = n_traps++;
	if (n < MAX_TRAPS) {
		trap_rip[n] = f->rip;
		trap_err[n] = f->err;
		trap_cs[n] = f->cs;
	}
	f->rip += 2;
}

void check_ac(void)
{
	static struct syscall_result res;
	uint64_t cr0;

	begin("ac");
	if (!have_microhv) { /* needs the SYSCALL set-up of check syscall */
		skip_without_vmm();
		return;
	}
	traps_reset();
	exc_hook[VEC_AC] = ac_hook;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_AM));
	user_run(&res, user_ac, 0x402 | RFLAGS_AC);
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	exc_hook[VEC_AC] = 0;
	if (!n_traps) { /* nothing to reflect, nothing to check */
		info("no #AC at CPL 3 at all: this CPU does not check alignment (QEMU's TCG does not)");
		end();
		return;
	}
	if (n_traps != 3)
		fail("three misaligned loads at CPL 3 with CR0.AM and RFLAGS.AC: %u #AC, expected 3", n_traps);
	for (unsigned i = 0; i < 3 && i < n_traps; i++)
		if (trap_rip[i] != (uintptr_t)user_ac_loads + 2 * i || trap_err[i] || trap_cs[i] != 0x33)
			fail("#AC %u at rip 0x%lx cs 0x%lx error code 0x%lx, expected 0x%lx 0x33 0", i, trap_rip[i],
			     trap_cs[i], trap_err[i], (uintptr_t)user_ac_loads + 2 * i);
	info("3 #AC at CPL 3 at their RIPs");
	end();
}

/* Breakpoints the guest arms stay the guest's: one on VMM code must not fire there. */
void check_hostbp(void)
{
	uint32_t a, b, c, d;

	begin("hostbp");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	uint64_t target = inl(PORT_HOST_CODE);
	traps_reset();
	exc_hook[VEC_DB] = db_hook;
	__asm__ volatile("mov %0, %%dr0" ::"r"(target));
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x401UL));
	for (unsigned i = 0; i < 3; i++) { /* exits: the VMM runs its exit handler */
		cpuid(0, &a, &b, &c, &d);
		outl(PORT_TEST_CONST, i);
		(void)inl(PORT_TEST_LATCH);
	}
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400UL));
	exc_hook[VEC_DB] = 0;
	if (n_traps)
		fail("%u #DB in the guest for a breakpoint at 0x%lx, which it never executes", n_traps, target);
	info("breakpoint at the VMM's 0x%lx armed through 9 exits", target);
	end();
}
