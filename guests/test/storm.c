/*
 * The hostile guest's INIT/SIPI storm (an act of hostile.c). vCPU 0 writes
 * its local APIC's ICR (the xAPIC page, then the x2APIC MSR) with a seeded
 * stream of INIT (edge, level assert and de-assert), start-up IPIs with odd
 * vectors, NMI, SMI, fixed and lowest-priority IPIs with legal and illegal
 * vectors and the reserved and ExtINT modes; to vCPU 1, to itself, to APIC
 * ids nobody has, broadcast, logical, and with every shorthand. Whenever
 * vCPU 1 starts at AP_VECTOR it loops making CPUID exits (ap_code), so most
 * INITs find it in the middle of exits. Start-up vectors are chosen so that
 * vCPU 1 never runs the guest's image: below AP_PAGE it runs zeros into
 * ap_code, above the image zeros for good. The VMM gives a test guest local
 * APICs only with more than one vCPU; with one, the storm reaches nothing.
 */
#include "guest.h"
#include <stdbool.h>

#define WINDOW 0x400000UL /* virtual 4..6 MiB: pd_low[2], as hostile.c's MMIO round */
#define LAPIC_GPA 0xfee00000UL
#define AP_VECTOR 0x0f
#define AP_PAGE (AP_VECTOR << 12)
#define AP_STARTS 0xfff0 /* in AP_PAGE: how often vCPU 1 entered ap_code */
#define AP_EXITS 0xfff4  /* ... and the exits it made there */
_Static_assert(AP_STARTS >> 12 == AP_VECTOR && AP_EXITS >> 12 == AP_VECTOR, "the counters are in AP_PAGE");
#define STR2(x) #x
#define STR(x) STR2(x)

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_EXTD (1UL << 10)
#define APIC_BASE_EN (1UL << 11)
#define REG_VERSION 0x30
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310

/* ICR low dword (SDM Vol. 3, "Interrupt Command Register") */
#define DM_LOWEST (1u << 8)
#define DM_SMI (2u << 8)
#define DM_NMI (4u << 8)
#define DM_INIT (5u << 8)
#define DM_SIPI (6u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_MODE(lo) ((lo) >> 8 & 7)

extern uint64_t pd_low[512];
extern const char ap_code[], ap_code_end[];

/* vCPU 1's code, real mode at AP_PAGE (any CS: it is position independent). */
__asm__(".pushsection .text\n"
	".code16\n"
	"ap_code:\n\t"
	"xorw %ax, %ax\n\t"
	"movw %ax, %ds\n\t"
	"lock incl " STR(AP_STARTS) "\n"
	"1:\tlock incl " STR(AP_EXITS) "\n\t"
	"xorl %eax, %eax\n\t"
	"cpuid\n\t"
	"jmp 1b\n"
	"ap_code_end:\n"
	".code64\n"
	".popsection");

static volatile uint32_t *apic = (volatile uint32_t *)WINDOW;
static bool x2; /* through the x2APIC MSR instead of the xAPIC page */
static unsigned sent, inits, sipis;

static uint64_t below(uint64_t n) { return hostile_rnd() % n; }

static void exits(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t a, b, c, d;
		cpuid(0, &a, &b, &c, &d);
	}
}

static void wrmsr_guarded(uint32_t msr, uint64_t v)
{
	__asm__ volatile(GUARD_BEGIN "wrmsr" GUARD_END : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "r11", "memory");
}

/* One IPI: ICR high (the destination), then low, which sends. */
static void send(uint32_t dest, uint32_t lo)
{
	sent++;
	inits += ICR_MODE(lo) == 5;
	sipis += ICR_MODE(lo) == 6;
	if (x2) {
		wrmsr_guarded(MSR_X2APIC_ICR, (uint64_t)dest << 32 | lo);
		return;
	}
	apic[REG_ICR_HI / 4] = dest << 24;
	apic[REG_ICR_LO / 4] = lo;
}

/* A start-up vector: AP_VECTOR, or one whose 64 KiB real-mode segment misses
 * the guest's image (0x10000 to __image_end). */
static uint32_t sipi_vector(void)
{
	uint32_t v = below(2) ? AP_VECTOR : (uint32_t)below(256);
	if (v > AP_VECTOR && (uintptr_t)v << 12 < (uintptr_t)__image_end)
		v = below(2) ? 0 : AP_VECTOR - 1;
	return v;
}

static uint32_t pick_dest(uint32_t *lo)
{
	uint32_t bcast = x2 ? 0xffffffffu : 0xff;
	switch (below(8)) {
	case 0:
	case 1:
	case 2:
		return 1;
	case 3:
		return 0;
	case 4: /* nobody */
		return 2 + (uint32_t)below(bcast - 2);
	case 5:
		return bcast;
	case 6:
		*lo |= ICR_LOGICAL;
		return (uint32_t)hostile_rnd() & bcast;
	default: /* self, all, all but self */
		*lo |= (uint32_t)(1 + below(3)) << 18;
		return (uint32_t)hostile_rnd();
	}
}

