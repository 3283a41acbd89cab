/*
 * MC146818 RTC + CMOS RAM. The clock is a Unix time anchored to a VM time
 * (epoch_s at epoch_ns); the time registers are regenerated from it when
 * read, in BCD or binary and 12 or 24 hour format as register B asks. The
 * update cycle, alarm and periodic flags are computed when time moves on
 * (rtc_update, or a read of register C), so missed events coalesce.
 */
#include "rtc_cmos.h"
#include "platform.h"

#define NS_PER_S 1000000000ull
#define UIP_NS 244141ull          /* UIP is set this long before each update */

#define REG_SEC 0x00
#define REG_ALARM_SEC 0x01
#define REG_MIN 0x02
#define REG_ALARM_MIN 0x03
#define REG_HOUR 0x04
#define REG_ALARM_HOUR 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BIN 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static bool set_mode(const struct rtc *r)
{
	return r->cmos[REG_B] & B_SET;
}

int64_t rtc_time(const struct rtc *r, uint64_t now)
{
	if (now <= r->epoch_ns)
		return r->epoch_s;
	return r->epoch_s + (int64_t)((now - r->epoch_ns) / NS_PER_S);
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	v %= 100;
	return (uint8_t)(r->cmos[REG_B] & B_DM_BIN ? v : (v / 10) << 4 | v % 10);
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	return r->cmos[REG_B] & B_DM_BIN ? v : (v >> 4) * 10u + (v & 0xf);
}

