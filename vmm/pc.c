/*
 * The PC platform of a Linux guest: the device models of devices/ on the
 * bus, the struct platform they get (devices/platform.h: time, interrupt
 * routing, APIC messages, reset and power-off, guest memory), and the VM's
 * timer thread.
 *
 * One lock (a kernel semaphore) serialises everything that touches device
 * state: exit handlers of all vCPUs and the timer thread. A vCPU with an
 * interrupt to take is "kicked": woken if it waits in HLT, recalled out of
 * the guest otherwise; its handler then opens an interrupt window and
 * injects the vector when the guest can take it (pc_exits.c).
 */
#include "pc.h"
#include "profile.h"
#include "../devices/acpi_pm.h"
#include "../devices/ioapic.h"
#include "../devices/lapic.h"
#include "../devices/pc_misc.h"
#include "../devices/pci_host.h"
#include "../devices/pic8259.h"
#include "../devices/pit8254.h"
#include "../devices/rtc_cmos.h"
#include "../devices/uart16550.h"
#include "../devices/virtio_blk.h"
#include "../devices/virtio_console.h"
#include "../devices/virtio_rng.h"
#include <hv/console.h>
#include <hv/startinfo.h>
#include <stdio.h>
#include <string.h>

static struct pic pic;
static struct pit pit;
static struct rtc rtc;
static struct acpi_pm pm;
static struct pci_host pci;
static struct pc_misc misc;
static struct ioapic ioapic;
static struct lapic lapics[VMM_MAX_VCPUS];
struct uart16550 pc_com1;
static struct virtio_rng vrng;
static struct virtio_console vcon;
static struct virtio_blk vblk;
static uint8_t *disk;                    /* the memory-backed disk, if any */
static uint64_t disk_size;
static bool have_rdseed, have_rdrand;
static uint8_t intx_pins[PCI_MAX_DEVFN]; /* asserted INTx pins (bit pin - 1) of each function */
static unsigned intx_count[4];          /* asserted pins on each PCI GSI */
static char hvc_line[160];               /* hvc0's output line */
static unsigned hvc_len;

static hv_sel_t lock_sm, timer_sm;
static struct vcpu *lock_owner;  /* the vCPU whose handler holds the lock, NULL for the timer thread */
static uint64_t armed_ns = ~0ull; /* what the timer thread sleeps until */
static uint64_t tsc0;              /* host TSC at VM start */
static uint64_t tsc_to_ns_mul, ns_to_tsc_mul; /* 32.32 fixed point */

#define CONSOLE_POLL_NS 20000000ull /* terminal input and partial output lines */
static uint64_t next_poll_ns;

/* ---- time ------------------------------------------------------------------ */

static uint64_t scale(uint64_t x, uint64_t mul) { return (uint64_t)(((unsigned __int128)x * mul) >> 32); }

uint64_t pc_tsc_to_ns(uint64_t tsc) { return tsc > tsc0 ? scale(tsc - tsc0, tsc_to_ns_mul) : 0; }
uint64_t pc_ns_to_tsc(uint64_t ns) { return tsc0 + scale(ns, ns_to_tsc_mul); }
uint64_t pc_clock_ns(void) { return pc_tsc_to_ns(hv_rdtsc()); }

/* ---- lock ------------------------------------------------------------------ */

void pc_lock(struct vcpu *v)
{
	while (hv_sm_down(lock_sm) != HV_OK)
		;
	lock_owner = v;
}

static uint64_t next_deadline(void)
{
	uint64_t d = next_poll_ns, t;
	if ((t = pit_deadline(&pit)) < d)
		d = t;
	if ((t = rtc_deadline(&rtc)) < d)
		d = t;
	if ((t = acpi_pm_deadline(&pm)) < d)
		d = t;
	for (unsigned i = 0; i < vm.nvcpus; i++)
		if ((t = lapic_deadline(&lapics[i])) < d)
			d = t;
	return d;
}

void pc_unlock(void)
{
	/* a register write may have armed a timer earlier than the thread sleeps
	 * (a test guest's LAPICs have no timer thread) */
	bool wake = vm.pc && lock_owner && next_deadline() < armed_ns;
	lock_owner = NULL;
	hv_sm_up(lock_sm);
	if (wake)
		hv_sm_up(timer_sm);
}

