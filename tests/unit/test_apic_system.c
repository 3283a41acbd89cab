/*
 * The local APICs and the I/O APIC together, wired the way the VMM wires
 * them: the platform's apic_send delivers to every matching LAPIC, its
 * apic_eoi reaches the IOAPIC. Checks the round trips: level interrupts with their
 * EOI, IPIs between vCPUs, self and broadcast shorthands.
 */
#include "unit.h"

#include "../../devices/ioapic.h"
#include "../../devices/lapic.h"

#define NCPU 3

static struct lapic cpu[NCPU];
static struct ioapic io;
static unsigned inits, sipis, eoi_calls;
static uint8_t sipi_vector;

static uint64_t clock_ns(void *vm)
{
	(void)vm;
	return 0;
}

static uint64_t tsc_to_ns(void *vm, uint64_t tsc)
{
	(void)vm;
	return tsc;
}

static void apic_send(void *vm, const struct apic_msg *msg)
{
	(void)vm;
	for (unsigned i = 0; i < NCPU; i++) {
		if (!lapic_match(&cpu[i], msg))
			continue;
		switch (msg->mode) {
		case APIC_DM_FIXED:
			lapic_accept(&cpu[i], msg->vector, msg->level_trig);
			break;
		case APIC_DM_INIT:
			if (msg->assert) {
				inits++;
				lapic_reset(&cpu[i], false);
			}
			break;
		case APIC_DM_SIPI:
			sipis++;
			sipi_vector = msg->vector;
			break;
		}
	}
}

static void apic_eoi(void *vm, uint8_t vector)
{
	(void)vm;
	eoi_calls++;
	ioapic_eoi(&io, vector);
}

static const struct platform pf = {
	.clock_ns = clock_ns, .tsc_to_ns = tsc_to_ns, .apic_send = apic_send, .apic_eoi = apic_eoi
};

static int setup(void **state)
{
	(void)state;
	inits = sipis = eoi_calls = 0;
	ioapic_init(&io, &pf, 0);
	for (unsigned i = 0; i < NCPU; i++) {
		lapic_init(&cpu[i], &pf, i, i == 0);
		lapic_mmio_write(&cpu[i], 0xf0, 4, 0x1ff);
	}
	return 0;
}

/* The vCPU takes its pending interrupt and EOIs it. */
static int take(struct lapic *l)
{
	int v = lapic_pending(l);
	if (v >= 0)
		lapic_ack(l, (uint8_t)v);
	return v;
}

static void eoi(struct lapic *l)
{
	lapic_mmio_write(l, 0xb0, 4, 0);
}

static void test_level_round_trip(void **state)
{
	(void)state;
	/* pin 9 (the SCI), level, to APIC 1 */
	ioapic_mmio_write(&io, 0, 4, 0x10 + 2 * 9 + 1);
	ioapic_mmio_write(&io, 0x10, 4, 1u << 24);
	ioapic_mmio_write(&io, 0, 4, 0x10 + 2 * 9);
	ioapic_mmio_write(&io, 0x10, 4, IOAPIC_LEVEL | 0x49);
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(lapic_pending(&cpu[0]), -1);
	assert_int_equal(take(&cpu[1]), 0x49);
	/* still asserted: the EOI brings it back */
	eoi(&cpu[1]);
	assert_int_equal(eoi_calls, 1);
	assert_int_equal(take(&cpu[1]), 0x49);
	/* the handler quiets the device before its EOI */
	ioapic_set_irq(&io, 9, false);
	eoi(&cpu[1]);
	assert_int_equal(eoi_calls, 2);
	assert_int_equal(lapic_pending(&cpu[1]), -1);
	/* a new assertion gets through */
	ioapic_set_irq(&io, 9, true);
	assert_int_equal(take(&cpu[1]), 0x49);
}

static void test_ipis(void **state)
{
	(void)state;
	/* fixed IPI from 0 to 2 */
	lapic_mmio_write(&cpu[0], 0x310, 4, 2u << 24);
	lapic_mmio_write(&cpu[0], 0x300, 4, 0xf2);
	assert_int_equal(take(&cpu[2]), 0xf2);
	assert_int_equal(lapic_pending(&cpu[1]), -1);
	eoi(&cpu[2]);
	assert_int_equal(eoi_calls, 0);
	/* self shorthand: delivered back into the sender */
	lapic_mmio_write(&cpu[1], 0x300, 4, 0x40000 | 0xf3);
	assert_int_equal(take(&cpu[1]), 0xf3);
	assert_int_equal(lapic_pending(&cpu[0]), -1);
	/* all excluding self */
	lapic_mmio_write(&cpu[0], 0x300, 4, 0xc0000 | 0xf4);
	assert_int_equal(lapic_pending(&cpu[0]), -1);
	assert_int_equal(take(&cpu[2]), 0xf4);
	/* INIT, SIPI: the AP's LAPIC is back to its INIT state */
	lapic_mmio_write(&cpu[0], 0x310, 4, 1u << 24);
	lapic_mmio_write(&cpu[0], 0x300, 4, 0xc500);
	lapic_mmio_write(&cpu[0], 0x300, 4, 0x8500);
	lapic_mmio_write(&cpu[0], 0x300, 4, 0x0608);
	assert_int_equal(inits, 1);
	assert_int_equal(sipis, 1);
	assert_int_equal(sipi_vector, 0x08);
	assert_false(lapic_enabled(&cpu[1]));
	assert_int_equal(lapic_pending(&cpu[1]), -1);
	/* an x2APIC sender reaches xAPIC and x2APIC receivers by id */
	uint64_t base;
	assert_true(lapic_msr_read(&cpu[2], MSR_IA32_APIC_BASE, &base));
	assert_true(lapic_msr_write(&cpu[2], MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD));
	assert_true(lapic_msr_write(&cpu[2], 0x830, 0ull << 32 | 0xf5));
	assert_int_equal(take(&cpu[0]), 0xf5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_level_round_trip, setup),
		cmocka_unit_test_setup(test_ipis, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
