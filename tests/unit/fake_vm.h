/*
 * Fake platform.h callbacks for the device-model tests: a settable clock
 * and recorders for interrupt lines, INTR and reset/poweroff requests.
 * Include once per test program (it defines the vm_* functions).
 */
#ifndef FAKE_VM_H
#define FAKE_VM_H

#include "../../devices/platform.h"

#define FAKE_LINES 24

static uint64_t fake_now;
static bool fake_level[FAKE_LINES];
static unsigned fake_raises[FAKE_LINES], fake_lowers[FAKE_LINES];
static bool fake_intr;
static unsigned fake_intr_calls;
static unsigned fake_resets, fake_poweroffs;

uint64_t vm_clock_ns(void) { return fake_now; }
uint64_t vm_tsc_to_ns(uint64_t tsc) { return tsc; }
uint64_t vm_ns_to_tsc(uint64_t ns) { return ns; }

void vm_irq_set(unsigned gsi, bool level)
{
	assert_true(gsi < FAKE_LINES);
	if (level)
		fake_raises[gsi]++;
	else
		fake_lowers[gsi]++;
	fake_level[gsi] = level;
}

void vm_apic_send(const struct apic_msg *msg) { (void)msg; }
void vm_apic_eoi(uint8_t vector) { (void)vector; }
void vm_pic_intr(bool level)
{
	fake_intr = level;
	fake_intr_calls++;
}
void vm_request_reset(void) { fake_resets++; }
void vm_request_poweroff(void) { fake_poweroffs++; }

static void fake_reset_all(void)
{
	fake_now = 0;
	memset(fake_level, 0, sizeof(fake_level));
	memset(fake_raises, 0, sizeof(fake_raises));
	memset(fake_lowers, 0, sizeof(fake_lowers));
	fake_intr = false;
	fake_intr_calls = 0;
	fake_resets = fake_poweroffs = 0;
}

#endif
