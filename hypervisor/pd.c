/*
 * Protection domains: a capability space, a host address space and an
 * I/O-port space, plus a kernel-memory quota taken from the parent's.
 */
#include "kernel.h"
#include "objects.h"
#include "sched.h"
#include <arch/cpu.h>
#include <arch/iommu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/virt.h>

static u32 next_pd_id;

/* A new PD: `quota` bytes moved from the parent's quota, limits the caller checked. */
hv_status_t pd_create(struct pd *parent, u64 quota, bool vm, unsigned max_prio, u64 cpus, struct pd **out)
{
	struct kmem_quota *pq = parent ? &parent->quota : NULL;
	struct pd *pd = obj_alloc(parent, sizeof(*pd));
	if (!pd)
		return HV_EMEM;
	if (pq && quota > pq->limit - pq->used) { /* checked after the PD itself is charged */
		kmem_free(pq, pd, sizeof(*pd));
		return HV_EMEM;
	}
	obj_init(&pd->obj, HV_OBJ_PD, parent);
	if (pq) {
		/* the child's quota is carved out of the parent's */
		pq->used += quota;
	}
	pd->quota.limit = quota;
	for (unsigned k = 0; k < 4; k++) {
		pd->spaces[k].kind = k;
		pd->spaces[k].pd = pd;
	}
	pd->vm = vm;
	pd->max_prio = (u8)max_prio;
	pd->cpus = cpus;
	if (!paging_init_pd(pd) || (vm && !gpt_init(pd))) {
		paging_destroy(pd);
		if (pq)
			pq->used -= quota;
		obj_free(&pd->obj, pd, sizeof(*pd));
		return HV_EMEM;
	}
	pd->id = next_pd_id++;
	*out = pd;
	return HV_OK;
}

static void pd_free_if_unused(struct pd *pd)
{
	if (!pd->killed || pd->users || pd->obj.refs)
		return;
	struct pd *parent = pd->obj.charged;
	if (parent)
		kmem_uncharge(&parent->quota, pd->quota.limit);
	for (unsigned i = 0; i < num_cpus; i++) /* a new PD here must not pass for the old one: IBPB */
		if (percpu_area[i].last_pd == pd)
			percpu_area[i].last_pd = NULL;
	obj_free(&pd->obj, pd, sizeof(*pd));
}

/* The last capability to pd is gone: stop its ECs, tear down its spaces. */
void pd_destroy(struct pd *pd)
{
	if (pd->killed)
		return;
	pd->killed = true;
	pd->users++; /* keep it while tearing down */
	for (struct ec *ec = pd->ecs; ec; ec = ec->pd_next)
		ec_kill(ec, NULL);
	for (unsigned k = 0; k < 4; k++)
		mdb_destroy_space(&pd->spaces[k]);
	gpt_destroy(pd);
	iommu_pd_destroy(pd); /* its devices blocked, after its DMA memory went (mdb_destroy_space flushed) */
	if (read_cr3() == pd->cr3)
		write_cr3(kernel_cr3);
	paging_destroy(pd);
	for (int i = 0; i < 2; i++)
		kmem_free(&pd->quota, pd->io_bitmap[i], PAGE_SIZE);
	pd->io_bitmap[0] = pd->io_bitmap[1] = NULL;
	pd_put_user(pd);
}

/* An EC or charged object of pd went away. */
void pd_put_user(struct pd *pd)
{
	if (pd->users)
		pd->users--;
	pd_free_if_unused(pd);
}
