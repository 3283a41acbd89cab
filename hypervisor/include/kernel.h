/* Kernel-wide helpers: logging, assertions, memory primitives. */
#ifndef HV_KERNEL_H
#define HV_KERNEL_H

#include "types.h"
#include <hv/abi.h>

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintk(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
int snprintk(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define assert(c)                                                            \
	do {                                                                 \
		if (unlikely(!(c)))                                          \
			panic("assertion '%s' failed at %s:%d", #c, __FILE__, \
			      __LINE__);                                     \
	} while (0)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

#endif
