/*
 * Unit tests of the local APIC model (devices/lapic.c): the register file
 * in xAPIC (MMIO) and x2APIC (MSR) mode as Linux programs it, priorities
 * and EOI, message matching, IPIs through the ICR and the timer modes on a
 * fake clock. The platform below records what the model does.
 */
#include "unit.h"

#include "../../devices/lapic.h"

/* ---- fake platform ---------------------------------------------------------- */

static uint64_t now_ns;
static struct apic_msg sent[16];
static unsigned nsent;
static uint8_t eois[16];
static unsigned neoi;

static uint64_t clock_ns(void *vm)
{
	(void)vm;
	return now_ns;
}

/* a 2 GHz guest TSC */
static uint64_t tsc_to_ns(void *vm, uint64_t tsc)
{
	(void)vm;
	return tsc / 2;
}

static void apic_send(void *vm, const struct apic_msg *msg)
{
	(void)vm;
	assert_true(nsent < 16);
	sent[nsent++] = *msg;
}

static void apic_eoi(void *vm, uint8_t vector)
{
	(void)vm;
	assert_true(neoi < 16);
	eois[neoi++] = vector;
}

static const struct platform pf = {
	.clock_ns = clock_ns, .tsc_to_ns = tsc_to_ns, .apic_send = apic_send, .apic_eoi = apic_eoi
};

