/*
 * Reference implementation of the test guest's VMM contract (README.md,
 * "Contract") on Linux KVM: a host program, not part of microhv. It lets
 * the guest's VMM-dependent checks run against an independent
 * implementation before microhv's VMM exists, and shows in ~300 lines what
 * that VMM has to provide. KVM's in-kernel instruction emulator does the
 * MMIO decoding here; microhv's VMM does it itself.
 *
 *   kvm-ref GUEST.BIN        exit status: the guest's exit-port value;
 *                            125 if the harness itself gives up
 *
 * Guest: 4 MiB RAM at 0, the image at 0x10000, real mode CS:IP 1000:0000,
 * FLAGS 0x2; no in-kernel interrupt controller (KVM_INTERRUPT injects the
 * timer vector). Environment: KVM_REF_TIMEOUT seconds (default 30).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE 0x400000UL
#define LOAD_ADDR 0x10000UL
#define UART 0x3f8
#define PORT_EXIT 0x501
#define PORT_CONST 0x510
#define PORT_LATCH 0x514
#define PORT_TIMER 0x518
#define TIMER_VECTOR 0x30
#define MMIO_BASE 0xfeb00000UL
#define MMIO_SIZE 0x1000UL
#define MAGIC 0xfeedfacecafebeefULL
#define HARNESS_ERROR 125

static uint64_t scratch, mmio_writes;
static uint32_t latch;
static uint64_t timer_deadline; /* ns, CLOCK_MONOTONIC; 0: not armed */
static int irq_pending;

