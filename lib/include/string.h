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
/* Module arguments: the next blank-separated word of *p into word[size]
 * (cut to size-1 characters), *p moved past it; 0 at the end. */
int str_next_word(const char **p, char *word, size_t size);
/* A decimal number that fits an unsigned long into *out; 0 if s is empty,
 * has another character or overflows. */
int str_to_ulong(const char *s, unsigned long *out);

#endif