static uint32_t pick_mode(void)
{
	uint32_t lo;
	switch (below(10)) {
	case 0:
		return DM_INIT | ICR_ASSERT;
	case 1:
		return DM_INIT; /* edge: asserts too */
	case 2:
		return DM_INIT | ICR_LEVEL | ICR_ASSERT;
	case 3:
		return DM_INIT | ICR_LEVEL; /* de-assert */
	case 4:
	case 5:
	case 6:
		return DM_SIPI | sipi_vector();
	case 7:
		return below(2) ? DM_NMI : DM_SMI;
	case 8: /* vectors 0..15 are illegal */
		return (below(2) ? DM_LOWEST : 0) | (uint32_t)below(256);
	default: /* anything, also reserved bits (x2APIC: #GP) */
		lo = (uint32_t)hostile_rnd() & ~(3u << 18);
		if (ICR_MODE(lo) == 6)
			lo = (lo & ~0xffu) | sipi_vector();
		return lo;
	}
}

/* ICR writes the model must ignore: a byte, a misaligned dword, a qword. */
static void odd_access(void)
{
	uint32_t v = DM_INIT | ICR_ASSERT;
	volatile uint8_t *p = (volatile uint8_t *)WINDOW + REG_ICR_LO;
	switch (below(3)) {
	case 0:
		*p = (uint8_t)v;
		break;
	case 1:
		*(volatile uint32_t *)(p + 4) = v;
		break;
	default:
		*(volatile uint64_t *)p = (uint64_t)1 << 56 | v;
	}
}

/* INIT, then start-up IPIs at AP_VECTOR until vCPU 1 has entered ap_code
 * once more: one that comes before the INIT has parked it is ignored, and
 * parking waits for vCPU 1's CPU, so they come further and further apart. */
static void start_ap(void)
{
	volatile uint32_t *starts = (volatile uint32_t *)AP_STARTS;
	uint32_t n = *starts;
	send(1, DM_INIT | ICR_ASSERT);
	for (unsigned gap = 2; *starts == n; gap = gap < 64 ? gap * 2 : gap) {
		send(1, DM_SIPI | AP_VECTOR);
		exits(gap);
	}
}

/* n IPIs; now and then vCPU 1 is restarted into ap_code (if there is a LAPIC),
 * so that the INITs after it come in the middle of its exits. */
static void storm(unsigned n, bool lapic)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t lo = 0, dest = pick_dest(&lo);
		if (!below(16) && lapic)
			start_ap();
		else if (!x2 && !below(16))
			odd_access();
		else
			send(dest, lo | pick_mode());
		exits((unsigned)below(4));
	}
}

/* The LAPIC enabled in xAPIC mode, through disabled if it is in x2APIC mode. */
static void xapic_mode(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (base & APIC_BASE_EXTD)
		wrmsr_guarded(MSR_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD));
	wrmsr_guarded(MSR_APIC_BASE, LAPIC_GPA | APIC_BASE_EN);
	x2 = false;
}

void hostile_init_sipi(void)
{
	uint64_t before = 0;
	for (unsigned v = 0; v < 32; v++)
		before += caught[v];
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	bool x2apic = c & (1u << 21);
	pd_low[2] = LAPIC_GPA | 0x9b; /* present, writable, PWT, PCD, 2 MiB */
	__asm__ volatile("invlpg (%0)" ::"r"(WINDOW) : "memory");
	xapic_mode();
	bool lapic = apic[REG_VERSION / 4] != 0xffffffffu;
	memcpy((void *)(uintptr_t)AP_PAGE, ap_code, (size_t)(ap_code_end - ap_code));
	if (lapic) {
		start_ap();
		print("hostile: storm: vCPU 1 runs at %x:0000\n", AP_VECTOR << 8);
	} else {
		print("hostile: storm: no local APIC (one vCPU)\n");
	}
	storm(100, lapic);
	if (x2apic) {
		wrmsr_guarded(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
		x2 = true;
		storm(100, lapic);
	}
	xapic_mode();
	if (lapic) { /* what the storm left still works: vCPU 1 starts, then stays parked */
		start_ap();
		print("hostile: storm: vCPU 1 runs again (%u starts, %u exits seen)\n", *(volatile uint32_t *)AP_STARTS,
		      *(volatile uint32_t *)AP_EXITS);
		send(1, DM_INIT | ICR_ASSERT);
	}
	pd_low[2] = 0;
	__asm__ volatile("invlpg (%0)" ::"r"(WINDOW) : "memory");
	uint64_t after = 0;
	for (unsigned v = 0; v < 32; v++)
		after += caught[v];
	print("hostile: storm: %u IPIs (%u INIT, %u start-up), %lu exceptions\n", sent, inits, sipis, after - before);
}
