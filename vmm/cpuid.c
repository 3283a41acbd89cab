/*
 * What a Linux guest sees through CPUID (vmm/README.md documents it): the
 * host's features minus what this VMM does not virtualise (VMX, MONITOR,
 * performance counters, machine checks, MTRRs, PCID/INVPCID, RDTSCP/RDPID,
 * XSAVES, speculation-control MSRs, the invariant-TSC bit so that Linux keeps
 * kvm-clock as its clocksource, AMD's SVM and extended counters, ...),
 * plus an x2APIC with TSC-deadline timer, a topology of nvcpus cores, and
 * KVM's paravirtual leaves with kvmclock. The same answers on every vCPU
 * except the APIC ids.
 */
#include "cpuid.h"
#include <string.h>

#define BIT(n) (1u << (n))

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* APIC-id bits for n cores */
static unsigned core_bits(unsigned n)
{
	unsigned bits = 0;
	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* XSAVE components offered: x87, SSE, AVX and the three AVX-512 parts */
#define XCR0_OFFERED 0xe7u

void cpuid_linux(uint32_t leaf, uint32_t sub, unsigned vcpu, unsigned nvcpus, uint64_t cr4, uint32_t r[4])
{
	uint32_t h[4];
	memset(r, 0, 16);
	if (leaf >= 0x40000000u && leaf < 0x40000100u) {
		if (leaf == 0x40000000u) {
			r[0] = 0x40000001u;
			memcpy(&r[1], "KVMK", 4);
			memcpy(&r[2], "VMKV", 4);
			memcpy(&r[3], "M\0\0\0", 4);
		} else if (leaf == 0x40000001u) {
			/* CLOCKSOURCE, NOP_IO_DELAY, CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT */
			r[0] = BIT(0) | BIT(1) | BIT(3) | BIT(24);
		}
		return;
	}
	host_cpuid(leaf & 0x80000000u, 0, h);
	uint32_t max = h[0];
	if (leaf < 0x80000000u && max > 0xd)
		max = 0xd;
	if (leaf >= 0x80000000u && max > 0x80000008u)
		max = 0x80000008u;
	if (leaf > max)
		return;
	host_cpuid(leaf, sub, r);
	switch (leaf) {
	case 0:
		r[0] = max;
		break;
	case 1:
		r[1] = (r[1] & 0xffffu) | (vcpu << 24) | ((nvcpus & 0xff) << 16);
		r[2] &= ~(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(14) | BIT(15) | BIT(17) |
			  BIT(18) | BIT(27));
		r[2] |= BIT(21) | BIT(24) | BIT(31); /* x2APIC, TSC deadline, hypervisor */
		if (cr4 & BIT(18))
			r[2] |= BIT(27); /* OSXSAVE follows the guest's CR4 */
		r[3] &= ~(BIT(7) | BIT(12) | BIT(14) | BIT(18) | BIT(21) | BIT(22) | BIT(29) | BIT(31));
		r[3] |= BIT(9);
		if (nvcpus > 1)
			r[3] |= BIT(28);
		else
			r[3] &= ~BIT(28);
		break;
	case 4:
		r[0] = (r[0] & 0x3fffu) | ((nvcpus - 1) << 26); /* one thread per core */
		break;
	case 5: /* MONITOR/MWAIT */
	case 6: /* thermal and power */
	case 0xa: /* performance monitoring */
		memset(r, 0, 16);
		break;
	case 7:
		if (sub != 0) {
			memset(r, 0, 16);
			break;
		}
		r[0] = 0;
		r[1] &= ~(BIT(1) | BIT(2) | BIT(4) | BIT(10) | BIT(11) | BIT(12) | BIT(14) | BIT(15) | BIT(25));
		r[2] &= ~(BIT(3) | BIT(4) | BIT(5) | BIT(16) | BIT(22) | BIT(30));
		r[3] = 0;
		break;
	case 0xb: /* x2APIC topology: cores only */
		r[3] = vcpu;
		if (sub == 0) {
			r[0] = 0;
			r[1] = 1;
			r[2] = BIT(8);
		} else if (sub == 1) {
			r[0] = core_bits(nvcpus);
			r[1] = nvcpus;
			r[2] = (2u << 8) | 1;
		} else {
			r[0] = r[1] = 0;
			r[2] = sub & 0xff;
		}
		break;
	case 0xd:
		if (sub == 0) {
			uint32_t end = 576;
			r[0] &= XCR0_OFFERED;
			r[3] = 0;
			for (unsigned i = 2; i < 8; i++) {
				uint32_t c[4];
				if (!(r[0] & BIT(i)))
					continue;
				host_cpuid(0xd, i, c);
				if (c[1] + c[0] > end)
					end = c[1] + c[0];
			}
			r[1] = r[2] = end; /* sizes for all offered components */
		} else if (sub == 1) {
			r[0] &= BIT(0) | BIT(2); /* XSAVEOPT, XGETBV1: the standard format only (no XSAVEC/XSAVES) */
			r[1] = r[2] = r[3] = 0;
		} else if (sub >= 32 || !(XCR0_OFFERED & BIT(sub))) {
			memset(r, 0, 16);
		}
		break;
	case 0x80000001:
		r[3] &= ~BIT(27); /* RDTSCP */
		/* AMD: SVM, OSVW, IBS, SKINIT, WDT, TOPOEXT and the extended performance counters */
		r[2] &= ~(BIT(2) | BIT(9) | BIT(10) | BIT(12) | BIT(13) | BIT(22) | BIT(23) | BIT(24) | BIT(28));
		break;
	case 0x80000008: /* AMD: nvcpus cores */
		r[2] = (nvcpus - 1) | (core_bits(nvcpus) << 12);
		break;
	case 0x80000007: /* no invariant-TSC bit: the guest's clocksource stays kvm-clock */
		memset(r, 0, 16);
		break;
	}
}
