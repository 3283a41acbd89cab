#ifndef DEVICES_RTC_CMOS_H
#define DEVICES_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/*
 * MC146818 real-time clock and its CMOS RAM. Bus mapping (ctx = struct rtc *):
 *   0x70-0x71  rtc_read/write   (off 0 index + NMI mask in bit 7, off 1 data)
 * Drives ISA IRQ 8 (raised when an enabled flag is set, lowered by reading
 * register C); the VMM calls rtc_update() when rtc_deadline() passes.
 */
struct rtc {
	const struct platform *pf;
	uint8_t cmos[128];
	uint8_t index;
	bool nmi_masked;          /* port 0x70 bit 7: the VMM may honour it */
	bool irq;
	int64_t epoch_s;          /* RTC time in Unix seconds at epoch_ns... */
	uint64_t epoch_ns;        /* ...a VM time on a second boundary */
	int64_t last_sec;         /* the second the last update cycle produced */
	uint64_t last_period;     /* periodic-interrupt periods seen */
};

/* Starts the clock at unix_seconds (now, in VM time) and fills in the CMOS
 * bytes a BIOS leaves: memory sizes from the RAM below and above 4 GiB,
 * century, checksum. */
void rtc_init(struct rtc *r, const struct platform *pf, uint64_t unix_seconds_at_start, uint64_t ram_below_4g,
	      uint64_t ram_above_4g);
uint64_t rtc_read(void *ctx, uint64_t off, unsigned size);
void rtc_write(void *ctx, uint64_t off, unsigned size, uint64_t val);
uint64_t rtc_deadline(const struct rtc *r);
void rtc_update(struct rtc *r, uint64_t now);
/* The RTC's current time in Unix seconds (for tests and the VMM's log). */
int64_t rtc_time(const struct rtc *r, uint64_t now);

#endif
