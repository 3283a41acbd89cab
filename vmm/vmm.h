/*
 * The user-level VMM: one process per guest. It owns the guest's memory,
 * creates the VM PD and its vCPUs, and serves their VM exits (portal
 * calls) with the help of device models on an I/O and MMIO bus.
 */
#ifndef VMM_H
#define VMM_H

#include "linux.h"
#include <hv/runtime.h>
#include <hv/vmexit.h>
#include <stdbool.h>
#include <stdint.h>

#define VMM_MAX_VCPUS 4
#define VMM_EVT_BASE 0 /* vCPU n's exit portals at n*256 + 0..255 of the VM PD */

struct vm {
	const char *name;
	hv_sel_t pd;             /* the VM PD (capability in the VMM) */
	uint8_t *ram;            /* guest-physical 0.. in the VMM's address space */
	uint64_t ram_size;
	unsigned nvcpus;
	volatile bool stopping;
	bool lapics;              /* local APICs: a PC, or a test guest with more than one vCPU */
	int exit_code;
	uint64_t unserved;        /* accesses outside guest memory */
	bool bad_state;           /* start the guest with an invalid CS (tests) */
	/* tests: at exit test_exit of vCPU test_vcpu, the main thread faults
	 * (crash=exit:N) or that vCPU's exit handler does (fault=exit:N[:V]) */
	uint64_t test_exit;
	unsigned test_vcpu;
	bool test_crash_main;
	uint64_t test_timer_fault; /* fault=timer:N: the timer thread faults in its Nth round */
	/* Linux guests on the PC platform (pc.c) */
	bool pc;
	bool on_crash_restart;    /* panic or triple fault: restart instead of stopping */
	volatile bool reset_req, poweroff;
	unsigned reset_gen, parked, reboots, stopped, panics;
	struct linux_image image;
	struct linux_boot boot;
};

struct guest_kind;

struct vcpu {
	struct vm *vm;
	const struct guest_kind *kind; /* its exit handlers (exits.h) */
	unsigned id, cpu;
	hv_sel_t ec, sc, handler;
	hv_word_t handler_sp;     /* where its handler's stack starts (fault.c) */
	unsigned reason;
	uint64_t nexits, fault_at; /* exits served; fault_at: vm.test_exit for the test's vCPU */
	volatile bool recovering; /* its handler faulted and starts over (fault.c) */
	uint64_t timer_deadline;  /* TSC; 0 = not armed */
	hv_sel_t wake;            /* semaphore a halted vCPU's handler waits on */
	uint64_t recalls;
	uint8_t timer_vector;
	uint64_t pat;
	uint64_t exits[256];
	uint8_t cr8;              /* the test guest's CR8 (a PC guest's is its LAPIC's TPR) */
	/* PC platform state, under the platform lock */
	bool halted, nmi_pending, init_pending, wait_sipi, in_sipi_wait;
	uint8_t sipi_vector;
	hv_word_t ctrl;           /* interrupt/NMI-window requests in force */
	uint64_t kvmclock;        /* MSR_KVM_SYSTEM_TIME_NEW */
	uint64_t injected, start_tsc;
	unsigned unclaimed_io, bad_msrs;
	unsigned inits, sipis, starts; /* INIT and start-up IPIs that reached it, start-ups it took */
};

extern struct vm vm;
extern struct vcpu vcpus[VMM_MAX_VCPUS];
extern uint64_t tsc_khz;

/* bus.c: port I/O and MMIO dispatch to device models */
struct bus_dev {
	const char *name;
	uint64_t first, last; /* ports or guest-physical addresses, inclusive */
	uint64_t (*read)(void *ctx, uint64_t off, unsigned size);
	void (*write)(void *ctx, uint64_t off, unsigned size, uint64_t val);
	void *ctx;
};
bool bus_add_io(const struct bus_dev *d);
bool bus_add_mmio(const struct bus_dev *d);
/* PCI BARs: replace the range with d->ctx (none if !on) */
bool bus_map_io(const struct bus_dev *d, bool on);
bool bus_map_mmio(const struct bus_dev *d, bool on);
bool bus_io(struct vcpu *v, uint16_t port, unsigned size, bool in, uint64_t *val);
bool bus_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);
bool bus_probe_mmio(uint64_t gpa);

/* main.c */
void vmm_after_io(struct vcpu *v);
bool vmm_load_linux(void);
void vmm_vcpu_stopped(struct vcpu *v);
void vmm_kick_others(struct vcpu *v);
void vmm_test_exit(struct vcpu *v); /* crash= or fault= at this exit (tests) */
HV_NORETURN void vmm_fault_here(void);

/* fault.c: exception portals of a vCPU's exit handler into this VMM */
hv_status_t fault_setup(struct vcpu *v, hv_sel_t *evt_base);
bool fault_crash(struct vcpu *v, struct hv_cpu_state *st);

/* testsupport.c: NMI and test-page requests of the test device */
struct testdev;
void testsupport_init(struct testdev *t);
bool testsupport_exit(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);
void testsupport_reply(struct vcpu *v, unsigned reason, struct hv_cpu_state *st);

/* guest.c: guest memory helpers */
bool guest_translate(const struct hv_cpu_state *st, uint64_t gva, uint64_t *gpa);
bool guest_read(uint64_t gpa, void *buf, size_t n);

#endif
