#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include <stdint.h>

/*
 * The test guest's device (guests/test/README.md): ports 0x510 (reads
 * 0x12345678) and 0x514 (last value written to 0x510), 0x518 (timer: delay
 * in microseconds, then vector 0x30), 0x501 (exit with a code); MMIO at
 * 0xfeb00000: 0x00 scratch, 0x08 constant, 0x10 write count.
 */
#define TESTDEV_MMIO_BASE 0xfeb00000ull
#define TESTDEV_TIMER_VECTOR 0x30

struct testdev {
	uint64_t last_out, scratch, writes;
	uint64_t timer_us;  /* a timer request the VMM turns into a deadline */
	int exit_code;      /* >= 0 once the guest wrote the exit port */
	uint32_t mode;      /* what port 0x51c reads: MODE_* bits, guest id << 8 */
};

uint64_t testdev_pio_read(void *ctx, uint64_t off, unsigned size);
void testdev_pio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t testdev_mmio_read(void *ctx, uint64_t off, unsigned size);
void testdev_mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t val);

#endif