static int setup(void **state)
{
	(void)state;
	now_ns = 0;
	nsent = neoi = 0;
	memset(sent, 0, sizeof(sent));
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static uint32_t rd(struct lapic *l, unsigned off)
{
	return (uint32_t)lapic_mmio_read(l, off, 4);
}

static void wr(struct lapic *l, unsigned off, uint32_t val)
{
	lapic_mmio_write(l, off, 4, val);
}

static uint64_t msr(struct lapic *l, uint32_t idx)
{
	uint64_t v = 0xdead;
	assert_true(lapic_msr_read(l, idx, &v));
	return v;
}

/* A LAPIC set up the way Linux leaves it: software-enabled, spurious 0xff. */
static void enabled(struct lapic *l, unsigned id)
{
	lapic_init(l, &pf, id, id == 0);
	wr(l, 0xf0, 0x1ff);
	assert_true(lapic_enabled(l));
}

static void to_x2apic(struct lapic *l)
{
	assert_true(lapic_msr_write(l, MSR_IA32_APIC_BASE, msr(l, MSR_IA32_APIC_BASE) | APIC_BASE_EXTD));
	assert_true(lapic_x2apic(l));
}

static void irq(struct lapic *l, uint8_t v)
{
	assert_true(lapic_accept(l, v, false));
}

/* ---- reset and xAPIC registers ----------------------------------------------- */

static void test_reset_state(void **state)
{
	(void)state;
	struct lapic bsp, ap;
	lapic_init(&bsp, &pf, 0, true);
	lapic_init(&ap, &pf, 3, false);
	assert_int_equal(msr(&bsp, MSR_IA32_APIC_BASE), 0xfee00900);
	assert_int_equal(msr(&ap, MSR_IA32_APIC_BASE), 0xfee00800);
	assert_int_equal(ap.index, 3);
	assert_int_equal(rd(&ap, 0x20), 3u << 24);
	assert_int_equal(rd(&ap, 0x30), 0x50014); /* six LVT entries */
	assert_int_equal(rd(&ap, 0xf0), 0xff);    /* software-disabled */
	assert_int_equal(rd(&ap, 0xe0), 0xffffffff);
	assert_int_equal(rd(&ap, 0xd0), 0);
	for (unsigned off = 0x320; off <= 0x370; off += 0x10)
		assert_int_equal(rd(&ap, off), LVT_MASKED);
	assert_true(lapic_hw_enabled(&ap));
	assert_false(lapic_enabled(&ap));
	assert_false(lapic_x2apic(&ap));
	assert_false(lapic_extint_allowed(&bsp)); /* LINT0 masked */
	/* fixed interrupts wait for the software enable */
	assert_false(lapic_accept(&ap, 0x40, false));
	assert_int_equal(lapic_pending(&ap), -1);
	assert_int_equal(lapic_deadline(&ap), UINT64_MAX);
}

static void test_linux_xapic_setup(void **state)
{
	(void)state;
	struct lapic l;
	lapic_init(&l, &pf, 1, false);
	/* LVT unmask attempts are ignored while software-disabled */
	wr(&l, 0x350, 0x700);
	assert_int_equal(rd(&l, 0x350), 0x10700);
	wr(&l, 0xf0, 0x1ff);
	assert_int_equal(rd(&l, 0xf0), 0x1ff);
	wr(&l, 0x80, 0);
	wr(&l, 0xe0, 0xffffffff);
	wr(&l, 0xd0, 0x02000000 | 0x123);  /* low bits are reserved */
	assert_int_equal(rd(&l, 0xd0), 0x02000000);
	wr(&l, 0x350, 0x700);            /* LINT0: ExtINT */
	wr(&l, 0x360, 0x400);            /* LINT1: NMI */
	wr(&l, 0x370, 0xfe);             /* error */
	wr(&l, 0x320, 0x100ef);          /* timer masked */
	assert_int_equal(rd(&l, 0x350), 0x700);
	assert_int_equal(rd(&l, 0x360), 0x400);
	assert_int_equal(rd(&l, 0x370), 0xfe);
	assert_int_equal(rd(&l, 0x320), 0x100ef);
	assert_true(lapic_extint_allowed(&l));
	/* reserved LVT bits are dropped in xAPIC mode */
	wr(&l, 0x370, 0xffffffff);
	assert_int_equal(rd(&l, 0x370), 0x100ff);
	wr(&l, 0x370, 0xfe);
	/* TPR 8 bits, PPR follows it */
	wr(&l, 0x80, 0x1234);
	assert_int_equal(rd(&l, 0x80), 0x34);
	assert_int_equal(rd(&l, 0xa0), 0x34);
	wr(&l, 0x80, 0);
	/* ID and version are read-only */
	wr(&l, 0x20, 0x07000000);
	wr(&l, 0x30, 0);
	assert_int_equal(rd(&l, 0x20), 1u << 24);
	assert_int_equal(rd(&l, 0x30), 0x50014);
	/* software disable masks every LVT again */
	wr(&l, 0xf0, 0xff);
	assert_int_equal(rd(&l, 0x350), 0x10700);
	assert_false(lapic_extint_allowed(&l));
}

static void test_esr(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	assert_false(lapic_accept(&l, 7, false)); /* illegal vector */
	assert_int_equal(lapic_pending(&l), -1);
	assert_int_equal(rd(&l, 0x280), 0);      /* not latched yet */
	wr(&l, 0x280, 0);
	assert_int_equal(rd(&l, 0x280), 0x40);   /* received illegal vector */
	wr(&l, 0x280, 0);
	assert_int_equal(rd(&l, 0x280), 0);
	/* an unmasked error LVT raises its vector */
	wr(&l, 0x370, 0xfe);
	wr(&l, 0x300, 0x4003);                   /* send vector 3: illegal */
	assert_int_equal(nsent, 0);
	assert_int_equal(lapic_pending(&l), 0xfe);
	wr(&l, 0x280, 0);
	assert_int_equal(rd(&l, 0x280), 0x20);   /* send illegal vector */
}

static void test_mmio_odd_accesses(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0x12);
	assert_int_equal(lapic_mmio_read(&l, 0x23, 1), 0x12); /* byte of ID */
	assert_int_equal(lapic_mmio_read(&l, 0x22, 2), 0x1200);
	assert_int_equal(lapic_mmio_read(&l, 0x20, 8), 0);    /* wider than a register */
	assert_int_equal(lapic_mmio_read(&l, 0x40, 4), 0);    /* reserved */
	assert_int_equal(lapic_mmio_read(&l, 0x3f0, 4), 0);   /* self IPI: x2APIC only */
	assert_int_equal(lapic_mmio_read(&l, 0x2f0, 4), 0);   /* no CMCI entry */
	assert_int_equal(lapic_mmio_read(&l, 0x1000, 4), 0);
	assert_int_equal(lapic_mmio_read(&l, 0xfff, 0), 0);
	lapic_mmio_write(&l, 0x81, 1, 0xff);                  /* not an aligned dword */
	lapic_mmio_write(&l, 0x80, 8, 0xff);
	lapic_mmio_write(&l, 0x3f0, 4, 0x40);
	assert_int_equal(rd(&l, 0x80), 0);
	assert_int_equal(lapic_pending(&l), -1);
	/* hardware-disabled: the page reads all ones, writes vanish */
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00000));
	assert_int_equal(lapic_mmio_read(&l, 0x20, 4), 0xffffffff);
	lapic_mmio_write(&l, 0xf0, 4, 0x1ff);
	assert_true(lapic_extint_allowed(&l)); /* the PIC reaches the CPU directly */
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00800));
	assert_int_equal(rd(&l, 0xf0), 0xff); /* state was lost */
}

