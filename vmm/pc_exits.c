/*
 * The exits of a Linux guest on the PC platform (pc_guest): CPUID and MSRs
 * of a PC with kvmclock, CR8 as the local APIC's TPR, device access under
 * the platform lock, HLT until an interrupt, interrupt and NMI windows,
 * SMP start-up (INIT/SIPI), reset and on_crash=.
 */
#include "cpuid.h"
#include "exits.h"
#include "pc.h"
#include "profile.h"
#include "../devices/lapic.h"
#include <stdio.h>
#include <string.h>

static bool pc_cpuid(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	uint32_t r[4];
	cpuid_linux((uint32_t)st->rax, (uint32_t)st->rcx, v->id, vm.nvcpus, st->cr4, r);
	st->rax = r[0], st->rbx = r[1], st->rcx = r[2], st->rdx = r[3];
	st->mtd = HV_MTD_GPR_ACDB;
	exit_skip_insn(st);
	return true;
}

static void pc_port(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t *val)
{
	profile_count(PROF_IO, port);
	pc_lock(v);
	if (!bus_io(v, port, size, in, val) && v->unclaimed_io++ < 16)
		printf("vmm: vCPU %u: %s of port %#x: no device\n", v->id, in ? "read" : "write", port);
	pc_unlock();
}

static bool pc_io(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return exit_io(v, st, pc_port);
}

static bool pc_mmio(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return exit_mmio(v, st, true);
}

/* CR8 is the task-priority class of the vCPU's LAPIC (SDM Vol. 3, "Task
 * Priority Register"); an interrupt a lower priority lets through opens the
 * interrupt window in pc_resume(). */
static bool pc_cr8(struct vcpu *v, bool write, uint64_t *val)
{
	bool ok = true;
	pc_lock(v);
	if (write)
		ok = lapic_cr8_write(pc_lapic(v), *val);
	else
		*val = lapic_cr8_read(pc_lapic(v));
	pc_unlock();
	return ok;
}

static bool pc_cr(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return exit_cr(v, st, pc_cr8);
}

/* ---- MSRs ------------------------------------------------------------------------ */

/* kvmclock: the pvclock_vcpu_time_info page of a vCPU (KVM's layout). */
static void kvmclock_write(struct vcpu *v)
{
	uint64_t gpa = v->kvmclock & ~1ull;
	if (!(v->kvmclock & 1) || gpa + 32 > vm.ram_size)
		return;
	uint8_t *p = vm.ram + gpa;
	uint64_t tsc = hv_rdtsc();
	uint64_t ns = pc_tsc_to_ns(tsc);
	/* ns = ((tsc delta shifted by shift) * mul) >> 32, mul below 2^32 */
	int8_t shift = 0;
	uint64_t hz = tsc_khz * 1000;
	while (hz > 2000000000ull) {
		hz >>= 1;
		shift--;
	}
	while (hz <= 1000000000ull) {
		hz <<= 1;
		shift++;
	}
	uint32_t mul = (uint32_t)((1000000000ull << 32) / hz);
	uint32_t version = 2;
	uint8_t flags = 1; /* PVCLOCK_TSC_STABLE_BIT: one TSC for all vCPUs */
	memset(p, 0, 32);
	memcpy(p, &version, 4);
	memcpy(p + 8, &tsc, 8);
	memcpy(p + 16, &ns, 8);
	memcpy(p + 24, &mul, 4);
	memcpy(p + 28, &shift, 1);
	memcpy(p + 29, &flags, 1);
}

static void wallclock_write(uint64_t gpa)
{
	if (gpa + 12 > vm.ram_size)
		return;
	uint32_t w[3] = { 2, (uint32_t)PC_RTC_EPOCH, 0 }; /* version, seconds, ns at guest time 0 */
	memcpy(vm.ram + gpa, w, sizeof(w));
}

