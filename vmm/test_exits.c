/*
 * The exits of the test guest (test_guest; guests/test/README.md has the
 * contract): its CPUID leaves, the test device on the bus, HLT until the
 * device's timer, and the requests testsupport.c carries out. Anything the
 * VMM cannot serve stops the guest. With more than one vCPU it also has
 * the PC's local APICs (pc_setup_lapics()), for INIT and start-up IPIs;
 * their state is under the platform lock, and so is the test device's.
 */
#include "exits.h"
#include "pc.h"
#include "../devices/lapic.h"
#include <stdio.h>
#include <string.h>

/* STARTUP: vCPU 0 in real mode at 1000:0000; the others as after INIT:
 * waiting for a start-up IPI (test_resume()). */
static bool test_startup(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	exit_startup_state(st);
	exit_bad_state(st);
	v->cr8 = 0;
	if (v->id && vm.lapics) {
		pc_lock(v);
		v->init_pending = true;
		pc_unlock();
	}
	return true;
}

/* CPUID: the host's features minus VMX, MONITOR/MWAIT and performance
 * counters (their exits give #UD and #GP), plus the hypervisor leaves. */
static bool test_cpuid(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	uint32_t leaf = (uint32_t)st->rax, sub = (uint32_t)st->rcx, a, b, c, d;
	if (leaf >= 0x40000000u && leaf <= 0x400000ffu) {
		a = 0x40000001u;
		memcpy(&b, "Micr", 4);
		memcpy(&c, "oHVM", 4);
		memcpy(&d, "icro", 4);
		if (leaf != 0x40000000u)
			a = b = c = d = 0;
	} else {
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
		if (leaf == 1) {
			c &= ~(1u << 5 | 1u << 3); /* no VMX inside, no MONITOR/MWAIT */
			c |= 1u << 31;             /* hypervisor present */
			b = (b & 0x00ffffffu) | v->id << 24; /* initial APIC id: the vCPU's index */
			if (vm.lapics)
				c |= 1u << 21; /* the LAPIC model has x2APIC */
		} else if (leaf == 5 || leaf == 0xa) { /* MONITOR/MWAIT, performance monitoring */
			a = b = c = d = 0;
		}
	}
	st->rax = a, st->rbx = b, st->rcx = c, st->rdx = d;
	st->mtd = HV_MTD_GPR_ACDB;
	exit_skip_insn(st);
	return true;
}

static void test_port(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t *val)
{
	bus_io(v, port, size, in, val);
	vmm_after_io(v);
}

static bool test_io(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	if (vm.lapics) /* vCPUs share the test device */
		pc_lock(v);
	bool ok = exit_io(v, st, test_port);
	testsupport_reply(v, reason, st);
	if (vm.lapics)
		pc_unlock();
	return ok;
}

/* The local APIC's MSRs if there are LAPICs; else IA32_APIC_BASE reads the
 * standard value. */
static int test_msr(struct vcpu *v, struct hv_cpu_state *st, uint32_t idx, bool write, uint64_t *val)
{
	(void)st;
	if (vm.lapics && lapic_msr_handles(idx)) {
		pc_lock(v);
		bool ok = write ? lapic_msr_write(pc_lapic(v), idx, *val) : lapic_msr_read(pc_lapic(v), idx, val);
		pc_unlock();
		return ok ? 1 : -1;
	}
	if (idx != MSR_IA32_APIC_BASE)
		return 0;
	if (!write)
		*val = 0xfee00900ull;
	return 1;
}

static bool test_msr_exit(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	return exit_msr(v, reason, st, test_msr, false);
}

/* CR8 keeps what the guest writes (as AMD-V's V_TPR does without exits);
 * it masks nothing: the test guest takes no LAPIC interrupts. */
static bool test_cr8(struct vcpu *v, bool write, uint64_t *val)
{
	if (!write) {
		*val = v->cr8;
		return true;
	}
	if (*val & ~0xfull)
		return false;
	v->cr8 = (uint8_t)*val;
	return true;
}

static bool test_cr(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return exit_cr(v, st, test_cr8);
}

/*
 * HLT: the vCPU blocks (its handler waits on a semaphore, on the vCPU's SC)
 * until the guest's timer expires or something ups v->wake; then the
 * timer interrupt is injected.
 */
