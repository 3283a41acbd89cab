/*
 * The contract between the PC device models in devices/ and the VMM that
 * owns them: struct platform, which the VMM hands each model when it
 * initialises it. A model reaches its VM only through that struct, never
 * through functions it links against, so devices/ depends on this header
 * alone and a host test gives a model fakes (tests/unit/fake_vm.h).
 *
 * Threading: device models are plain state machines and are never called
 * concurrently; the VMM serialises every call into a model of one VM (one
 * lock per VM). The platform's functions are called with that lock held
 * and must not call back into the calling model.
 *
 * Time: models see time as nanoseconds since the VM started, through
 * platform_clock_ns(). A model with timers exposes NAME_deadline() (the
 * next absolute time in ns at which it needs NAME_update(), UINT64_MAX if
 * none) and NAME_update(now) (fires everything due at or before now). The
 * VMM calls update when a deadline passes and after every register access.
 *
 * Interrupts: a model that drives an interrupt line calls platform_irq(pf,
 * gsi, level) (edge-triggered devices pulse: 1 then 0). The VMM routes ISA
 * lines 0..15 to the PIC pair and every GSI to the IOAPIC pin of the same
 * number (with ISA IRQ 0 on pin 2, as the MADT's override says). Local
 * APIC messages (from the IOAPIC, a LAPIC's ICR, or an MSI) go through
 * platform_apic_send(), which the VMM delivers to the matching LAPICs.
 * PCI functions drive their INTx pin through platform_pci_intx(pf, devfn,
 * pin, asserted): the VMM ORs the functions sharing a line and drives the
 * IOAPIC pin PC_PCI_GSI(slot, pin) low (active low, level) while any is
 * asserted, as the ACPI _PRT says; an MSI is an APIC message
 * (pci_msi_decode() in pci_host.h, then platform_apic_send()).
 */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The PC the VMM builds (ACPI tables and device models agree on these). */
#define PC_LAPIC_BASE 0xfee00000ull
#define PC_IOAPIC_BASE 0xfec00000ull
#define PC_IOAPIC_PINS 24
#define PC_ACPI_PM_BASE 0x600      /* PM1a_EVT_BLK (4 bytes): status, enable */
#define PC_ACPI_PM1_CNT 0x604      /* PM1a_CNT_BLK (2 bytes) */
#define PC_ACPI_PM_TMR 0x608       /* PM_TMR_BLK (4 bytes, 32-bit counter, 3.579545 MHz) */
#define PC_ACPI_SCI_IRQ 9          /* level, active high */
#define PC_ACPI_S5_SLP_TYP 5       /* \_S5 package value; PM1_CNT.SLP_TYP = 5 with SLP_EN powers off */
#define PC_RESET_PORT 0xcf9        /* reset control; FADT reset register, value 0x06 */
#define PC_RESET_VALUE 0x06
#define PC_PVPANIC_PORT 0x505      /* panic notification (QEMU's pvpanic protocol) */
#define PC_PROFILE_PORT 0x5f0      /* the VMM's exit profile: 32-bit write = mark (vmm/profile.h) */
/* PCI INTx: slot's pin (1 = INTA .. 4 = INTD) on GSI 16..19, swizzled by
 * slot as behind a PCI-to-PCI bridge (the DSDT's _PRT lists the same). */
#define PC_PCI_GSI_BASE 16
#define PC_PCI_GSI(slot, pin) (PC_PCI_GSI_BASE + ((slot) + (pin) - 1) % 4)

/* Delivery modes of a local APIC message (ICR / IOAPIC redirection entry). */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_SIPI = 6,
	APIC_DM_EXTINT = 7,
};

/* ICR destination shorthands */
enum apic_shorthand {
	APIC_SH_NONE = 0,
	APIC_SH_SELF = 1,
	APIC_SH_ALL = 2,
	APIC_SH_OTHERS = 3,
};