/* MSRs of the PC platform: 1 handled, 0 not one of these, -1 #GP. */
static int pc_msr(struct vcpu *v, struct hv_cpu_state *st, uint32_t idx, bool write, uint64_t *val)
{
	switch (idx) {
	case 0x1b:  /* IA32_APIC_BASE */
	case 0x6e0: /* IA32_TSC_DEADLINE */
		break;
	case 0x17:  /* IA32_PLATFORM_ID */
	case 0x8b:  /* IA32_BIOS_SIGN_ID: microcode revision */
	case 0x1d9: /* IA32_DEBUGCTL */
		if (!write)
			*val = 0;
		return 1;
	case 0xc0010015: /* AMD HWCR */
	case 0xc0010055: /* AMD interrupt pending message: no C1E */
		if (!write)
			*val = 0;
		return 1;
	case 0xc0011029: /* AMD DE_CFG: LFENCE is serializing */
		if (!write)
			*val = 2;
		return 1;
	case 0x3a: /* IA32_FEATURE_CONTROL: locked, VMX off */
		if (write)
			return -1;
		*val = 1;
		return 1;
	case 0x1a0: /* IA32_MISC_ENABLE: fast strings */
		if (!write)
			*val = 1;
		return 1;
	case 0x174: /* IA32_SYSENTER_CS/ESP/EIP */
	case 0x175:
	case 0x176: {
		hv_word_t *f = idx == 0x174 ? &st->sysenter_cs : idx == 0x175 ? &st->sysenter_esp : &st->sysenter_eip;
		if (write) {
			*f = *val;
			st->mtd |= HV_MTD_SYSENTER;
		} else {
			*val = *f;
		}
		return 1;
	}
	case 0x11:         /* MSR_KVM_WALL_CLOCK */
	case 0x4b564d00u:  /* MSR_KVM_WALL_CLOCK_NEW */
		if (write)
			wallclock_write(*val);
		else
			*val = 0;
		return 1;
	case 0x12:         /* MSR_KVM_SYSTEM_TIME */
	case 0x4b564d01u:  /* MSR_KVM_SYSTEM_TIME_NEW */
		if (write) {
			v->kvmclock = *val;
			kvmclock_write(v);
		} else {
			*val = v->kvmclock;
		}
		return 1;
	default:
		if (idx < 0x800 || idx > 0x8ff)
			return 0;
	}
	pc_lock(v);
	bool ok = write ? lapic_msr_write(pc_lapic(v), idx, *val) : lapic_msr_read(pc_lapic(v), idx, val);
	pc_unlock();
	return ok ? 1 : -1;
}

static bool pc_msr_exit(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	return exit_msr(v, reason, st, pc_msr, true); /* a Linux guest's unknown MSRs are worth a line */
}

/* ---- interrupts ------------------------------------------------------------------ */

/* What wakes a halted vCPU: something for it to do. Lock held. */
static bool pc_wakeup(struct vcpu *v, bool intr_ok)
{
	return vm.stopping || vm.reset_req || v->init_pending || v->nmi_pending || (v->in_sipi_wait && !v->wait_sipi) ||
	       (intr_ok && pc_irq_pending(v));
}

/* Blocks vCPU v's handler until pc_wakeup(); lock held. */
static void pc_halt(struct vcpu *v, bool intr_ok)
{
	while (!pc_wakeup(v, intr_ok))
		pc_sleep(v);
}

static void inject_extint(struct vcpu *v, struct hv_cpu_state *st)
{
	if (st->inj_info & HV_INJ_VALID)
		return; /* an interrupted delivery is re-injected first; the window stays open */
	int vec = pc_irq_ack(v);
	if (vec < 0)
		return;
	st->inj_info = HV_INJ_VALID | HV_INJ_EXTINT | (unsigned)vec;
	st->mtd |= HV_MTD_INJ;
	v->injected++;
}

/* HLT: the vCPU's handler sleeps until the vCPU has something to do. */
static bool pc_hlt(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	bool intr_ok = st->rflags & (1u << 9);
	st->mtd = 0;
	exit_skip_insn(st);
	st->intr_state = 0; /* past the HLT: no STI shadow */
	st->mtd |= HV_MTD_STA;
	pc_lock(v);
	pc_halt(v, intr_ok);
	if (intr_ok && !vm.reset_req && !v->init_pending && !v->nmi_pending)
		inject_extint(v, st);
	pc_unlock();
	return true;
}

/* The guest can take an interrupt now. */
static bool pc_intr_window(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	st->mtd = 0;
	pc_lock(v);
	inject_extint(v, st);
	pc_unlock();
	return true;
}

static bool pc_nmi_window(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	st->mtd = 0;
	pc_lock(v);
	if (v->nmi_pending && !(st->inj_info & HV_INJ_VALID)) {
		v->nmi_pending = false;
		st->inj_info = HV_INJ_VALID | HV_INJ_NMI | 2;
		st->mtd |= HV_MTD_INJ;
	}
	pc_unlock();
	return true;
}

/* ---- start-up, INIT/SIPI and reset --------------------------------------------------- */

/* The start-up state plus cleared general registers and SYSENTER MSRs (a CPU
 * after INIT): what a Linux vCPU starts from, with v's VMM-side state reset too. */
