/* String and memory functions for freestanding user programs (lib/string.c). */
#ifndef HV_STRING_H
#define HV_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 characters and NUL-terminates (if size > 0);
 * returns strlen(src), so truncation happened if the result >= size. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