/* ---- x2APIC --------------------------------------------------------------------- */

static void test_x2apic_enable(void **state)
{
	(void)state;
	struct lapic l;
	uint64_t v;
	lapic_init(&l, &pf, 0x23, false);
	/* x2APIC MSRs fault in xAPIC mode */
	assert_false(lapic_msr_read(&l, 0x802, &v));
	assert_false(lapic_msr_write(&l, 0x808, 0));
	to_x2apic(&l);
	assert_int_equal(msr(&l, MSR_IA32_APIC_BASE), 0xfee00c00);
	assert_int_equal(msr(&l, 0x802), 0x23);
	assert_int_equal(msr(&l, 0x803), 0x50014);
	assert_int_equal(msr(&l, 0x80d), 0x20008); /* cluster 2, bit 3 */
	assert_int_equal(msr(&l, 0x80f), 0xff);
	/* the MMIO page is gone */
	assert_int_equal(lapic_mmio_read(&l, 0x20, 4), 0xffffffff);
	lapic_mmio_write(&l, 0xf0, 4, 0x1ff);
	assert_false(lapic_enabled(&l));
	/* Linux's setup through MSRs */
	assert_true(lapic_msr_write(&l, 0x80f, 0x1ff));
	assert_true(lapic_msr_write(&l, 0x808, 0x10));
	assert_true(lapic_msr_write(&l, 0x835, 0x10700));
	assert_true(lapic_msr_write(&l, 0x836, 0x400));
	assert_true(lapic_msr_write(&l, 0x837, 0xfe));
	assert_true(lapic_msr_write(&l, 0x828, 0));
	assert_true(lapic_msr_write(&l, 0x83e, 0xb));
	assert_int_equal(msr(&l, 0x808), 0x10);
	assert_int_equal(msr(&l, 0x80a), 0x10);
	assert_int_equal(msr(&l, 0x836), 0x400);
	assert_int_equal(msr(&l, 0x83e), 0xb);
	assert_true(lapic_enabled(&l));
}

static void test_x2apic_gp(void **state)
{
	(void)state;
	struct lapic l;
	uint64_t v;
	enabled(&l, 5);
	to_x2apic(&l);
	/* read-only registers */
	assert_false(lapic_msr_write(&l, 0x802, 5));
	assert_false(lapic_msr_write(&l, 0x803, 0));
	assert_false(lapic_msr_write(&l, 0x80a, 0));
	assert_false(lapic_msr_write(&l, 0x80d, 0));
	assert_false(lapic_msr_write(&l, 0x810, 0));
	assert_false(lapic_msr_write(&l, 0x839, 0));
	/* write-only registers */
	assert_false(lapic_msr_read(&l, 0x80b, &v));
	assert_false(lapic_msr_read(&l, 0x83f, &v));
	/* registers x2APIC does not have */
	assert_false(lapic_msr_read(&l, 0x80e, &v)); /* DFR */
	assert_false(lapic_msr_read(&l, 0x831, &v)); /* ICR high */
	assert_false(lapic_msr_read(&l, 0x809, &v)); /* APR */
	assert_false(lapic_msr_read(&l, 0x82f, &v)); /* CMCI: not present */
	assert_false(lapic_msr_read(&l, 0x8ff, &v));
	assert_false(lapic_msr_write(&l, 0x80e, 0));
	/* reserved bits */
	assert_false(lapic_msr_write(&l, 0x80b, 1));       /* EOI must be 0 */
	assert_false(lapic_msr_write(&l, 0x828, 1));       /* ESR must be 0 */
	assert_false(lapic_msr_write(&l, 0x808, 0x100));   /* TPR 31:8 */
	assert_false(lapic_msr_write(&l, 0x808, 1ull << 32));
	assert_false(lapic_msr_write(&l, 0x837, 0x200fe)); /* error LVT bit 17 */
	assert_false(lapic_msr_write(&l, 0x83e, 0x4));
	assert_false(lapic_msr_write(&l, 0x83f, 0x140));
	assert_false(lapic_msr_write(&l, 0x830, 0x1000 | 0x40)); /* delivery status bit */
	assert_int_equal(nsent, 0);
	assert_int_equal(msr(&l, 0x808), 0);
	assert_true(lapic_msr_write(&l, 0x808, 0x20));
	assert_int_equal(msr(&l, 0x808), 0x20);
}

