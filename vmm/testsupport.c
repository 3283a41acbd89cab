/*
 * VMM side of the test device requests that need the vCPU rather than a
 * device model (devices/testdev.h, guests/test/README.md):
 *  - an NMI on request: the VMM asks for an NMI-window exit and injects the
 *    NMI when the window opens, so an NMI asked for while the guest blocks
 *    NMIs (inside its NMI handler) arrives only after its IRET;
 *  - a test page at TESTDEV_PAGE_GPA the VMM takes away from the guest on
 *    request and gives back at the first EPT violation on it, counting the
 *    violations that interrupted an event delivery (IDT-vectoring
 *    information valid); the kernel then delivers that event again;
 *  - CR8 (the task-priority register): the kernel makes every MOV to or
 *    from CR8 exit; the test guest's CR8 is a value kept here (it gates
 *    nothing: the test device's timer ignores it).
 * Hooks: testsupport_init() once the VM exists, testsupport_exit() before
 * the exit handlers and testsupport_reply() after them (vmm/test_exits.c).
 */
#include "../devices/testdev.h"
#include "vmm.h"
#include <stdio.h>


/*
 * The page gets its own one-page node in this domain's memory space (an
 * alias of a heap page), so that revoking that node takes away exactly the
 * guest's mapping of it.
 */
#define PAGE_ALIAS (HV_SI_FILES - 0x100000ul)

static struct testdev *dev;
static uint32_t nmi_pending;
static bool page_ok, page_mapped;

static hv_status_t page_map(void)
{
	return hv_delegate(HV_SI_SEL_PD, vm.pd, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 0), PAGE_ALIAS, TESTDEV_PAGE_GPA);
}

void testsupport_init(struct testdev *t)
{
	dev = t;
	void *page = hv_heap_alloc(4096, 4096);
	hv_status_t st = page ? hv_delegate(HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_RWX, 0),
					    (hv_word_t)page, PAGE_ALIAS)
			      : HV_EMEM;
	if (st == HV_OK)
		st = page_map();
	if (st != HV_OK) {
		printf("vmm: no test page at %#llx: %s\n", TESTDEV_PAGE_GPA, hv_status_str(st));
		return;
	}
	page_ok = page_mapped = true;
	t->mode |= TESTDEV_MODE_EVENTS;
}

/* Exits this file handles entirely; true if st is the reply. */
bool testsupport_exit(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v;
	if (!dev)
		return false;
	if (reason == EXIT_REASON_NMI_WINDOW && nmi_pending) {
		nmi_pending--;
		st->inj_info = HV_INJ_VALID | HV_INJ_NMI | 2;
		st->inj_error = 0;
		st->ctrl[0] = nmi_pending ? HV_CTRL_NMI_WINDOW : 0;
		st->mtd = HV_MTD_INJ | HV_MTD_CTRL;
		return true;
	}
	if (reason == EXIT_REASON_EPT_VIOLATION && page_ok && !page_mapped &&
	    (st->gpa & ~0xfffull) == TESTDEV_PAGE_GPA) {
		hv_status_t s = page_map();
		if (s != HV_OK) {
			printf("vmm: cannot give the test page back: %s\n", hv_status_str(s));
			return false;
		}
		page_mapped = true;
		if (st->vect_info & HV_INJ_VALID) {
			dev->vect_exits++;
			dev->last_vect = (uint32_t)st->vect_info;
		}
		st->mtd = 0; /* the access is retried; an interrupted event is delivered again */
		return true;
	}
	return false;
}

/* After a handled port write: the requests it made. */
void testsupport_reply(struct vcpu *v, unsigned reason, struct hv_cpu_state *st)
{
	(void)v;
	if (!dev || reason != EXIT_REASON_IO_INSTRUCTION)
		return;
	if (dev->nmi_requests) {
		nmi_pending += dev->nmi_requests;
		dev->nmi_requests = 0;
		st->ctrl[0] = HV_CTRL_NMI_WINDOW;
		st->mtd |= HV_MTD_CTRL;
	}
	if (dev->page_cmd) {
		if (dev->page_cmd == 1 && page_ok && page_mapped) {
			hv_status_t s = hv_revoke(HV_ITEM(HV_KIND_MEM, 0, 0), PAGE_ALIAS);
			if (s == HV_OK)
				page_mapped = false;
			else
				printf("vmm: cannot take the test page away: %s\n", hv_status_str(s));
		}
		dev->page_cmd = 0;
	}
}
