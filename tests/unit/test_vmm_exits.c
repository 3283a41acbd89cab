/*
 * Unit tests of the VMM's exit dispatch (vmm/exits.c) with both guest
 * kinds' tables (vmm/pc_exits.c, vmm/test_exits.c): CR8 as the LAPIC's TPR
 * on the PC platform (and the interrupt window it opens), the test guest's
 * CR8, control-register accesses nobody serves, WBINVD/INVD, RDPMC,
 * MONITOR/MWAIT, exits the VMM does not know and what on_crash= makes of
 * them, CPUID agreeing with the #UD/#GP answers, an exit handler that
 * faults (vmm/fault.c: the exit ends as a crash), and INIT and start-up
 * IPIs (both kinds; the test guest's with its LAPICs). The platform lock,
 * the LAPIC lookup, a handler's sleep (which plays the IPIs other vCPUs
 * send meanwhile) and the VMM's main.c are faked below; the LAPIC model is
 * the real one.
 */
#include "unit.h"

#include "../../devices/lapic.h"
#define main vmm_main /* the runtime's declaration of the VMM's main() */
#include "../../vmm/exits.h"
#include "../../vmm/pc.h"
#include "../../vmm/profile.h"
#undef main
#include "fake_vm.h"

/* ---- fakes of vmm/main.c, vmm/pc.c, vmm/testsupport.c and the runtime --------- */

struct vm vm;
struct vcpu vcpus[VMM_MAX_VCPUS];
uint64_t tsc_khz = 1000000;
struct hv_tls hv_main_tls;
hv_word_t hv_main_stack_lo;

static struct lapic lapics[VMM_MAX_VCPUS];
static int lock_depth;
static unsigned stops, vcpus_stopped;
static char out[4096]; /* what the VMM printed */

int test_printf(const char *fmt, ...);
int test_printf(const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(out + n, sizeof(out) - n, fmt, ap);
	va_end(ap);
	return r;
}

void pc_lock(struct vcpu *v)
{
	(void)v;
	assert_int_equal(lock_depth++, 0);
}

void pc_unlock(void)
{
	assert_int_equal(--lock_depth, 0);
}

bool pc_irq_pending(struct vcpu *v)
{
	assert_int_equal(lock_depth, 1);
	return lapic_pending(&lapics[v->id]) >= 0;
}

int pc_irq_ack(struct vcpu *v)
{
	int vec = lapic_pending(&lapics[v->id]);
	if (vec >= 0)
		lapic_ack(&lapics[v->id], (uint8_t)vec);
	return vec;
}

struct lapic *pc_lapic(struct vcpu *v)
{
	assert_int_equal(lock_depth, 1);
	return &lapics[v->id];
}

void pc_reset_lapic(struct vcpu *v) { lapic_reset(&lapics[v->id], false); }

/* What other vCPUs send while v's handler sleeps (pc.c's apic_send): at sleep
 * n, an INIT if init_before[n], a start-up IPI with vector sipi_at[n] if
 * that is >= 0, then an INIT if init_at[n]. */
#define SLEEPS 4
static int sipi_at[SLEEPS];
static bool init_before[SLEEPS], init_at[SLEEPS];
static unsigned sleeps;

void pc_sleep(struct vcpu *v)
{
	assert_int_equal(lock_depth, 1);
	if (sleeps == SLEEPS) { /* nothing more comes: the guest stops */
		vm.stopping = true;
		return;
	}
	unsigned n = sleeps++;
	if (init_before[n])
		assert_true(pc_init_signal(v));
	if (sipi_at[n] >= 0)
		assert_true(pc_sipi_signal(v, (uint8_t)sipi_at[n]));
	if (init_at[n])
		assert_true(pc_init_signal(v));
}
void pc_reset(uint64_t ram_size) { (void)ram_size; }

static unsigned resets;
void pc_request_reset(void) { resets++; }
uint64_t pc_tsc_to_ns(uint64_t tsc) { return tsc; }

void vm_stop_guest(void)
{
	vm.stopping = true;
	stops++;
}

