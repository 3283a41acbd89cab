/* Scheduling contexts: a priority and a time slice on one CPU, bound to an EC. */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/percpu.h>
#include <arch/smp.h>

/* An SC for a live global EC without one; the caller checked priority and slice. */
hv_status_t sc_create(struct pd *charged, struct ec *ec, unsigned prio, unsigned quantum_us,
		      struct sc **out)
{
	struct sc *sc = obj_alloc(charged, sizeof(*sc));
	if (!sc)
		return HV_EMEM;
	obj_init(&sc->obj, HV_OBJ_SC, charged);
	sc->ec = ec;
	obj_get(&ec->obj);
	sc->cpu = ec->cpu;
	sc->prio = prio;
	sc->quantum = (quantum_us ? quantum_us : HV_QUANTUM_DEFAULT_US) * tsc_khz / 1000;
	if (!sc->quantum)
		sc->quantum = 1;
	sc->left = sc->quantum;
	ec->sc = sc;
	*out = sc;
	sched_ready(sc);
	return HV_OK;
}

void sc_destroy(struct sc *sc)
{
	sched_unready(sc);
	if (sc->ec) {
		if (sc->ec->sc == sc)
			sc->ec->sc = NULL;
		obj_put(&sc->ec->obj);
	}
	obj_free(&sc->obj, sc, sizeof(*sc));
}
