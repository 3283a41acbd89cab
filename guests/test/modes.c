/*
 * Optional modes the VMM selects through port 0x51c (PORT_MODE):
 *   MODE_ISOLATION  fill all own RAM with a pattern seeded by the guest id,
 *                   then read guest-physical memory outside RAM through a
 *                   2 MiB page-table window: the VMM must not serve it (reads
 *                   give all ones) and own RAM must be unchanged.
 *   MODE_BENCH      time VM-exit round trips and print BENCH lines.
 */
#include "guest.h"
#include <stdbool.h>

extern uint64_t pd_low[512];

#define WINDOW 0x400000UL /* virtual 4..6 MiB: pd_low[2] */

static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t mix(uint64_t a, uint64_t seed) { return (a * 0x9e3779b97f4a7c15UL) ^ (seed << 32) ^ seed; }

/* Reads two words of the 2 MiB frame at `frame` through the window. */
static bool probe(uint64_t frame, uint64_t *first, uint64_t *last)
{
	volatile uint64_t *pde = &pd_low[2]; /* the MMU reads it: keep the stores in order */
	*pde = frame | 0x83;                  /* present, writable, 2 MiB */
	invlpg(WINDOW);
	*first = *(volatile uint64_t *)WINDOW;
	*last = *(volatile uint64_t *)(WINDOW + 0x1ffff8);
	*pde = 0;
	invlpg(WINDOW);
	return *first == ~0UL && *last == ~0UL;
}

void check_isolation(uint32_t id)
{
	uint64_t start = ((uintptr_t)__image_end + 7) & ~7UL, bad = 0;
	begin("isolation");
	for (uint64_t a = start; a < RAM_END; a += 8)
		*(volatile uint64_t *)a = mix(a, id);
	/* outside RAM: every power of two from 4 MiB to 64 GiB, and the APIC area */
	static const uint64_t extra[] = { 0xfec00000UL, 0xfee00000UL, 0xffe00000UL };
	unsigned probes = 0;
	uint64_t f, l;
	for (uint64_t frame = RAM_END; frame <= (64UL << 30); frame <<= 1, probes++)
		if (!probe(frame, &f, &l) && bad++ < 4)
			fail("guest-physical 0x%lx reads 0x%lx / 0x%lx: memory outside the guest is served", frame, f, l);
	for (unsigned i = 0; i < sizeof(extra) / sizeof(extra[0]); i++, probes++)
		if (!probe(extra[i], &f, &l) && bad++ < 4)
			fail("guest-physical 0x%lx reads 0x%lx / 0x%lx: memory outside the guest is served", extra[i], f, l);
	for (uint64_t a = start; a < RAM_END; a += 8)
		if (*(volatile uint64_t *)a != mix(a, id) && bad++ < 4)
			fail("own RAM at 0x%lx changed", a);
	info("guest %u: own RAM holds its pattern; %u probes outside RAM not served", id, probes);
	end();
}

void run_bench(void)
{
	const unsigned n = 200;
	uint32_t a, b, c, d;
	volatile uint64_t *scratch = (volatile uint64_t *)(MMIO_BASE + MMIO_SCRATCH);
	cpuid(0, &a, &b, &c, &d); /* warm up */
	uint64_t t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		cpuid(0, &a, &b, &c, &d);
	print("BENCH vmexit_cpuid %lu ticks\n", (rdtsc() - t) / n);
	outl(PORT_TEST_CONST, 1);
	t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		outl(PORT_TEST_CONST, i);
	print("BENCH vmexit_pio_out %lu ticks\n", (rdtsc() - t) / n);
	*scratch = 0;
	t = rdtsc();
	for (unsigned i = 0; i < n; i++)
		*scratch = i;
	print("BENCH vmexit_mmio_write %lu ticks\n", (rdtsc() - t) / n);
}
