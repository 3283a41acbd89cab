/* Portals: an entry into a handler EC at a fixed IP with an MTD and an id. */
#include "kernel.h"
#include "objects.h"

/* A portal to local EC `ec`, with an MTD and IP the caller checked (syscall.c). */
hv_status_t pt_create(struct pd *charged, struct ec *ec, u64 mtd, u64 ip, u64 id, struct pt **out)
{
	struct pt *pt = obj_alloc(charged, sizeof(*pt));
	if (!pt)
		return HV_EMEM;
	obj_init(&pt->obj, HV_OBJ_PT, charged);
	pt->ec = ec;
	obj_get(&ec->obj);
	pt->mtd = mtd;
	pt->ip = ip;
	pt->id = id;
	*out = pt;
	return HV_OK;
}

void pt_destroy(struct pt *pt)
{
	obj_put(&pt->ec->obj);
	obj_free(&pt->obj, pt, sizeof(*pt));
}
