/* Formatted output for freestanding user programs (lib/format.c and
 * lib/console.c). Conversions: %s %d %i %u %x %X %p %c %%, length modifiers
 * hh h l ll z, flags '-' and '0', field width and precision (also '*'). */
#ifndef HV_STDIO_H
#define HV_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define HV_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Like C99: returns the length the full output would have; the result is
 * always NUL-terminated when size > 0. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) HV_PRINTF(3, 4);

/* Generic formatter: calls put(c, ctx) for each output character and
 * returns the number of characters. */
int hv_vformat(void (*put)(char c, void *ctx), void *ctx, const char *fmt,
	       va_list ap);

/* To the console (<hv/console.h>). */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) HV_PRINTF(1, 2);
int puts(const char *s); /* appends '\n' */
int putchar(int c);

#endif
