/*
 * Test guest: serial output, a small printf, the check bookkeeping and the
 * exception handler.
 *
 * Output format (README.md): per check "test: <name>: ok" or
 * "test: <name>: FAILED (<first failure>)"; further failures of the same
 * check and informational lines are printed before it, indented:
 * "  <name>: FAILED: <detail>" and "  <name>: <text>". The last line is
 * "N passed, N failed".
 */
#include "guest.h"

/* ---- serial output ---- */

static void uart_putc(char c)
{
	/* bounded wait: a UART that never reports THRE must not hang us */
	for (unsigned i = 0; i < 100000 && !(inb(UART_BASE + 5) & UART_LSR_THRE); i++)
		__asm__ volatile("pause");
	outb(UART_BASE, (uint8_t)c);
}

/* ---- formatting: %s %c %d %u %x %p, flags '0', width, 'l' ---- */

struct sink {
	char *buf; /* NULL: the UART */
	size_t len, size;
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf) {
		uart_putc(c);
		return;
	}
	if (s->len + 1 < s->size)
		s->buf[s->len++] = c;
	s->buf[s->len] = 0;
}

static void put_num(struct sink *s, uint64_t v, unsigned base, int neg, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		sink_put(s, pad);
		width--;
	}
	while (n)
		sink_put(s, tmp[--n]);
}

static void vformat(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		char pad = ' ';
		unsigned width = 0;
		int lng = 0;
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l')
			lng = 1, fmt++;
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			while (*str)
				sink_put(s, *str++);
			break;
		}
		case 'c':
			sink_put(s, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(s, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(s, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 0, width, pad);
			break;
		case 'x':
			put_num(s, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 0, width, pad);
			break;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			put_num(s, (uintptr_t)va_arg(ap, void *), 16, 0, width, pad);
			break;
		case '%':
			sink_put(s, '%');
			break;
		case 0:
			return;
		default:
			sink_put(s, '%');
			sink_put(s, *fmt);
		}
	}
}

void print(const char *fmt, ...)
{
	struct sink s = {0};
	va_list ap;

	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
}

/* ---- freestanding helpers the compiler may call ---- */

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *src, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = src;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

/* ---- checks ---- */

static const char *check_name;
static unsigned check_failures;
static char check_detail[192];
static unsigned n_passed, n_failed;

void begin(const char *name)
{
	check_name = name;
	check_failures = 0;
	check_detail[0] = 0;
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (check_failures++ == 0) {
		struct sink s = {check_detail, 0, sizeof check_detail};
		vformat(&s, fmt, ap);
	} else {
		struct sink s = {0};
		print("  %s: FAILED: ", check_name);
		vformat(&s, fmt, ap);
		print("\n");
	}
	va_end(ap);
}

void info(const char *fmt, ...)
{
	struct sink s = {0};
	va_list ap;

	print("  %s: ", check_name);
	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	print("\n");
}

void end(void)
{
	if (!check_failures) {
		print("test: %s: ok\n", check_name);
		n_passed++;
	} else if (check_failures == 1) {
		print("test: %s: FAILED (%s)\n", check_name, check_detail);
		n_failed++;
	} else {
		print("test: %s: FAILED (%s; %u more above)\n", check_name, check_detail, check_failures - 1);
		n_failed++;
	}
	check_name = 0;
}

void skip_without_vmm(void)
{
	fail(NO_VMM);
	end();
}

void finish(void)
{
	print("%u passed, %u failed\n", n_passed, n_failed);
	outb(PORT_EXIT, n_failed > 255 ? 255 : (uint8_t)n_failed);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- exceptions and interrupts ---- */

volatile struct expected xp = {.vec = -1};
volatile uint64_t catch_all;
volatile uint64_t caught[32];
volatile uint64_t timer_ticks, timer_rip;
void (*volatile exc_hook[32])(struct frame *f);

void expect(int vec)
{
	xp.hits = 0;
	xp.resume = 0;
	xp.rip = xp.err = xp.cr2 = 0;
	xp.vec = vec;
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(old)", "#TS",
	"#NP", "#SS", "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void trap(struct frame *f)
{
	static int fatal;
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vec < 32 && exc_hook[f->vec]) {
		exc_hook[f->vec](f);
		return;
	}
	if (f->vec == TIMER_VECTOR) {
		timer_ticks++;
		timer_rip = f->rip;
		return;
	}
	if (catch_all && f->vec < 32) { /* hostile.c: any exception, then on */
		caught[f->vec]++;
		f->rip = catch_all;
		f->rflags &= ~0x40100ul; /* TF, AC */
		return;
	}
	if ((int)f->vec == xp.vec && !fatal) {
		xp.hits++;
		xp.rip = f->rip;
		xp.err = f->err;
		xp.cr2 = cr2;
		xp.vec = -1;
		if (xp.resume)
			f->rip = xp.resume;
		return;
	}
	/* unexpected: the current check fails and the run ends here */
	if (fatal++) {
		outb(PORT_EXIT, 255);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	const char *name = f->vec < 32 && exc_names[f->vec] ? exc_names[f->vec] : "interrupt";
	if (!check_name)
		begin("setup");
	fail("unexpected exception %lu (%s) at rip 0x%lx, error code 0x%lx, cr2 0x%lx, rsp 0x%lx", f->vec,
	     name, f->rip, f->err, cr2, f->rsp);
	end();
	finish();
}
