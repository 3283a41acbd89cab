/*
 * VM-exit handlers. Each exit reason of each vCPU is a portal into this
 * VMM (id = vcpu << 8 | reason); the kernel has put the guest state the
 * portal's MTD names into the handler's UTCB, and the reply writes back
 * the parts st->mtd names.
 */
#include "cpuid.h"
#include "pc.h"
#include "vmm.h"
#include "x86/emulate.h"
#include "../devices/lapic.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>


/* The guest state each exit's portal asks for: only what its handler reads. */
static hv_word_t exit_mtd(unsigned reason)
{
	switch (reason) {
	case EXIT_REASON_CPUID: /* a PC guest's OSXSAVE bit follows its CR4 */
		return HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | (vm.pc ? HV_MTD_CR : 0);
	case EXIT_REASON_IO_INSTRUCTION:
		return HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | HV_MTD_QUAL;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		return HV_MTD_GPR_ACDB | HV_MTD_RIP_LEN | HV_MTD_EFER | HV_MTD_TSC | HV_MTD_SYSENTER;
	case EXIT_REASON_HLT:
		return HV_MTD_RIP_LEN | HV_MTD_RFLAGS | HV_MTD_STA | HV_MTD_INJ;
	case HV_VMEVT_RECALL:
	case EXIT_REASON_VMCALL:
		return HV_MTD_RIP_LEN;
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
		return HV_MTD_INJ; /* an event still to be delivered comes first */
	default: /* STARTUP, CR access, EPT violation (decoding needs it all), reports */
		return HV_MTD_ALL;
	}
}

static const uint64_t INJ_GP = HV_INJ_VALID | HV_INJ_HWEXC | HV_INJ_ERRCODE | 13;

static void skip(struct hv_cpu_state *st)
{
	st->rip += st->inst_len;
	st->mtd |= HV_MTD_RIP_LEN;
}

static void inject_gp(struct hv_cpu_state *st)
{
	st->inj_info = INJ_GP;
	st->inj_error = 0;
	st->mtd |= HV_MTD_INJ;
}

/* STARTUP: a PC-like start in real mode at 1000:0000 (the test guest's entry). */
static void startup(struct hv_cpu_state *st)
{
	struct hv_seg data = { 0, 0x93, 0xffff, 0 };
	st->cs = (struct hv_seg){ 0x1000, 0x9b, 0xffff, 0x10000 };
	st->ds = st->es = st->ss = st->fs = st->gs = data;
	st->ldtr = (struct hv_seg){ 0, 0x82, 0xffff, 0 };
	st->tr = (struct hv_seg){ 0, 0x8b, 0xffff, 0 };
	st->gdtr = st->idtr = (struct hv_seg){ 0, 0, 0xffff, 0 };
	st->rip = 0;
	st->rsp = 0;
	st->rflags = 2;
	st->cr0 = 0x10;
	st->cr2 = st->cr3 = st->cr4 = 0;
	st->dr7 = 0x400;
	st->efer = 0;
	st->pat = 0x0007040600070406ull;
	st->intr_state = st->actv_state = 0;
	st->inj_info = 0;
	st->ctrl[0] = 0;
	st->mtd = HV_MTD_CS_SS | HV_MTD_DS_ES | HV_MTD_FS_GS | HV_MTD_TR | HV_MTD_LDTR | HV_MTD_GDTR | HV_MTD_IDTR |
		  HV_MTD_RIP_LEN | HV_MTD_RSP | HV_MTD_RFLAGS | HV_MTD_CR | HV_MTD_DR | HV_MTD_EFER | HV_MTD_STA |
		  HV_MTD_INJ | HV_MTD_CTRL;
}

/* CPUID policy: the host's features minus VMX, plus the hypervisor leaves. */
static void cpuid_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	uint32_t leaf = (uint32_t)st->rax, sub = (uint32_t)st->rcx, a, b, c, d;
	if (vm.pc) {
		uint32_t r[4];
		cpuid_linux(leaf, sub, v->id, vm.nvcpus, st->cr4, r);
		a = r[0], b = r[1], c = r[2], d = r[3];
	} else if (leaf >= 0x40000000u && leaf <= 0x400000ffu) {
		a = 0x40000001u;
		memcpy(&b, "Micr", 4);
		memcpy(&c, "oHVM", 4);
		memcpy(&d, "icro", 4);
		if (leaf != 0x40000000u)
			a = b = c = d = 0;
	} else {
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
		if (leaf == 1) {
			c &= ~(1u << 5);  /* no VMX inside */
			c |= 1u << 31;    /* hypervisor present */
			b &= 0x00ffffffu; /* initial APIC id 0 */
		}
	}
	st->rax = a, st->rbx = b, st->rcx = c, st->rdx = d;
	st->mtd = HV_MTD_GPR_ACDB;
	skip(st);
}