static uint8_t hour_reg(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return to_reg(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

/* Regenerates the time registers from the clock. */
static void refresh(struct rtc *r, uint64_t now)
{
	int64_t t = rtc_time(r, now);
	int64_t days = floor_div(t, 86400);
	int64_t sod = t - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0)
		y = 0;
	r->cmos[REG_SEC] = to_reg(r, (unsigned)(sod % 60));
	r->cmos[REG_MIN] = to_reg(r, (unsigned)(sod / 60 % 60));
	r->cmos[REG_HOUR] = hour_reg(r, (unsigned)(sod / 3600));
	r->cmos[REG_WDAY] = to_reg(r, (unsigned)(((days % 7) + 11) % 7 + 1)); /* Sunday = 1 */
	r->cmos[REG_MDAY] = to_reg(r, d);
	r->cmos[REG_MONTH] = to_reg(r, m);
	r->cmos[REG_YEAR] = to_reg(r, (unsigned)(y % 100));
	r->cmos[REG_CENTURY] = to_reg(r, (unsigned)(y / 100 % 100));
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The time the guest wrote into the registers (out-of-range fields clamped). */
static int64_t regs_time(const struct rtc *r)
{
	unsigned sec = clamp(from_reg(r, r->cmos[REG_SEC]), 0, 59);
	unsigned min = clamp(from_reg(r, r->cmos[REG_MIN]), 0, 59);
	uint8_t hr = r->cmos[REG_HOUR];
	unsigned hour;
	if (r->cmos[REG_B] & B_24H)
		hour = clamp(from_reg(r, hr), 0, 23);
	else
		hour = clamp(from_reg(r, hr & 0x7f), 1, 12) % 12 + (hr & 0x80 ? 12 : 0);
	unsigned day = clamp(from_reg(r, r->cmos[REG_MDAY]), 1, 31);
	unsigned mon = clamp(from_reg(r, r->cmos[REG_MONTH]), 1, 12);
	unsigned year = from_reg(r, r->cmos[REG_YEAR]) % 100;
	unsigned cent = from_reg(r, r->cmos[REG_CENTURY]) % 100;
	int64_t days = days_from_civil((int64_t)(cent * 100 + year), mon, day);
	return days * 86400 + hour * 3600 + min * 60 + sec;
}

/* Restarts the clock at time t, keeping the sub-second phase. */
static void set_clock(struct rtc *r, int64_t t, uint64_t now, bool keep_phase)
{
	uint64_t phase = keep_phase && now > r->epoch_ns ? (now - r->epoch_ns) % NS_PER_S : 0;
	r->epoch_s = t;
	r->epoch_ns = now - phase;
	r->last_sec = t;
}

static uint64_t period_ticks(const struct rtc *r)
{
	unsigned rate = r->cmos[REG_A] & 0xf;
	if (!rate)
		return 0;
	return rate <= 2 ? 1ull << (rate + 6) : 1ull << (rate - 1);
}

/* 32.768 kHz time-base ticks at VM time ns. */
static uint64_t ticks_32k(uint64_t ns)
{
	return ns / NS_PER_S * 32768 + ns % NS_PER_S * 32768 / NS_PER_S;
}

static uint64_t ticks_32k_to_ns(uint64_t t)
{
	if (t / 32768 >= UINT64_MAX / NS_PER_S - 1)
		return UINT64_MAX;
	return t / 32768 * NS_PER_S + (t % 32768 * NS_PER_S + 32767) / 32768;
}

static void update_irq(struct rtc *r)
{
	uint8_t *c = &r->cmos[REG_C];
	if ((*c & r->cmos[REG_B] & (C_PF | C_AF | C_UF)) && !(*c & C_IRQF)) {
		*c |= C_IRQF;
		r->irq = true;
		platform_irq(r->pf, 8, true);
	}
}

static bool alarm_match(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xc0) == 0xc0 || alarm == now;
}

void rtc_update(struct rtc *r, uint64_t now)
{
	uint64_t p = period_ticks(r);
	if (p) {
		uint64_t k = ticks_32k(now) / p;
		if (k > r->last_period) {
			r->cmos[REG_C] |= C_PF;
			r->last_period = k;
		}
	}
	if (!set_mode(r) && rtc_time(r, now) > r->last_sec) {
		r->last_sec = rtc_time(r, now);
		refresh(r, now);
		r->cmos[REG_C] |= C_UF;
		if (alarm_match(r->cmos[REG_ALARM_SEC], r->cmos[REG_SEC]) &&
		    alarm_match(r->cmos[REG_ALARM_MIN], r->cmos[REG_MIN]) &&
		    alarm_match(r->cmos[REG_ALARM_HOUR], r->cmos[REG_HOUR]))
			r->cmos[REG_C] |= C_AF;
	}
	update_irq(r);
}

uint64_t rtc_deadline(const struct rtc *r)
{
	uint64_t d = UINT64_MAX;
	uint8_t b = r->cmos[REG_B];
	uint64_t p = period_ticks(r);
	if ((b & B_PIE) && p && r->last_period < UINT64_MAX / p - 1)
		d = ticks_32k_to_ns((r->last_period + 1) * p);
	if ((b & (B_UIE | B_AIE)) && !(b & B_SET) && r->last_sec >= r->epoch_s) {
		uint64_t s = (uint64_t)(r->last_sec - r->epoch_s) + 1;
		if (s < UINT64_MAX / NS_PER_S - 1 && s * NS_PER_S <= UINT64_MAX - r->epoch_ns) {
			uint64_t t = r->epoch_ns + s * NS_PER_S;
			if (t < d)
				d = t;
		}
	}
	return d;
}

static uint8_t cmos_read(struct rtc *r)
{
	uint64_t now = platform_clock_ns(r->pf);
	uint8_t i = r->index;
	if ((i <= REG_YEAR || i == REG_CENTURY) && !set_mode(r))
		refresh(r, now);
	switch (i) {
	case REG_A: {
		uint64_t phase = now > r->epoch_ns ? (now - r->epoch_ns) % NS_PER_S : 0;
		bool uip = !set_mode(r) && phase >= NS_PER_S - UIP_NS;
		return (uint8_t)((r->cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0));
	}
	case REG_C: {
		rtc_update(r, now);
		uint8_t v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		if (r->irq) {
			r->irq = false;
			platform_irq(r->pf, 8, false);
		}
		return v;
	}
	case REG_D:
		return 0x80; /* valid RAM and time */
	default:
		return r->cmos[i];
	}
}

static void cmos_write(struct rtc *r, uint8_t v)
{
	uint64_t now = platform_clock_ns(r->pf);
	uint8_t i = r->index;
	switch (i) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MONTH:
	case REG_YEAR:
	case REG_CENTURY:
		if (set_mode(r)) {
			r->cmos[i] = v;
		} else { /* a running clock takes the new field at once */
			refresh(r, now);
			r->cmos[i] = v;
			set_clock(r, regs_time(r), now, true);
		}
		break;
	case REG_A:
		r->cmos[REG_A] = v & 0x7f;
		if (period_ticks(r))
			r->last_period = ticks_32k(now) / period_ticks(r);
		break;
	case REG_B: {
		uint8_t old = r->cmos[REG_B];
		if (v & B_SET)
			v &= (uint8_t)~B_UIE;
		if ((v & B_SET) && !(old & B_SET)) {
			refresh(r, now); /* freeze the registers the guest will edit */
		} else if (!(v & B_SET) && (old & B_SET)) {
			r->cmos[REG_B] = v;
			set_clock(r, regs_time(r), now, false);
		}
		r->cmos[REG_B] = v;
		update_irq(r);
		break;
	}
	case REG_C:
	case REG_D:
		break; /* read-only */
	default:
		r->cmos[i] = v;
		break;
	}
}

