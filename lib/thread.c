/* Threads (global ECs) and portal handlers (local ECs); see <hv/runtime.h>. */
#include <string.h>
#include <hv/console.h>
#include <hv/runtime.h>

/* A fresh HV_STACK_SIZE-aligned stack with a zeroed TLS block at its top;
 * *sp receives the initial stack pointer (16-byte aligned, below the TLS). */
static struct hv_tls *stack_alloc(hv_word_t *sp)
{
	char *base = hv_heap_alloc(HV_STACK_SIZE, HV_STACK_SIZE);
	struct hv_tls *t;

	if (!base)
		return NULL;
	t = (struct hv_tls *)(base + HV_STACK_SIZE) - 1;
	memset(t, 0, sizeof(*t));
	*sp = (hv_word_t)t & ~15ul;
	return t;
}

/* Stack, UTCB and EC selector for a new EC. */
static hv_status_t ec_prepare(unsigned cpu, struct hv_tls **tp, hv_word_t *sp)
{
	struct hv_tls *t = stack_alloc(sp);
	hv_word_t utcb;

	if (!t)
		return HV_EMEM;
	utcb = hv_va_alloc(HV_PAGE_SIZE);
	if (!utcb)
		return HV_EMEM;
	t->ec = hv_sel_alloc();
	if (t->ec == HV_SEL_NONE)
		return HV_EMEM;
	t->utcb = (struct hv_utcb *)utcb;
	t->sc = HV_SEL_NONE;
	t->cpu = cpu;
	*tp = t;
	return HV_OK;
}

hv_status_t hv_handler_create_evt(unsigned cpu, hv_sel_t evt_base, hv_sel_t *ec_sel, hv_word_t *sp_out)
{
	struct hv_tls *t;
	hv_word_t sp;
	hv_status_t st = ec_prepare(cpu, &t, &sp);

	if (st != HV_OK)
		return st;
	/* ip is unused for a local EC: it starts at the portal's entry IP. */
	st = hv_create_ec(t->ec, HV_SI_SEL_PD, HV_EC_FLAGS(cpu, 0, evt_base), (hv_word_t)t->utcb, sp, 0);
	if (st == HV_OK && ec_sel)
		*ec_sel = t->ec;
	if (st == HV_OK && sp_out)
		*sp_out = sp;
	return st;
}

hv_status_t hv_handler_create(unsigned cpu, hv_sel_t *ec_sel)
{
	return hv_handler_create_evt(cpu, HV_SI_SEL_EVT(cpu), ec_sel, NULL);
}

/* First code of every hv_thread_create() thread: RDI is not defined for
 * global ECs other than a domain's main EC, so everything comes from TLS. */
void hv_thread_start(void);
HV_NORETURN void hv_thread_main(void);
__asm__(".pushsection .text\n"
	".globl hv_thread_start\n"
	".type hv_thread_start, @function\n"
	"hv_thread_start:\n"
	"\txor %ebp, %ebp\n"
	"\tand $-16, %rsp\n"
	"\tcall hv_thread_main\n"
	"\tud2\n"
	".size hv_thread_start, . - hv_thread_start\n"
	".popsection");

void hv_thread_main(void)
{
	struct hv_tls *t = hv_tls();

	t->entry(t->arg);
	cons_end();
	hv_block_forever();
}

hv_status_t hv_thread_create(unsigned cpu, void (*entry)(void *), void *arg,
			     hv_word_t qos, hv_sel_t *ec_sel, hv_sel_t *sc_sel)
{
	return hv_thread_create_evt(cpu, HV_SI_SEL_EVT(cpu), entry, arg, qos, ec_sel, sc_sel);
}

hv_status_t hv_thread_create_evt(unsigned cpu, hv_sel_t evt_base, void (*entry)(void *), void *arg,
				 hv_word_t qos, hv_sel_t *ec_sel, hv_sel_t *sc_sel)
{
	struct hv_tls *t;
	hv_word_t sp;
	hv_sel_t sc;
	hv_status_t st;

	if (!entry)
		return HV_EPARAM;
	st = ec_prepare(cpu, &t, &sp);
	if (st != HV_OK)
		return st;
	t->entry = entry;
	t->arg = arg;
	sc = hv_sel_alloc();
	if (sc == HV_SEL_NONE)
		return HV_EMEM;
	st = hv_create_ec(t->ec, HV_SI_SEL_PD, HV_EC_FLAGS(cpu, 1, evt_base), (hv_word_t)t->utcb, sp,
			  (hv_word_t)hv_thread_start);
	if (st != HV_OK)
		return st;
	if (ec_sel)
		*ec_sel = t->ec;
	t->sc = sc; /* before the thread can run */
	st = hv_create_sc(sc, HV_SI_SEL_PD, t->ec, qos);
	if (st != HV_OK) {
		t->sc = HV_SEL_NONE;
		return st;
	}
	if (sc_sel)
		*sc_sel = sc;
	return HV_OK;
}
