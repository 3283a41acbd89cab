/*
 * The VMM's start: arguments "guest=MODULE mem=SIZE cpus=N" (from the
 * system configuration), the VM PD, guest memory from this domain's heap
 * delegated into the guest-physical space, the guest image at 0x10000,
 * the devices, and one vCPU per CPU asked for.
 */
#include "../devices/testdev.h"
#include "../devices/uart16550.h"
#include "acpi.h"
#include "exits.h"
#include "pc.h"
#include "vmm.h"
#include <stdio.h>
#include <string.h>

struct vm vm;
struct vcpu vcpus[VMM_MAX_VCPUS];
uint64_t tsc_khz;

static struct uart16550 com1;
static struct testdev testdev = { .exit_code = -1 };

#define GUEST_LOAD 0x10000ull

static uint64_t parse_size(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (*s == 'K' || *s == 'k')
		v <<= 10;
	else if (*s == 'M' || *s == 'm')
		v <<= 20;
	return v;
}

/* Finds "key=" in the argument string; copies the value to out. */
static bool arg(const char *args, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	for (const char *p = args; *p; p++) {
		if ((p == args || p[-1] == ' ') && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t i = 0;
			for (p += kl + 1; *p && *p != ' ' && i + 1 < n; p++)
				out[i++] = *p;
			out[i] = 0;
			return true;
		}
	}
	return false;
}

/* After every port access: the test device's timer and exit requests. */
void vmm_after_io(struct vcpu *v)
{
	if (testdev.timer_us) {
		v->timer_deadline = hv_rdtsc() + testdev.timer_us * tsc_khz / 1000;
		v->timer_vector = TESTDEV_TIMER_VECTOR;
		testdev.timer_us = 0;
	}
	if (testdev.exit_code >= 0 && !vm.stopping) {
		vm.stopping = true;
		vm.exit_code = testdev.exit_code;
		if (vm.unserved)
			printf("vmm: %lu accesses outside guest memory were not served\n", vm.unserved);
		printf("vmm: guest '%s' exited with code %d\n", vm.name, testdev.exit_code);
	}
}

#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"

static char cmdline[LINUX_CMDLINE_MAX];
static hv_sel_t done_sm;

/* Kernel, initrd, zero page and ACPI tables into guest memory (at start and at reboot). */
bool vmm_load_linux(void)
{
	struct acpi_config cfg = { .ncpus = vm.nvcpus, .low_ram_end = vm.ram_size, .com1 = true, .cmos_rtc = true,
				   .pvpanic = true };
	vm.image.rsdp = acpi_build(vm.ram + ACPI_REGION_GPA, ACPI_REGION_SIZE, ACPI_REGION_GPA, &cfg);
	if (!vm.image.rsdp) {
		printf("vmm: cannot build the ACPI tables\n");
		return false;
	}
	return linux_load(&vm.image, vm.ram, vm.ram_size, &vm.boot) == 0;
}

/* The test guest's vCPUs but v look at vm.stopping soon: woken from HLT,
 * recalled from the guest. */
void vmm_kick_others(struct vcpu *v)
{
	for (unsigned i = 0; i < vm.nvcpus; i++)
		if (&vcpus[i] != v) {
			hv_sm_up(vcpus[i].wake);
			hv_ec_recall(vcpus[i].ec);
		}
}

/* A vCPU's handler stopped it for good; the last one ends the VMM. */
void vmm_vcpu_stopped(struct vcpu *v)
{
	(void)v;
	if (__atomic_add_fetch(&vm.stopped, 1, __ATOMIC_SEQ_CST) == vm.nvcpus)
		hv_sm_up(done_sm);
}

/* Tests: a page fault here, in whichever VMM thread calls it. */
HV_NORETURN void vmm_fault_here(void)
{
	volatile uintptr_t bad = 8;
	*(volatile int *)bad = 1;
	__builtin_unreachable();
}

static hv_sel_t crash_sm;

/* Tests: the exit vm.test_exit of vCPU vm.test_vcpu has come. crash=exit:N:
 * the main thread faults, and this vCPU waits here until the roottask has
 * ended the domain (the guest gets no further, whatever the machine's
 * load); fault=exit:N: this exit handler faults (fault.c takes over). */
