/*
 * The fuzzer's other ECs: victims (threads that do anything, including
 * blocking forever and faulting) and handlers (portal handlers that answer
 * calls, exceptions and VM exits with random replies, and never block).
 */
#include "fuzz.h"
#include <string.h>

struct fz_handler fz_handlers[4 * FZ_MAX_CPUS];
unsigned fz_nhandlers;

/*
 * Where a victim ends up after a fault: every byte is a hlt (#GP at CPL 3),
 * so whatever an exception handler's reply does with RIP inside it, the
 * victim faults again and never runs fuzzer code with registers a handler
 * chose. The victim entry: RSP points at its struct fz_victim.
 */
__asm__(".pushsection .text\n"
	".globl fz_pad\n"
	".type fz_pad, @function\n"
	".p2align 6\n"
	"fz_pad:\n"
	".fill 64, 1, 0xf4\n"
	"\tjmp fz_pad\n"
	".size fz_pad, . - fz_pad\n"
	".globl fz_victim_entry\n"
	".type fz_victim_entry, @function\n"
	"fz_victim_entry:\n"
	"\tmov %rsp, %rdi\n"
	"\tand $-16, %rsp\n"
	"\tcall fz_victim_main\n"
	"\tjmp fz_pad\n"
	".size fz_victim_entry, . - fz_victim_entry\n"
	".popsection");

#define FAULT(insn)                                                          \
	__asm__ volatile(insn "\n\tjmp fz_pad" ::: "rax", "rcx", "rdx", "memory"); \
	__builtin_unreachable()

/* Victims only: raise one of many exceptions (or get stopped trying). */
void fz_fault(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	hv_word_t v = fz_rand(r);
	fz_event(FZ_EV_FAULTS);
	switch (fz_below(r, 24)) {
	case 0:
		FAULT("ud2");
	case 1:
		FAULT("int3");
	case 2:
		FAULT("int $0x80");
	case 3:
		FAULT("xor %%ecx, %%ecx\n\txor %%edx, %%edx\n\tdiv %%ecx");
	case 4:
		FAULT("xor %%eax, %%eax\n\tmov (%%rax), %%rax");
	case 5:
		FAULT("movabs $0xffffffff80100000, %%rax\n\tmovq $1, (%%rax)");
	case 6:
		FAULT("movabs $0x8000000000000000, %%rax\n\tmov (%%rax), %%rax");
	case 7:
		FAULT("cli");
	case 8:
		FAULT("in $0x60, %%al");
	case 9:
		FAULT("mov %%cr0, %%rax");
	case 10:
		FAULT(".byte 0x0f, 0x28, 0xc1"); /* movaps %xmm1, %xmm0: #NM */
	case 11:
		FAULT(".byte 0xf1"); /* int1 */
	case 12:
		FAULT("movabs $0x8000000000000000, %%rax\n\tjmp *%%rax");
	case 13:
		__asm__ volatile("mov %0, %%rsp\n\tpush %%rax\n\tjmp fz_pad" ::"r"(v & 0xfff) : "memory");
		break;
	case 14:
		FAULT(".byte 0x0f, 0x34"); /* sysenter */
	case 15:
		FAULT("pushf\n\torl $0x40100, (%%rsp)\n\tpopf\n\tnop\n\tmov 1(%%rsp), %%rax"); /* TF, AC */
	case 16:
		FAULT(".byte 0x0f, 0x01, 0xc1"); /* vmcall */
	case 17:
		FAULT(".byte 0x0f, 0x01, 0xd9"); /* vmmcall */
	case 18:
		FAULT(".byte 0x0f, 0x01, 0xd8"); /* vmrun */
	case 19:
		FAULT("vmxon (%%rsp)");
	case 20:
		FAULT("mov $0x40000000, %%ecx\n\trdpmc");
	case 21:
		FAULT("xor %%ecx, %%ecx\n\txsetbv");
	case 22: /* IRET to a frame of random selectors and flags */
		__asm__ volatile("push %0\n\tpush %1\n\tpush %2\n\tpush %3\n\tlea fz_pad(%%rip), %%rax\n\tpush %%rax\n\t"
				 "iretq" ::"r"(v & 0xffff),
				 "r"(fz_hostile(r)), "r"(fz_rand(r)), "r"((v >> 16) & 0xffff)
				 : "rax", "memory");
		break;
	default: /* a random data selector, then a load through FS */
		__asm__ volatile("mov %0, %%fs\n\tmov %%fs:0, %%rax\n\tjmp fz_pad" ::"r"((uint16_t)v) : "rax", "memory");
	}
	__builtin_unreachable();
}

void fz_victim_main(const struct fz_victim *v);

