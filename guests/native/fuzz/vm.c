/*
 * The fuzzer as a hostile VMM: VM PDs with guest memory at odd places, a
 * vCPU whose exit portals carry random MTDs, guest code made of the
 * instructions that exit (or should), and replies to VM exits with random
 * MTDs and state: valid start-up states with a few fields broken, skips,
 * injections of any event, window requests, stops.
 */
#include "fuzz.h"
#include <hv/vmexit.h>
#include <string.h>
#include <hv/vcpu.h>

/* ---- guest code ----------------------------------------------------------------- */

/* 16-bit code pieces; bytes whose bit is set in `rnd` are random. */
struct piece {
	uint8_t len;
	uint16_t rnd;
	uint8_t b[12];
};

static const struct piece pieces[] = {
	{ 2, 0, { 0x0f, 0xa2 } },                                         /* cpuid */
	{ 8, 0x3c, { 0x66, 0xb9, 0, 0, 0, 0, 0x0f, 0x32 } },               /* mov ecx, imm; rdmsr */
	{ 8, 0x3c, { 0x66, 0xb9, 0, 0, 0, 0, 0x0f, 0x30 } },               /* mov ecx, imm; wrmsr */
	{ 2, 2, { 0xe4, 0 } },                                            /* in al, imm8 */
	{ 2, 2, { 0xe6, 0 } },                                            /* out imm8, al */
	{ 4, 6, { 0xba, 0, 0, 0xec } },                                   /* mov dx, imm; in al, dx */
	{ 5, 6, { 0xba, 0, 0, 0x66, 0xef } },                             /* mov dx, imm; out dx, eax */
	{ 5, 6, { 0xba, 0, 0, 0xf3, 0x6d } },                             /* rep insw */
	{ 1, 0, { 0x6e } },                                               /* outsb */
	{ 1, 0, { 0xf4 } },                                               /* hlt */
	{ 3, 0, { 0x0f, 0x01, 0xc1 } },                                   /* vmcall */
	{ 3, 0, { 0x0f, 0x01, 0xd9 } },                                   /* vmmcall */
	{ 3, 0, { 0x0f, 0x01, 0xc2 } },                                   /* vmlaunch */
	{ 3, 0, { 0x0f, 0x01, 0xd8 } },                                   /* vmrun */
	{ 3, 0, { 0x0f, 0x01, 0xda } },                                   /* vmload */
	{ 3, 0, { 0x0f, 0x01, 0xdd } },                                   /* clgi */
	{ 3, 0, { 0x0f, 0x01, 0xde } },                                   /* skinit */
	{ 3, 0, { 0x0f, 0x01, 0xdf } },                                   /* invlpga */
	{ 6, 0x30, { 0xf3, 0x0f, 0xc7, 0x36, 0, 0 } },                    /* vmxon [disp16] */
	{ 5, 0x18, { 0x0f, 0xc7, 0x36, 0, 0 } },                          /* vmptrld */
	{ 3, 0, { 0x0f, 0x78, 0xc0 } },                                   /* vmread */
	{ 7, 0x60, { 0x66, 0x0f, 0x38, 0x80, 0x36, 0, 0 } },              /* invept */
	{ 6, 0, { 0x66, 0x31, 0xc9, 0x0f, 0x01, 0xd1 } },                 /* xor ecx, ecx; xsetbv */
	{ 2, 0, { 0x0f, 0x08 } },                                         /* invd */
	{ 2, 0, { 0x0f, 0x09 } },                                         /* wbinvd */
	{ 3, 0, { 0x0f, 0x01, 0xf9 } },                                   /* rdtscp */
	{ 2, 0, { 0x0f, 0x33 } },                                         /* rdpmc */
	{ 3, 0, { 0x0f, 0x01, 0xc8 } },                                   /* monitor */
	{ 3, 0, { 0x0f, 0x01, 0xc9 } },                                   /* mwait */
	{ 9, 0x3c, { 0x66, 0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xc0 } },         /* mov cr0, eax */
	{ 9, 0x3c, { 0x66, 0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xe0 } },         /* mov cr4, eax */
	{ 9, 0x3c, { 0x66, 0xb8, 0, 0, 0, 0, 0x0f, 0x22, 0xd8 } },         /* mov cr3, eax */
	{ 10, 0x3c, { 0x66, 0xb8, 0, 0, 0, 0, 0xf0, 0x0f, 0x22, 0xc0 } },  /* lock mov cr0: cr8 on AMD */
	{ 9, 0x3c, { 0x66, 0xb8, 0, 0, 0, 0, 0x0f, 0x23, 0xf8 } },         /* mov dr7, eax */
	{ 10, 0, { 0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0 } }, /* CR0.PE on */
	{ 5, 0x18, { 0x0f, 0x01, 0x16, 0, 0 } },                          /* lgdt [disp16] */
	{ 5, 0x18, { 0x0f, 0x01, 0x1e, 0, 0 } },                          /* lidt [disp16] */
	{ 6, 6, { 0xb8, 0, 0, 0x0f, 0x00, 0xd8 } },                       /* mov ax, imm; ltr ax */
	{ 5, 6, { 0xb8, 0, 0, 0x8e, 0xd0 } },                             /* mov ax, imm; mov ss, ax */
	{ 5, 6, { 0xb8, 0, 0, 0x8e, 0xd8 } },                             /* mov ax, imm; mov ds, ax */
	{ 1, 0, { 0xfb } },                                               /* sti */
	{ 1, 0, { 0xfa } },                                               /* cli */
	{ 1, 0, { 0x9d } },                                               /* popf */
	{ 1, 0, { 0xcf } },                                               /* iret */
	{ 1, 0, { 0xcc } },                                               /* int3 */
	{ 2, 2, { 0xcd, 0 } },                                            /* int imm8 */
	{ 1, 0, { 0xf1 } },                                               /* int1 */
	{ 2, 0, { 0x0f, 0x0b } },                                         /* ud2 */
	{ 2, 0, { 0x0f, 0x06 } },                                         /* clts */
	{ 2, 0, { 0x0f, 0x34 } },                                         /* sysenter */
	{ 2, 0, { 0x0f, 0x05 } },                                         /* syscall */
	{ 5, 0x18, { 0x0f, 0x01, 0x3e, 0, 0 } },                          /* invlpg [disp16] */
	{ 5, 0x1e, { 0xea, 0, 0, 0, 0 } },                                /* jmp far seg:off */
	{ 3, 6, { 0xbc, 0, 0 } },                                         /* mov sp, imm */
	{ 8, 0xfc, { 0x66, 0xc7, 0x06, 0, 0, 0, 0, 0 } },                 /* mov dword [disp16], imm */
	{ 10, 0x3c6, { 0xb8, 0, 0, 0x8e, 0xc0, 0x26, 0xc7, 0x06, 0, 0 } }, /* es: mov word [..], imm */
	{ 2, 3, { 0xf0, 0 } },                                            /* lock, anything */
	{ 1, 1, { 0 } },                                                  /* a random byte */
	{ 2, 0, { 0xeb, 0xfe } },                                         /* jmp $ (until preempted) */
};