static void io_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	uint64_t q = st->qual[0];
	unsigned size = (unsigned)(q & 7) + 1;
	bool in = q & 8;
	uint16_t port = (uint16_t)(q >> 16);
	st->mtd = 0;
	if (q & 16) { /* string I/O: not needed by the guests we run */
		printf("vmm: string I/O on port %#x not supported; skipped\n", port);
		skip(st);
		return;
	}
	uint64_t val = st->rax, m = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
	if (vm.pc) {
		pc_lock(v);
		if (!bus_io(v, port, size, in, &val) && v->unclaimed_io++ < 16)
			printf("vmm: vCPU %u: %s of port %#x: no device\n", v->id, in ? "read" : "write", port);
		pc_unlock();
	} else {
		bus_io(v, port, size, in, &val);
		vmm_after_io(v);
	}
	if (in) {
		st->rax = size == 4 ? (val & m) : (st->rax & ~m) | (val & m);
		st->mtd |= HV_MTD_GPR_ACDB;
	}
	skip(st);
}

/* kvmclock: the pvclock_vcpu_time_info page of a vCPU (KVM's layout). */
static void kvmclock_write(struct vcpu *v)
{
	uint64_t gpa = v->kvmclock & ~1ull;
	if (!(v->kvmclock & 1) || gpa + 32 > vm.ram_size)
		return;
	uint8_t *p = vm.ram + gpa;
	uint64_t tsc = hv_rdtsc();
	uint64_t ns = vm_tsc_to_ns(tsc);
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

static void msr_exit(struct vcpu *v, struct hv_cpu_state *st, bool write)
{
	uint32_t idx = (uint32_t)st->rcx;
	uint64_t val = (st->rdx << 32) | (uint32_t)st->rax;
	st->mtd = 0;
	int r = vm.pc ? pc_msr(v, st, idx, write, &val) : 0;
	if (r < 0)
		goto gp;
	if (r > 0)
		goto done;
	switch (idx) {
	case 0x277: /* IA32_PAT */
		if (write) {
			st->pat = val;
			st->mtd |= HV_MTD_EFER;
		} else {
			val = st->pat;
		}
		break;
	case 0xc0000080: /* IA32_EFER: SCE, LME, NXE */
		if (write) {
			if (val & ~0xd01ull) {
				inject_gp(st);
				return;
			}
			st->efer = (st->efer & (1ull << 10)) | val;
			st->mtd |= HV_MTD_EFER;
		} else {
			val = st->efer;
		}
		break;
	case 0x10: /* IA32_TIME_STAMP_COUNTER */
		if (write) {
			st->tsc_offset += val - st->tsc;
			st->mtd |= HV_MTD_TSC;
		} else {
			val = st->tsc;
		}
		break;
	case 0x1b: /* IA32_APIC_BASE: no local APIC yet, but the value is standard */
		if (!write)
			val = 0xfee00900ull;
		break;
	default:
		goto gp;
	}
done:
	if (!write) {
		st->rax = (uint32_t)val;
		st->rdx = val >> 32;
		st->mtd |= HV_MTD_GPR_ACDB;
	}
	skip(st);
	return;
gp: /* an MSR nobody implements: a Linux guest's are worth a line in the log */
	if (vm.pc && v->bad_msrs++ < 16)
		printf("vmm: vCPU %u: %s of MSR %#x: #GP\n", v->id, write ? "write" : "read", idx);
	inject_gp(st);
}

/*
 * HLT: the vCPU blocks (its handler waits on a semaphore, on the vCPU's SC)
 * until the guest's timer expires or something ups v->wake; then the
 * timer interrupt is injected.
 */
static bool hlt_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	st->mtd = 0;
	if (!v->timer_deadline) {
		printf("vmm: vCPU %u halted with no timer armed (rip %#lx): stopping it\n", v->id, st->rip);
		return false;
	}
	while (hv_rdtsc() < v->timer_deadline && hv_sm_down_until(v->wake, v->timer_deadline) == HV_OK)
		;
	v->timer_deadline = 0;
	skip(st);
	if (st->rflags & (1u << 9)) {
		st->inj_info = HV_INJ_VALID | HV_INJ_EXTINT | v->timer_vector;
		st->intr_state = 0;
		st->mtd |= HV_MTD_INJ | HV_MTD_STA;
	}
	return true;
}