static void test_apic_base_transitions(void **state)
{
	(void)state;
	struct lapic l;
	lapic_init(&l, &pf, 0, true);
	/* reserved bits, x2APIC without enable */
	assert_false(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00900 | 1));
	assert_false(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00900 | (1ull << 60)));
	assert_false(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00500));
	to_x2apic(&l);
	/* x2APIC -> xAPIC directly is invalid; via disabled it is fine */
	assert_false(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00900));
	assert_true(lapic_x2apic(&l));
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00100));
	assert_false(lapic_hw_enabled(&l));
	/* disabled -> x2APIC directly is invalid */
	assert_false(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00d00));
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00900));
	assert_false(lapic_x2apic(&l));
	/* the BSP flag stays the platform's */
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfee00800));
	assert_int_equal(msr(&l, MSR_IA32_APIC_BASE), 0xfee00900);
	/* INIT keeps the mode, RESET restores xAPIC */
	to_x2apic(&l);
	assert_true(lapic_msr_write(&l, 0x80f, 0x1ff));
	lapic_reset(&l, false);
	assert_true(lapic_x2apic(&l));
	assert_int_equal(msr(&l, 0x80f), 0xff);
	assert_int_equal(msr(&l, 0x80d), 1);
	lapic_reset(&l, true);
	assert_false(lapic_x2apic(&l));
	assert_int_equal(msr(&l, MSR_IA32_APIC_BASE), 0xfee00900);
}

/* ---- priorities and EOI -------------------------------------------------------- */

static void test_priority_nesting(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	irq(&l, 0x31);
	irq(&l, 0x52);
	assert_int_equal(lapic_pending(&l), 0x52);
	lapic_ack(&l, 0x52);
	assert_int_equal(rd(&l, 0xa0), 0x50);
	assert_int_equal(rd(&l, 0x100 + 0x20), 1u << (0x52 - 0x40)); /* ISR word 2 */
	assert_int_equal(lapic_pending(&l), -1); /* 0x31 is below the ISR class */
	irq(&l, 0x55);
	assert_int_equal(lapic_pending(&l), -1); /* same class waits too */
	irq(&l, 0x61);
	assert_int_equal(lapic_pending(&l), 0x61); /* nests */
	lapic_ack(&l, 0x61);
	assert_int_equal(rd(&l, 0xa0), 0x60);
	wr(&l, 0xb0, 0); /* EOI: the highest in service, 0x61 */
	assert_int_equal(rd(&l, 0xa0), 0x50);
	assert_int_equal(lapic_pending(&l), -1);
	wr(&l, 0xb0, 0);
	assert_int_equal(lapic_pending(&l), 0x55);
	lapic_ack(&l, 0x55);
	wr(&l, 0xb0, 0);
	/* TPR blocks classes at or below it */
	wr(&l, 0x80, 0x30);
	assert_int_equal(lapic_pending(&l), -1);
	wr(&l, 0x80, 0x2f);
	assert_int_equal(lapic_pending(&l), 0x31);
	assert_int_equal(rd(&l, 0x200 + 0x10), 1u << (0x31 - 0x20));
	assert_int_equal(neoi, 0); /* all edge */
	/* an EOI with nothing in service is harmless */
	lapic_ack(&l, 0x31);
	wr(&l, 0xb0, 0);
	wr(&l, 0xb0, 0);
	assert_int_equal(lapic_pending(&l), -1);
}

