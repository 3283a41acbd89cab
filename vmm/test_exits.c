/*
 * The exits of the test guest (test_guest; guests/test/README.md has the
 * contract): its CPUID leaves, the test device on the bus, HLT until the
 * device's timer, and the requests testsupport.c carries out. Anything the
 * VMM cannot serve stops the guest.
 */
#include "exits.h"
#include <stdio.h>
#include <string.h>

/* STARTUP: real mode at 1000:0000. */
static bool test_startup(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	exit_startup_state(st);
	exit_bad_state(st);
	v->cr8 = 0;
	return true;
}

/* CPUID: the host's features minus VMX, MONITOR/MWAIT and performance
 * counters (their exits give #UD and #GP), plus the hypervisor leaves. */
static bool test_cpuid(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v, (void)reason;
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
			b &= 0x00ffffffu;          /* initial APIC id 0 */
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
	bool ok = exit_io(v, st, test_port);
	testsupport_reply(v, reason, st);
	return ok;
}

/* IA32_APIC_BASE reads the standard value (there is no local APIC). */
static int test_msr(struct vcpu *v, struct hv_cpu_state *st, uint32_t idx, bool write, uint64_t *val)
{
	(void)v, (void)st;
	if (idx != 0x1b)
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
 * with no local APIC it masks nothing. */
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
	return testsupport_exit(v, reason, st) || exit_mmio(v, st, false);
}

/* Exits only testsupport.c serves (the NMI window), and those nobody does. */
static bool test_support(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	return testsupport_exit(v, reason, st) || exit_unknown(v, reason, st);
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
	.stopped = test_stopped,
	.crash = test_crash,
};
