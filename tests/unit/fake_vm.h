/*
 * A fake struct platform (devices/platform.h) for the device-model tests,
 * fake_pf: a settable clock, recorders for interrupt lines, PCI INTx pins,
 * APIC messages, INTR and reset/poweroff requests, a counting entropy
 * source and a small guest RAM (64 KiB). Include once per test program.
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

static uint8_t fake_ram[65536];
static bool fake_intx[256];          /* PCI INTx A of each devfn */
static unsigned fake_intx_raises[256];
static struct apic_msg fake_msgs[16]; /* the last APIC messages, fake_nmsgs in all */
static unsigned fake_nmsgs;
static uint8_t fake_entropy_next;    /* entropy bytes count up from here */
static size_t fake_entropy_left = SIZE_MAX; /* bytes the source still has */

static uint64_t fake_clock_ns(void *ctx) { return (void)ctx, fake_now; }
static uint64_t fake_tsc_to_ns(void *ctx, uint64_t tsc) { return (void)ctx, tsc; }

static void fake_irq_set(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	assert_true(gsi < FAKE_LINES);
	if (level)
		fake_raises[gsi]++;
	else
		fake_lowers[gsi]++;
	fake_level[gsi] = level;
}

static void fake_apic_send(void *ctx, const struct apic_msg *msg)
{
	(void)ctx;
	fake_msgs[fake_nmsgs++ % 16] = *msg;
}

static void fake_pci_intx(void *ctx, unsigned devfn, unsigned pin, bool asserted)
{
	(void)ctx;
	assert_true(devfn < 256 && pin == 1);
	if (asserted && !fake_intx[devfn])
		fake_intx_raises[devfn]++;
	fake_intx[devfn] = asserted;
}

static size_t fake_entropy(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	if (len > fake_entropy_left)
		len = fake_entropy_left;
	fake_entropy_left -= len;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = fake_entropy_next++;
	return len;
}
static void fake_apic_eoi(void *ctx, uint8_t vector) { (void)ctx, (void)vector; }
static void fake_pic_intr(void *ctx, bool level)
{
	(void)ctx;
	fake_intr = level;
	fake_intr_calls++;
}
static void fake_request_reset(void *ctx) { (void)ctx, fake_resets++; }
static void fake_request_poweroff(void *ctx) { (void)ctx, fake_poweroffs++; }

static bool fake_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= sizeof(fake_ram) || len > sizeof(fake_ram) - gpa)
		return false;
	memcpy(buf, fake_ram + gpa, len);
	return true;
}

static bool fake_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= sizeof(fake_ram) || len > sizeof(fake_ram) - gpa)
		return false;
	memcpy(fake_ram + gpa, buf, len);
	return true;
}

static const struct platform fake_pf = {
	.clock_ns = fake_clock_ns,
	.tsc_to_ns = fake_tsc_to_ns,
	.irq_set = fake_irq_set,
	.apic_send = fake_apic_send,
	.apic_eoi = fake_apic_eoi,
	.pic_intr = fake_pic_intr,
	.request_reset = fake_request_reset,
	.request_poweroff = fake_request_poweroff,
	.mem_read = fake_mem_read,
	.mem_write = fake_mem_write,
	.pci_intx = fake_pci_intx,
	.entropy = fake_entropy,
};

static void fake_reset_all(void)
{
	fake_now = 0;
	memset(fake_level, 0, sizeof(fake_level));
	memset(fake_raises, 0, sizeof(fake_raises));
	memset(fake_lowers, 0, sizeof(fake_lowers));
	fake_intr = false;
	fake_intr_calls = 0;
	fake_resets = fake_poweroffs = 0;
	memset(fake_ram, 0, sizeof(fake_ram));
	memset(fake_intx, 0, sizeof(fake_intx));
	memset(fake_intx_raises, 0, sizeof(fake_intx_raises));
	fake_nmsgs = 0;
	fake_entropy_next = 0;
	fake_entropy_left = SIZE_MAX;
}

#endif