/* CR8 is TPR[7:4] in both modes; a write clears TPR[3:0]; bits 63:4 are reserved. */
static void test_cr8(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	assert_int_equal(lapic_cr8_read(&l), 0);
	wr(&l, 0x80, 0x5a);
	assert_int_equal(lapic_cr8_read(&l), 5);
	assert_true(lapic_cr8_write(&l, 3));
	assert_int_equal(rd(&l, 0x80), 0x30);
	assert_int_equal(rd(&l, 0xa0), 0x30); /* PPR follows with nothing in service */
	/* reserved bits: #GP for the caller, the TPR stays */
	assert_false(lapic_cr8_write(&l, 0x10));
	assert_false(lapic_cr8_write(&l, 1ull << 63));
	assert_int_equal(rd(&l, 0x80), 0x30);
	/* the priority masks requests at or below its class, and lowering it lets them through */
	irq(&l, 0x41);
	assert_true(lapic_cr8_write(&l, 4));
	assert_int_equal(lapic_pending(&l), -1);
	assert_true(lapic_cr8_write(&l, 15));
	assert_int_equal(lapic_pending(&l), -1);
	assert_true(lapic_cr8_write(&l, 3));
	assert_int_equal(lapic_pending(&l), 0x41);
	/* the same register in x2APIC mode (MSR 0x808) */
	assert_true(lapic_msr_write(&l, MSR_IA32_APIC_BASE, l.apic_base | APIC_BASE_EXTD));
	assert_true(lapic_cr8_write(&l, 0xc));
	assert_int_equal(msr(&l, 0x808), 0xc0);
	assert_true(lapic_msr_write(&l, 0x808, 0x7f));
	assert_int_equal(lapic_cr8_read(&l), 7);
}

static void test_level_eoi(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	assert_true(lapic_accept(&l, 0x41, true));
	assert_true(lapic_accept(&l, 0x42, false));
	assert_int_equal(rd(&l, 0x180 + 0x20), 1u << 1); /* TMR: 0x41 only */
	lapic_ack(&l, 0x41);
	lapic_ack(&l, 0x42);
	wr(&l, 0xb0, 0); /* 0x42: edge */
	assert_int_equal(neoi, 0);
	wr(&l, 0xb0, 0); /* 0x41: level */
	assert_int_equal(neoi, 1);
	assert_int_equal(eois[0], 0x41);
	/* x2APIC EOI as well */
	to_x2apic(&l);
	assert_true(lapic_accept(&l, 0x90, true));
	lapic_ack(&l, lapic_pending(&l));
	assert_true(lapic_msr_write(&l, 0x80b, 0));
	assert_int_equal(neoi, 2);
	assert_int_equal(eois[1], 0x90);
}

/* ---- message matching ------------------------------------------------------------ */

static struct apic_msg m(uint32_t dest, bool logical)
{
	struct apic_msg msg = { .dest = dest, .vector = 0x40, .logical = logical, .assert = true, .src = -1 };
	return msg;
}

static void test_match_xapic(void **state)
{
	(void)state;
	struct lapic a, b;
	enabled(&a, 1);
	enabled(&b, 2);
	struct apic_msg msg = m(2, false);
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg = m(0xff, false);
	assert_true(lapic_match(&a, &msg) && lapic_match(&b, &msg));
	/* flat logical: LDR bits */
	wr(&a, 0xd0, 0x01000000);
	wr(&b, 0xd0, 0x02000000);
	msg = m(0x02, true);
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg = m(0x03, true);
	assert_true(lapic_match(&a, &msg) && lapic_match(&b, &msg));
	msg = m(0xff, true);
	assert_true(lapic_match(&a, &msg));
	msg = m(0x04, true);
	assert_false(lapic_match(&a, &msg) || lapic_match(&b, &msg));
	/* cluster logical: cluster in the high nibble, members below */
	wr(&a, 0xe0, 0x0fffffff);
	wr(&b, 0xe0, 0x0fffffff);
	wr(&a, 0xd0, 0x11000000);
	wr(&b, 0xd0, 0x21000000);
	msg = m(0x11, true);
	assert_true(lapic_match(&a, &msg));
	assert_false(lapic_match(&b, &msg));
	msg = m(0x23, true);
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg = m(0x12, true);
	assert_false(lapic_match(&a, &msg));
	msg = m(0xff, true);
	assert_true(lapic_match(&a, &msg) && lapic_match(&b, &msg));
	/* a hardware-disabled LAPIC hears nothing */
	assert_true(lapic_msr_write(&a, MSR_IA32_APIC_BASE, 0xfee00000));
	assert_false(lapic_match(&a, &msg));
}

