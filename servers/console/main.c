/*
 * Console server: owns the 16550 UART (COM1 ports and GSI 4 from the start
 * info) and serves the console protocol of <hv/startinfo.h> with one
 * handler EC per CPU.
 *
 * Output: every client (portal id = domain id, 0 = roottask) has a
 * partial-line buffer; complete lines go to the UART with a "[name] "
 * prefix, so lines of different domains never interleave. A partial line
 * is shown (without newline) only when its owner reads input or its
 * buffer overflows; whoever prints next first ends that line.
 * Input: the main thread waits for the interrupt and drains the receiver
 * into a ring (the next sm_down re-arms the line); HV_CONS_READ takes bytes
 * from the ring.
 *
 * Locking: the handlers (on different CPUs) share the UART transmitter,
 * the client table and the ring's read side under tx_lock. The main thread
 * never takes it: the ring is single-producer, and it only reads RBR, IIR,
 * LSR and MSR, which does not disturb a transmitting handler. So a lock
 * holder can never be preempted by a spinner on its own CPU (one handler
 * EC per CPU serves one call at a time).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <hv/hip.h>
#include <hv/portio.h>
#include <hv/runtime.h>
#include <hv/spinlock.h>

#define COM1_BASE 0x3f8
#define COM1_GSI 4
#define UART_RBR 0 /* read */
#define UART_THR 0 /* write */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define IIR_NONE 0x01

#define MAX_IDS 64    /* domain ids served; others get HV_EPARAM on write */
#define SELF_ID MAX_IDS /* the console's own messages */
#define LINE_MAX 256  /* partial-line buffer per client */
#define RX_SIZE 1024u /* input ring, power of two */
#define TX_SPINS 100000u

struct client {
	char name[HV_SI_NAME]; /* "" = default "dom<id>" */
	unsigned len;
	char line[LINE_MAX];
};

static unsigned short uart = COM1_BASE;
static hv_spinlock_t tx_lock = HV_SPINLOCK_INIT;
static struct client clients[MAX_IDS + 1];
static long open_id = -1; /* client whose partial line is on the UART */

static char rx_ring[RX_SIZE];
static unsigned rx_head; /* written by the main thread only */
static unsigned rx_tail; /* written under tx_lock only */

/* ---- UART ----------------------------------------------------------------- */

static void uart_init(void)
{
	hv_outb(uart + UART_IER, 0x00);
	hv_outb(uart + UART_LCR, 0x80); /* DLAB */
	hv_outb(uart + UART_DLL, 0x01); /* 115200 baud */
	hv_outb(uart + UART_DLM, 0x00);
	hv_outb(uart + UART_LCR, 0x03); /* 8N1 */
	hv_outb(uart + UART_FCR, 0x07); /* FIFOs on and cleared, RX trigger 1 byte */
	hv_outb(uart + UART_MCR, 0x0b); /* DTR, RTS, OUT2 (IRQ enable) */
	(void)hv_inb(uart + UART_LSR);
	(void)hv_inb(uart + UART_RBR);
	(void)hv_inb(uart + UART_IIR);
	(void)hv_inb(uart + UART_MSR);
	hv_outb(uart + UART_IER, 0x01); /* interrupt on received data */
}

static void uart_putc(char c)
{
	unsigned spins = 0;

	while (!(hv_inb(uart + UART_LSR) & LSR_THRE) && ++spins < TX_SPINS)
		__asm__ volatile("pause");
	hv_outb(uart + UART_THR, (unsigned char)c);
}

static void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* ---- Output (tx_lock held) -------------------------------------------------- */

static void put_prefix(unsigned long id)
{
	char buf[HV_SI_NAME + 16];

	if (clients[id].name[0])
		snprintf(buf, sizeof(buf), "[%s] ", clients[id].name);
	else if (id == 0)
		snprintf(buf, sizeof(buf), "[root] ");
	else
		snprintf(buf, sizeof(buf), "[dom%lu] ", id);
	uart_puts(buf);
}

/* Put len bytes of client id's line on the UART; complete: end the line. */
static void emit(unsigned long id, const char *p, unsigned len, int complete)
{
	if (open_id >= 0 && (unsigned long)open_id != id) {
		uart_puts("\r\n");
		open_id = -1;
	}
	if (open_id < 0)
		put_prefix(id);
	while (len--)
		uart_putc(*p++);
	if (complete) {
		uart_puts("\r\n");
		open_id = -1;
	} else {
		open_id = (long)id;
	}
}