void vmm_test_exit(struct vcpu *v)
{
	if (vm.test_crash_main) {
		hv_sm_up(crash_sm);
		hv_block_forever();
	}
	printf("vmm: vCPU %u: exit handler faulting on purpose in exit %lu\n", v->id, v->nexits);
	vmm_fault_here();
}

/* crash=exit:N and fault=exit:N[:V] or fault=timer:N; false after saying what is wrong. */
static bool parse_test_faults(const char *args)
{
	char buf[32];
	const char *p;
	if (arg(args, "crash", buf, sizeof(buf))) {
		if (strncmp(buf, "exit:", 5) || !(vm.test_exit = parse_size(buf + 5))) {
			printf("vmm: crash=%s: use crash=exit:N (N > 0)\n", buf);
			return false;
		}
		vm.test_crash_main = true;
	}
	if (!arg(args, "fault", buf, sizeof(buf)))
		return true;
	if (!strncmp(buf, "timer:", 6) && (vm.test_timer_fault = parse_size(buf + 6)))
		return true;
	if (!vm.test_exit && !strncmp(buf, "exit:", 5) && (vm.test_exit = parse_size(buf + 5))) {
		p = strchr(buf + 5, ':');
		vm.test_vcpu = p ? (unsigned)parse_size(p + 1) : 0;
		return true;
	}
	printf("vmm: fault=%s: use fault=exit:N[:VCPU] or fault=timer:N (N > 0), not with crash=\n", buf);
	return false;
}

static bool setup_devices(void)
{
	uart16550_init(&com1, NULL, -1); /* no interrupt controller: no line */
	struct bus_dev uart = { "uart", 0x3f8, 0x3ff, uart16550_read, uart16550_write, &com1 };
	struct bus_dev tpio = { "testdev", 0x500, 0x523, testdev_pio_read, testdev_pio_write, &testdev };
	struct bus_dev tmem = { "testdev-mmio", TESTDEV_MMIO_BASE, TESTDEV_MMIO_BASE + 0xfff, testdev_mmio_read,
				testdev_mmio_write, &testdev };
	return bus_add_io(&uart) && bus_add_io(&tpio) && bus_add_mmio(&tmem);
}

/* Gives the guest its RAM: this domain's heap pages at guest-physical 0.. */
static hv_status_t setup_memory(uint64_t size)
{
	uint8_t *ram = hv_heap_alloc(size, 1ul << 21);
	if (!ram)
		return HV_EMEM;
	memset(ram, 0, size);
	vm.ram = ram;
	vm.ram_size = size;
	for (uint64_t off = 0; off < size;) {
		unsigned order = 0;
		while (order < 18 && !(((uint64_t)ram + off) & ((4096ull << (order + 1)) - 1)) &&
		       !(off & ((4096ull << (order + 1)) - 1)) && off + (4096ull << (order + 1)) <= size)
			order++;
		hv_status_t st;
		/* the heap reached us in several mappings: a chunk must lie in one of them */
		while ((st = hv_delegate(HV_SI_SEL_PD, vm.pd, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, order),
					 (hv_word_t)ram + off, off)) == HV_ECAP && order)
			order--;
		if (st != HV_OK)
			return st;
		off += 4096ull << order;
	}
	return HV_OK;
}

static const struct hv_si_file *find_file(const struct hv_startinfo *si, const char *name)
{
	for (unsigned i = 0; i < si->num_files; i++)
		if (!strcmp(si->files[i].name, name))
			return &si->files[i];
	return NULL;
}

/*
 * The VM PD (with the VMM's own scheduling limits) and mem bytes of guest
 * RAM; false after saying why not. Its kernel-memory quota pays for its
 * EPT/NPT (mem / 256 covers 4 KiB tables) and per vCPU for 256 exit-portal
 * capabilities, the vCPU's state and the kernel's slab pages (charged by
 * page: docs/abi.md).
 */