/* Guest memory: random bytes, and at FZ_GUEST_CODE a loop of pieces. */
void fz_guest_init(void)
{
	struct fz_rng r = { fz_seed_of(fz_seed, 3000) };
	uint8_t *g = (uint8_t *)fz_guest;
	for (hv_word_t i = 0; i < FZ_GUEST_PAGES * HV_PAGE_SIZE; i += 8) {
		uint64_t v = fz_rand(&r);
		memcpy(g + i, &v, 8);
	}
	uint8_t *p = g + FZ_GUEST_CODE, *end = p + HV_PAGE_SIZE - 16;
	while (p < end) {
		unsigned n = (unsigned)fz_below(&r, sizeof(pieces) / sizeof(pieces[0]));
		if (n == sizeof(pieces) / sizeof(pieces[0]) - 1 && !fz_chance(&r, 8))
			continue; /* few endless loops */
		const struct piece *pc = &pieces[n];
		if (p + pc->len > end)
			break;
		for (unsigned i = 0; i < pc->len; i++)
			p[i] = pc->rnd & (1u << i) ? (uint8_t)fz_rand(&r) : pc->b[i];
		p += pc->len;
	}
	int16_t back = (int16_t)-(p + 3 - (g + FZ_GUEST_CODE));
	p[0] = 0xe9; /* jmp near back to the start */
	memcpy(p + 1, &back, 2);
}