static void client_write(unsigned long id, const unsigned char *p, unsigned n)
{
	struct client *c = &clients[id];

	for (; n; n--, p++) {
		unsigned char ch = *p;

		if (ch == '\n') {
			emit(id, c->line, c->len, 1);
			c->len = 0;
			continue;
		}
		if (ch == '\r')
			continue;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			ch = '?'; /* no terminal control sequences from clients */
		if (c->len == LINE_MAX) {
			emit(id, c->line, c->len, 0);
			c->len = 0;
		}
		c->line[c->len++] = (char)ch;
	}
}

/* Show client id's partial line (e.g. a prompt before it reads input). */
static void client_flush(unsigned long id)
{
	struct client *c = &clients[id];

	if (c->len) {
		emit(id, c->line, c->len, 0);
		c->len = 0;
	}
}

/* The console's own messages; only before the service is registered or on
 * the main thread's error paths. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	hv_spin_lock(&tx_lock);
	client_write(SELF_ID, (const unsigned char *)buf, (unsigned)n);
	hv_spin_unlock(&tx_lock);
}

/* ---- Input ------------------------------------------------------------------- */

/* Main thread: the ring's only producer. Drops input when the ring is full. */
static void rx_push(char c)
{
	unsigned h = rx_head;

	if (h - __atomic_load_n(&rx_tail, __ATOMIC_ACQUIRE) >= RX_SIZE)
		return;
	rx_ring[h % RX_SIZE] = c;
	__atomic_store_n(&rx_head, h + 1, __ATOMIC_RELEASE);
}

/* Handlers, tx_lock held. */
static unsigned rx_take(char *buf, unsigned max)
{
	unsigned t = rx_tail, h = __atomic_load_n(&rx_head, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	while (t != h && n < max)
		buf[n++] = rx_ring[t++ % RX_SIZE];
	__atomic_store_n(&rx_tail, t, __ATOMIC_RELEASE);
	return n;
}

static void uart_drain(void)
{
	unsigned rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		unsigned char iir = hv_inb(uart + UART_IIR);

		if (iir & IIR_NONE)
			break;
		switch (iir & 0x0e) {
		case 0x06: /* line status */
			(void)hv_inb(uart + UART_LSR);
			break;
		case 0x00: /* modem status */
			(void)hv_inb(uart + UART_MSR);
			break;
		default:   /* received data, character timeout, THR empty */
			break;
		}
		while (hv_inb(uart + UART_LSR) & LSR_DR)
			rx_push((char)hv_inb(uart + UART_RBR));
	}
	while (hv_inb(uart + UART_LSR) & LSR_DR)
		rx_push((char)hv_inb(uart + UART_RBR));
}

/* ---- Portal handler ----------------------------------------------------------- */

HV_PORTAL_ENTRY(cons_portal, cons_handler);

static hv_word_t reply_status(struct hv_utcb *u, hv_status_t st)
{
	u->mr[0] = st;
	return HV_TAG(1, 0);
}

