#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include <stdint.h>

/*
 * The test guest's device (guests/test/README.md): ports 0x510 (reads
 * 0x12345678) and 0x514 (last value written to 0x510), 0x518 (timer: delay
 * in microseconds, then vector 0x30), 0x501 (exit with a code); MMIO at
 * 0xfeb00000: 0x00 scratch, 0x08 constant, 0x10 write count. Requests the
 * VMM carries out (vmm/testsupport.c): 0x504 (out: inject an NMI as soon
 * as the guest can take it), 0x508 (out 1: take the test page at
 * TESTDEV_PAGE_GPA away until the guest touches it again; in: how many
 * exits on it interrupted an event delivery), 0x50c (in: the last such
 * event, VMX IDT-vectoring format), 0x520 (in: an address of VMM code that
 * runs at every exit, for a guest breakpoint that must not fire there).
 */
#define TESTDEV_MMIO_BASE 0xfeb00000ull
#define TESTDEV_TIMER_VECTOR 0x30
#define TESTDEV_MODE_EVENTS 4u /* port 0x51c: the VMM carries out 0x504 and 0x508 */
#define TESTDEV_MODE_ACLOOP 16u /* port 0x51c: the guest makes the #AC delivery loop instead of its checks */
#define TESTDEV_PAGE_GPA 0xfea00000ull /* one page of RAM the VMM can take away */

struct testdev {
	uint64_t last_out, scratch, writes;
	uint64_t timer_us;  /* a timer request the VMM turns into a deadline */
	int exit_code;      /* >= 0 once the guest wrote the exit port */
	uint32_t mode;      /* what port 0x51c reads: MODE_* bits, guest id << 8 */
	uint32_t nmi_requests; /* NMIs asked for, not yet taken over by the VMM */
	uint32_t page_cmd;     /* a test-page request, 0 once taken over */
	uint32_t vect_exits, last_vect; /* set by the VMM */
	uint32_t host_code;    /* port 0x520: an address of VMM code that runs at every exit */
};

uint64_t testdev_pio_read(void *ctx, uint64_t off, unsigned size);
void testdev_pio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t testdev_mmio_read(void *ctx, uint64_t off, unsigned size);
void testdev_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

#endif
