#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * Local APIC model (xAPIC MMIO and x2APIC MSRs), one per vCPU; see
 * devices/README.md. The timer counts at LAPIC_BUS_HZ before its divider;
 * the VMM may advertise that rate (e.g. CPUID leaf 0x40000010) so that the
 * guest need not calibrate it.
 */
#define LAPIC_BUS_HZ 1000000000ull
#define LAPIC_NS_PER_TICK (1000000000ull / LAPIC_BUS_HZ)

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

/* IA32_APIC_BASE bits */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)  /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)    /* globally enabled */

/* Local vector table entries, in register order from 0x320 on (0x370 is the
 * error entry: LVT_ERROR is its index). */
enum lapic_lvt {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_COUNT,
};

#define LVT_MASKED (1u << 16)

struct lapic {
	const struct platform *pf;
	uint32_t id;         /* initial (x2)APIC id; the xAPIC ID register reads id << 24 */
	int index;           /* vCPU index: src of the messages this LAPIC sends (VMM may change it) */
	bool bsp;
	uint64_t apic_base;  /* IA32_APIC_BASE */
	uint32_t tpr, svr, ldr, dfr, esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	/* timer */
	uint32_t initial_count, dcr;
	uint64_t tsc_deadline;   /* IA32_TSC_DEADLINE as written (0: disarmed) */
	uint64_t timer_start;    /* ns: one-shot/periodic count loaded */
	uint64_t timer_period;   /* ns: initial count * divider (0: stopped) */
	uint64_t timer_next;     /* ns: next expiry, UINT64_MAX if none */
};

void lapic_init(struct lapic *l, const struct platform *pf, unsigned apic_id, bool bsp);
/* power_on: RESET (APIC base MSR back to its reset value, xAPIC mode);
 * otherwise INIT (keeps the APIC base MSR and the x2APIC mode). */
void lapic_reset(struct lapic *l, bool power_on);

/* xAPIC MMIO page (bus callbacks, ctx = struct lapic *, off within 4 KiB) */
uint64_t lapic_mmio_read(void *ctx, uint64_t off, unsigned size);
void lapic_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and x2APIC MSRs 0x800-0x8ff; false: #GP.
 * lapic_msr_handles(msr) says whether an MSR number belongs to this model. */
bool lapic_msr_handles(uint32_t msr);
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val);

/* CR8, the task-priority class: TPR[7:4] on reads; a write sets TPR to
 * cr8 << 4, and false (#GP, TPR unchanged) if bits 63:4 are set. A lower
 * priority may let a requested interrupt through: lapic_pending() sees it. */
uint64_t lapic_cr8_read(const struct lapic *l);
bool lapic_cr8_write(struct lapic *l, uint64_t cr8);

/* A fixed/lowest-priority interrupt for this LAPIC (IRR, TMR); false if it
 * was dropped (illegal vector, LAPIC disabled). */
bool lapic_accept(struct lapic *l, uint8_t vector, bool level_trig);
/* Highest requested vector above the processor priority, or -1. */
int lapic_pending(const struct lapic *l);
/* The CPU takes vector (from lapic_pending()): IRR -> ISR. */
void lapic_ack(struct lapic *l, uint8_t vector);
/* Does msg address this LAPIC? (Lowest priority: the VMM picks one of the
 * matching LAPICs.) */
bool lapic_match(const struct lapic *l, const struct apic_msg *msg);
/* May the PIC's INTR (LINT0 as ExtINT) interrupt this CPU? */
bool lapic_extint_allowed(const struct lapic *l);
/* Hardware- (APIC base) and software- (SVR) enabled. */
bool lapic_enabled(const struct lapic *l);
bool lapic_x2apic(const struct lapic *l);
bool lapic_hw_enabled(const struct lapic *l);

/* Timer: next expiry (ns, UINT64_MAX if none) and firing what is due. */
uint64_t lapic_deadline(const struct lapic *l);
void lapic_update(struct lapic *l, uint64_t now);

#endif