/* ---- the PC platform's interrupts, SMP start-up and reset (Linux guests) ---- */

/* What wakes a halted vCPU: something for it to do. Lock held. */
static bool pc_wakeup(struct vcpu *v, bool intr_ok)
{
	return vm.stopping || vm.reset_req || v->init_pending || v->nmi_pending || (v->in_sipi_wait && !v->wait_sipi) ||
	       (intr_ok && pc_irq_pending(v));
}

/* vCPU v's handler sleeps until kicked; called and returns with the lock held. */
static void pc_sleep(struct vcpu *v)
{
	v->halted = true;
	pc_unlock();
	(void)hv_sm_down(v->wake);
	pc_lock(v);
	v->halted = false;
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

static bool hlt_pc(struct vcpu *v, struct hv_cpu_state *st)
{
	bool intr_ok = st->rflags & (1u << 9);
	st->mtd = 0;
	skip(st);
	st->intr_state = 0; /* past the HLT: no STI shadow */
	st->mtd |= HV_MTD_STA;
	pc_lock(v);
	pc_halt(v, intr_ok);
	if (intr_ok && !vm.reset_req && !v->init_pending && !v->nmi_pending)
		inject_extint(v, st);
	pc_unlock();
	return true;
}

/* startup() plus cleared general registers and SYSENTER MSRs (a CPU after
 * INIT): what a Linux vCPU starts from, with v's VMM-side state reset too. */
static void reset_state(struct vcpu *v, struct hv_cpu_state *st)
{
	startup(st);
	st->rax = st->rbx = st->rcx = st->rdx = st->rsi = st->rdi = st->rbp = 0;
	st->r8 = st->r9 = st->r10 = st->r11 = st->r12 = st->r13 = st->r14 = st->r15 = 0;
	st->sysenter_cs = st->sysenter_esp = st->sysenter_eip = 0;
	st->mtd |= HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_SYSENTER;
	v->ctrl = 0; /* startup() cleared the window requests */
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

/* An AP waits for its start-up IPI (after power-on or INIT). Lock held. */
static void wait_for_sipi(struct vcpu *v, struct hv_cpu_state *st)
{
	v->wait_sipi = true;
	v->in_sipi_wait = true;
	pc_reset_lapic(v);
	while (v->wait_sipi && !vm.stopping && !vm.reset_req) {
		v->init_pending = false;
		pc_halt(v, false);
		v->init_pending = false;
		v->nmi_pending = false;
	}
	v->in_sipi_wait = false;
	if (vm.stopping || vm.reset_req)
		return;
	sipi_state(v, st, v->sipi_vector);
	if (!v->started_once++)
		printf("vmm: vCPU %u started at %#x:0000\n", v->id, v->sipi_vector << 8);
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
static bool pc_tail(struct vcpu *v, struct hv_cpu_state *st)
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

/* The guest can take an interrupt now. */
static void intr_window_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	st->mtd = 0;
	pc_lock(v);
	inject_extint(v, st);
	pc_unlock();
}

static void nmi_window_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	st->mtd = 0;
	pc_lock(v);
	if (v->nmi_pending && !(st->inj_info & HV_INJ_VALID)) {
		v->nmi_pending = false;
		st->inj_info = HV_INJ_VALID | HV_INJ_NMI | 2;
		st->mtd |= HV_MTD_INJ;
	}
	pc_unlock();
}

struct mmio_ctx {
	struct vcpu *v;
	uint64_t gpa_page;
};

static int mmio_read(void *ctx, uint64_t addr, unsigned size, uint64_t *val)
{
	struct mmio_ctx *m = ctx;
	return bus_mmio(m->v, addr, size, false, val) ? 0 : -1;
}

static int mmio_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
	struct mmio_ctx *m = ctx;
	return bus_mmio(m->v, addr, size, true, &val) ? 0 : -1;
}