static void test_match_x2apic_and_shorthands(void **state)
{
	(void)state;
	struct lapic a, b;
	enabled(&a, 0x11);
	enabled(&b, 0x300);
	b.index = 7;
	to_x2apic(&a);
	/* b stays xAPIC-enabled by id 0x300 only in theory: make it x2APIC */
	to_x2apic(&b);
	struct apic_msg msg = m(0x300, false);
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg = m(0xffffffff, false);
	assert_true(lapic_match(&a, &msg) && lapic_match(&b, &msg));
	/* the IOAPIC's 0xff is a broadcast; an IPI's 0xff is APIC id 255 */
	msg = m(0xff, false);
	assert_true(lapic_match(&a, &msg));
	msg.src = 7;
	assert_false(lapic_match(&a, &msg));
	/* cluster: a is cluster 1 bit 1, b cluster 0x30 bit 0 */
	msg = m(0x10002, true);
	assert_true(lapic_match(&a, &msg));
	assert_false(lapic_match(&b, &msg));
	msg = m(0x300001, true);
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg = m(0x10001, true);
	assert_false(lapic_match(&a, &msg));
	/* shorthands are relative to the sender */
	msg = m(0, false);
	msg.src = 7;
	msg.shorthand = APIC_SH_SELF;
	assert_false(lapic_match(&a, &msg));
	assert_true(lapic_match(&b, &msg));
	msg.shorthand = APIC_SH_OTHERS;
	assert_true(lapic_match(&a, &msg));
	assert_false(lapic_match(&b, &msg));
	msg.shorthand = APIC_SH_ALL;
	assert_true(lapic_match(&a, &msg) && lapic_match(&b, &msg));
}

/* ---- IPIs ------------------------------------------------------------------------- */

static void test_ipi_xapic(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	l.index = 4;
	/* fixed, physical, to APIC 2 */
	wr(&l, 0x310, 0x02000000);
	assert_int_equal(nsent, 0); /* the high half does not send */
	wr(&l, 0x300, 0x40);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].dest, 2);
	assert_int_equal(sent[0].vector, 0x40);
	assert_int_equal(sent[0].mode, APIC_DM_FIXED);
	assert_int_equal(sent[0].shorthand, APIC_SH_NONE);
	assert_false(sent[0].logical);
	assert_int_equal(sent[0].src, 4);
	assert_int_equal(rd(&l, 0x300) & (1u << 12), 0); /* delivery idle */
	assert_int_equal(rd(&l, 0x310), 0x02000000);
	/* Linux's AP start: INIT assert, INIT de-assert, SIPI twice */
	wr(&l, 0x300, 0xc500);
	wr(&l, 0x300, 0x8500);
	wr(&l, 0x300, 0x0698);
	assert_int_equal(nsent, 4);
	assert_int_equal(sent[1].mode, APIC_DM_INIT);
	assert_true(sent[1].assert);
	assert_true(sent[1].level_trig);
	assert_int_equal(sent[2].mode, APIC_DM_INIT);
	assert_false(sent[2].assert);
	assert_int_equal(sent[3].mode, APIC_DM_SIPI);
	assert_int_equal(sent[3].vector, 0x98);
	assert_int_equal(sent[3].dest, 2);
	/* logical, NMI, shorthand all-but-self */
	wr(&l, 0x310, 0x0f000000);
	wr(&l, 0x300, 0xc0c00);
	assert_int_equal(nsent, 5);
	assert_int_equal(sent[4].mode, APIC_DM_NMI);
	assert_int_equal(sent[4].shorthand, APIC_SH_OTHERS);
	assert_true(sent[4].logical);
	assert_int_equal(sent[4].dest, 0x0f);
	/* reserved delivery mode: nothing */
	wr(&l, 0x300, 0x340);
	assert_int_equal(nsent, 5);
}

static void test_ipi_x2apic(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 9);
	to_x2apic(&l);
	assert_true(lapic_msr_write(&l, 0x830, 0x1234ull << 32 | 0x80fd));
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].dest, 0x1234);
	assert_int_equal(sent[0].vector, 0xfd);
	assert_true(sent[0].level_trig);
	assert_int_equal(msr(&l, 0x830), 0x1234ull << 32 | 0x80fd);
	assert_true(lapic_msr_write(&l, 0x830, 0xffffffffull << 32 | 0x800 | 0x40));
	assert_int_equal(sent[1].dest, 0xffffffff);
	assert_true(sent[1].logical);
	/* self IPI stays local */
	assert_true(lapic_msr_write(&l, 0x83f, 0x66));
	assert_int_equal(nsent, 2);
	assert_int_equal(lapic_pending(&l), 0x66);
}

/* ---- timer ------------------------------------------------------------------------ */