/* vCPU v's handler faulted (fault.c): if it held the lock, the lock goes back.
 * What it guards may be half updated; a restart resets it all. */
void pc_unlock_faulted(struct vcpu *v)
{
	if (lock_owner == v)
		pc_unlock();
}

/* ---- interrupts -------------------------------------------------------------- */

/* Makes vCPU v look at its interrupts soon. Called with the lock held. */
static void kick(struct vcpu *v)
{
	if (v == lock_owner)
		return; /* its handler checks before it resumes the guest */
	if (v->halted) {
		v->halted = false;
		hv_sm_up(v->wake);
	} else {
		hv_ec_recall(v->ec);
	}
}

/* vCPU v's handler sleeps until kicked; called and returns with the lock
 * held, which it gives up while it sleeps. */
void pc_sleep(struct vcpu *v)
{
	v->halted = true;
	pc_unlock();
	(void)hv_sm_down(v->wake);
	pc_lock(v);
	v->halted = false;
}

/* An interrupt line: ISA lines to the PIC pair, every line to the IOAPIC. */
static void pf_irq_set(void *vmp, unsigned gsi, bool level)
{
	(void)vmp;
	if (gsi < 16)
		pic_set_irq(&pic, gsi, level);
	unsigned pin = gsi == 0 ? 2 : gsi; /* the MADT's override: ISA IRQ 0 is pin 2 */
	if (pin < PC_IOAPIC_PINS && (gsi != 2))
		ioapic_set_irq(&ioapic, pin, level);
}

/* The PIC pair's INTR is LINT0 of vCPU 0. */
static void pf_pic_intr(void *vmp, bool level)
{
	(void)vmp;
	if (level && lapic_extint_allowed(&lapics[0]))
		kick(&vcpus[0]);
}

static void pf_apic_eoi(void *vmp, uint8_t vector)
{
	(void)vmp;
	ioapic_eoi(&ioapic, vector);
}

/* An APIC message (IPI, IOAPIC interrupt, MSI) to the LAPICs it addresses. */
static void pf_apic_send(void *vmp, const struct apic_msg *m)
{
	(void)vmp;
	for (unsigned i = 0; i < vm.nvcpus; i++) {
		struct vcpu *v = &vcpus[i];
		if (!lapic_match(&lapics[i], m))
			continue;
		switch (m->mode) {
		case APIC_DM_FIXED:
		case APIC_DM_LOWEST:
			if (lapic_accept(&lapics[i], m->vector, m->level_trig))
				kick(v);
			if (m->mode == APIC_DM_LOWEST)
				return; /* one of them: the first addressed */
			break;
		case APIC_DM_NMI:
			v->nmi_pending = true;
			kick(v);
			break;
		case APIC_DM_INIT:
			if (m->assert && pc_init_signal(v))
				kick(v);
			break;
		case APIC_DM_SIPI:
			if (pc_sipi_signal(v, m->vector))
				kick(v);
			break;
		case APIC_DM_EXTINT:
			kick(v);
			break;
		default: /* SMI: there is no SMM */
			break;
		}
	}
}

bool pc_irq_pending(struct vcpu *v)
{
	if (lapic_pending(&lapics[v->id]) >= 0)
		return true;
	return v->id == 0 && lapic_extint_allowed(&lapics[0]) && pic_intr(&pic);
}

int pc_irq_ack(struct vcpu *v)
{
	int vec = lapic_pending(&lapics[v->id]);
	if (vec >= 0) {
		lapic_ack(&lapics[v->id], (uint8_t)vec);
		return vec;
	}
	if (v->id == 0 && lapic_extint_allowed(&lapics[0]) && pic_intr(&pic))
		return pic_ack(&pic);
	return -1;
}

struct lapic *pc_lapic(struct vcpu *v) { return &lapics[v->id]; }

void pc_reset_lapic(struct vcpu *v) { lapic_reset(&lapics[v->id], false); }

/* ---- reset and power ------------------------------------------------------------ */

void pc_request_reset(void)
{
	if (vm.reset_req || vm.stopping)
		return;
	vm.reset_req = true;
	for (unsigned i = 0; i < vm.nvcpus; i++)
		kick(&vcpus[i]);
}

