/*
 * The contract between the PC device models in devices/ and the VMM that
 * owns them.
 *
 * Threading: device models are plain state machines and are never called
 * concurrently; the VMM serialises every call into a model of one VM (one
 * lock per VM). The callbacks below are made with that lock held and must
 * not call back into the calling model.
 *
 * Time: models see time as nanoseconds since the VM started, through
 * vm_clock_ns(). A model with timers exposes NAME_deadline() (the next
 * absolute time in ns at which it needs NAME_update(), UINT64_MAX if none)
 * and NAME_update(now) (fires everything due at or before now). The VMM
 * calls update when a deadline passes and after every register access.
 *
 * Interrupts: a model that drives an interrupt line calls vm_irq_set(gsi,
 * level) (edge-triggered devices pulse: 1 then 0). The VMM routes ISA lines
 * 0..15 to the PIC pair and every GSI to the IOAPIC pin of the same number
 * (with ISA IRQ 0 on pin 2, as the MADT's override says). Local APIC
 * messages (from the IOAPIC or from a LAPIC's ICR) go through
 * vm_apic_send(), which the VMM delivers to the matching LAPICs.
 *
 * The unit tests in tests/unit/ provide their own versions of these
 * functions to observe what a model does.
 */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#include <stdbool.h>
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

/* Nanoseconds since the VM started; monotonic. */
uint64_t vm_clock_ns(void);
/* Guest TSC value <-> guest time (TSC-deadline timer, kvmclock). */
uint64_t vm_tsc_to_ns(uint64_t tsc);
uint64_t vm_ns_to_tsc(uint64_t ns);

/* Drive interrupt line gsi (ISA IRQ number for 0..15) to level. */
void vm_irq_set(unsigned gsi, bool level);

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

/* Deliver msg to every LAPIC it addresses (the VMM kicks their vCPUs). */
void vm_apic_send(const struct apic_msg *msg);

/* A LAPIC got an EOI for a level-triggered vector: the IOAPIC re-checks
 * its pins with that vector (remote IRR). */
void vm_apic_eoi(uint8_t vector);

/* The PIC pair's INTR output changed (wired to LAPIC LINT0 of vCPU 0). */
void vm_pic_intr(bool level);

/* The guest asked for a reset (0xcf9, keyboard controller, ACPI reset
 * register) or to power off (ACPI S5). */
void vm_request_reset(void);
void vm_request_poweroff(void);

#endif