static void test_timer_oneshot(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	wr(&l, 0x3e0, 0xb); /* divide by 1 */
	wr(&l, 0x320, 0xec);
	now_ns = 100;
	wr(&l, 0x380, 1000);
	assert_int_equal(lapic_deadline(&l), 1100);
	assert_int_equal(rd(&l, 0x380), 1000);
	assert_int_equal(rd(&l, 0x390), 1000);
	now_ns = 600;
	assert_int_equal(rd(&l, 0x390), 500);
	now_ns = 1099;
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), -1);
	assert_int_equal(rd(&l, 0x390), 1);
	now_ns = 1100;
	assert_int_equal(rd(&l, 0x390), 0);
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), 0xec);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	lapic_ack(&l, 0xec);
	wr(&l, 0xb0, 0);
	now_ns = 5000;
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), -1); /* once only */
	assert_int_equal(rd(&l, 0x390), 0);
	/* writing 0 stops a running timer */
	wr(&l, 0x380, 10);
	assert_int_equal(lapic_deadline(&l), 5010);
	wr(&l, 0x380, 0);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	/* a masked timer expires without an interrupt */
	wr(&l, 0x320, 0x100ec);
	wr(&l, 0x380, 10);
	now_ns = 5010;
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), -1);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	wr(&l, 0x3e0, 0x0); /* divide by 2 */
	wr(&l, 0x320, 0x200ec);
	wr(&l, 0x380, 500); /* 1000 ns period from 0 */
	assert_int_equal(lapic_deadline(&l), 1000);
	unsigned fired = 0;
	/* late updates: the deadlines stay on the 1000 ns grid */
	for (uint64_t t = 1003; t < 10000; t += 1000) {
		now_ns = t;
		lapic_update(&l, now_ns);
		if (lapic_pending(&l) == 0xec) {
			fired++;
			lapic_ack(&l, 0xec);
			wr(&l, 0xb0, 0);
		}
		assert_int_equal(lapic_deadline(&l), t - 3 + 1000);
	}
	assert_int_equal(fired, 9);
	/* current count mid-period */
	now_ns = 10250;
	assert_int_equal(rd(&l, 0x390), 375);
	/* missed periods coalesce into one interrupt */
	now_ns = 13500;
	assert_int_equal(rd(&l, 0x390), 250); /* overdue: counts on */
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), 0xec);
	assert_int_equal(lapic_deadline(&l), 14000);
	lapic_ack(&l, 0xec);
	wr(&l, 0xb0, 0);
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), -1);
	/* periodic -> one-shot: fires once more, then stops */
	wr(&l, 0x320, 0xec);
	now_ns = 14000;
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), 0xec);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
}

static void test_timer_divide(void **state)
{
	(void)state;
	static const struct {
		uint32_t dcr, div;
	} t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct lapic l;
		enabled(&l, 0);
		now_ns = 1000;
		wr(&l, 0x3e0, t[i].dcr | 0xf0); /* reserved bits are dropped */
		assert_int_equal(rd(&l, 0x3e0), t[i].dcr);
		wr(&l, 0x320, 0x30);
		wr(&l, 0x380, 100);
		assert_int_equal(lapic_deadline(&l), 1000 + 100ull * t[i].div * LAPIC_NS_PER_TICK);
		now_ns += 10ull * t[i].div;
		assert_int_equal(rd(&l, 0x390), 90);
	}
	/* maximum count and divider do not overflow */
	struct lapic l;
	enabled(&l, 0);
	now_ns = 0;
	wr(&l, 0x3e0, 0xa);
	wr(&l, 0x380, 0xffffffff);
	assert_int_equal(lapic_deadline(&l), 0xffffffffull * 128);
	assert_int_equal(rd(&l, 0x390), 0xffffffff);
	/* a new divider applies to what remains */
	now_ns = 128;
	assert_int_equal(rd(&l, 0x390), 0xfffffffe);
	wr(&l, 0x3e0, 0xb);
	assert_int_equal(lapic_deadline(&l), 128 + 0xfffffffeull);
}