/* General register n (x86 encoding order) of the message. */
static uint64_t *gpr(struct hv_cpu_state *st, unsigned n)
{
	static const uint8_t off[16] = {
		offsetof(struct hv_cpu_state, rax), offsetof(struct hv_cpu_state, rcx),
		offsetof(struct hv_cpu_state, rdx), offsetof(struct hv_cpu_state, rbx),
		offsetof(struct hv_cpu_state, rsp), offsetof(struct hv_cpu_state, rbp),
		offsetof(struct hv_cpu_state, rsi), offsetof(struct hv_cpu_state, rdi),
		offsetof(struct hv_cpu_state, r8),  offsetof(struct hv_cpu_state, r9),
		offsetof(struct hv_cpu_state, r10), offsetof(struct hv_cpu_state, r11),
		offsetof(struct hv_cpu_state, r12), offsetof(struct hv_cpu_state, r13),
		offsetof(struct hv_cpu_state, r14), offsetof(struct hv_cpu_state, r15),
	};
	return (uint64_t *)((char *)st + off[n & 15]);
}

/* gpr() for testsupport.c */
uint64_t *vmm_gpr(struct hv_cpu_state *st, unsigned n) { return gpr(st, n); }

static int null_read(void *ctx, uint64_t addr, unsigned size, uint64_t *val)
{
	(void)ctx, (void)addr, (void)size;
	*val = ~0ull;
	return 0;
}

static int null_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
	(void)ctx, (void)addr, (void)size, (void)val;
	return 0;
}

/* An access to guest-physical memory that is not RAM: MMIO emulation. */
static bool ept_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	uint64_t gpa = st->gpa, code_gpa;
	uint8_t bytes[15];
	st->mtd = 0;
	uint64_t lin = st->cs.base + st->rip, next_gpa;
	size_t first = 4096 - (size_t)(lin & 0xfff);
	if (first > sizeof(bytes))
		first = sizeof(bytes);
	memset(bytes, 0, sizeof(bytes));
	if (!guest_translate(st, lin, &code_gpa) || !guest_read(code_gpa, bytes, first) ||
	    (first < sizeof(bytes) && guest_translate(st, lin + first, &next_gpa) &&
	     !guest_read(next_gpa, bytes + first, sizeof(bytes) - first))) {
		printf("vmm: vCPU %u: access to %#lx outside guest memory at rip %#lx (instruction unreadable): stopping\n",
		       v->id, gpa, st->rip);
		return false;
	}
	enum x86_mode mode = (st->efer & (1u << 10)) && (st->cs.ar & (1u << 13)) ? X86_MODE_64
			     : (st->cs.ar & (1u << 14)) ? X86_MODE_32 : X86_MODE_16;
	struct x86_insn insn;
	int r = x86_decode(bytes, sizeof(bytes), mode, &insn);
	if (r < 0) {
		printf("vmm: vCPU %u: cannot decode the instruction at rip %#lx (error %d) accessing %#lx: #UD\n", v->id,
		       st->rip, r, gpa);
		st->inj_info = HV_INJ_VALID | HV_INJ_HWEXC | 6;
		st->mtd |= HV_MTD_INJ;
		return true;
	}
	if (vm.pc)
		pc_lock(v);
	bool served = bus_probe_mmio(gpa);
	if (!served && vm.unserved++ < 4)
		printf("vmm: vCPU %u: access to guest-physical %#lx (outside its memory) at rip %#lx: not served\n",
		       v->id, gpa, st->rip);
	struct x86_regs regs;
	for (unsigned i = 0; i < 16; i++)
		regs.gpr[i] = *gpr(st, i);
	regs.rip = st->rip;
	regs.rflags = st->rflags;
	struct mmio_ctx mc = { v, gpa & ~0xfffull };
	struct x86_mem_ops ops = { mmio_read, mmio_write, NULL };
	if (!served) /* reads see all ones, writes vanish */
		ops = (struct x86_mem_ops){ null_read, null_write, NULL };
	r = x86_emulate(&insn, &regs, gpa, &ops, &mc);
	if (vm.pc)
		pc_unlock();
	if (r < 0) {
		printf("vmm: vCPU %u: cannot emulate the access at rip %#lx to %#lx (error %d): stopping\n", v->id,
		       st->rip, gpa, r);
		return false;
	}
	for (unsigned i = 0; i < 16; i++)
		*gpr(st, i) = regs.gpr[i];
	st->rip = regs.rip;
	st->rflags = regs.rflags;
	st->mtd = HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_RSP | HV_MTD_RIP_LEN | HV_MTD_RFLAGS;
	return true;
}