hv_word_t cons_handler(hv_word_t id, hv_word_t tag)
{
	struct hv_utcb *u = hv_utcb();
	unsigned untyped = HV_TAG_UNTYPED(tag);
	char rx_buf[HV_CONS_MAX];
	hv_word_t n;

	if (untyped < 1)
		return reply_status(u, HV_EPARAM);
	switch (u->mr[0]) {
	case HV_CONS_WRITE:
		if (untyped < 2 || id >= MAX_IDS)
			return reply_status(u, HV_EPARAM);
		n = u->mr[1];
		if (n > HV_CONS_MAX || untyped < 2 + (n + 7) / 8)
			return reply_status(u, HV_EPARAM);
		hv_spin_lock(&tx_lock);
		client_write(id, (const unsigned char *)&u->mr[2], (unsigned)n);
		hv_spin_unlock(&tx_lock);
		return reply_status(u, HV_OK);

	case HV_CONS_READ:
		hv_spin_lock(&tx_lock);
		if (id < MAX_IDS)
			client_flush(id);
		n = rx_take(rx_buf, HV_CONS_MAX);
		hv_spin_unlock(&tx_lock);
		/* Whole words only: no stale bytes of an earlier client's message. */
		memset(&u->mr[2], 0, (n + 7) / 8 * 8);
		memcpy(&u->mr[2], rx_buf, n);
		u->mr[0] = HV_OK;
		u->mr[1] = n;
		return HV_TAG(2 + (n + 7) / 8, 0);

	case HV_CONS_NAME: {
		const char *src = (const char *)&u->mr[2];
		char name[HV_SI_NAME];
		hv_word_t target;
		unsigned i;

		if (id != 0)
			return reply_status(u, HV_EPERM);
		if (untyped < 4)
			return reply_status(u, HV_EPARAM);
		target = u->mr[1];
		if (target >= MAX_IDS)
			return reply_status(u, HV_EPARAM);
		for (i = 0; i < HV_SI_NAME - 1 && src[i]; i++)
			name[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '_';
		name[i] = '\0';
		hv_spin_lock(&tx_lock);
		memcpy(clients[target].name, name, sizeof(name));
		hv_spin_unlock(&tx_lock);
		return reply_status(u, HV_OK);
	}

	default:
		return reply_status(u, HV_EPARAM);
	}
}

/* ---- Start -------------------------------------------------------------------- */

static const struct hv_si_irq *find_irq(const struct hv_startinfo *si)
{
	hv_word_t i, n = si->num_irq < HV_SI_MAX_IRQ ? si->num_irq : HV_SI_MAX_IRQ;

	for (i = 0; i < n; i++)
		if (si->irq[i].gsi == COM1_GSI)
			return &si->irq[i];
	return n ? &si->irq[0] : NULL;
}

static void find_uart(const struct hv_startinfo *si)
{
	hv_word_t i, n = si->num_io < HV_SI_MAX_IO ? si->num_io : HV_SI_MAX_IO;

	for (i = 0; i < n; i++)
		if (si->io[i].first <= COM1_BASE && si->io[i].last >= COM1_BASE + 7)
			return; /* COM1 as expected */
	for (i = 0; i < n; i++)
		if (si->io[i].last >= si->io[i].first + 7 && si->io[i].last <= 0xffff) {
			uart = (unsigned short)si->io[i].first;
			return;
		}
}

int main(const struct hv_startinfo *si)
{
	hv_sel_t ecs[HV_HIP_MAX_CPUS];
	const struct hv_si_irq *irq;
	unsigned c, ncpu;
	hv_status_t st;

	si = hv_si();
	if (!si)
		return 1;
	find_uart(si);
	uart_init();
	strlcpy(clients[SELF_ID].name, si->name[0] ? si->name : "console", HV_SI_NAME);

	ncpu = (unsigned)si->num_cpus;
	if (ncpu == 0 || ncpu > HV_HIP_MAX_CPUS) {
		say("bad CPU count %u\n", ncpu);
		return 1;
	}
	for (c = 0; c < ncpu; c++) {
		st = hv_handler_create(c, &ecs[c]);
		if (st != HV_OK) {
			say("handler for cpu %u: %s\n", c, hv_status_str(st));
			return 1;
		}
	}

	irq = find_irq(si);
	if (irq) {
		st = hv_irq_ctrl(irq->sel, (unsigned)si->cpu, 0); /* ISA: edge, active high */
		if (st != HV_OK) {
			say("irq_ctrl gsi %lu: %s; no input\n", irq->gsi, hv_status_str(st));
			irq = NULL;
		}
	} else {
		say("no interrupt granted; no input\n");
	}

	say("16550 at port 0x%x, %u handler(s), input %s\n", uart, ncpu,
	    irq ? "on" : "off");
	st = hv_register_service("console", (hv_word_t)cons_portal, ecs, ncpu);
	if (st != HV_OK) {
		say("register: %s\n", hv_status_str(st));
		return 1;
	}

	if (!irq)
		hv_block_forever();
	for (;;) {
		st = hv_sm_down(irq->sel);
		if (st != HV_OK) {
			say("sm_down: %s; no more input\n", hv_status_str(st));
			hv_block_forever();
		}
		/* Draining until IIR says "none" lets the (edge) line fire again;
		 * a level-triggered line is unmasked by the kernel at the next
		 * sm_down, so no irq_ctrl is needed here. */
		uart_drain();
	}
}
