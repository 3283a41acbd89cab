/*
 * What a VMM (or a test that plays one) replies to a vCPU's STARTUP event:
 * real mode, CS:IP = cs:0000, everything else as a PC after reset. Header
 * only; used by vmm/, guests/native/vcputest and guests/native/fuzz.
 */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <hv/abi.h>

static inline void hv_vcpu_real_mode(struct hv_cpu_state *st, hv_word_t cs, hv_word_t rsp)
{
	struct hv_seg data = { 0, 0x93, 0xffff, 0 };
	st->cs = (struct hv_seg){ cs, 0x9b, 0xffff, cs << 4 };
	st->ds = st->es = st->ss = st->fs = st->gs = data;
	st->ldtr = (struct hv_seg){ 0, 0x82, 0xffff, 0 };
	st->tr = (struct hv_seg){ 0, 0x8b, 0xffff, 0 };
	st->gdtr = st->idtr = (struct hv_seg){ 0, 0, 0xffff, 0 };
	st->rip = 0;
	st->rsp = rsp;
	st->rflags = 2;
	st->cr0 = 0x10;
	st->cr2 = st->cr3 = st->cr4 = 0;
	st->dr7 = 0x400;
	st->efer = 0;
	st->pat = 0x0007040600070406ull;
	st->intr_state = st->actv_state = 0;
	st->inj_info = 0;
	st->ctrl[0] = 0;
	st->mtd = HV_MTD_CS_SS | HV_MTD_DS_ES | HV_MTD_FS_GS | HV_MTD_TR | HV_MTD_LDTR | HV_MTD_GDTR | HV_MTD_IDTR |
		  HV_MTD_RIP_LEN | HV_MTD_RSP | HV_MTD_RFLAGS | HV_MTD_CR | HV_MTD_DR | HV_MTD_EFER | HV_MTD_STA |
		  HV_MTD_INJ | HV_MTD_CTRL;
}

#endif
