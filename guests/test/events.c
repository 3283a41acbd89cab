/*
 * Test guest: the checks nmi (an NMI asked for while NMIs are blocked
 * arrives only after the IRET) and vectoring (an event whose delivery
 * faults on a page the VMM took away is delivered again, once). See
 * README.md.
 */
#include "guest.h"

/* ---- nmi ---- */

static volatile unsigned nmi_count, nmi_depth, nmi_nested, count_before_iret, first_done, second_saw_first_done;
static volatile uint64_t nmi_rip[2];

static void nmi_handler(struct frame *f)
{
	unsigned n = nmi_count++;
	if (nmi_depth++)
		nmi_nested++;
	if (n < 2)
		nmi_rip[n] = f->rip;
	if (n == 0) {
		/* NMIs are blocked until our IRET: this one must wait, through a few exits */
		outb(PORT_NMI, 1);
		(void)inl(PORT_TEST_CONST);
		uint32_t a, b, c, d;
		cpuid(0, &a, &b, &c, &d);
		count_before_iret = nmi_count;
	} else {
		second_saw_first_done = first_done;
	}
	nmi_depth--;
	if (n == 0)
		first_done = 1; /* the last thing before the IRET (isr_common) */
}

void check_nmi(void)
{
	uint64_t resume;

	begin("nmi");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	if (!(inl(PORT_MODE) & MODE_EVENTS)) {
		fail("the VMM does not offer NMI requests (port 0x%x bit %u)", PORT_MODE, 2);
		end();
		return;
	}
	exc_hook[VEC_NMI] = nmi_handler;
	/* NMIs are not blocked here: the first NMI arrives right after the out */
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "outb %%al, %%dx\n"
			 "1:"
			 : "=&r"(resume)
			 : "a"(1), "d"(PORT_NMI)
			 : "memory");
	for (unsigned i = 0; i < 3; i++)
		(void)inl(PORT_TEST_CONST); /* time for a stray third one */
	exc_hook[VEC_NMI] = 0;
	if (nmi_count != 2)
		fail("%u NMIs, expected 2", nmi_count);
	if (nmi_nested)
		fail("an NMI arrived inside the NMI handler (before its IRET)");
	if (count_before_iret != 1)
		fail("%u NMIs seen before the first handler's IRET, expected 1", count_before_iret);
	if (nmi_count == 2 && !second_saw_first_done)
		fail("the second NMI came before the first handler finished");
	if (nmi_rip[0] != resume || (nmi_count >= 2 && nmi_rip[1] != resume))
		fail("NMI frames rip 0x%lx, 0x%lx, expected 0x%lx (after the out) for both", nmi_rip[0], nmi_rip[1],
		     resume);
	info("NMI at rip 0x%lx; the one asked for in its handler came after the IRET", resume);
	end();
}

/* ---- vectoring ---- */

static const char *vect_what;
static unsigned vect_exits_before;

/* The VMM takes the page with the IDT copy away; the next event's delivery faults on it. */
static void take_page(const char *what)
{
	vect_what = what;
	vect_exits_before = inl(PORT_PAGE);
	outl(PORT_PAGE, 1);
}

/* After the event: the VMM saw one delivery interrupted by the page, of this event. */
static void vect_result(uint32_t want_info)
{
	unsigned n = inl(PORT_PAGE) - vect_exits_before;
	uint32_t info_got = inl(PORT_VECT);
	if (n != 1)
		fail("%s: %u exits with IDT-vectoring information, expected 1", vect_what, n);
	else if (info_got != want_info)
		fail("%s: IDT-vectoring information 0x%08x, expected 0x%08x", vect_what, info_got, want_info);
}

static __attribute__((noinline)) void exc_once(int vec, uint64_t want_rip, uint64_t want_err)
{
	if (xp.hits != 1)
		fail("%s: handler ran %d times for vector %d, expected once", vect_what, xp.hits, vec);
	else if (xp.rip != want_rip || xp.err != want_err)
		fail("%s: rip 0x%lx error code 0x%lx, expected rip 0x%lx error code 0x%lx", vect_what, xp.rip,
		     xp.err, want_rip, want_err);
}

static volatile unsigned vnmi_count;

static void vnmi_handler(struct frame *f)
{
	(void)f;
	vnmi_count++;
}

void check_vectoring(void)
{
	uint64_t at, after;

	begin("vectoring");
	if (!have_microhv) {
		skip_without_vmm();
		return;
	}
	if (!(inl(PORT_MODE) & MODE_EVENTS)) {
		fail("the VMM does not offer the test page (port 0x%x bit %u)", PORT_MODE, 2);
		end();
		return;
	}
	idt_use_copy((void *)TEST_PAGE);

	/* #UD: a fault without error code */
	take_page("#UD");
	expect(VEC_UD);
	__asm__ volatile(EXPECT_ASM_BEGIN "ud2" EXPECT_ASM_END : EXPECT_ASM_OUT(at, after)::"memory");
	exc_once(VEC_UD, at, 0);
	vect_result(0x80000306);

	/* #BP: a software exception, delivered again with its instruction length */
	take_page("#BP");
	expect(VEC_BP);
	__asm__ volatile(EXPECT_ASM_BEGIN "int3" EXPECT_ASM_END : EXPECT_ASM_OUT(at, after)::"memory");
	exc_once(VEC_BP, after, 0);
	vect_result(0x80000603);

	/* #GP with an error code: a selector beyond the GDT limit */
	take_page("#GP");
	expect(VEC_GP);
	__asm__ volatile(EXPECT_ASM_BEGIN "movw %w3, %%fs" EXPECT_ASM_END
			 : EXPECT_ASM_OUT(at, after)
			 : "r"(0x1230)
			 : "memory");
	exc_once(VEC_GP, at, 0x1230);
	vect_result(0x80000b0d);

	/* the VMM's timer interrupt (an external interrupt it injects on HLT) */
	take_page("timer interrupt");
	uint64_t ticks = timer_ticks, resume;
	outl(PORT_TIMER, 1000);
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "sti\n\t"
			 "hlt\n"
			 "1:\tcli"
			 : "=&r"(resume)::"memory");
	if (timer_ticks != ticks + 1)
		fail("timer interrupt: handler ran %lu times, expected once", timer_ticks - ticks);
	else if (timer_rip != resume)
		fail("timer interrupt: rip 0x%lx, expected 0x%lx", timer_rip, resume);
	vect_result(0x80000000 | TIMER_VECTOR);

	/* an NMI the VMM injects: delivered again with NMIs unblocked */
	exc_hook[VEC_NMI] = vnmi_handler;
	take_page("NMI");
	outb(PORT_NMI, 1);
	for (unsigned i = 0; i < 2; i++)
		(void)inl(PORT_TEST_CONST);
	exc_hook[VEC_NMI] = 0;
	if (vnmi_count != 1)
		fail("NMI: handler ran %u times, expected once", vnmi_count);
	vect_result(0x80000202);

	idt_use_original();
	info("#UD, #BP, #GP(0x1230), timer interrupt and NMI each delivered again after an EPT violation on the IDT");
	end();
}