/* ---- exit replies ----------------------------------------------------------------- */

/* What a VMM gives a vCPU at STARTUP: real mode at 1000:0000. */
static void start_state(struct hv_cpu_state *st)
{
	hv_vcpu_real_mode(st, FZ_GUEST_CODE >> 4, 0x8000);
}

static hv_word_t pick(struct fz_rng *r, const hv_word_t *v, unsigned n)
{
	return fz_chance(r, 4) ? fz_word(r) : v[fz_below(r, n)];
}
#define PICK(r, ...) pick(r, (const hv_word_t[]){ __VA_ARGS__ }, sizeof((hv_word_t[]){ __VA_ARGS__ }) / 8)

static void seg(struct fz_rng *r, struct hv_seg *s)
{
	s->sel = fz_word(r) & 0xffff;
	s->ar = PICK(r, 0x9b, 0x93, 0xc09b, 0xa09b, 0x10000, 0x8b, 0x82, 0xf3, 0x1b);
	s->limit = PICK(r, 0xffff, 0xffffffff, 0, 0xfffff);
	s->base = PICK(r, 0, 0x10000, 0xffff0000, 1ul << 32, 0x8000000000000000ul);
}

/* Breaks one field of the state (and names it in the MTD); fz_vm_field
 * (module argument vmfield=N) keeps it to one kind, to narrow a finding. */
static void perturb(struct fz_rng *r, struct hv_cpu_state *st)
{
	switch (fz_vm_field < 20 ? fz_vm_field : fz_below(r, 20)) {
	case 0:
		st->cr0 = PICK(r, 0x10, 0x11, 0x60000010, 0x80000011, 0x80000001, 0x20);
		st->mtd |= HV_MTD_CR;
		break;
	case 1:
		st->cr4 = PICK(r, 0, 1ul << 13, 0x20, 0xa0, 1ul << 18, 1ul << 17);
		st->mtd |= HV_MTD_CR;
		break;
	case 2:
		st->cr3 = fz_word(r);
		st->mtd |= HV_MTD_CR;
		break;
	case 3:
		st->efer = PICK(r, 0, 0x100, 0x400, 0x500, 0x1000, 0xd01, 0x800);
		st->mtd |= HV_MTD_EFER;
		break;
	case 4:
		st->pat = fz_word(r);
		st->mtd |= HV_MTD_EFER;
		break;
	case 5:
		st->rflags = PICK(r, 2, 0x202, 0x20002, 0x102, 0x3002, 0x40002, 0);
		st->mtd |= HV_MTD_RFLAGS;
		break;
	case 6:
		st->rip = fz_word(r);
		st->mtd |= HV_MTD_RIP_LEN;
		break;
	case 7:
		st->rsp = fz_word(r);
		st->mtd |= HV_MTD_RSP;
		break;
	case 8:
		seg(r, &st->cs);
		st->mtd |= HV_MTD_CS_SS;
		break;
	case 9:
		seg(r, &st->ss);
		st->mtd |= HV_MTD_CS_SS;
		break;
	case 10:
		seg(r, fz_chance(r, 2) ? &st->ds : &st->es);
		st->mtd |= HV_MTD_DS_ES;
		break;
	case 11:
		seg(r, fz_chance(r, 2) ? &st->fs : &st->gs);
		st->mtd |= HV_MTD_FS_GS;
		break;
	case 12:
		seg(r, &st->tr);
		st->mtd |= HV_MTD_TR;
		break;
	case 13:
		seg(r, &st->ldtr);
		st->mtd |= HV_MTD_LDTR;
		break;
	case 14:
		seg(r, fz_chance(r, 2) ? &st->gdtr : &st->idtr);
		st->mtd |= HV_MTD_GDTR | HV_MTD_IDTR;
		break;
	case 15:
		st->intr_state = fz_below(r, 32);
		st->actv_state = fz_below(r, 5);
		st->mtd |= HV_MTD_STA;
		break;
	case 16:
		st->inj_info = (fz_chance(r, 8) ? 0 : HV_INJ_VALID) | (fz_below(r, 8) << 8) | fz_below(r, 256) |
			       (fz_chance(r, 2) ? HV_INJ_ERRCODE : 0) | (fz_chance(r, 16) ? fz_word(r) << 12 : 0);
		st->inj_error = fz_word(r);
		st->mtd |= HV_MTD_INJ;
		break;
	case 17:
		st->dr7 = fz_word(r);
		st->mtd |= HV_MTD_DR;
		break;
	case 18:
		st->sysenter_cs = fz_word(r);
		st->sysenter_esp = fz_word(r);
		st->sysenter_eip = fz_word(r);
		st->mtd |= HV_MTD_SYSENTER;
		break;
	default:
		st->tsc_offset = fz_word(r);
		st->mtd |= HV_MTD_TSC;
	}
}

