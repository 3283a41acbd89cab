/* CPUID policy for Linux guests (cpuid.c). */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stdint.h>

/* r[0..3] = eax, ebx, ecx, edx of leaf/sub as vCPU vcpu of nvcpus sees it
 * (cr4: the guest's CR4, for OSXSAVE). */
void cpuid_linux(uint32_t leaf, uint32_t sub, unsigned vcpu, unsigned nvcpus, uint64_t cr4, uint32_t r[4]);

#endif
