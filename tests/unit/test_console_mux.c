/*
 * Unit tests of the console multiplexer's pure logic
 * (servers/console/mux.c): the kept-output ring and the escape parser.
 */
#include "unit.h"

#include <string.h>
#include "mux.h"

static struct mux_ring ring;
static char out[2 * MUX_RING_SIZE];

static void test_ring_empty(void **state)
{
	(void)state;
	memset(&ring, 0, sizeof(ring));
	assert_int_equal(mux_ring_get(&ring, out, sizeof(out)), 0);
}

static void test_ring_keeps_in_order(void **state)
{
	(void)state;
	memset(&ring, 0, sizeof(ring));
	mux_ring_put(&ring, "hello ", 6);
	mux_ring_put(&ring, "world\n", 6);
	assert_int_equal(mux_ring_get(&ring, out, sizeof(out)), 12);
	assert_memory_equal(out, "hello world\n", 12);
	/* max limits the copy */
	assert_int_equal(mux_ring_get(&ring, out, 5), 5);
	assert_memory_equal(out, "hello", 5);
}

/* After a wrap the oldest (cut) line is dropped up to its newline, and the
 * last MUX_RING_SIZE bytes are the ones kept. */
static void test_ring_wraps(void **state)
{
	char line[100];
	unsigned i, lines = 200;
	size_t n;

	(void)state;
	memset(&ring, 0, sizeof(ring));
	for (i = 0; i < lines; i++) {
		int len = snprintf(line, sizeof(line), "line %04u of the log\n", i);
		mux_ring_put(&ring, line, (size_t)len);
	}
	n = mux_ring_get(&ring, out, sizeof(out));
	assert_true(n <= MUX_RING_SIZE);
	assert_true(n > MUX_RING_SIZE - 30);
	assert_memory_equal(out, "line ", 5); /* starts at a whole line */
	assert_memory_equal(out + n - 21, "line 0199 of the log\n", 21);
	/* every kept line in order */
	unsigned first;
	assert_int_equal(sscanf(out, "line %u", &first), 1);
	for (i = first; i < lines; i++) {
		snprintf(line, sizeof(line), "line %04u of the log\n", i);
		assert_memory_equal(out + (i - first) * 21, line, 21);
	}
	assert_int_equal((lines - first) * 21, n);
}

/* One put larger than the ring keeps its tail; a ring without any newline
 * after a wrap is returned whole. */
static void test_ring_big_put(void **state)
{
	static char big[3 * MUX_RING_SIZE + 5];
	size_t i, n;

	(void)state;
	memset(&ring, 0, sizeof(ring));
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	mux_ring_put(&ring, "x", 1);
	mux_ring_put(&ring, big, sizeof(big));
	assert_int_equal(ring.total, sizeof(big) + 1);
	n = mux_ring_get(&ring, out, sizeof(out));
	assert_int_equal(n, MUX_RING_SIZE);
	assert_memory_equal(out, big + sizeof(big) - MUX_RING_SIZE, MUX_RING_SIZE);
	/* exactly full, not wrapped: nothing skipped */
	memset(&ring, 0, sizeof(ring));
	big[0] = '\n';
	mux_ring_put(&ring, big, MUX_RING_SIZE);
	assert_int_equal(mux_ring_get(&ring, out, sizeof(out)), MUX_RING_SIZE);
	assert_int_equal(out[0], '\n');
	/* one byte more: the cut line up to the first newline goes */
	mux_ring_put(&ring, "\n", 1);
	n = mux_ring_get(&ring, out, sizeof(out));
	assert_int_equal(n, 0); /* the only newline left is the last byte */
}

static void test_esc_plain_bytes(void **state)
{
	struct mux_esc e = { 0 };
	unsigned c;

	(void)state;
	for (c = 0; c < 256; c++)
		if (c != MUX_ESC)
			assert_int_equal(mux_esc_feed(&e, (unsigned char)c), MUX_DATA);
}

static void test_esc_commands(void **state)
{
	static const struct { unsigned char key; int cmd; } keys[] = {
		{ '0', 0 }, { '5', 5 }, { '9', 9 }, { 'n', MUX_NEXT }, { 'p', MUX_PREV },
		{ 'a', MUX_ALL }, { '?', MUX_HELP }, { 'h', MUX_HELP }, { 'x', MUX_BAD },
		{ '\r', MUX_BAD }, { 0, MUX_BAD }, { 0xff, MUX_BAD }, { 'N', MUX_BAD },
	};
	struct mux_esc e = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(mux_esc_feed(&e, MUX_ESC), MUX_NONE);
		assert_int_equal(mux_esc_feed(&e, keys[i].key), keys[i].cmd);
		/* the key after a command is data again */
		assert_int_equal(mux_esc_feed(&e, keys[i].key), MUX_DATA);
	}
}

/* Escape twice: one literal escape byte for the domain, then normal. */
static void test_esc_literal(void **state)
{
	struct mux_esc e = { 0 };

	(void)state;
	assert_int_equal(mux_esc_feed(&e, MUX_ESC), MUX_NONE);
	assert_int_equal(mux_esc_feed(&e, MUX_ESC), MUX_DATA);
	assert_int_equal(mux_esc_feed(&e, '1'), MUX_DATA);
	assert_int_equal(mux_esc_feed(&e, MUX_ESC), MUX_NONE);
	assert_int_equal(mux_esc_feed(&e, '1'), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_empty),
		cmocka_unit_test(test_ring_keeps_in_order),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_ring_big_put),
		cmocka_unit_test(test_esc_plain_bytes),
		cmocka_unit_test(test_esc_commands),
		cmocka_unit_test(test_esc_literal),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