static void die(const char *what)
{
	fprintf(stderr, "kvm-ref: %s: %s\n", what, strerror(errno));
	exit(HARNESS_ERROR);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* one port access; returns 1 if the guest asked to exit */
static int port_io(uint16_t port, int out, uint8_t *data, unsigned size, int *exit_code)
{
	uint64_t v = out ? le_get(data, size) : 0;

	switch (port) {
	case UART:
		if (out) {
			putchar((int)(v & 0xff));
			if ((v & 0xff) == '\n')
				fflush(stdout);
		}
		break;
	case UART + 5: /* LSR: THR empty, transmitter empty */
		v = 0x60;
		break;
	case PORT_EXIT:
		if (out) {
			*exit_code = (int)(v & 0xff);
			return 1;
		}
		break;
	case PORT_CONST:
		if (out)
			latch = (uint32_t)v;
		else
			v = 0x12345678;
		break;
	case PORT_LATCH:
		if (!out)
			v = latch;
		break;
	case PORT_TIMER:
		if (out)
			timer_deadline = v ? now_ns() + v * 1000 : 0;
		break;
	default:
		if (port >= UART && port < UART + 8)
			break; /* other UART registers: read 0, writes ignored */
		fprintf(stderr, "kvm-ref: %s port 0x%x size %u\n", out ? "out to" : "in from", port, size);
		v = ~0ULL;
	}
	if (!out)
		le_put(data, size, v);
	return 0;
}

/* one MMIO access to the test device, byte by byte */
static void mmio(uint64_t addr, int write, uint8_t *data, unsigned len)
{
	uint64_t off = addr - MMIO_BASE;

	if (addr < MMIO_BASE || off + len > MMIO_SIZE) {
		fprintf(stderr, "kvm-ref: MMIO %s at 0x%llx outside the test device\n", write ? "write" : "read",
			(unsigned long long)addr);
		exit(HARNESS_ERROR);
	}
	if (write)
		mmio_writes++;
	for (unsigned i = 0; i < len; i++, off++) {
		unsigned sh = 8 * (off & 7);
		if (write) {
			if (off < 8)
				scratch = (scratch & ~(0xffULL << sh)) | (uint64_t)data[i] << sh;
		} else if (off < 8) {
			data[i] = (uint8_t)(scratch >> sh);
		} else if (off < 16) {
			data[i] = (uint8_t)(MAGIC >> sh);
		} else if (off < 24) {
			data[i] = (uint8_t)(mmio_writes >> sh);
		} else {
			data[i] = 0;
		}
	}
}

static void set_cpuid(int kvm, int vcpu)
{
	const unsigned max = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + max * sizeof c->entries[0]);

	if (!c)
		die("calloc");
	c->nent = max;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	int have_hv = 0;
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			e->ecx |= 1u << 31; /* hypervisor present */
			e->ecx &= ~(1u << 5); /* no VMX */
		}
		if (e->function == 0x40000000) {
			have_hv = 1;
			e->eax = 0x40000000;
			memcpy(&e->ebx, "Micr", 4);
			memcpy(&e->ecx, "oHVM", 4);
			memcpy(&e->edx, "icro", 4);
		}
	}
	if (!have_hv && c->nent < max) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
		memset(e, 0, sizeof *e);
		e->function = 0x40000000;
		e->eax = 0x40000000;
		memcpy(&e->ebx, "Micr", 4);
		memcpy(&e->ecx, "oHVM", 4);
		memcpy(&e->edx, "icro", 4);
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
		die("KVM_SET_CPUID2");
	free(c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kvm-ref GUEST.BIN\n");
		return HARNESS_ERROR;
	}
	const char *t = getenv("KVM_REF_TIMEOUT");
	uint64_t give_up = now_ns() + (uint64_t)(t ? atoi(t) : 30) * 1000000000;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap");
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		die(argv[1]);
	size_t n = fread(ram + LOAD_ADDR, 1, RAM_SIZE - LOAD_ADDR, f);
	fclose(f);
	if (!n) {
		fprintf(stderr, "kvm-ref: %s is empty\n", argv[1]);
		return HARNESS_ERROR;
	}
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE, .userspace_addr = (uintptr_t)ram};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	set_cpuid(kvm, vcpu);

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.selector = LOAD_ADDR >> 4;
	sregs.cs.base = LOAD_ADDR;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs = {.rip = 0, .rflags = 0x2};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	int exit_code = -1;
	while (exit_code < 0) {
		if (now_ns() > give_up) {
			fprintf(stderr, "kvm-ref: timeout\n");
			return HARNESS_ERROR;
		}
		if (timer_deadline && now_ns() >= timer_deadline)
			timer_deadline = 0, irq_pending = 1;
		run->request_interrupt_window = 0;
		if (irq_pending) {
			if (run->ready_for_interrupt_injection && run->if_flag) {
				struct kvm_interrupt irq = {.irq = TIMER_VECTOR};
				if (ioctl(vcpu, KVM_INTERRUPT, &irq) < 0)
					die("KVM_INTERRUPT");
				irq_pending = 0;
			} else {
				run->request_interrupt_window = 1;
			}
		}
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			for (unsigned i = 0; i < run->io.count && exit_code < 0; i++, data += run->io.size)
				if (port_io(run->io.port, run->io.direction == KVM_EXIT_IO_OUT, data, run->io.size,
					    &exit_code))
					break;
			break;
		}
		case KVM_EXIT_MMIO:
			mmio(run->mmio.phys_addr, run->mmio.is_write, run->mmio.data, run->mmio.len);
			break;
		case KVM_EXIT_HLT:
			if (irq_pending)
				break;
			if (!timer_deadline) {
				fprintf(stderr, "kvm-ref: guest halted with no timer armed\n");
				return HARNESS_ERROR;
			}
			for (uint64_t now; (now = now_ns()) < timer_deadline;) {
				uint64_t d = timer_deadline - now;
				struct timespec ts = {(time_t)(d / 1000000000), (long)(d % 1000000000)};
				nanosleep(&ts, NULL);
			}
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "kvm-ref: guest shutdown (triple fault)\n");
			return HARNESS_ERROR;
		case KVM_EXIT_INTERNAL_ERROR: {
			struct kvm_regs r;
			if (ioctl(vcpu, KVM_GET_REGS, &r) < 0)
				die("KVM_GET_REGS");
			/*
			 * Some host KVMs (e.g. when KVM itself runs nested without
			 * hardware virtualization) fail to emulate int3. Deliver the
			 * #BP trap ourselves: RIP after the int3, then vector 3.
			 */
			if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && r.rip < RAM_SIZE &&
			    ram[r.rip] == 0xcc) {
				struct kvm_vcpu_events ev;
				if (ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev) < 0)
					die("KVM_GET_VCPU_EVENTS");
				r.rip++;
				if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
					die("KVM_SET_REGS");
				ev.exception.injected = 1;
				ev.exception.nr = 3;
				ev.exception.has_error_code = 0;
				ev.flags = 0;
				if (ioctl(vcpu, KVM_SET_VCPU_EVENTS, &ev) < 0)
					die("KVM_SET_VCPU_EVENTS");
				fprintf(stderr, "kvm-ref: host KVM could not run int3 at 0x%llx; #BP injected\n",
					(unsigned long long)(r.rip - 1));
				break;
			}
			fprintf(stderr, "kvm-ref: KVM internal error, suberror %u, rip 0x%llx\n", run->internal.suberror,
				(unsigned long long)r.rip);
			return HARNESS_ERROR;
		}
		default:
			fprintf(stderr, "kvm-ref: unhandled exit reason %u\n", run->exit_reason);
			return HARNESS_ERROR;
		}
	}
	fflush(stdout);
	fprintf(stderr, "kvm-ref: guest exit code %d\n", exit_code);
	return exit_code;
}