/*
 * QEMU 7.2's AMD-V leaves the host's CR0 as the guest's at a #VMEXIT when
 * the guest has EFER.LME set without CR0.PG and CR4.PAE (it restores CR0
 * before EFER and refuses paging with LME but no PAE): the host then runs
 * without paging and is lost. No real CPU does that; the fuzzer keeps
 * every state it writes clear of it, so as to find other things.
 */
static void qemu_safe(struct hv_cpu_state *st)
{
	st->mtd |= HV_MTD_CR | HV_MTD_EFER;
	if ((st->efer & 0x100) && (!(st->cr0 & 0x80000000ul) || !(st->cr4 & 0x20)))
		st->efer &= ~0x500ul;
}

static void reply(struct fz_rng *r, struct hv_cpu_state *st);

void fz_vm_reply(struct fz_rng *r, struct hv_cpu_state *st)
{
	reply(r, st);
	qemu_safe(st);
}

static void reply(struct fz_rng *r, struct hv_cpu_state *st)
{
	if (st->event == HV_VMEVT_STARTUP || fz_chance(r, 32)) {
		start_state(st);
		for (unsigned n = (unsigned)fz_below(r, 3); n; n--)
			perturb(r, st);
		return;
	}
	switch (fz_below(r, 8)) {
	case 0:
		st->mtd = 0;
		break;
	case 1:
	case 2:
	case 3:
	case 4: /* skip the instruction, as a VMM that emulated it */
		st->rip += st->inst_len ? st->inst_len : 1 + fz_below(r, 3);
		st->mtd = HV_MTD_RIP_LEN;
		break;
	case 5:
		st->mtd = 0;
		perturb(r, st);
		break;
	case 6: /* an event, and skip */
		st->mtd = HV_MTD_RIP_LEN;
		st->rip += st->inst_len;
		st->inj_info = HV_INJ_VALID | (PICK(r, 0, 2, 3, 4, 6) << 8) | fz_below(r, 256) |
			       (fz_chance(r, 2) ? HV_INJ_ERRCODE : 0);
		st->inj_error = fz_word(r);
		st->mtd |= HV_MTD_INJ;
		break;
	default: /* whatever the message holds, any of it */
		st->mtd = fz_rand(r) & HV_MTD_ALL;
	}
	if (fz_chance(r, 8)) {
		st->ctrl[0] = fz_chance(r, 4) ? fz_word(r) : fz_below(r, 4);
		st->mtd |= HV_MTD_CTRL;
	}
}

/* ---- VM set-up ---------------------------------------------------------------------- */

static const uint8_t reasons[] = {
	EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_TRIPLE_FAULT,
	EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_NMI_WINDOW, EXIT_REASON_TASK_SWITCH, EXIT_REASON_CPUID,
	EXIT_REASON_HLT, EXIT_REASON_INVD, EXIT_REASON_VMCALL, EXIT_REASON_CR_ACCESS, EXIT_REASON_DR_ACCESS,
	EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_MWAIT_INSTRUCTION,
	EXIT_REASON_EPT_VIOLATION, EXIT_REASON_WBINVD, HV_VMEVT_RECALL,
};