bool vmm_load_linux(void) { return true; }
void vmm_vcpu_stopped(struct vcpu *v) { (void)v, vcpus_stopped++; }
static unsigned kicks, test_exits;
void vmm_kick_others(struct vcpu *v) { (void)v, kicks++; }
void vmm_test_exit(struct vcpu *v) { (void)v, test_exits++; }
void pc_unlock_faulted(struct vcpu *v)
{
	(void)v;
	if (lock_depth)
		pc_unlock();
}
void vmm_after_io(struct vcpu *v) { (void)v; }
bool testsupport_exit(struct vcpu *v, unsigned reason, struct hv_cpu_state *st) { return (void)v, (void)reason, (void)st, false; }
void testsupport_reply(struct vcpu *v, unsigned reason, struct hv_cpu_state *st) { (void)v, (void)reason, (void)st; }
hv_status_t hv_handler_create(unsigned cpu, hv_sel_t *ec_sel) { return (void)cpu, (void)ec_sel, HV_EMEM; }
hv_status_t hv_handler_create_evt(unsigned cpu, hv_sel_t evt_base, hv_sel_t *ec_sel, hv_word_t *sp)
{
	return (void)cpu, (void)evt_base, (void)ec_sel, (void)sp, HV_EMEM;
}
hv_sel_t hv_sel_alloc(void) { return 0; }
hv_sel_t hv_sel_alloc_order(unsigned order) { return (void)order, 0; }

/* ---- helpers -------------------------------------------------------------------- */

#define RIP 0x1000
#define INJ_GP (HV_INJ_VALID | HV_INJ_HWEXC | HV_INJ_ERRCODE | 13)
#define INJ_UD (HV_INJ_VALID | HV_INJ_HWEXC | 6)

/* vCPU 0 of a kind, its LAPIC software-enabled as Linux leaves it. */
static struct vcpu *setup_vcpu(const struct guest_kind *kind, bool restart)
{
	memset(&vm, 0, sizeof(vm));
	vm.name = "unit";
	vm.nvcpus = 1;
	vm.pc = kind == &pc_guest;
	vm.on_crash_restart = restart;
	struct vcpu *v = &vcpus[0];
	*v = (struct vcpu){ .vm = &vm, .kind = kind };
	lapic_init(&lapics[0], &fake_pf, 0, true);
	lapic_mmio_write(&lapics[0], 0xf0, 4, 0x1ff);
	fake_reset_all();
	stops = vcpus_stopped = resets = kicks = test_exits = 0;
	out[0] = 0;
	sleeps = 0;
	for (unsigned i = 0; i < SLEEPS; i++)
		sipi_at[i] = -1, init_before[i] = init_at[i] = false;
	return v;
}

/* vCPU 1 of a two-vCPU guest of a kind, with LAPICs (a test guest's too). */
static struct vcpu *setup_ap(const struct guest_kind *kind)
{
	setup_vcpu(kind, false);
	vm.nvcpus = 2;
	vm.lapics = true;
	struct vcpu *v = &vcpus[1];
	*v = (struct vcpu){ .vm = &vm, .kind = kind, .id = 1 };
	lapic_init(&lapics[1], &fake_pf, 1, false);
	return v;
}

/* The message of an exit: instruction at RIP, length len, qualification q. */
static struct hv_cpu_state msg(uint64_t q, unsigned len)
{
	struct hv_cpu_state st;
	memset(&st, 0, sizeof(st));
	st.mtd = HV_MTD_ALL;
	st.rip = RIP;
	st.inst_len = len;
	st.qual[0] = q;
	st.rflags = 0x202;
	return st;
}

/* SDM Vol. 3 "Exit Qualification for Control-Register Accesses" */
static uint64_t cr_qual(unsigned cr, unsigned type, unsigned gpr) { return cr | type << 4 | gpr << 8; }

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9 };

/* ---- CR8 ------------------------------------------------------------------------ */