static bool create_vm(uint64_t mem, unsigned ncpus)
{
	unsigned max_prio;
	hv_word_t cpus;
	vm.pd = hv_sel_alloc();
	hv_status_t st = hv_pd_limits(HV_SI_SEL_PD, &max_prio, &cpus);
	if (st == HV_OK)
		st = hv_create_vm(vm.pd, HV_SI_SEL_PD, 64 * 1024 + ncpus * 64 * 1024 + mem / 256, max_prio, cpus);
	if (st != HV_OK) {
		printf("vmm: cannot create the VM PD: %s\n", hv_status_str(st));
		return false;
	}
	st = setup_memory(mem);
	if (st != HV_OK) {
		printf("vmm: cannot give the guest %lu KiB of memory: %s\n", mem >> 10, hv_status_str(st));
		return false;
	}
	return true;
}

/* vCPUs 0..n-1 of a guest kind on consecutive CPUs from cpu0; false after saying why not. */
static bool create_vcpus(const struct hv_startinfo *si, unsigned n, unsigned cpu0, const struct guest_kind *kind)
{
	vm.nvcpus = n;
	for (unsigned i = 0; i < n; i++) {
		vcpus[i] = (struct vcpu){ .vm = &vm, .id = i, .cpu = (cpu0 + i) % (unsigned)si->num_cpus,
					  .fault_at = i == vm.test_vcpu ? vm.test_exit : 0 };
		hv_sel_t unused;
		if (vcpus[i].cpu != si->cpu && hv_service("console", vcpus[i].cpu, &unused) != HV_OK)
			printf("vmm: no console on CPU %u ('call console' missing): the guest's output from vCPU %u is lost\n",
			       vcpus[i].cpu, i);
		hv_status_t st = vcpu_setup(&vcpus[i], kind);
		if (st != HV_OK) {
			printf("vmm: cannot create vCPU %u on CPU %u: %s%s\n", i, vcpus[i].cpu, hv_status_str(st),
			       st == HV_EPERM ? " (vCPUs run at priority 10 on CPUs the domain's 'cpus' must list)" : "");
			return false;
		}
	}
	return true;
}

/* A Linux guest on the PC platform: kernel=MODULE [initrd=MODULE] [on_crash=stop|restart]
 * [disk=MODULE] [disksize=SIZE] [-- COMMAND LINE] */
