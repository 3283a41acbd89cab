/*
 * Object lifetime. Capabilities and structural links hold references;
 * when the last one goes the object becomes a zombie and is destroyed at
 * the next safe point (obj_reap, called from the scheduler), never in the
 * middle of a mapping-database walk.
 */
#include "kernel.h"
#include "objects.h"
#include <arch/percpu.h>

static struct kobj *zombies;

void *obj_alloc(struct pd *charged, size_t size)
{
	return kmem_alloc(charged ? &charged->quota : NULL, size);
}

void obj_init(struct kobj *o, unsigned type, struct pd *charged)
{
	o->type = (u8)type;
	o->refs = 0;
	o->charged = charged;
	if (charged)
		charged->users++;
}

/* Frees the object's memory and releases its hold on the charged PD. */
void obj_free(struct kobj *o, void *mem, size_t size)
{
	struct pd *charged = o->charged;
	kmem_free(charged ? &charged->quota : NULL, mem, size);
	if (charged)
		pd_put_user(charged);
}

void obj_get(struct kobj *o) { o->refs++; }

void obj_put(struct kobj *o)
{
	if (o->refs && --o->refs == 0 && !o->zombie) {
		o->zombie = true;
		o->zombie_next = zombies;
		zombies = o;
	}
}

/* Whether ec must outlive this reap: it runs somewhere, or it is in a call
 * (the handler runs on its behalf and replies to it; ec dies at the reply). */
static bool ec_busy(struct ec *ec)
{
	if (ec->callee)
		return true;
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_ec == ec)
			return true;
	return false;
}

/* Whether a CPU still runs one of pd's ECs (on its page tables or EPT). */
static bool pd_busy(struct pd *pd)
{
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_ec && percpu_area[i].cur_ec->pd == pd)
			return true;
	return false;
}

/* Whether sc must outlive this reap: it runs, or its EC is in a call whose
 * handler (and what that calls) run on it until the reply. */
static bool sc_busy(struct sc *sc)
{
	if (sc->ec && sc->ec->callee)
		return true;
	for (unsigned i = 0; i < num_cpus; i++)
		if (percpu_area[i].cur_sc == sc)
			return true;
	return false;
}

/* Destroys the zombies no CPU is using; the others wait for the next call. */
void obj_reap(void)
{
	struct kobj *keep = NULL;
	while (zombies) {
		struct kobj *o = zombies;
		zombies = o->zombie_next;
		if (o->refs) { /* revived by a new capability: not a zombie any more */
			o->zombie = false;
			continue;
		}
		switch (o->type) {
		case HV_OBJ_PD: {
			struct pd *pd = PD_OF(o);
			if (pd_busy(pd)) {
				/* stop its ECs now; free it once no CPU runs them */
				for (struct ec *ec = pd->ecs; ec; ec = ec->pd_next)
					ec_kill(ec, NULL);
				o->zombie_next = keep;
				keep = o;
				continue;
			}
			pd_destroy(pd);
			break;
		}
		case HV_OBJ_EC: {
			struct ec *ec = container_of(o, struct ec, obj);
			if (ec_busy(ec)) {
				ec_kill(ec, NULL);
				o->zombie_next = keep;
				keep = o;
				continue;
			}
			ec_destroy(ec);
			break;
		}
		case HV_OBJ_SC: {
			struct sc *sc = container_of(o, struct sc, obj);
			if (sc_busy(sc)) {
				o->zombie_next = keep;
				keep = o;
				continue;
			}
			sc_destroy(sc);
			break;
		}
		case HV_OBJ_PT:
			pt_destroy(container_of(o, struct pt, obj));
			break;
		case HV_OBJ_SM:
			sm_destroy(container_of(o, struct sm, obj));
			break;
		}
	}
	zombies = keep;
}
