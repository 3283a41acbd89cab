/*
 * Console multiplexer logic: rings of kept output, escape-key parsing
 * (mux.h). Pure functions on caller-owned state; the caller locks.
 */
#include <string.h>
#include "mux.h"

void mux_ring_put(struct mux_ring *r, const char *p, size_t n)
{
	if (n > MUX_RING_SIZE) { /* only the last MUX_RING_SIZE bytes stay */
		r->total += n - MUX_RING_SIZE;
		p += n - MUX_RING_SIZE;
		n = MUX_RING_SIZE;
	}
	while (n) {
		size_t at = (size_t)(r->total % MUX_RING_SIZE);
		size_t chunk = MUX_RING_SIZE - at < n ? MUX_RING_SIZE - at : n;

		memcpy(r->buf + at, p, chunk);
		r->total += chunk;
		p += chunk;
		n -= chunk;
	}
}

size_t mux_ring_get(const struct mux_ring *r, char *out, size_t max)
{
	size_t have = r->total < MUX_RING_SIZE ? (size_t)r->total : MUX_RING_SIZE;
	unsigned long start = r->total - have;
	size_t i, skip = 0, n = 0;

	if (r->total > MUX_RING_SIZE) { /* wrapped: skip the cut line */
		for (i = 0; i < have; i++)
			if (r->buf[(start + i) % MUX_RING_SIZE] == '\n')
				break;
		if (i < have)
			skip = i + 1;
	}
	for (i = skip; i < have && n < max; i++)
		out[n++] = r->buf[(start + i) % MUX_RING_SIZE];
	return n;
}

int mux_esc_feed(struct mux_esc *e, unsigned char c)
{
	if (!e->pending) {
		if (c == MUX_ESC) {
			e->pending = 1;
			return MUX_NONE;
		}
		return MUX_DATA;
	}
	e->pending = 0;
	if (c >= '0' && c <= '9')
		return c - '0';
	switch (c) {
	case MUX_ESC:
		return MUX_DATA;
	case 'n':
		return MUX_NEXT;
	case 'p':
		return MUX_PREV;
	case 'a':
		return MUX_ALL;
	case '?':
	case 'h':
		return MUX_HELP;
	default:
		return MUX_BAD;
	}
}