static bool test_hlt(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	st->mtd = 0;
	if (!v->timer_deadline) {
		printf("vmm: vCPU %u halted with no timer armed (rip %#lx): stopping it\n", v->id, st->rip);
		return false;
	}
	while (!vm.stopping && hv_rdtsc() < v->timer_deadline && hv_sm_down_until(v->wake, v->timer_deadline) == HV_OK)
		;
	v->timer_deadline = 0;
	exit_skip_insn(st);
	if (st->rflags & (1u << 9)) {
		st->inj_info = HV_INJ_VALID | HV_INJ_EXTINT | v->timer_vector;
		st->intr_state = 0;
		st->mtd |= HV_MTD_INJ | HV_MTD_STA;
	}
	return true;
}

/* The test page's EPT violations are testsupport.c's; others are MMIO. */
static bool test_ept(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	return testsupport_exit(v, reason, st) || exit_mmio(v, st, vm.lapics);
}

/* Exits only testsupport.c serves (the NMI window), and those nobody does. */
static bool test_support(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	return testsupport_exit(v, reason, st) || exit_unknown(v, reason, st);
}

/* Before the guest resumes: a vCPU whose LAPIC took INIT waits for a start-up
 * IPI and starts at its vector, with its CR8 and test timer reset. */
static bool test_resume(struct vcpu *v, struct hv_cpu_state *st)
{
	/* Without the lock: an INIT set after this read recalls the vCPU, and
	 * its recall exit comes here again. The lock at every exit would make
	 * the vCPUs' exits wait for each other. */
	if (!vm.lapics || !__atomic_load_n(&v->init_pending, __ATOMIC_ACQUIRE))
		return true;
	pc_lock(v);
	pc_take_init(v, st);
	pc_unlock();
	v->cr8 = 0;
	v->timer_deadline = 0;
	return true;
}

static bool test_crash(struct vcpu *v, struct hv_cpu_state *st, const char *what)
{
	printf("vmm: vCPU %u: %s at rip %#lx: guest stopped\n", v->id, what, st->rip);
	return false;
}

/* A vCPU stops for good (the guest exited, or crashed): so does the guest,
 * its other vCPUs at their next exit; the last one ends the VMM. */
static void test_stopped(struct vcpu *v)
{
	vm.stopping = true;
	vmm_kick_others(v);
	vmm_vcpu_stopped(v);
}

static bool test_triple_fault(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return test_crash(v, st, "triple fault");
}

const struct guest_kind test_guest = {
	.exit = {
		[HV_VMEVT_STARTUP] = { test_startup, HV_MTD_ALL },
		[HV_VMEVT_RECALL] = { exit_recall, HV_MTD_RIP_LEN },
		[EXIT_REASON_TRIPLE_FAULT] = { test_triple_fault, HV_MTD_ALL },
		[EXIT_REASON_INTERRUPT_WINDOW] = { test_support, HV_MTD_INJ },
		[EXIT_REASON_NMI_WINDOW] = { test_support, HV_MTD_INJ },
		[EXIT_REASON_CPUID] = { test_cpuid, HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN },
		[EXIT_REASON_HLT] = { test_hlt, HV_MTD_RIP_LEN | HV_MTD_RFLAGS | HV_MTD_STA | HV_MTD_INJ },
		[EXIT_REASON_INVD] = { exit_skip, EXIT_MTD_INSN },
		[EXIT_REASON_RDPMC] = { exit_gp, EXIT_MTD_INSN },
		[EXIT_REASON_VMCALL] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_CR_ACCESS] = { test_cr, HV_MTD_ALL },
		[EXIT_REASON_IO_INSTRUCTION] = { test_io, EXIT_MTD_IO },
		[EXIT_REASON_MSR_READ] = { test_msr_exit, EXIT_MTD_MSR },
		[EXIT_REASON_MSR_WRITE] = { test_msr_exit, EXIT_MTD_MSR },
		[EXIT_REASON_MWAIT_INSTRUCTION] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_MONITOR_INSTRUCTION] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_EPT_VIOLATION] = { test_ept, HV_MTD_ALL },
		[EXIT_REASON_WBINVD] = { exit_skip, EXIT_MTD_INSN },
	},
	.other = test_support,
	.resume = test_resume,
	.stopped = test_stopped,
	.crash = test_crash,
	.faulted = pc_unlock_faulted,
};
