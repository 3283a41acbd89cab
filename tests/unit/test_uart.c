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
	uart16550_init(&u, &fake_pf, 4);
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

/* Two VMs' platforms: which VM each call of a model was made for. */
static unsigned vm_irqs[2];

static void per_vm_irq(void *vm, unsigned gsi, bool level)
{
	(void)gsi;
	if (level)
		vm_irqs[*(int *)vm]++;
}

/* A model reaches only the VM whose platform it was given; without a
 * platform a UART has no interrupt line (the test guest's COM1). */
static void test_platform_per_vm(void **state)
{
	(void)state;
	static int ids[2] = { 0, 1 };
	struct platform pf0 = { .vm = &ids[0], .irq_set = per_vm_irq }, pf1 = { .vm = &ids[1], .irq_set = per_vm_irq };
	struct uart16550 a, b, c;
	uart16550_init(&a, &pf0, 4);
	uart16550_init(&b, &pf1, 3);
	uart16550_init(&c, NULL, 4);
	vm_irqs[0] = vm_irqs[1] = 0;
	for (struct uart16550 *x = &a; x; x = x == &a ? &c : NULL) {
		uart16550_write(x, 4, 1, 0x08); /* OUT2 */
		uart16550_write(x, 1, 1, 0x01); /* receive interrupt */
		assert_true(uart16550_receive(x, 'x'));
	}
	assert_int_equal(vm_irqs[0], 1);
	assert_int_equal(vm_irqs[1], 0);
	uart16550_write(&b, 4, 1, 0x08);
	uart16550_write(&b, 1, 1, 0x01);
	assert_true(uart16550_receive(&b, 'y'));
	assert_int_equal(vm_irqs[0], 1);
	assert_int_equal(vm_irqs[1], 1);
	assert_int_equal(c.irq, -1);
	assert_int_equal(uart16550_read(&c, 0, 1), 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines, setup),
		cmocka_unit_test_setup(test_control_sequences, setup),
		cmocka_unit_test_setup(test_loopback_and_receive, setup),
		cmocka_unit_test_setup(test_platform_per_vm, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