/* Writes CR0 as the guest asked; entering or leaving long mode updates EFER.LMA. */
static void set_cr0(struct hv_cpu_state *st, uint64_t v)
{
	bool pg = v & (1ull << 31), lme = st->efer & (1ull << 8);
	st->cr0 = v;
	st->efer = pg && lme ? st->efer | (1ull << 10) : st->efer & ~(1ull << 10);
	st->mtd |= HV_MTD_CR | HV_MTD_EFER;
}

/* MOV to/from CR0, CR3, CR4, CLTS and LMSW (SDM Table 28-3 qualification). */
static bool cr_exit(struct vcpu *v, struct hv_cpu_state *st)
{
	uint64_t q = st->qual[0];
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	st->mtd = 0;
	if (type == 0) { /* mov to cr */
		uint64_t val = *gpr(st, reg);
		if (cr == 0)
			set_cr0(st, val);
		else if (cr == 3)
			st->cr3 = val, st->mtd |= HV_MTD_CR;
		else if (cr == 4)
			st->cr4 = val, st->mtd |= HV_MTD_CR;
		else
			goto bad;
	} else if (type == 1) { /* mov from cr */
		if (cr == 0)
			*gpr(st, reg) = st->cr0;
		else if (cr == 3)
			*gpr(st, reg) = st->cr3;
		else if (cr == 4)
			*gpr(st, reg) = st->cr4;
		else
			goto bad;
		st->mtd |= HV_MTD_GPR_ACDB | HV_MTD_GPR_BSD | HV_MTD_GPR_R8_R15 | HV_MTD_RSP;
	} else if (type == 2) { /* clts */
		set_cr0(st, st->cr0 & ~8ull);
	} else { /* lmsw: low 4 bits; PE cannot be cleared */
		uint64_t src = (q >> 16) & 0xf;
		set_cr0(st, (st->cr0 & ~0xeull) | src | (st->cr0 & 1));
	}
	skip(st);
	return true;
bad:
	printf("vmm: vCPU %u: access to CR%u at rip %#lx not emulated: guest stopped\n", v->id, cr, st->rip);
	return false;
}

HV_PORTAL_ENTRY(vmexit_entry, vmexit_serve);