/* One interrupt message to local APICs. */
struct apic_msg {
	uint32_t dest;        /* APIC id (physical) or logical mask; 0xffffffff/0xff broadcast */
	uint8_t vector;
	uint8_t mode;         /* enum apic_delivery */
	uint8_t shorthand;    /* enum apic_shorthand (IPIs only) */
	bool logical;         /* destination mode */
	bool level_trig;      /* trigger mode: level (EOI must be broadcast) */
	bool assert;          /* level: assert (INIT de-assert has assert=false) */
	int src;              /* sending vCPU for IPIs, -1 for the IOAPIC */
};

/* What the VMM gives a device model; vm is passed back to every call. */
struct platform {
	void *vm;
	/* nanoseconds since the VM started; monotonic */
	uint64_t (*clock_ns)(void *vm);
	/* a guest TSC value in guest time (the TSC-deadline timer) */
	uint64_t (*tsc_to_ns)(void *vm, uint64_t tsc);
	/* drive interrupt line gsi (the ISA IRQ number for 0..15) to level */
	void (*irq_set)(void *vm, unsigned gsi, bool level);
	/* deliver msg to every LAPIC it addresses (the VMM kicks their vCPUs) */
	void (*apic_send)(void *vm, const struct apic_msg *msg);
	/* a LAPIC got an EOI for a level-triggered vector: the IOAPIC re-checks
	 * its pins with that vector (remote IRR) */
	void (*apic_eoi)(void *vm, uint8_t vector);
	/* the PIC pair's INTR output changed (LAPIC LINT0 of vCPU 0) */
	void (*pic_intr)(void *vm, bool level);
	/* the guest asked for a reset (0xcf9, keyboard controller, ACPI reset
	 * register) or to power off (ACPI S5) */
	void (*request_reset)(void *vm);
	void (*request_poweroff)(void *vm);
	/* guest-physical memory (for models that do DMA); false outside RAM */
	bool (*mem_read)(void *vm, uint64_t gpa, void *buf, size_t len);
	bool (*mem_write)(void *vm, uint64_t gpa, const void *buf, size_t len);
	/* PCI function devfn's interrupt pin (1..4) is asserted or not */
	void (*pci_intx)(void *vm, unsigned devfn, unsigned pin, bool asserted);
	/* up to len bytes of hardware entropy (RDSEED/RDRAND) into buf: how
	 * many it gave (0: none available) */
	size_t (*entropy)(void *vm, void *buf, size_t len);
};

static inline uint64_t platform_clock_ns(const struct platform *pf) { return pf->clock_ns(pf->vm); }
static inline uint64_t platform_tsc_to_ns(const struct platform *pf, uint64_t tsc) { return pf->tsc_to_ns(pf->vm, tsc); }
static inline void platform_irq(const struct platform *pf, unsigned gsi, bool level) { pf->irq_set(pf->vm, gsi, level); }
static inline void platform_apic_send(const struct platform *pf, const struct apic_msg *msg)
{
	pf->apic_send(pf->vm, msg);
}
static inline void platform_apic_eoi(const struct platform *pf, uint8_t vector) { pf->apic_eoi(pf->vm, vector); }
static inline void platform_pic_intr(const struct platform *pf, bool level) { pf->pic_intr(pf->vm, level); }
static inline void platform_reset(const struct platform *pf) { pf->request_reset(pf->vm); }
static inline void platform_poweroff(const struct platform *pf) { pf->request_poweroff(pf->vm); }
static inline bool platform_mem_read(const struct platform *pf, uint64_t gpa, void *buf, size_t len)
{
	return pf->mem_read(pf->vm, gpa, buf, len);
}
static inline bool platform_mem_write(const struct platform *pf, uint64_t gpa, const void *buf, size_t len)
{
	return pf->mem_write(pf->vm, gpa, buf, len);
}

static inline void platform_pci_intx(const struct platform *pf, unsigned devfn, unsigned pin, bool asserted)
{
	pf->pci_intx(pf->vm, devfn, pin, asserted);
}
static inline size_t platform_entropy(const struct platform *pf, void *buf, size_t len)
{
	return pf->entropy(pf->vm, buf, len);
}

#endif