#define VMM_DISK_MAX (1ull << 30)
static int linux_main(const struct hv_startinfo *si, uint64_t mem, unsigned ncpus, unsigned cpu0)
{
	char kname[32] = "", iname[32] = "", buf[32];
	arg(si->args, "kernel", kname, sizeof(kname));
	const struct hv_si_file *k = find_file(si, kname), *ird = NULL;
	if (!k) {
		printf("vmm: kernel '%s' not granted (add 'file %s' to the domain)\n", kname, kname);
		return 2;
	}
	if (arg(si->args, "initrd", iname, sizeof(iname)) && !(ird = find_file(si, iname))) {
		printf("vmm: initrd '%s' not granted (add 'file %s' to the domain)\n", iname, iname);
		return 2;
	}
	if (arg(si->args, "on_crash", buf, sizeof(buf))) {
		if (strcmp(buf, "restart") && strcmp(buf, "stop")) {
			printf("vmm: on_crash=%s: use stop or restart\n", buf);
			return 2;
		}
		vm.on_crash_restart = !strcmp(buf, "restart");
	}
	if (mem < (32ull << 20) || mem > LINUX_RAM_BELOW_4G) {
		printf("vmm: mem=%lu MiB: a Linux guest needs 32 MiB .. 3 GiB\n", (unsigned long)(mem >> 20));
		return 2;
	}
	const char *extra = NULL; /* the kernel's own arguments follow " -- " */
	for (const char *p = si->args; *p && !extra; p++)
		if (!strncmp(p, " -- ", 4))
			extra = p;
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", DEFAULT_CMDLINE, extra ? " " : "", extra ? extra + 4 : "");
	vm.image = (struct linux_image){ .name = k->name, .initrd_name = iname, .kernel = (const uint8_t *)k->addr,
					  .kernel_size = k->size, .cmdline = cmdline };
	if (ird) {
		vm.image.initrd = (const uint8_t *)ird->addr;
		vm.image.initrd_size = ird->size;
	}
	const struct hv_si_file *dk = NULL;
	char dname[32] = "";
	uint64_t dsize = 0;
	if (arg(si->args, "disk", dname, sizeof(dname)) && !(dk = find_file(si, dname))) {
		printf("vmm: disk '%s' not granted (add 'file %s' to the domain)\n", dname, dname);
		return 2;
	}
	if (arg(si->args, "disksize", buf, sizeof(buf)))
		dsize = parse_size(buf);
	if (dk && dk->size > dsize)
		dsize = dk->size;
	if (dsize > VMM_DISK_MAX) {
		printf("vmm: a disk of %lu KiB: at most %lu MiB\n", (unsigned long)(dsize >> 10),
		       (unsigned long)(VMM_DISK_MAX >> 20));
		return 2;
	}
	vm.nvcpus = ncpus; /* the ACPI tables and the platform need it before the vCPUs exist */
	if (!create_vm(mem, ncpus) || !vmm_load_linux())
		return 1;
	if (dsize) { /* the memory-backed disk: the module's bytes, then zeroes, whole sectors */
		dsize = (dsize + 511) & ~511ull;
		uint8_t *d = hv_heap_alloc(dsize, 4096);
		if (!d) {
			printf("vmm: no memory for the %lu KiB disk (the domain's 'memory' must hold it and the guest's)\n",
			       (unsigned long)(dsize >> 10));
			return 1;
		}
		memset(d, 0, dsize);
		if (dk)
			memcpy(d, (const void *)dk->addr, dk->size);
		pc_set_disk(d, dsize);
	}
	if (!pc_setup(mem)) {
		printf("vmm: cannot set up the PC platform\n");
		return 1;
	}
	if (!create_vcpus(si, ncpus, cpu0, &pc_guest))
		return 1;
	if (!pc_start_timer((unsigned)si->cpu)) {
		printf("vmm: cannot start the timer thread (priority 20: the domain needs max-priority 20)\n");
		return 1;
	}
	printf("vmm: Linux guest '%s': %lu MiB, %u vCPU%s, initrd %lu KiB, command line \"%s\"\n", kname,
	       (unsigned long)(mem >> 20), ncpus, ncpus == 1 ? "" : "s", (unsigned long)(vm.image.initrd_size >> 10),
	       cmdline);
	while (hv_sm_down(done_sm) != HV_OK)
		;
	printf("vmm: guest '%s' %s\n", vm.name, vm.poweroff ? "powered off" : "stopped");
	hv_exit(vm.poweroff ? 0 : 1);
}

