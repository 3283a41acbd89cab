/*
 * Console multiplexer logic without hardware or system calls (host unit
 * tests: tests/unit/test_console_mux.c): the ring of kept output per
 * domain and the parser of the escape key on terminal input.
 */
#ifndef CONSOLE_MUX_H
#define CONSOLE_MUX_H

#include <stddef.h>

#define MUX_RING_SIZE 4096u /* kept output per domain, a power of two */
#define MUX_ESC 0x1d        /* Ctrl-] */

/* The last MUX_RING_SIZE bytes a domain wrote. */
struct mux_ring {
	unsigned long total;          /* bytes ever put (the ring holds the last ones) */
	char buf[MUX_RING_SIZE];
};

void mux_ring_put(struct mux_ring *r, const char *p, size_t n);

/* Copies the kept bytes from the oldest on, at most max, into out; when
 * older bytes were lost, starts after the first newline (no half line),
 * unless there is none. Returns the number copied. */
size_t mux_ring_get(const struct mux_ring *r, char *out, size_t max);

/* Escape parser: MUX_ESC, then one key. */
enum mux_cmd {
	MUX_DATA = -1,  /* the byte is input for the focused domain */
	MUX_NONE = -2,  /* swallowed (the escape key itself) */
	MUX_NEXT = -3,  /* 'n': the next domain */
	MUX_PREV = -4,  /* 'p': the previous domain */
	MUX_ALL = -5,   /* 'a': every domain, prefixed lines (the log view) */
	MUX_HELP = -6,  /* '?' or 'h': keys and domains */
	MUX_BAD = -7,   /* any other key after the escape: ignored */
	/* 0..9: the digit key, focus that domain id */
};

struct mux_esc {
	int pending; /* the escape key was the last byte */
};

/* Feed one input byte; returns a command, a digit 0..9, MUX_DATA (pass the
 * byte on; after MUX_ESC MUX_ESC the byte is MUX_ESC itself) or MUX_NONE. */
int mux_esc_feed(struct mux_esc *e, unsigned char c);

#endif
