/* Start info, roottask protocol, exit (see <hv/runtime.h>). */
#include <stdio.h>
#include <string.h>
#include <hv/console.h>
#include <hv/runtime.h>

struct hv_tls hv_main_tls = {
	.utcb = (struct hv_utcb *)HV_SI_UTCB,
	.ec = HV_SI_SEL_EC,
	.sc = HV_SI_SEL_SC,
};
hv_word_t hv_main_stack_lo; /* set by _start */

static const struct hv_startinfo *si_ptr;

void hv_runtime_init(const void *si)
{
	const struct hv_startinfo *s = si;

	if (!s || s->magic != HV_SI_MAGIC)
		return; /* e.g. the roottask, which gets the HIP */
	si_ptr = s;
	hv_main_tls.cpu = (unsigned)s->cpu;
	hv_alloc_init(s->first_free_sel, HV_SI_FREE_VA, s->heap_base, s->heap_size);
}

const struct hv_startinfo *hv_si(void)
{
	return si_ptr;
}

hv_status_t hv_service(const char *name, unsigned cpu, hv_sel_t *out)
{
	const struct hv_startinfo *s = si_ptr;
	hv_word_t i, n;

	if (!s || strnlen(name, HV_SI_NAME + 1) > HV_SI_NAME)
		return HV_ECAP;
	n = s->num_svc < HV_SI_MAX_SVC ? s->num_svc : HV_SI_MAX_SVC;
	for (i = 0; i < n; i++) {
		const struct hv_si_service *svc = &s->svc[i];

		if (strncmp(svc->name, name, HV_SI_NAME) != 0)
			continue;
		if (cpu >= svc->num_cpus)
			return HV_ECPU;
		*out = svc->sel + cpu;
		return HV_OK;
	}
	return HV_ECAP;
}

hv_status_t hv_register_service(const char *name, hv_word_t entry_ip,
				const hv_sel_t *handler_ecs, unsigned n)
{
	struct hv_utcb *u = hv_utcb();
	size_t len = strnlen(name, HV_SI_NAME);
	hv_word_t rtag;
	hv_status_t st;
	unsigned c;

	if (len == 0 || len >= HV_SI_NAME || n == 0 || n > 64)
		return HV_EPARAM;
	u->mr[0] = HV_ROOT_REGISTER;
	u->mr[1] = entry_ip;
	u->mr[2] = u->mr[3] = 0;
	memcpy(&u->mr[2], name, len);
	u->mr[4] = n;
	for (c = 0; c < n; c++)
		u->mr[5 + c] = handler_ecs[c];
	st = hv_call(HV_SI_SEL_ROOT, HV_TAG(5 + n, 0), &rtag);
	if (st != HV_OK)
		return st;
	if (HV_TAG_UNTYPED(rtag) < 1)
		return HV_EPARAM;
	return (hv_status_t)u->mr[0];
}

hv_status_t hv_sleep_until(hv_word_t deadline)
{
	static hv_sel_t never; /* count 0, never upped: shared by all threads */
	hv_sel_t sm = __atomic_load_n(&never, __ATOMIC_ACQUIRE);
	if (!sm) {
		hv_sel_t s = hv_sel_alloc();
		if (s == HV_SEL_NONE || hv_create_sm(s, HV_SI_SEL_PD, 0) != HV_OK)
			return HV_EMEM;
		hv_sel_t expected = 0;
		if (!__atomic_compare_exchange_n(&never, &expected, s, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			s = expected; /* another thread won; its semaphore serves */
		sm = s;
	}
	hv_status_t st = hv_sm_down_until(sm, deadline);
	return st == HV_ETIMEOUT ? HV_OK : st;
}

void hv_block_forever(void)
{
	hv_sel_t sm = hv_sel_alloc();

	if (sm != HV_SEL_NONE && hv_create_sm(sm, HV_SI_SEL_PD, 0) == HV_OK)
		for (;;)
			(void)hv_sm_down(sm);
	for (;;) /* no selector or quota left: spin */
		__asm__ volatile("pause");
}

void hv_exit(int code)
{
	struct hv_utcb *u = hv_utcb();

	cons_end();
	u->mr[0] = HV_ROOT_EXIT;
	u->mr[1] = (hv_word_t)(long)code;
	(void)hv_call(HV_SI_SEL_ROOT, HV_TAG(2, 0), NULL);
	hv_block_forever(); /* not reached if the roottask stopped us */
}

const char *hv_status_str(hv_status_t s)
{
	static const char *const names[HV_STATUS_COUNT] = {
		[HV_OK] = "HV_OK",
		[HV_ETIMEOUT] = "HV_ETIMEOUT",
		[HV_EABORT] = "HV_EABORT",
		[HV_ESYS] = "HV_ESYS",
		[HV_ECAP] = "HV_ECAP",
		[HV_EPERM] = "HV_EPERM",
		[HV_EPARAM] = "HV_EPARAM",
		[HV_EMEM] = "HV_EMEM",
		[HV_ECPU] = "HV_ECPU",
		[HV_EBUSY] = "HV_EBUSY",
		[HV_EOVERFLOW] = "HV_EOVERFLOW",
	};

	if ((unsigned)s < HV_STATUS_COUNT && names[s])
		return names[s];
	return "HV_E?";
}