static void test_pc_cr8_is_tpr(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	assert_true(lapic_accept(&lapics[0], 0x41, false));

	struct hv_cpu_state st = msg(cr_qual(8, 0, RBX), 4); /* mov %rbx,%cr8 */
	st.rbx = 4;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(lapic_mmio_read(&lapics[0], 0x80, 4), 0x40);
	assert_int_equal(st.rip, RIP + 4);
	assert_true(st.mtd & HV_MTD_RIP_LEN);
	assert_false(st.mtd & (HV_MTD_INJ | HV_MTD_CTRL)); /* 0x41 stays masked: no window */
	assert_int_equal(v->exits[EXIT_REASON_CR_ACCESS], 1);

	/* a lower priority lets 0x41 through: the epilogue opens the interrupt window */
	st = msg(cr_qual(8, 0, R8), 4);
	st.r8 = 3;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(lapic_mmio_read(&lapics[0], 0x80, 4), 0x30);
	assert_true(st.mtd & HV_MTD_CTRL);
	assert_int_equal(st.ctrl[0], HV_CTRL_INTR_WINDOW);
	/* and raising it again closes the window */
	st = msg(cr_qual(8, 0, RAX), 4);
	st.rax = 15;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_true(st.mtd & HV_MTD_CTRL);
	assert_int_equal(st.ctrl[0], 0);

	/* mov %cr8,%r9 and mov %cr8,%rsp: TPR[7:4], the whole register */
	lapic_mmio_write(&lapics[0], 0x80, 4, 0x9c);
	st = msg(cr_qual(8, 1, R9), 4);
	st.r9 = ~0ull;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.r9, 9);
	assert_true(st.mtd & HV_MTD_GPR_R8_R15);
	assert_int_equal(st.rip, RIP + 4);
	st = msg(cr_qual(8, 1, RSP), 4);
	st.rsp = 0x1234;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.rsp, 9);
	assert_true(st.mtd & HV_MTD_RSP);

	/* reserved bits: #GP(0), no skip, TPR unchanged */
	st = msg(cr_qual(8, 0, RDX), 4);
	st.rdx = 0x10;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.inj_info, INJ_GP);
	assert_int_equal(st.inj_error, 0);
	assert_true(st.mtd & HV_MTD_INJ);
	assert_int_equal(st.rip, RIP);
	assert_false(st.mtd & HV_MTD_RIP_LEN);
	assert_int_equal(lapic_mmio_read(&lapics[0], 0x80, 4), 0x9c);
	assert_int_equal(lock_depth, 0);
	assert_int_equal(stops, 0);
}

static void test_test_guest_cr8(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&test_guest, false);
	struct hv_cpu_state st = msg(cr_qual(8, 0, RCX), 4);
	st.rcx = 15;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.rip, RIP + 4);
	st = msg(cr_qual(8, 1, RSI), 4);
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.rsi, 15);
	st = msg(cr_qual(8, 0, RCX), 4);
	st.rcx = 1ull << 40;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.inj_info, INJ_GP);
	assert_int_equal(v->cr8, 15);
}

/* CR0/CR3/CR4, CLTS, LMSW: the same for both kinds (as before the tables). */
static void test_cr_others(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	struct hv_cpu_state st = msg(cr_qual(4, 0, RDI), 3);
	st.rdi = 0x6b0;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.cr4, 0x6b0);
	assert_true(st.mtd & HV_MTD_CR);
	st = msg(cr_qual(0, 0, RAX), 3); /* paging on with LME: LMA */
	st.rax = 0x80000011;
	st.efer = 1 << 8;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.efer, 0x500);
	st = msg(cr_qual(0, 3, 0) | 0xeull << 16, 3); /* lmsw: PE stays */
	st.cr0 = 0x11;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.cr0, 0x1f);
	st = msg(cr_qual(3, 1, RBP), 3);
	st.cr3 = 0x5000;
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.rbp, 0x5000);
}

/* A control register the VMM does not emulate: a clear line, the guest stops
 * (PC: every vCPU, as on_crash=stop says) or restarts, and the VMM goes on. */
