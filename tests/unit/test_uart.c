/* The 16550 model's output side: bytes become console lines (printf is
 * this file's capture, see mk/unit.mk), terminal control sequences are
 * dropped, other control bytes shown as '.', and loopback; plus the
 * receive FIFO and its interrupt. */
#include "unit.h"
#include "fake_vm.h"
#include "../../devices/uart16550.h"

static char out[4096];
static size_t out_len;

int uart_test_printf(const char *fmt, ...);
int uart_test_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + out_len, sizeof(out) - out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_len += (size_t)n;
	return n;
}

static struct uart16550 u;

static int setup(void **state)
{
	(void)state;
	fake_reset_all();
	uart16550_init(&u, 4);
	out_len = 0;
	out[0] = 0;
	return 0;
}

static void send(const char *s)
{
	for (; *s; s++)
		uart16550_write(&u, 0, 1, (uint8_t)*s);
}

static void test_lines(void **state)
{
	(void)state;
	send("hello\r\nworld");
	assert_string_equal(out, "hello\n");
	uart16550_flush_partial(&u);
	assert_string_equal(out, "hello\nworld");
	send("\n");
	assert_string_equal(out, "hello\nworld\n");
}

static void test_control_sequences(void **state)
{
	(void)state;
	/* ash's prompt with its cursor-position query, colours, a cursor move */
	send("guest# \x1b[6n\x1b[1;31mred\x1b[0m \x1b" "7x\x1b[?25l\n");
	assert_string_equal(out, "guest# red x\n");
	out_len = 0;
	/* a sequence cut by a control character: the character still counts */
	send("a\x1b[12\nb\n");
	assert_string_equal(out, "a\nb\n");
	out_len = 0;
	/* other control bytes and non-ASCII are dots */
	send("\x01\x7f\xff\tz\n");
	assert_string_equal(out, "...\tz\n");
	out_len = 0;
	/* an endless "sequence" ends; what follows is text */
	send("\x1b[");
	for (int i = 0; i < 40; i++)
		send("1");
	send("q\n");
	assert_string_equal(out, "111111111q\n"); /* ESC, '[' and 31 bytes were the sequence */
}

static void test_loopback_and_receive(void **state)
{
	(void)state;
	uart16550_write(&u, 4, 1, 0x08 | 0x10); /* OUT2, loopback */
	uart16550_write(&u, 1, 1, 0x01);        /* receive interrupt */
	send("\x1b[6n");
	assert_int_equal(out_len, 0); /* looped back, not printed */
	assert_int_equal(uart16550_read(&u, 5, 1) & 1, 1);
	assert_true(fake_level[4]);
	assert_int_equal(uart16550_read(&u, 0, 1), 0x1b);
	assert_int_equal(uart16550_read(&u, 0, 1), '[');
	assert_int_equal(uart16550_read(&u, 0, 1), '6');
	assert_int_equal(uart16550_read(&u, 0, 1), 'n');
	assert_false(fake_level[4]);
	uart16550_write(&u, 4, 1, 0x08);
	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		assert_true(uart16550_receive(&u, 'x'));
	assert_false(uart16550_receive(&u, 'y')); /* full */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines, setup),
		cmocka_unit_test_setup(test_control_sequences, setup),
		cmocka_unit_test_setup(test_loopback_and_receive, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