/* A victim: its calls, then a fault or a wait that may never end. */
void fz_victim_main(const struct fz_victim *v)
{
	struct fz_ctx c = { .rng = { v->seed }, .utcb = (struct hv_utcb *)v->utcb, .role = FZ_VICTIM,
			    .cpu = v->cpu, .worker = v->worker };
	c.part = FZ_SEL_PLAY + v->worker * fz_part_size;
	c.prio = fz_prio;
	memcpy(c.recent, v->recent, sizeof(c.recent));
	memcpy(c.nrecent, v->nrecent, sizeof(c.nrecent));
	for (unsigned i = 0; i < v->ncalls; i++)
		fz_op(&c);
	if (fz_chance(&c.rng, 2))
		fz_sys(&c, HV_SYS_SM_CTRL, fz_sel_play(&c, HV_OBJ_SM), HV_SM_DOWN, 0, 0, 0, 0, NULL);
	fz_fault(&c);
}

/*
 * Spawns a victim in the worker's next slot: the slot's previous EC and SC
 * are revoked and its stack alias unmapped first (after that no CPU can
 * touch the page, so it can be handed to the new victim).
 */
void fz_victim_spawn(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	unsigned i = c->victim_next++ % FZ_VICTIM_SLOTS;
	hv_sel_t ec = c->part + 2 * i, sc = ec + 1;
	hv_word_t alias = FZ_VA_STACK + c->worker * FZ_VA_STRIDE + i * HV_PAGE_SIZE;
	hv_word_t page = c->stack_pages + i * HV_PAGE_SIZE;
	fz_sys(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, ec, 0, 0, 0, 0, NULL);
	fz_sys(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 0) | HV_REVOKE_SELF, sc, 0, 0, 0, 0, NULL);
	fz_sys(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_MEM, 0, 0) | HV_REVOKE_SELF, alias, 0, 0, 0, 0, NULL);
	struct fz_victim *v = (struct fz_victim *)(page + HV_PAGE_SIZE) - 1;
	unsigned cpu = (unsigned)fz_below(r, fz_ncpus);
	v->seed = fz_rand(r);
	v->utcb = FZ_VA_UTCB + c->worker * FZ_VA_STRIDE + (c->utcb_next++ % FZ_UTCB_RING) * HV_PAGE_SIZE;
	v->cpu = cpu;
	v->worker = c->worker;
	v->ncalls = 4 + (unsigned)fz_below(r, 60);
	memcpy(v->recent, c->recent, sizeof(v->recent));
	memcpy(v->nrecent, c->nrecent, sizeof(v->nrecent));
	if (fz_sys(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, HV_SI_SEL_PD, HV_ITEM(HV_KIND_MEM, HV_R_MEM_R | HV_R_MEM_W, 0),
		   page, alias, 0, NULL) != HV_OK)
		return;
	hv_word_t sp = alias + HV_PAGE_SIZE - sizeof(*v);
	if (fz_sys(c, HV_SYS_CREATE_EC, ec, HV_SI_SEL_PD, HV_EC_FLAGS(cpu, 1, FZ_SEL_EXC + 64 * cpu), v->utcb, sp,
		   (hv_word_t)fz_victim_entry, NULL) != HV_OK)
		return;
	/* mostly at most the worker's priority; sometimes above it (allowed or
	 * not, a victim never spins: it ends in a fault or a wait) */
	unsigned prio = 1 + (unsigned)fz_below(r, c->prio);
	if (fz_chance(r, 4))
		prio = c->prio + 1 + (unsigned)fz_below(r, HV_PRIO_MAX - c->prio);
	unsigned us = fz_chance(r, 2) ? 0 : 100 + (unsigned)fz_below(r, 10000);
	if (fz_sys(c, HV_SYS_CREATE_SC, sc, HV_SI_SEL_PD, ec, HV_QOS(prio, us), 0, 0, NULL) == HV_OK)
		fz_event(FZ_EV_VICTIMS);
	fz_remember(c, ec, HV_OBJ_EC);
}

/* ---- handlers ------------------------------------------------------------------- */

static struct fz_handler *self(void)
{
	hv_sel_t ec = hv_tls()->ec;
	for (unsigned i = 0; i < fz_nhandlers; i++)
		if (fz_handlers[i].ec == ec)
			return &fz_handlers[i];
	return &fz_handlers[0];
}

struct fz_handler *fz_handler_pick(struct fz_ctx *c, unsigned kind)
{
	unsigned cpu = fz_chance(&c->rng, 4) ? (unsigned)fz_below(&c->rng, fz_ncpus) : c->cpu;
	unsigned n = (unsigned)fz_below(&c->rng, 2);
	struct fz_handler *last = &fz_handlers[0];
	for (unsigned i = 0; i < fz_nhandlers; i++)
		if (fz_handlers[i].kind == kind && fz_handlers[i].cpu == cpu) {
			last = &fz_handlers[i];
			if (!n--)
				break;
		}
	return last;
}

HV_PORTAL_ENTRY(fz_rand_entry, fz_rand_serve);

/*
 * Calls: a few random operations of its own (never waiting: it runs on its
 * caller's SC), then a random reply. A stop only where the caller allowed
 * it (a worker's call never does) or for an event (tag 0).
 */
