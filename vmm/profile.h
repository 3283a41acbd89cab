/*
 * The exit profile (issue "performance", part 1): what a guest's VM exits
 * were, counted by the VMM. Every exit is counted per reason in its vCPU
 * (vcpu.exits[]); the busy kinds are also counted per key here: port I/O
 * per port, MSR accesses per MSR, MMIO per 4 KiB guest-physical page.
 *
 * The guest marks the profile by writing a 32-bit value to port
 * PC_PROFILE_PORT: 0 starts a new interval (counts so far are dropped),
 * any other value N prints what happened since the last mark as lines
 * "vmm: profile N: ..." and starts a new interval. The Linux guest's
 * /init brackets its benchmark workloads that way (`tsc mark N`), and a
 * person can do the same from the guest's shell. Exits the kernel handles
 * without the VMM are not seen here.
 */
#ifndef VMM_PROFILE_H
#define VMM_PROFILE_H

#include <stdint.h>

enum prof_kind { PROF_IO, PROF_MSR, PROF_MMIO, PROF_KINDS };

/* Counts one exit of kind k with key (port, MSR index, page address). */
void profile_count(enum prof_kind k, uint64_t key);

/* The mark port's write handler (a bus_dev write; ctx unused). */
void profile_port_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t profile_port_read(void *ctx, uint64_t off, unsigned size);

#endif