static void reset_state(struct vcpu *v, struct hv_cpu_state *st)
{
	exit_startup_state(st);
	st->rax = st->rbx = st->rcx = st->rdx = st->rsi = st->rdi = st->rbp = 0;
	st->r8 = st->r9 = st->r10 = st->r11 = st->r12 = st->r13 = st->r14 = st->r15 = 0;
	st->sysenter_cs = st->sysenter_esp = st->sysenter_eip = 0;
	st->mtd |= HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_SYSENTER;
	v->ctrl = 0; /* the start-up state cleared the window requests */
}

/* Real mode at the start-up IPI's vector page, as an AP starts. */
static void sipi_state(struct vcpu *v, struct hv_cpu_state *st, uint8_t vector)
{
	reset_state(v, st);
	st->cs = (struct hv_seg){ (uint16_t)(vector << 8), 0x9b, 0xffff, (uint64_t)vector << 12 };
	st->rip = 0;
}

/* The 32-bit protected-mode entry of the boot protocol. */
static void linux_entry_state(struct vcpu *v, struct hv_cpu_state *st)
{
	reset_state(v, st);
	struct hv_seg code = { 0x10, 0xc09b, 0xffffffff, 0 }, data = { 0x18, 0xc093, 0xffffffff, 0 };
	st->cs = code;
	st->ds = st->es = st->ss = st->fs = st->gs = data;
	st->gdtr = (struct hv_seg){ 0, 0, vm.boot.gdt_limit, vm.boot.gdt };
	st->cr0 = 0x11; /* PE, ET */
	st->rip = vm.boot.entry;
	st->rsi = vm.boot.zero_page;
	v->start_tsc = hv_rdtsc();
}

/* An INIT for vCPU v (lock held); true: v must look at it soon. vCPU 0
 * ignores INIT. */
bool pc_init_signal(struct vcpu *v)
{
	if (!v->id)
		return false;
	v->inits++;
	v->init_pending = true;
	return true;
}

/* A start-up IPI for vCPU v (lock held), taken only while v waits for one;
 * INITs before it came while it waited and change nothing, one after it
 * makes v wait again. true: v must look at it soon. */
bool pc_sipi_signal(struct vcpu *v, uint8_t vector)
{
	if (!v->id)
		return false;
	v->sipis++;
	if (!v->wait_sipi)
		return false;
	v->sipi_vector = vector;
	v->wait_sipi = false;
	v->init_pending = false;
	return true;
}

/* An AP waits for its start-up IPI (after power-on or INIT); an INIT that
 * comes after the start-up IPI, even before the AP has run, makes it wait
 * again (pc_sipi_signal()). Lock held. */
static void wait_for_sipi(struct vcpu *v, struct hv_cpu_state *st)
{
	v->wait_sipi = true;
	v->in_sipi_wait = true;
	pc_reset_lapic(v);
	while (v->wait_sipi && !vm.stopping && !vm.reset_req) {
		v->init_pending = false;
		pc_halt(v, false);
		v->nmi_pending = false;
	}
	v->in_sipi_wait = false;
	if (vm.stopping || vm.reset_req)
		return;
	sipi_state(v, st, v->sipi_vector);
	if (!v->starts++)
		printf("vmm: vCPU %u started at %#x:0000\n", v->id, v->sipi_vector << 8);
}

/* The test guest's INIT (pc_setup_lapics()): while one is pending, vCPU v
 * waits for a start-up IPI; st becomes the state it starts in. Lock held. */
void pc_take_init(struct vcpu *v, struct hv_cpu_state *st)
{
	while (v->init_pending && !vm.stopping && !vm.reset_req)
		wait_for_sipi(v, st);
}

/* STARTUP: vCPU 0 enters the kernel; the others wait for their start-up IPIs. */
static bool pc_startup(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	if (v->id == 0) {
		linux_entry_state(v, st);
		printf("vmm: vCPU 0 enters the kernel at %#lx (boot protocol %u.%02u) tsc=%lu\n", st->rip,
		       vm.boot.version >> 8, vm.boot.version & 0xff, v->start_tsc);
	} else {
		st->mtd = 0;
		pc_lock(v);
		wait_for_sipi(v, st);
		pc_unlock();
	}
	exit_bad_state(st);
	return true;
}

/*
 * Guest reboot: every vCPU parks on its next exit; the last one to park
 * reloads the kernel and resets the devices; then vCPU 0 starts again at
 * the kernel's entry and the APs wait for their start-up IPIs. Lock held.
 */
