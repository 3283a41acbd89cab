/*
 * Kernel formatted output: a small vsnprintf (%s %c %d %u %x %p with l/z
 * modifiers, width and zero padding) and line-atomic printk to the UART.
 */
#include "kernel.h"
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/serial.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <stdarg.h>

struct out {
	char *buf;
	size_t size, pos;
};

static void out_c(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_num(struct out *o, u64 v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		out_c(o, pad);
	while (n)
		out_c(o, tmp[--n]);
}

int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng = 1, fmt++;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = (int)strlen(s);
			while (width-- > len)
				out_c(&o, ' ');
			while (*s)
				out_c(&o, *s++);
			break;
		}
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			s64 v = lng ? va_arg(ap, long) : va_arg(ap, int);
			out_num(&o, v < 0 ? (u64)-v : (u64)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			out_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, false, width, pad);
			break;
		case 'x':
			out_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, false, width, pad);
			break;
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (u64)va_arg(ap, void *), 16, false, 0, ' ');
			break;
		case '%':
			out_c(&o, '%');
			break;
		default:
			out_c(&o, '?');
			break;
		}
	}
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = 0;
	return (int)o.pos;
}

int snprintk(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintk(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static spinlock_t log_lock;

static void log_raw(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

static void log_write(const char *s)
{
	spin_lock(&log_lock);
	log_raw(s);
	spin_unlock(&log_lock);
}

void printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintk(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_write(buf);
}

/* Stops every CPU and says why, once. The others stop first, so the report needs no lock
 * (one of them may have held it) and nothing runs on after it. */
void panic(const char *fmt, ...)
{
	int stopped = smp_stop_others();
	if (stopped < 0)
		cpu_halt_forever(); /* another CPU panics: it reports and stops this one */
	/* the GS base is the user's (0) if the CPU was entering or leaving the kernel */
	const struct percpu *c = (const void *)(rdmsr(MSR_GS_BASE) ?: rdmsr(MSR_KERNEL_GS_BASE));
	char buf[256];
	int n = snprintk(buf, sizeof(buf), "hypervisor: PANIC on CPU %u: ", c ? c->id : 0);
	va_list ap;
	va_start(ap, fmt);
	vsnprintk(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	log_raw(buf);
	snprintk(buf, sizeof(buf), "\nhypervisor: %d of %u other CPUs stopped\n", stopped, num_cpus - 1);
	log_raw(buf);
	cpu_halt_forever();
}
