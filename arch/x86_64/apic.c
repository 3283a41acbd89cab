/*
 * Local APIC in x2APIC mode where the CPU has it, xAPIC (MMIO) otherwise.
 * The timer uses TSC-deadline mode where present, one-shot mode otherwise;
 * both are calibrated against the PIT once at boot.
 */
#include "kernel.h"
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/percpu.h>
#include <arch/smp.h>

#define XAPIC_BASE 0xfee00000ul
#define APIC_ID 0x20
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0

bool x2apic_mode, tsc_deadline_mode;
u64 tsc_khz;
static u64 lapic_ticks_per_ms;

static u32 apic_read(u32 reg)
{
	if (x2apic_mode)
		return (u32)rdmsr(0x800 + (reg >> 4));
	return *(volatile u32 *)phys_to_virt(XAPIC_BASE + reg);
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic_mode)
		wrmsr(0x800 + (reg >> 4), v);
	else
		*(volatile u32 *)phys_to_virt(XAPIC_BASE + reg) = v;
}

void lapic_init(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	x2apic_mode = (c >> 21) & 1;
	tsc_deadline_mode = (c >> 24) & 1;
	u64 base = rdmsr(MSR_APIC_BASE) | (1ul << 11);
	if (x2apic_mode)
		base |= 1ul << 10;
	wrmsr(MSR_APIC_BASE, base);
	apic_write(APIC_SVR, 0x100 | 0xff); /* enabled, spurious vector 0xff */
	apic_write(APIC_TIMER_DIV, 0x3);    /* divide by 16 */
	apic_write(APIC_LVT_TIMER, (1u << 16) | VEC_TIMER);
}

u32 lapic_id(void)
{
	u32 id = apic_read(APIC_ID);
	return x2apic_mode ? id : id >> 24;
}

void lapic_eoi(void) { apic_write(APIC_EOI, 0); }

static void icr_send(u32 apic_id, u32 lo)
{
	if (x2apic_mode) {
		wrmsr(0x830, ((u64)apic_id << 32) | lo);
		return;
	}
	apic_write(APIC_ICR_HI, apic_id << 24);
	apic_write(APIC_ICR_LO, lo);
	while (apic_read(APIC_ICR_LO) & (1u << 12))
		cpu_relax();
}

void lapic_send_ipi(u32 apic_id, u8 vector) { icr_send(apic_id, vector); }

/* An NMI to every CPU but this one (shorthand "all excluding self", assert). */
void lapic_send_nmi_others(void) { icr_send(0, (3u << 18) | (1u << 14) | (4u << 8)); }

/* INIT, then two STARTUPs at the trampoline page. */
void lapic_start_ap(u32 apic_id, u32 tramp_phys)
{
	icr_send(apic_id, 0x4500); /* INIT, assert */
	for (u64 t = rdtsc(); rdtsc() - t < tsc_khz * 10;)
		cpu_relax();
	for (int i = 0; i < 2; i++) {
		icr_send(apic_id, 0x4600 | (tramp_phys >> 12));
		for (u64 t = rdtsc(); rdtsc() - t < tsc_khz / 5;)
			cpu_relax();
	}
}

/* Fires VEC_TIMER after `ticks` TSC ticks; 0 stops the timer. At most 2^40 ticks
 * (minutes) ahead: a deadline near 2^64 (sm_down's) must not wrap rdtsc() + ticks
 * into the past (a storm starving lower vectors); an early timer is re-armed. */
void lapic_timer_oneshot(u64 ticks)
{
	ticks = MIN(ticks, 1ull << 40);
	if (tsc_deadline_mode) {
		apic_write(APIC_LVT_TIMER, (2u << 17) | VEC_TIMER);
		wrmsr(MSR_TSC_DEADLINE, ticks ? rdtsc() + ticks : 0);
		return;
	}
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
	u64 count = ticks ? ticks * lapic_ticks_per_ms / tsc_khz : 0;
	if (ticks && !count)
		count = 1;
	apic_write(APIC_TIMER_INIT, count > 0xffffffffu ? 0xffffffffu : (u32)count);
}

/* Measures the TSC (and the LAPIC timer) against 10 ms of PIT channel 2. */
void timer_calibrate(void)
{
	const u16 pit_count = 11932; /* 1193182 Hz * 10 ms */
	outb(0x61, (u8)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, (u8)pit_count);
	outb(0x42, (u8)(pit_count >> 8));
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	u64 t0 = rdtsc();
	outb(0x61, inb(0x61) & ~0x01);
	outb(0x61, inb(0x61) | 0x01); /* gate high: start counting */
	while (!(inb(0x61) & 0x20))
		;
	u64 t1 = rdtsc();
	u32 lapic_left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	tsc_khz = (t1 - t0) / 10;
	if (!tsc_khz)
		tsc_khz = 1000000;
	lapic_ticks_per_ms = (0xffffffffu - lapic_left) / 10;
	if (!lapic_ticks_per_ms)
		lapic_ticks_per_ms = 1;
}