static void pc_reset_park(struct vcpu *v, struct hv_cpu_state *st)
{
	unsigned gen = vm.reset_gen;
	if (++vm.parked == vm.nvcpus) {
		printf("vmm: guest '%s' reboots\n", vm.name);
		vm.reboots++;
		memset(vm.ram, 0, vm.ram_size);
		if (!vmm_load_linux())
			vm.stopping = true;
		pc_reset(vm.ram_size);
		vm.parked = 0;
		vm.reset_req = false;
		vm.reset_gen++;
		for (unsigned i = 0; i < vm.nvcpus; i++)
			if (&vcpus[i] != v)
				hv_sm_up(vcpus[i].wake);
	} else {
		while (vm.reset_gen == gen && !vm.stopping)
			pc_sleep(v);
	}
	v->nmi_pending = v->init_pending = false;
	v->kvmclock = 0;
	if (vm.stopping)
		return;
	if (v->id == 0)
		linux_entry_state(v, st);
	else
		wait_for_sipi(v, st);
}

/* Before vCPU v resumes: reset, INIT, and the interrupt/NMI windows. */
static bool pc_resume(struct vcpu *v, struct hv_cpu_state *st)
{
	pc_lock(v);
	while (!vm.stopping && (vm.reset_req || v->init_pending)) {
		if (vm.reset_req)
			pc_reset_park(v, st);
		else
			wait_for_sipi(v, st);
	}
	hv_word_t want = 0;
	if (pc_irq_pending(v))
		want |= HV_CTRL_INTR_WINDOW;
	if (v->nmi_pending)
		want |= HV_CTRL_NMI_WINDOW;
	pc_unlock();
	if (vm.stopping)
		return false;
	if (want != v->ctrl) {
		v->ctrl = want;
		st->ctrl[0] = want;
		st->mtd |= HV_MTD_CTRL;
	}
	return true;
}

/* One vCPU cannot go on: neither can the guest (all its vCPUs stop). */
static void pc_stopped(struct vcpu *v)
{
	pc_lock(v);
	if (!vm.stopping)
		vm_stop_guest();
	pc_unlock();
	vmm_vcpu_stopped(v);
}

/* A triple fault, or anything else the platform cannot serve: on_crash= says
 * whether the guest restarts (a reboot) or stops. */
static bool pc_crash(struct vcpu *v, struct hv_cpu_state *st, const char *what)
{
	bool restart = vm.on_crash_restart;
	printf("vmm: vCPU %u: %s at rip %#lx: %s the guest\n", v->id, what, st->rip, restart ? "restarting" : "stopping");
	if (!restart)
		return false;
	st->mtd = 0;
	pc_lock(v);
	pc_request_reset();
	pc_unlock();
	return true;
}

static bool pc_triple_fault(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)reason;
	return pc_crash(v, st, "triple fault");
}

const struct guest_kind pc_guest = {
	.exit = {
		[HV_VMEVT_STARTUP] = { pc_startup, HV_MTD_ALL },
		[HV_VMEVT_RECALL] = { exit_recall, HV_MTD_RIP_LEN },
		[EXIT_REASON_TRIPLE_FAULT] = { pc_triple_fault, HV_MTD_ALL },
		/* an event still to be delivered comes first */
		[EXIT_REASON_INTERRUPT_WINDOW] = { pc_intr_window, HV_MTD_INJ },
		[EXIT_REASON_NMI_WINDOW] = { pc_nmi_window, HV_MTD_INJ },
		/* the OSXSAVE bit follows CR4 */
		[EXIT_REASON_CPUID] = { pc_cpuid, HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | HV_MTD_CR },
		[EXIT_REASON_HLT] = { pc_hlt, HV_MTD_RIP_LEN | HV_MTD_RFLAGS | HV_MTD_STA | HV_MTD_INJ },
		[EXIT_REASON_INVD] = { exit_skip, EXIT_MTD_INSN },
		[EXIT_REASON_RDPMC] = { exit_gp, EXIT_MTD_INSN },
		[EXIT_REASON_VMCALL] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_CR_ACCESS] = { pc_cr, HV_MTD_ALL },
		[EXIT_REASON_IO_INSTRUCTION] = { pc_io, EXIT_MTD_IO },
		[EXIT_REASON_MSR_READ] = { pc_msr_exit, EXIT_MTD_MSR },
		[EXIT_REASON_MSR_WRITE] = { pc_msr_exit, EXIT_MTD_MSR },
		[EXIT_REASON_MWAIT_INSTRUCTION] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_MONITOR_INSTRUCTION] = { exit_ud, EXIT_MTD_INSN },
		[EXIT_REASON_EPT_VIOLATION] = { pc_mmio, HV_MTD_ALL }, /* decoding needs it all */
		[EXIT_REASON_WBINVD] = { exit_skip, EXIT_MTD_INSN },
	},
	.other = exit_unknown,
	.resume = pc_resume,
	.stopped = pc_stopped,
	.crash = pc_crash,
	.faulted = pc_unlock_faulted,
};