/* Every vCPU stops at its next exit; the last one ends the VMM. Lock held. */
void vm_stop_guest(void)
{
	vm.stopping = true;
	for (unsigned i = 0; i < vm.nvcpus; i++)
		kick(&vcpus[i]);
}

static void pf_request_reset(void *vmp)
{
	(void)vmp;
	pc_request_reset();
}

static void pf_request_poweroff(void *vmp)
{
	(void)vmp;
	if (vm.stopping)
		return;
	vm.poweroff = true;
	vm_stop_guest();
}

/* PCI INTx: the pins sharing a GSI are wired-OR; the line is active low. */
static void pf_pci_intx(void *vmp, unsigned devfn, unsigned pin, bool asserted)
{
	(void)vmp;
	if (devfn >= PCI_MAX_DEVFN || pin < 1 || pin > 4)
		return;
	uint8_t bit = (uint8_t)(1u << (pin - 1));
	if (asserted == !!(intx_pins[devfn] & bit))
		return;
	unsigned gsi = PC_PCI_GSI(devfn >> 3, pin), i = gsi - PC_PCI_GSI_BASE;
	intx_pins[devfn] ^= bit;
	intx_count[i] += asserted ? 1 : -1u;
	ioapic_set_irq(&ioapic, gsi, intx_count[i] == 0);
}

/* Hardware entropy: RDSEED, else RDRAND (each retried a few times, as
 * Intel advises for RDRAND); 0 bytes if the CPU has neither. */