/* Every VM exit of every vCPU comes here. */
hv_word_t vmexit_serve(hv_word_t id, hv_word_t tag)
{
	(void)tag;
	struct vcpu *v = &vcpus[(id >> 8) % VMM_MAX_VCPUS];
	unsigned reason = id & 0xff;
	/* work on a copy: printing (a console call) reuses this EC's UTCB */
	struct hv_cpu_state state = hv_utcb()->st, *st = &state;
	bool ok = true;
	v->exits[reason]++;
	switch (reason) {
	case HV_VMEVT_STARTUP:
		if (vm.pc && v->id == 0) {
			linux_entry_state(v, st);
			printf("vmm: vCPU 0 enters the kernel at %#lx (boot protocol %u.%02u) tsc=%lu\n", st->rip,
			       vm.boot.version >> 8, vm.boot.version & 0xff, v->start_tsc);
		} else if (vm.pc) {
			st->mtd = 0;
			pc_lock(v);
			wait_for_sipi(v, st);
			pc_unlock();
		} else {
			startup(st);
		}
		if (vm.bad_state) { /* for the tests: long mode without PAE, which VMX and SVM both refuse */
			st->efer = 0x500;
			st->cr0 = 0x80000011;
			st->cr4 = 0;
			st->mtd |= HV_MTD_EFER | HV_MTD_CR;
		}
		break;
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
		if (!vm.pc) { /* the test guest's NMI requests (testsupport.c) */
			if (testsupport_exit(v, reason, st))
				break;
			goto unhandled;
		}
		if (reason == EXIT_REASON_INTERRUPT_WINDOW)
			intr_window_exit(v, st);
		else
			nmi_window_exit(v, st);
		break;
	case EXIT_REASON_VMCALL:
		st->mtd = HV_MTD_INJ;
		st->inj_info = HV_INJ_VALID | HV_INJ_HWEXC | 6; /* no hypercalls: #UD */
		break;
	case HV_VMEVT_RECALL:
		if (!v->recalls++)
			printf("vmm: recall of vCPU %u delivered at rip %#lx\n", v->id, st->rip);
		st->mtd = 0;
		break;
	case EXIT_REASON_CPUID:
		cpuid_exit(v, st);
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		io_exit(v, st);
		if (!vm.pc)
			testsupport_reply(v, reason, st);
		break;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		msr_exit(v, st, reason == EXIT_REASON_MSR_WRITE);
		break;
	case EXIT_REASON_HLT:
		ok = vm.pc ? hlt_pc(v, st) : hlt_exit(v, st);
		break;
	case EXIT_REASON_EPT_VIOLATION:
		ok = (!vm.pc && testsupport_exit(v, reason, st)) || ept_exit(v, st);
		break;
	case EXIT_REASON_CR_ACCESS:
		ok = (!vm.pc && testsupport_exit(v, reason, st)) || cr_exit(v, st);
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		if (vm.pc && vm.on_crash_restart) {
			printf("vmm: vCPU %u: triple fault at rip %#lx: restarting the guest\n", v->id, st->rip);
			st->mtd = 0;
			pc_lock(v);
			vm_request_reset();
			pc_unlock();
			break;
		}
		printf("vmm: vCPU %u: triple fault at rip %#lx: %s\n", v->id, st->rip,
		       vm.pc ? "stopping the guest" : "guest stopped");
		ok = false;
		break;
	default:
		if (!vm.pc && testsupport_exit(v, reason, st))
			break;
	unhandled:
		printf("vmm: vCPU %u: unhandled VM exit %u at rip %#lx (qualification %#lx): guest stopped\n", v->id,
		       reason, st->rip, st->qual[0]);
		ok = false;
		break;
	}
	if (ok && vm.pc)
		ok = pc_tail(v, st);
	if (ok && vm.stopping)
		ok = false;
	if (!ok && vm.pc) {
		/* one vCPU cannot go on: neither can the guest (all its vCPUs stop) */
		pc_lock(v);
		if (!vm.stopping)
			vm_stop_guest();
		pc_unlock();
		vmm_vcpu_stopped(v);
	}
	if (!ok)
		st->mtd = 0;
	hv_utcb()->st = state;
	return ok ? 0 : HV_TAG_STOP;
}

/* Creates vCPU v: its handler, the exit portals in the VM PD, the vCPU and its SC. */
hv_status_t vcpu_setup(struct vcpu *v)
{
	hv_status_t st = hv_handler_create(v->cpu, &v->handler);
	v->wake = hv_sel_alloc();
	if (st == HV_OK)
		st = hv_create_sm(v->wake, HV_SI_SEL_PD, 0);
	if (st != HV_OK)
		return st;
	for (unsigned r = 0; r < HV_VMEVT_COUNT && st == HV_OK; r++) {
		hv_sel_t pt = hv_sel_alloc();
		st = hv_create_pt(pt, HV_SI_SEL_PD, v->handler, exit_mtd(r), (hv_word_t)vmexit_entry, (v->id << 8) | r);
		if (st == HV_OK)
			st = hv_delegate(HV_SI_SEL_PD, vm.pd, HV_ITEM(HV_KIND_OBJ, HV_R_PT_CALL, 0), pt,
					 VMM_EVT_BASE + v->id * 256 + r);
	}
	if (st != HV_OK)
		return st;
	v->ec = hv_sel_alloc();
	v->sc = hv_sel_alloc();
	st = hv_create_vcpu(v->ec, vm.pd, v->cpu, VMM_EVT_BASE + v->id * 256);
	if (st == HV_OK)
		st = hv_create_sc(v->sc, HV_SI_SEL_PD, v->ec, HV_QOS(10, 0));
	return st;
}