static void test_timer_tsc_deadline(void **state)
{
	(void)state;
	struct lapic l;
	enabled(&l, 0);
	/* the MSR is inert outside TSC-deadline mode */
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 5000));
	assert_int_equal(msr(&l, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	/* one-shot running, then TSC-deadline mode: disarmed */
	wr(&l, 0x380, 1000);
	assert_int_not_equal(lapic_deadline(&l), UINT64_MAX);
	wr(&l, 0x320, 0x400ef);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	assert_int_equal(rd(&l, 0x380), 0);
	wr(&l, 0x380, 1000); /* ignored in this mode */
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	assert_int_equal(rd(&l, 0x390), 0);
	now_ns = 100;
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 4000));
	assert_int_equal(msr(&l, MSR_IA32_TSC_DEADLINE), 4000);
	assert_int_equal(lapic_deadline(&l), 2000); /* 2 GHz TSC */
	lapic_update(&l, 1999);
	assert_int_equal(lapic_pending(&l), -1);
	lapic_update(&l, 2000);
	assert_int_equal(lapic_pending(&l), 0xef);
	assert_int_equal(msr(&l, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	lapic_ack(&l, 0xef);
	wr(&l, 0xb0, 0);
	/* a deadline in the past fires at the next update; 0 disarms */
	now_ns = 3000;
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 10));
	lapic_update(&l, now_ns);
	assert_int_equal(lapic_pending(&l), 0xef);
	lapic_ack(&l, 0xef);
	wr(&l, 0xb0, 0);
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 100000));
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 0));
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	/* leaving TSC-deadline mode disarms too */
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 100000));
	wr(&l, 0x320, 0xef);
	assert_int_equal(lapic_deadline(&l), UINT64_MAX);
	assert_int_equal(msr(&l, MSR_IA32_TSC_DEADLINE), 0);
	/* in x2APIC mode through the MSRs */
	to_x2apic(&l);
	assert_true(lapic_msr_write(&l, 0x832, 0x400ef));
	assert_true(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 8000));
	assert_int_equal(lapic_deadline(&l), 4000);
}

/* ---- robustness ----------------------------------------------------------------------- */

static void test_fuzz(void **state)
{
	(void)state;
	struct unit_rng r;
	struct lapic l;
	unit_rng_seed(&r, 0x1a71c);
	lapic_init(&l, &pf, 1, true);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t v = unit_rng_next(&r), x;
		uint32_t off = (uint32_t)unit_rng_below(&r, 0x1010);
		unsigned size = 1u << unit_rng_below(&r, 4);
		now_ns += unit_rng_below(&r, 3000);
		switch (unit_rng_below(&r, 8)) {
		case 0:
			lapic_mmio_read(&l, off, size);
			break;
		case 1:
			lapic_mmio_write(&l, off & ~0xfu, 4, v);
			break;
		case 2:
			lapic_msr_read(&l, 0x800 + (off & 0xff), &x);
			break;
		case 3:
			lapic_msr_write(&l, 0x800 + (off & 0xff), v >> unit_rng_below(&r, 64));
			break;
		case 4:
			lapic_msr_write(&l, unit_rng_below(&r, 2) ? MSR_IA32_APIC_BASE : MSR_IA32_TSC_DEADLINE,
					v & 0xfee00d00);
			break;
		case 5:
			lapic_accept(&l, (uint8_t)v, v >> 8 & 1);
			break;
		case 6: {
			int p = lapic_pending(&l);
			if (p >= 0)
				lapic_ack(&l, (uint8_t)p);
			break;
		}
		default:
			lapic_update(&l, now_ns);
			break;
		}
		int p = lapic_pending(&l);
		assert_true(p == -1 || (p >= 16 && p <= 255));
		nsent = neoi = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_xapic_setup, setup),
		cmocka_unit_test_setup(test_esr, setup),
		cmocka_unit_test_setup(test_mmio_odd_accesses, setup),
		cmocka_unit_test_setup(test_x2apic_enable, setup),
		cmocka_unit_test_setup(test_x2apic_gp, setup),
		cmocka_unit_test_setup(test_apic_base_transitions, setup),
		cmocka_unit_test_setup(test_priority_nesting, setup),
		cmocka_unit_test_setup(test_cr8, setup),
		cmocka_unit_test_setup(test_level_eoi, setup),
		cmocka_unit_test_setup(test_match_xapic, setup),
		cmocka_unit_test_setup(test_match_x2apic_and_shorthands, setup),
		cmocka_unit_test_setup(test_ipi_xapic, setup),
		cmocka_unit_test_setup(test_ipi_x2apic, setup),
		cmocka_unit_test_setup(test_timer_oneshot, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_divide, setup),
		cmocka_unit_test_setup(test_timer_tsc_deadline, setup),
		cmocka_unit_test_setup(test_fuzz, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