static bool rand64(uint64_t *v)
{
	for (unsigned i = 0; i < 10; i++) {
		uint8_t ok;
		if (have_rdseed)
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		else
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static size_t pf_entropy(void *vmp, void *buf, size_t len)
{
	(void)vmp;
	size_t done = 0;
	uint64_t v;
	while (done < len && (have_rdseed || have_rdrand) && rand64(&v)) {
		size_t n = len - done < 8 ? len - done : 8;
		memcpy((uint8_t *)buf + done, &v, n);
		done += n;
	}
	v = 0;
	return done;
}

/* Guest RAM for models that do DMA: false if [gpa, gpa + len) is not all RAM. */
static bool pf_mem_read(void *vmp, uint64_t gpa, void *buf, size_t len)
{
	struct vm *m = vmp;
	if (gpa >= m->ram_size || len > m->ram_size - gpa)
		return false;
	memcpy(buf, m->ram + gpa, len);
	return true;
}

static bool pf_mem_write(void *vmp, uint64_t gpa, const void *buf, size_t len)
{
	struct vm *m = vmp;
	if (gpa >= m->ram_size || len > m->ram_size - gpa)
		return false;
	memcpy(m->ram + gpa, buf, len);
	return true;
}

static uint64_t pf_clock_ns(void *vmp)
{
	(void)vmp;
	return pc_clock_ns();
}

static uint64_t pf_tsc_to_ns(void *vmp, uint64_t tsc)
{
	(void)vmp;
	return pc_tsc_to_ns(tsc);
}

/* What every device model of this VM gets. */
static const struct platform platform = {
	.vm = &vm,
	.clock_ns = pf_clock_ns,
	.tsc_to_ns = pf_tsc_to_ns,
	.irq_set = pf_irq_set,
	.apic_send = pf_apic_send,
	.apic_eoi = pf_apic_eoi,
	.pic_intr = pf_pic_intr,
	.request_reset = pf_request_reset,
	.request_poweroff = pf_request_poweroff,
	.mem_read = pf_mem_read,
	.mem_write = pf_mem_write,
	.pci_intx = pf_pci_intx,
	.entropy = pf_entropy,
};

/* ---- PCI devices ---------------------------------------------------------------------- */

#define PC_VIRTIO_RNG_DEVFN PCI_DEVFN(1, 0)
#define PC_VIRTIO_CONSOLE_DEVFN PCI_DEVFN(2, 0)
#define PC_VIRTIO_BLK_DEVFN PCI_DEVFN(3, 0)

void pc_set_disk(uint8_t *data, uint64_t size)
{
	disk = data;
	disk_size = size;
}

/* hvc0's output, collected into lines like COM1's (control bytes dropped). */
static void hvc_flush(bool end)
{
	hvc_line[hvc_len] = 0;
	printf(end ? "%s\n" : "%s", hvc_line);
	hvc_len = 0;
}

static void hvc_out(void *ctx, const uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n')
			hvc_flush(true);
		else if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\t')
			hvc_line[hvc_len++] = (char)b[i];
		if (hvc_len == sizeof(hvc_line) - 1)
			hvc_flush(true);
	}
}

/* A virtio function's BAR moved: its bus range follows (MMIO never over RAM). */
static void virtio_bar_update(struct pci_func *f, unsigned bar, uint64_t addr, bool on)
{
	struct virtio_pci *vp = (struct virtio_pci *)f;
	const char *name = vp->ops->device_id == VIRTIO_ID_ENTROPY ? "virtio-rng"
			   : vp->ops->device_id == VIRTIO_ID_BLOCK ? "virtio-blk"
								   : "virtio-console";
	struct bus_dev d = { name, addr, addr + f->bar_size[bar] - 1, virtio_pci_bar_read, virtio_pci_bar_write, vp };
	bool ok;
	if (bar == VIRTIO_PCI_NOTIFY_BAR) {
		d.read = virtio_pci_notify_read;
		d.write = virtio_pci_notify_write;
		ok = bus_map_io(&d, on);
	} else if (bar == 0) {
		ok = bus_map_mmio(&d, on && addr >= vm.ram_size);
	} else {
		return;
	}
	static unsigned overlaps; /* the guest decides where BARs go: say it a few times only */
	if (!ok && overlaps++ < 4)
		printf("vmm: %s: BAR%u at %#lx overlaps another device: not mapped\n", name, bar, (unsigned long)addr);
}

/* Puts vp on the bus with its BARs assigned as firmware would: memory in
 * the PCI window the DSDT describes (from the end of RAM, 1 MiB aligned),
 * ports from PC_PCI_IO_BASE. */
#define PC_PCI_IO_BASE 0xc000
static void pci_place(struct virtio_pci *vp, unsigned devfn, unsigned nth, uint64_t ram_size)
{
	uint64_t base = ((ram_size + 0xfffff) & ~0xfffffull) + (uint64_t)nth * VIRTIO_PCI_BAR_SIZE;
	vp->pci.bar_update = virtio_bar_update;
	if (!pci_add(&pci, devfn, &vp->pci))
		return;
	pci_cfg_write(&pci, devfn, PCI_BAR0, 4, (uint32_t)base);
	pci_cfg_write(&pci, devfn, PCI_BAR0 + 4 * VIRTIO_PCI_NOTIFY_BAR, 4,
		      PC_PCI_IO_BASE + nth * VIRTIO_PCI_NOTIFY_PORTS);
	pci_cfg_write(&pci, devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
}

static void pci_devices_reset(uint64_t ram_size)
{
	memset(intx_pins, 0, sizeof(intx_pins));
	memset(intx_count, 0, sizeof(intx_count));
	for (unsigned i = 0; i < 4; i++) /* pulled up: no INTx asserted */
		ioapic_set_irq(&ioapic, PC_PCI_GSI_BASE + i, true);
	if (hvc_len)
		hvc_flush(false);
	unsigned nth = 0;
	if (have_rdseed || have_rdrand) {
		virtio_rng_init(&vrng, &platform, PC_VIRTIO_RNG_DEVFN);
		pci_place(&vrng.vp, PC_VIRTIO_RNG_DEVFN, nth++, ram_size);
	}
	virtio_console_init(&vcon, &platform, PC_VIRTIO_CONSOLE_DEVFN, hvc_out, NULL);
	pci_place(&vcon.vp, PC_VIRTIO_CONSOLE_DEVFN, nth++, ram_size);
	if (disk) { /* its contents stay across a guest reboot */
		virtio_blk_init(&vblk, &platform, PC_VIRTIO_BLK_DEVFN, disk, disk_size, false);
		pci_place(&vblk.vp, PC_VIRTIO_BLK_DEVFN, nth++, ram_size);
	}
}

/* Which entropy instructions the CPU has (CPUID.1:ECX[30], CPUID.7.0:EBX[18]). */
static void entropy_probe(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	uint32_t max = a;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	have_rdrand = c & (1u << 30);
	if (max >= 7) {
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
		have_rdseed = b & (1u << 18);
	}
}

/* ---- devices on the bus ------------------------------------------------------------ */

/* Panic notification (QEMU's pvpanic protocol): reads give the events
 * supported, bit 0 written means the guest kernel panicked. */
static uint64_t pvpanic_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)off, (void)size;
	return 1;
}