int main(const struct hv_startinfo *si)
{
	char guest[32] = "", buf[32];
	uint64_t mem = 4ull << 20;
	unsigned ncpus = 1;
	tsc_khz = si->tsc_khz;
	vm.name = si->name;
	vm.pc = vm.lapics = arg(si->args, "kernel", guest, sizeof(guest));
	if (!vm.pc && !arg(si->args, "guest", guest, sizeof(guest))) {
		printf("vmm: no guest=MODULE or kernel=MODULE argument\n");
		return 2;
	}
	if (arg(si->args, "mem", buf, sizeof(buf)))
		mem = parse_size(buf);
	if (arg(si->args, "cpus", buf, sizeof(buf)))
		ncpus = (unsigned)parse_size(buf);
	unsigned id = 1;
	if (arg(si->args, "id", buf, sizeof(buf)))
		id = (unsigned)parse_size(buf) & 0xff;
	testdev.mode = id << 8;
	if (arg(si->args, "mode", buf, sizeof(buf))) {
		if (!strcmp(buf, "isolation"))
			testdev.mode |= 1;
		else if (!strcmp(buf, "bench"))
			testdev.mode |= 2;
		else if (!strcmp(buf, "hostile")) /* guests/test/hostile.c, seeded by seed=N (0..65535) */
			testdev.mode |= 8 | (arg(si->args, "seed", buf, sizeof(buf)) ? (uint32_t)(parse_size(buf) & 0xffff) << 16 : 0);
		else if (!strcmp(buf, "acloop"))
			testdev.mode |= TESTDEV_MODE_ACLOOP;
		else {
			printf("vmm: unknown mode=%s (isolation, bench, hostile, acloop)\n", buf);
			return 2;
		}
	}
	vm.bad_state = arg(si->args, "badstate", buf, sizeof(buf));
	vm.exit_code = -1;
	if (!parse_test_faults(si->args))
		return 2;
	unsigned cpu0 = (unsigned)si->cpu;
	if (arg(si->args, "cpu", buf, sizeof(buf)))
		cpu0 = (unsigned)parse_size(buf);
	if (mem < (1ull << 20) || (mem & 0xfff) || ncpus < 1 || ncpus > VMM_MAX_VCPUS || ncpus > si->num_cpus) {
		printf("vmm: bad mem= (>= 1M, page multiple) or cpus= (1..%u)\n",
		       si->num_cpus < VMM_MAX_VCPUS ? (unsigned)si->num_cpus : VMM_MAX_VCPUS);
		return 2;
	}
	if (vm.test_vcpu >= ncpus) {
		printf("vmm: fault=exit:N:%u: there is no vCPU %u\n", vm.test_vcpu, vm.test_vcpu);
		return 2;
	}
	done_sm = hv_sel_alloc();
	crash_sm = hv_sel_alloc();
	hv_status_t st = hv_create_sm(done_sm, HV_SI_SEL_PD, 0);
	if (st == HV_OK)
		st = hv_create_sm(crash_sm, HV_SI_SEL_PD, 0);
	if (st != HV_OK) {
		printf("vmm: cannot create a semaphore: %s\n", hv_status_str(st));
		return 1;
	}
	if (vm.pc)
		return linux_main(si, mem, ncpus, cpu0);
	const struct hv_si_file *img = find_file(si, guest);
	if (!img) {
		printf("vmm: guest image '%s' not granted (add 'file %s' to the domain)\n", guest, guest);
		return 2;
	}
	if (img->size > mem - GUEST_LOAD) {
		printf("vmm: guest image '%s' (%lu bytes) does not fit %lu KiB of guest memory\n", guest, img->size,
		       mem >> 10);
		return 2;
	}
	if (!create_vm(mem, ncpus))
		return 1;
	if (!setup_devices()) {
		printf("vmm: cannot put the test devices on the bus\n");
		return 1;
	}
	memcpy(vm.ram + GUEST_LOAD, (const void *)img->addr, img->size);
	testdev.host_code = (uint32_t)(uintptr_t)vmexit_serve;
	testsupport_init(&testdev);
	vm.nvcpus = ncpus;
	vm.lapics = ncpus > 1; /* for INIT and start-up IPIs between the vCPUs */
	if (vm.lapics && !pc_setup_lapics()) {
		printf("vmm: cannot set up the local APICs\n");
		return 1;
	}
	if (!create_vcpus(si, ncpus, cpu0, &test_guest))
		return 1;
	printf("vmm: guest '%s' started: %lu KiB, %u vCPU%s on CPU %u\n", guest, mem >> 10, ncpus,
	       ncpus == 1 ? "" : "s", vcpus[0].cpu);
	/* force vCPU 0 out once, as a VMM thread does to inject an interrupt */
	if (hv_ec_recall(vcpus[0].ec) != HV_OK)
		printf("vmm: recall of vCPU 0 failed\n");
	if (vm.test_crash_main) {
		while (hv_sm_down(crash_sm) != HV_OK)
			;
		printf("vmm: crashing on purpose in exit %lu of vCPU 0\n", vm.test_exit);
		vmm_fault_here();
	}
	while (hv_sm_down(done_sm) != HV_OK)
		;
	for (unsigned i = 1; i < vm.nvcpus; i++)
		printf("vmm: vCPU %u got %u INIT and %u start-up IPIs, started %u times\n", i, vcpus[i].inits,
		       vcpus[i].sipis, vcpus[i].starts);
	if (vm.exit_code < 0) /* it did not exit: it crashed */
		printf("vmm: guest '%s' stopped\n", vm.name);
	hv_exit(vm.exit_code < 0 ? 1 : vm.exit_code);
}