uint64_t rtc_read(void *ctx, uint64_t off, unsigned size)
{
	struct rtc *r = ctx;
	(void)size;
	return off == 1 ? cmos_read(r) : 0xff; /* the index register is write-only */
}

void rtc_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct rtc *r = ctx;
	if (off == 0) {
		r->index = val & 0x7f;
		r->nmi_masked = val & 0x80;
		if (size >= 2) /* outw 0x70: index, then data */
			cmos_write(r, (uint8_t)(val >> 8));
	} else if (off == 1) {
		cmos_write(r, (uint8_t)val);
	}
}

static void set16(uint8_t *cmos, unsigned lo, uint64_t v)
{
	cmos[lo] = (uint8_t)v;
	cmos[lo + 1] = (uint8_t)(v >> 8);
}

void rtc_init(struct rtc *r, const struct platform *pf, uint64_t unix_seconds_at_start, uint64_t ram_below_4g,
	      uint64_t ram_above_4g)
{
	*r = (struct rtc){ .pf = pf };
	platform_irq(r->pf, 8, false);
	uint8_t *c = r->cmos;
	c[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	c[REG_B] = B_24H;
	c[REG_D] = 0x80;
	if (unix_seconds_at_start > (uint64_t)253402300799) /* 9999-12-31 */
		unix_seconds_at_start = 253402300799;
	set_clock(r, (int64_t)unix_seconds_at_start, platform_clock_ns(r->pf), false);
	refresh(r, r->epoch_ns);
	r->last_period = ticks_32k(r->epoch_ns) / period_ticks(r);
	c[0x14] = 0x02;             /* equipment: FPU, VGA, no floppy */
	set16(c, 0x15, 640);        /* base memory in KiB */
	uint64_t ext = ram_below_4g > (1u << 20) ? (ram_below_4g - (1u << 20)) >> 10 : 0;
	set16(c, 0x17, ext > 0xfc00 ? 0xfc00 : ext);   /* KiB above 1 MiB */
	set16(c, 0x30, ext > 0xfc00 ? 0xfc00 : ext);
	uint64_t ext16 = ram_below_4g > (16u << 20) ? (ram_below_4g - (16u << 20)) >> 16 : 0;
	set16(c, 0x34, ext16 > 0xffff ? 0xffff : ext16); /* 64 KiB blocks above 16 MiB */
	uint64_t high = ram_above_4g >> 16;
	if (high > 0xffffff)
		high = 0xffffff;
	c[0x5b] = (uint8_t)high;    /* 64 KiB blocks above 4 GiB */
	c[0x5c] = (uint8_t)(high >> 8);
	c[0x5d] = (uint8_t)(high >> 16);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += c[i];
	c[0x2e] = (uint8_t)(sum >> 8);
	c[0x2f] = (uint8_t)sum;
}