static void pvpanic_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)ctx, (void)off, (void)size;
	if (!(val & 1) || vm.stopping)
		return;
	vm.panics++;
	printf("vmm: guest '%s' panicked: %s\n", vm.name, vm.on_crash_restart ? "restarting it" : "stopping it");
	if (vm.on_crash_restart)
		pc_request_reset();
	else
		vm_stop_guest();
}

static uint64_t lapic_mmio_rd(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx;
	return lock_owner ? lapic_mmio_read(&lapics[lock_owner->id], off, size) : ~0ull;
}

static void lapic_mmio_wr(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)ctx;
	if (lock_owner)
		lapic_mmio_write(&lapics[lock_owner->id], off, size, val);
}

static const struct bus_dev lapic_dev = { "lapic", PC_LAPIC_BASE, PC_LAPIC_BASE + 0xfff, lapic_mmio_rd, lapic_mmio_wr,
					   NULL };

/* Guest time starts; the lock and the timer thread's semaphore. */
static bool platform_start(void)
{
	tsc0 = hv_rdtsc();
	tsc_to_ns_mul = (1000000ull << 32) / tsc_khz;
	ns_to_tsc_mul = (tsc_khz << 32) / 1000000ull;
	lock_sm = hv_sel_alloc();
	timer_sm = hv_sel_alloc();
	return hv_create_sm(lock_sm, HV_SI_SEL_PD, 1) == HV_OK && hv_create_sm(timer_sm, HV_SI_SEL_PD, 0) == HV_OK;
}

/*
 * A test guest with more than one vCPU gets a local APIC per vCPU, and with
 * it the PC's INIT and start-up IPIs (pc_take_init()). Nothing else of the
 * PC: no timer thread (their timers never fire), and the fixed interrupts
 * and NMIs they take are never injected.
 */
bool pc_setup_lapics(void)
{
	if (!platform_start())
		return false;
	for (unsigned i = 0; i < vm.nvcpus; i++)
		lapic_init(&lapics[i], &platform, i, i == 0);
	return bus_add_mmio(&lapic_dev);
}

bool pc_setup(uint64_t ram_size)
{
	if (!platform_start())
		return false;
	entropy_probe();
	pc_reset(ram_size);
	printf("vmm: virtio-console (hvc0) at 00:%02x.0; %s\n", PC_VIRTIO_CONSOLE_DEVFN >> 3,
	       have_rdseed   ? "virtio-rng at 00:01.0 from RDSEED"
	       : have_rdrand ? "virtio-rng at 00:01.0 from RDRAND"
			     : "no virtio-rng (the CPU has neither RDSEED nor RDRAND)");
	if (disk)
		printf("vmm: virtio-blk at 00:%02x.0: %lu KiB in memory\n", PC_VIRTIO_BLK_DEVFN >> 3,
		       (unsigned long)(disk_size >> 10));
	const struct bus_dev io[] = {
		{ "pic-master", 0x20, 0x21, pic_master_read, pic_master_write, &pic },
		{ "pic-slave", 0xa0, 0xa1, pic_slave_read, pic_slave_write, &pic },
		{ "pic-elcr", 0x4d0, 0x4d1, pic_elcr_read, pic_elcr_write, &pic },
		{ "pit", 0x40, 0x43, pit_read, pit_write, &pit },
		{ "port61", 0x61, 0x61, pit_port61_read, pit_port61_write, &pit },
		{ "rtc", 0x70, 0x71, rtc_read, rtc_write, &rtc },
		{ "com1", 0x3f8, 0x3ff, uart16550_read, uart16550_write, &pc_com1 },
		{ "acpi-pm", PC_ACPI_PM_BASE, PC_ACPI_PM_BASE + 11, acpi_pm_read, acpi_pm_write, &pm },
		{ "pci-addr", 0xcf8, 0xcf8, pci_host_addr_read, pci_host_addr_write, &pci },
		{ "reset-control", PC_RESET_PORT, PC_RESET_PORT, pc_misc_cf9_read, pc_misc_cf9_write, &misc },
		{ "pci-data", 0xcfc, 0xcff, pci_host_data_read, pci_host_data_write, &pci },
		{ "post", 0x80, 0x80, pc_misc_post_read, pc_misc_post_write, &misc },
		{ "io-delay", 0xed, 0xed, pc_misc_post_read, pc_misc_post_write, &misc },
		{ "pvpanic", PC_PVPANIC_PORT, PC_PVPANIC_PORT, pvpanic_read, pvpanic_write, NULL },
		{ "profile", PC_PROFILE_PORT, PC_PROFILE_PORT + 3, profile_port_read, profile_port_write, NULL },
		{ "port92", 0x92, 0x92, pc_misc_port92_read, pc_misc_port92_write, &misc },
		{ "i8042-data", 0x60, 0x60, pc_misc_kbd_data_read, pc_misc_kbd_data_write, &misc },
		{ "i8042-ctl", 0x64, 0x64, pc_misc_kbd_ctl_read, pc_misc_kbd_ctl_write, &misc },
	};
	for (unsigned i = 0; i < sizeof(io) / sizeof(io[0]); i++)
		if (!bus_add_io(&io[i]))
			return false;
	struct bus_dev ioa = { "ioapic", PC_IOAPIC_BASE, PC_IOAPIC_BASE + 0xfff, ioapic_mmio_read, ioapic_mmio_write,
			       &ioapic };
	return bus_add_mmio(&lapic_dev) && bus_add_mmio(&ioa);
}