hv_word_t fz_rand_serve(hv_word_t id, hv_word_t tag)
{
	(void)id;
	struct fz_handler *h = self();
	struct fz_ctx c = { .rng = h->rng, .utcb = hv_utcb(), .role = FZ_HANDLER, .cpu = h->cpu, .prio = fz_prio };
	c.part = FZ_SEL_PLAY + (unsigned)(h - fz_handlers) % fz_nworkers * fz_part_size;
	bool stop_ok = (tag & HV_TAG_EVENT) || (HV_TAG_UNTYPED(tag) && (c.utcb->mr[0] & FZ_STOP_MASK) == FZ_STOP_OK);
	fz_event(FZ_EV_CALLS_IN);
	for (unsigned n = (unsigned)fz_below(&c.rng, 3); n; n--)
		fz_op(&c);
	hv_word_t reply;
	fz_message(&c, &reply, true);
	reply &= ~HV_TAG_STOP;
	if (stop_ok && fz_chance(&c.rng, 6)) {
		reply |= HV_TAG_STOP;
		fz_event(FZ_EV_STOPS);
	}
	h->rng = c.rng;
	return reply;
}

HV_PORTAL_ENTRY(fz_exc_entry, fz_exc_serve);

/*
 * Exceptions of victims and of ECs the fuzzer made up: stop the EC, or
 * send it back with registers and flags of no use to it (never a mapped
 * address: it might be running fuzzer code), or to fz_pad.
 */
hv_word_t fz_exc_serve(hv_word_t id, hv_word_t tag)
{
	(void)id;
	struct fz_handler *h = self();
	struct fz_rng *r = &h->rng;
	struct hv_cpu_state *st = &hv_utcb()->st;
	if (!(tag & HV_TAG_EVENT)) /* a plain call, not an exception */
		return HV_TAG(0, 0);
	fz_event(FZ_EV_EXC);
	if (fz_chance(r, 4)) {
		fz_event(FZ_EV_STOPS);
		return HV_TAG_STOP;
	}
	hv_word_t got = st->mtd, m = fz_rand(r) & (HV_MTD_EC_ALL & ~HV_MTD_QUAL);
	hv_word_t *gpr = &st->rax;
	for (unsigned i = 0; i < 15; i++) /* rax .. r15 */
		gpr[i] = fz_hostile(r);
	if (!(got & HV_MTD_RSP) || fz_chance(r, 8))
		st->rsp = fz_hostile(r);
	if (!(got & HV_MTD_RIP_LEN) || fz_chance(r, 2))
		st->rip = fz_chance(r, 8) ? fz_hostile(r) : (hv_word_t)fz_pad;
	st->rflags = fz_word(r);
	st->mtd = m;
	return 0;
}

HV_PORTAL_ENTRY(fz_vmm_entry, fz_vmm_serve);

/* VM exits: a hostile VMM's replies (vm.c). */
hv_word_t fz_vmm_serve(hv_word_t id, hv_word_t tag)
{
	(void)id;
	struct fz_handler *h = self();
	if (!(tag & HV_TAG_EVENT))
		return HV_TAG(0, 0);
	fz_event(FZ_EV_VMEXIT);
	fz_vm_reply(&h->rng, &hv_utcb()->st);
	if (fz_chance(&h->rng, 32)) {
		fz_event(FZ_EV_STOPS);
		return HV_TAG_STOP;
	}
	return 0;
}

hv_word_t fz_handler_ip(unsigned kind)
{
	return kind == FZ_H_RAND ? (hv_word_t)fz_rand_entry
	       : kind == FZ_H_EXC ? (hv_word_t)fz_exc_entry
				  : (hv_word_t)fz_vmm_entry;
}

/* Per CPU two call handlers, one exception and one VM-exit handler, and the
 * victims' exception portals of that CPU. */
hv_status_t fz_handlers_init(void)
{
	static const unsigned kinds[] = { FZ_H_RAND, FZ_H_RAND, FZ_H_EXC, FZ_H_VMM };
	struct fz_rng r = { fz_seed_of(fz_seed, 1000) };
	for (unsigned cpu = 0; cpu < fz_ncpus; cpu++) {
		for (unsigned k = 0; k < 4; k++) {
			struct fz_handler *h = &fz_handlers[fz_nhandlers];
			hv_status_t st = hv_handler_create(cpu, &h->ec);
			if (st != HV_OK)
				return st;
			h->cpu = cpu;
			h->kind = kinds[k];
			h->ip = fz_handler_ip(h->kind);
			h->rng.s = fz_seed_of(fz_seed, 2000 + fz_nhandlers++);
		}
		struct fz_handler *exc = &fz_handlers[fz_nhandlers - 2];
		for (unsigned e = 0; e <= HV_EVT_RECALL; e++) {
			hv_word_t mtd = fz_chance(&r, 4) ? fz_rand(&r) & HV_MTD_EC_ALL : HV_MTD_EC_ALL;
			hv_status_t st = hv_create_pt(FZ_SEL_EXC + 64 * cpu + e, HV_SI_SEL_PD, exc->ec, mtd, exc->ip,
						      FZ_ID(FZ_H_EXC, cpu));
			if (st != HV_OK)
				return st;
		}
	}
	return HV_OK;
}