static void test_cr_not_served(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	struct hv_cpu_state st = msg(cr_qual(2, 0, RAX), 3);
	assert_false(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(st.mtd, 0);
	assert_int_equal(stops, 1);
	assert_int_equal(vcpus_stopped, 1);
	assert_non_null(strstr(out, "vmm: vCPU 0: MOV to CR2 (not emulated) at rip 0x1000: stopping the guest\n"));

	v = setup_vcpu(&pc_guest, true);
	st = msg(cr_qual(15, 1, RAX), 3);
	assert_true(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_int_equal(resets, 1);
	assert_int_equal(stops, 0);
	assert_non_null(strstr(out, "MOV from CR15 (not emulated) at rip 0x1000: restarting the guest\n"));

	v = setup_vcpu(&test_guest, false);
	st = msg(cr_qual(1, 0, RAX), 3);
	assert_false(exit_dispatch(v, EXIT_REASON_CR_ACCESS, &st));
	assert_non_null(strstr(out, "MOV to CR1 (not emulated) at rip 0x1000: guest stopped\n"));
}

/* ---- the instruction exits the kernel forwards ---------------------------------- */

static void check_insn_exits(const struct guest_kind *kind)
{
	static const unsigned skipped[] = { EXIT_REASON_WBINVD, EXIT_REASON_INVD };
	static const unsigned ud[] = { EXIT_REASON_MONITOR_INSTRUCTION, EXIT_REASON_MWAIT_INSTRUCTION,
				       EXIT_REASON_VMCALL };
	struct vcpu *v = setup_vcpu(kind, false);
	for (unsigned i = 0; i < 2; i++) {
		struct hv_cpu_state st = msg(0, 2);
		assert_true(exit_dispatch(v, skipped[i], &st));
		assert_int_equal(st.rip, RIP + 2);
		assert_true(st.mtd & HV_MTD_RIP_LEN);
		assert_false(st.mtd & HV_MTD_INJ);
		assert_true(kind->exit[skipped[i]].mtd & HV_MTD_RIP_LEN);
	}
	struct hv_cpu_state st = msg(0, 2); /* rdpmc */
	assert_true(exit_dispatch(v, EXIT_REASON_RDPMC, &st));
	assert_int_equal(st.inj_info, INJ_GP);
	assert_int_equal(st.inj_error, 0);
	assert_int_equal(st.mtd & (HV_MTD_INJ | HV_MTD_RIP_LEN), HV_MTD_INJ);
	for (unsigned i = 0; i < 3; i++) {
		st = msg(0, 3);
		assert_true(exit_dispatch(v, ud[i], &st));
		assert_int_equal(st.inj_info, INJ_UD);
		assert_int_equal(st.rip, RIP);
		assert_int_equal(st.mtd & (HV_MTD_INJ | HV_MTD_RIP_LEN), HV_MTD_INJ);
	}
	assert_int_equal(stops, 0);
	assert_string_equal(out, "");
}

static void test_pc_insn_exits(void **state)
{
	(void)state;
	check_insn_exits(&pc_guest);
}

static void test_test_guest_insn_exits(void **state)
{
	(void)state;
	check_insn_exits(&test_guest);
}

/* CPUID agrees: neither kind offers MONITOR/MWAIT or performance counters. */
static void test_cpuid_agrees(void **state)
{
	(void)state;
	const struct guest_kind *kinds[] = { &pc_guest, &test_guest };
	for (unsigned k = 0; k < 2; k++) {
		struct vcpu *v = setup_vcpu(kinds[k], false);
		struct hv_cpu_state st = msg(0, 2);
		st.rax = 1;
		assert_true(exit_dispatch(v, EXIT_REASON_CPUID, &st));
		assert_false(st.rcx & (1u << 3)); /* MONITOR */
		assert_false(st.rcx & (1u << 5)); /* VMX */
		assert_true(st.rcx & (1u << 31));
		st = msg(0, 2);
		st.rax = 0xa;
		assert_true(exit_dispatch(v, EXIT_REASON_CPUID, &st));
		assert_int_equal(st.rax | st.rbx | st.rcx | st.rdx, 0);
		st = msg(0, 2);
		st.rax = 5;
		assert_true(exit_dispatch(v, EXIT_REASON_CPUID, &st));
		assert_int_equal(st.rax | st.rbx | st.rcx | st.rdx, 0);
	}
}

/* ---- exits the VMM does not know -------------------------------------------------- */

static void test_unknown_exit(void **state)
{
	(void)state;
	/* PC, on_crash=stop: the whole guest stops, with the reason's name */
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	struct hv_cpu_state st = msg(0x1234, 0);
	assert_true(pc_guest.exit[EXIT_REASON_TASK_SWITCH].fn == NULL);
	assert_false(exit_dispatch(v, EXIT_REASON_TASK_SWITCH, &st));
	assert_int_equal(st.mtd, 0);
	assert_int_equal(stops, 1);
	assert_int_equal(vcpus_stopped, 1);
	assert_string_equal(out, "vmm: vCPU 0: unhandled VM exit 9 (TASK_SWITCH, qualification 0x1234) at rip 0x1000: "
				 "stopping the guest\n");
	/* a vCPU of a stopping guest stops at its next exit, whatever it was */
	st = msg(0, 2);
	assert_false(exit_dispatch(v, EXIT_REASON_WBINVD, &st));
	assert_int_equal(vcpus_stopped, 2);

	/* PC, on_crash=restart: the guest reboots, the vCPU goes on to park */
	v = setup_vcpu(&pc_guest, true);
	st = msg(0, 0);
	assert_true(exit_dispatch(v, 57, &st));
	assert_int_equal(resets, 1);
	assert_int_equal(stops + vcpus_stopped, 0);
	assert_int_equal(st.mtd & ~HV_MTD_CTRL, 0);
	assert_string_equal(out, "vmm: vCPU 0: unhandled VM exit 57 (unnamed, qualification 0) at rip 0x1000: "
				 "restarting the guest\n");

	/* the test guest: stopped */
	v = setup_vcpu(&test_guest, false);
	st = msg(0, 0);
	assert_false(exit_dispatch(v, EXIT_REASON_PREEMPTION_TIMER, &st));
	assert_int_equal(st.mtd, 0);
	assert_string_equal(out, "vmm: vCPU 0: unhandled VM exit 52 (PREEMPTION_TIMER, qualification 0) at rip 0x1000: "
				 "guest stopped\n");

	/* their portals carry everything the report (and testsupport.c) may need */
	assert_true(pc_guest.exit[EXIT_REASON_EPT_VIOLATION].mtd == HV_MTD_ALL);
	assert_true(pc_guest.exit[EXIT_REASON_CR_ACCESS].mtd == HV_MTD_ALL);
	assert_string_equal(exit_reason_name(EXIT_REASON_WBINVD), "WBINVD");
	assert_string_equal(exit_reason_name(HV_VMEVT_RECALL), "RECALL");
	assert_string_equal(exit_reason_name(1000), "unnamed");
}

/* A triple fault: as before the tables (the boot tests match these lines). */
static void test_triple_fault(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	struct hv_cpu_state st = msg(0, 0);
	assert_false(exit_dispatch(v, EXIT_REASON_TRIPLE_FAULT, &st));
	assert_string_equal(out, "vmm: vCPU 0: triple fault at rip 0x1000: stopping the guest\n");
	v = setup_vcpu(&test_guest, false);
	st = msg(0, 0);
	assert_false(exit_dispatch(v, EXIT_REASON_TRIPLE_FAULT, &st));
	assert_string_equal(out, "vmm: vCPU 0: triple fault at rip 0x1000: guest stopped\n");
}

/* ---- an exit handler that faults (vmm/fault.c) ------------------------------------ */

/* The exit the handler was serving ends as a crash of the guest: the PC guest
 * stops (on_crash=stop) or restarts, with the platform lock given back if the
 * handler held it; the test guest stops, all its vCPUs. */
static void test_handler_fault(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	struct hv_cpu_state st;
	st = msg(0, 2);
	v->reason = EXIT_REASON_IO_INSTRUCTION;
	st.mtd = HV_MTD_GPR_ACDB; /* what the handler had written: no longer */
	pc_lock(v);                  /* it faulted holding the lock */
	assert_false(fault_crash(v, &st));
	assert_int_equal(lock_depth, 0);
	assert_int_equal(st.mtd, 0);
	assert_int_equal(stops, 1);
	assert_int_equal(vcpus_stopped, 1);
	assert_string_equal(out, "vmm: vCPU 0: exit handler fault (exit IO_INSTRUCTION) at rip 0x1000: "
				 "stopping the guest\n");

	v = setup_vcpu(&pc_guest, true);
	st = msg(0, 0);
	v->reason = EXIT_REASON_HLT;
	assert_true(fault_crash(v, &st)); /* it answers the exit: the vCPU goes on to park */
	assert_int_equal(lock_depth, 0);
	assert_int_equal(resets, 1);
	assert_int_equal(stops + vcpus_stopped, 0);
	assert_non_null(strstr(out, "exit handler fault (exit HLT) at rip 0x1000: restarting the guest\n"));

	v = setup_vcpu(&test_guest, false);
	st = msg(0, 0);
	v->reason = EXIT_REASON_CPUID;
	assert_false(fault_crash(v, &st));
	assert_true(vm.stopping);
	assert_int_equal(kicks, 1);
	assert_int_equal(vcpus_stopped, 1);
	assert_string_equal(out, "vmm: vCPU 0: exit handler fault (exit CPUID) at rip 0x1000: guest stopped\n");
}

/* crash= and fault= (tests) come at the vCPU's exit they name, once. */
static void test_test_exit(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&test_guest, false);
	v->fault_at = 3;
	for (unsigned i = 0; i < 5; i++) {
		struct hv_cpu_state st = msg(0, 2);
		assert_true(exit_dispatch(v, EXIT_REASON_WBINVD, &st));
		assert_int_equal(test_exits, i >= 2);
	}
}

/* ---- INIT and start-up IPIs ------------------------------------------------------ */

/* Real mode at the vector's page, as an AP starts (and no more sleeps). */
static void check_sipi_state(const struct hv_cpu_state *st, unsigned vector, unsigned nsleeps)
{
	assert_int_equal(st->cs.sel, vector << 8);
	assert_int_equal(st->cs.base, vector << 12);
	assert_int_equal(st->rip, 0);
	assert_int_equal(st->cr0, 0x10);
	assert_int_equal(st->rax | st->rbx | st->rcx | st->rdx, 0);
	assert_int_equal(st->mtd & (HV_MTD_CS_SS | HV_MTD_RIP_LEN | HV_MTD_CR | HV_MTD_GPR_ACDB),
			 HV_MTD_CS_SS | HV_MTD_RIP_LEN | HV_MTD_CR | HV_MTD_GPR_ACDB);
	assert_int_equal(sleeps, nsleeps);
	assert_int_equal(lock_depth, 0);
	assert_false(vm.stopping);
}

/* A test guest's vCPU 1 waits for a start-up IPI at its STARTUP, and again
 * after each INIT, with its CR8 and test timer reset; its CPUID gives its
 * APIC id and x2APIC; its LAPIC's MSRs are the model's. */
static void test_test_guest_init_sipi(void **state)
{
	(void)state;
	struct vcpu *v = setup_ap(&test_guest);
	sipi_at[0] = 0x0f;
	struct hv_cpu_state st = msg(0, 0);
	assert_true(exit_dispatch(v, HV_VMEVT_STARTUP, &st));
	check_sipi_state(&st, 0x0f, 1);
	assert_non_null(strstr(out, "vmm: vCPU 1 started at ")); /* the host printf writes "0x" for %#x */
	assert_non_null(strstr(out, "f00:0000\n"));

	st = msg(0, 2);
	st.rax = 1;
	assert_true(exit_dispatch(v, EXIT_REASON_CPUID, &st));
	assert_int_equal(st.rbx >> 24, 1);
	assert_true(st.rcx & (1u << 21));
	st = msg(0, 2);
	st.rcx = MSR_IA32_APIC_BASE;
	assert_true(exit_dispatch(v, EXIT_REASON_MSR_READ, &st));
	assert_int_equal(st.rax, 0xfee00800);
	st = msg(0, 2);
	st.rcx = MSR_X2APIC_FIRST + 0x30; /* the x2APIC ICR outside x2APIC mode: #GP */
	assert_true(exit_dispatch(v, EXIT_REASON_MSR_WRITE, &st));
	assert_int_equal(st.inj_info, INJ_GP);

	/* INIT at a CPUID exit: the answer is the start at the next vector */
	v->cr8 = 5;
	v->timer_deadline = 1234;
	v->init_pending = true;
	sipi_at[1] = 0x9a;
	st = msg(0, 2);
	assert_true(exit_dispatch(v, EXIT_REASON_CPUID, &st));
	check_sipi_state(&st, 0x9a, 2);
	assert_int_equal(v->cr8, 0);
	assert_int_equal(v->timer_deadline, 0);
	assert_int_equal(v->starts, 2);

	/* an INIT while it waits changes nothing; a stopping guest ends the wait */
	v->init_pending = true;
	init_at[2] = true;
	st = msg(0, 2);
	assert_false(exit_dispatch(v, EXIT_REASON_CPUID, &st));
	assert_int_equal(sleeps, SLEEPS);
	assert_int_equal(st.mtd, 0);
	assert_int_equal(kicks, 1);
	assert_int_equal(lock_depth, 0);
}

/* INIT and start-up IPIs that come while the vCPU's handler sleeps, in
 * either order: INIT, SIPI starts it at that SIPI's vector (Linux's INIT,
 * INIT de-assert, SIPI, SIPI); SIPI, INIT makes it wait for the next SIPI
 * (the INIT was lost: it started at the first vector). */
static void check_init_after_sipi(const struct guest_kind *kind)
{
	struct vcpu *v = setup_ap(kind);
	v->init_pending = true;
	init_before[0] = true;
	sipi_at[0] = 0x9a;
	struct hv_cpu_state st = msg(0, 2);
	assert_true(exit_dispatch(v, EXIT_REASON_WBINVD, &st));
	check_sipi_state(&st, 0x9a, 1);
	assert_false(pc_sipi_signal(v, 0x9a)); /* a second one: it runs */
	assert_int_equal(v->sipis, 2);
	assert_int_equal(v->inits, 1);

	v = setup_ap(kind);
	v->init_pending = true;
	sipi_at[0] = 0x0f;
	init_at[0] = true;
	sipi_at[1] = 0x23;
	st = msg(0, 2);
	assert_true(exit_dispatch(v, EXIT_REASON_WBINVD, &st));
	check_sipi_state(&st, 0x23, 2);
	assert_false(v->init_pending);
	assert_false(pc_init_signal(&vcpus[0])); /* vCPU 0 ignores INIT */
}

static void test_test_guest_init_after_sipi(void **state)
{
	(void)state;
	check_init_after_sipi(&test_guest);
}

static void test_pc_init_after_sipi(void **state)
{
	(void)state;
	check_init_after_sipi(&pc_guest);
}

/* The exit profile (vmm/profile.c): counts per key, report and reset at a mark. */
static void test_profile(void **state)
{
	(void)state;
	struct vcpu *v = setup_vcpu(&pc_guest, false);
	profile_port_write(NULL, 0, 4, 0); /* a new interval */
	v->exits[EXIT_REASON_CPUID] += 5;
	v->exits[EXIT_REASON_MSR_WRITE] += 2;
	for (unsigned i = 0; i < 3; i++)
		profile_count(PROF_IO, 0x70);
	profile_count(PROF_MSR, 0x80b);
	profile_count(PROF_MSR, 0x80b);
	profile_port_write(NULL, 0, 2, 7); /* not a 32-bit write: ignored */
	assert_string_equal(out, "");
	profile_port_write(NULL, 0, 4, 7);
	assert_non_null(strstr(out, "vmm: profile 7: exits 7: CPUID=5 MSR_WRITE=2\n"));
	assert_non_null(strstr(out, "vmm: profile 7: io 3: 0x70=3\n"));
	assert_non_null(strstr(out, "vmm: profile 7: msr 2: 0x80b=2\n"));
	assert_null(strstr(out, "mmio"));
	/* the next interval starts empty; a full table counts the rest as other */
	out[0] = 0;
	for (unsigned p = 0; p < 100; p++)
		profile_count(PROF_MMIO, 0xfee00000ull + p * 4096);
	profile_port_write(NULL, 0, 4, 8);
	assert_non_null(strstr(out, "vmm: profile 8: exits 0:\n"));
	assert_non_null(strstr(out, "vmm: profile 8: mmio 100:"));
	assert_null(strstr(out, "profile 8: io"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pc_cr8_is_tpr),
		cmocka_unit_test(test_test_guest_cr8),
		cmocka_unit_test(test_cr_others),
		cmocka_unit_test(test_cr_not_served),
		cmocka_unit_test(test_pc_insn_exits),
		cmocka_unit_test(test_test_guest_insn_exits),
		cmocka_unit_test(test_cpuid_agrees),
		cmocka_unit_test(test_unknown_exit),
		cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_handler_fault),
		cmocka_unit_test(test_test_exit),
		cmocka_unit_test(test_test_guest_init_sipi),
		cmocka_unit_test(test_test_guest_init_after_sipi),
		cmocka_unit_test(test_pc_init_after_sipi),
		cmocka_unit_test(test_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