/* The devices' power-on state: at VM start, and at a guest reboot (with the
 * lock held). The RTC keeps the wall clock running across reboots; COM1's
 * partial output line is printed first. */
void pc_reset(uint64_t ram_size)
{
	uart16550_flush_partial(&pc_com1);
	uart16550_init(&pc_com1, &platform, 4); /* its interrupt line is low, as the PIC's and IOAPIC's */
	pic_init(&pic, &platform);
	pit_init(&pit, &platform);
	rtc_init(&rtc, &platform, PC_RTC_EPOCH + pc_clock_ns() / 1000000000ull, ram_size, 0);
	acpi_pm_init(&pm, &platform);
	pci_host_init(&pci);
	pc_misc_init(&misc, &platform);
	ioapic_init(&ioapic, &platform, vm.nvcpus);
	for (unsigned i = 0; i < vm.nvcpus; i++)
		lapic_init(&lapics[i], &platform, i, i == 0);
	pci_devices_reset(ram_size);
}

/* ---- the timer thread ------------------------------------------------------------- */

/* Terminal input waits here while the guest's receive FIFO is full. */
static char input[HV_CONS_MAX];
static size_t input_len, input_pos;

static void console_poll(void)
{
	uart16550_flush_partial(&pc_com1);
	if (hvc_len)
		hvc_flush(false);
	cons_flush();
	if (input_pos == input_len) {
		input_len = cons_read(input, sizeof(input));
		input_pos = 0;
	}
	while (input_pos < input_len && uart16550_receive(&pc_com1, (uint8_t)input[input_pos]))
		input_pos++;
}

static void timer_thread(void *arg)
{
	(void)arg;
	for (uint64_t round = 1;; round++) {
		if (round == vm.test_timer_fault)
			vmm_fault_here();
		pc_lock(NULL);
		uint64_t now = pc_clock_ns();
		if (now >= next_poll_ns) {
			console_poll();
			next_poll_ns = now + CONSOLE_POLL_NS;
		}
		pit_update(&pit, now);
		rtc_update(&rtc, now);
		acpi_pm_update(&pm, now);
		for (unsigned i = 0; i < vm.nvcpus; i++) {
			lapic_update(&lapics[i], now);
			/* a LAPIC timer raises its vector in its own IRR: no message to kick with */
			if (pc_irq_pending(&vcpus[i]))
				kick(&vcpus[i]);
		}
		armed_ns = next_deadline();
		pc_unlock();
		if (vm.stopping)
			break;
		(void)hv_sm_down_until(timer_sm, pc_ns_to_tsc(armed_ns));
	}
}

/* The timer thread runs on the main thread's CPU with its exception portals:
 * if it faults, the roottask ends this domain (and the guest with it), where
 * a stopped timer thread would leave the guest without time. */
bool pc_start_timer(unsigned cpu)
{
	return hv_thread_create_evt(cpu, HV_SI_SEL_EVT_MAIN, timer_thread, NULL, HV_QOS(20, 0), NULL, NULL) == HV_OK;
}