/*
 * Replaces the worker's VM: revokes the last one (PD, vCPU, SC and exit
 * portals: one aligned block of its partition), then builds a new one on
 * a random CPU with exit portals for STARTUP and some other reasons.
 */
void fz_vm_spawn(struct fz_ctx *c)
{
	struct fz_rng *r = &c->rng;
	hv_sel_t pd = c->part + FZ_VM_SLOT, vcpu = pd + 1, sc = pd + 2, pt = pd + 3;
	fz_sys(c, HV_SYS_REVOKE, HV_ITEM(HV_KIND_OBJ, 0, 5) | HV_REVOKE_SELF, pd, 0, 0, 0, 0, NULL);
	if (fz_sys(c, HV_SYS_CREATE_PD, pd, HV_SI_SEL_PD, (48 << 10) + fz_below(r, 64 << 10), HV_PD_VM,
		   fz_max_prio, fz_cpus, NULL) != HV_OK)
		return;
	fz_sys(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, pd, HV_ITEM(HV_KIND_GMEM, HV_R_MEM_RWX, 6), fz_guest, 0, 0, NULL);
	for (unsigned n = (unsigned)fz_below(r, 4); n; n--) {
		unsigned o = fz_order(r);
		fz_sys(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, pd, HV_ITEM(HV_KIND_GMEM, fz_rights(r), o), fz_addr_src(r, o),
		       fz_gpa(r, o), 0, NULL);
	}
	unsigned cpu = (unsigned)fz_below(r, fz_ncpus);
	hv_word_t evt = fz_chance(r, 4) ? fz_below(r, HV_SEL_MAX - HV_VMEVT_COUNT) : 0;
	struct fz_handler *h = NULL;
	for (unsigned i = 0; i < fz_nhandlers; i++)
		if (fz_handlers[i].kind == FZ_H_VMM && fz_handlers[i].cpu == cpu)
			h = &fz_handlers[i];
	for (unsigned i = 0; h && i < FZ_VM_PORTALS; i++) {
		unsigned reason = i == 0 ? HV_VMEVT_STARTUP : reasons[fz_below(r, sizeof(reasons))];
		if (fz_chance(r, 16))
			reason = (unsigned)fz_below(r, 256);
		hv_word_t mtd = fz_chance(r, 4) ? fz_rand(r) & HV_MTD_ALL : HV_MTD_ALL;
		if (fz_sys(c, HV_SYS_CREATE_PT, pt + i, HV_SI_SEL_PD, h->ec, mtd, h->ip, FZ_ID(FZ_H_VMM, cpu), NULL) ==
		    HV_OK)
			fz_sys(c, HV_SYS_DELEGATE, HV_SI_SEL_PD, pd, HV_ITEM(HV_KIND_OBJ, HV_R_PT_CALL, 0), pt + i,
			       evt + reason, 0, NULL);
	}
	if (fz_sys(c, HV_SYS_CREATE_EC, vcpu, pd, HV_EC_FLAGS(cpu, 1, evt) | HV_EC_VCPU, 0, 0, 0, NULL) != HV_OK)
		return;
	/* the workers' priority (the vCPU shares their CPU; below, it would
	 * mostly wait for them), short time slices */
	unsigned us = 100 + (unsigned)fz_below(r, 2000);
	unsigned prio = fz_chance(r, 4) ? 1 + (unsigned)fz_below(r, c->prio) : c->prio;
	if (fz_sys(c, HV_SYS_CREATE_SC, sc, HV_SI_SEL_PD, vcpu, HV_QOS(prio, us), 0, 0, NULL) == HV_OK)
		fz_event(FZ_EV_VMS);
	/* a nap, so that a vCPU on this CPU runs before the next VM replaces it */
	fz_sys(c, HV_SYS_SM_CTRL, c->nap, HV_SM_DOWN, hv_rdtsc() + (1 + fz_below(r, 3)) * fz_tsc_khz, 0, 0, 0, NULL);
	fz_remember(c, vcpu, HV_OBJ_EC);
	fz_remember(c, pd, HV_OBJ_PD);
}
