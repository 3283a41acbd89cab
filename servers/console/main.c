/*
 * Console server: owns the 16550 UART (COM1 ports and GSI 4 from the start
 * info) and serves the console protocol of <hv/startinfo.h> with one
 * handler EC per CPU.
 *
 * Output, line mode (the default; what boot tests read): every client
 * (portal id = domain id, 0 = roottask) has a partial-line buffer; complete
 * lines go to the UART with a "[name] " prefix, so lines of different
 * domains never interleave. A partial line is shown (without newline) only
 * when its owner reads input or its buffer overflows; whoever prints next
 * first ends that line.
 * Multiplexed mode (argument "mux" or "mux=NAME", servers/README.md): every
 * client's output is also kept in a ring (mux.h); the terminal shows one
 * domain, the focus, unprefixed and unfiltered, as it comes (NAME once the
 * roottask names it); the others are only kept. Ctrl-] and a key switch
 * the focus (and show the kept output of the new one) or go back to line
 * mode for all ("the all view"). Input goes to the focused domain only.
 * Input: the main thread waits for the interrupt and drains the receiver
 * into a ring (the next sm_down re-arms the line); the handlers move it
 * from there through the escape parser into the input buffer under
 * tx_lock (in mux mode the main thread then calls its own portal so that
 * a switch needs no client call); HV_CONS_READ takes bytes from that buffer.
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
#include "mux.h"

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
#define SELF_PORTAL (~0ul) /* portal id of the main thread's own calls */
#define VIEW_ALL (-1l)     /* mux: every domain, prefixed lines */
#define VIEW_NONE (-2l)    /* mux: nothing live yet (waiting for mux=NAME) */

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
static char in_buf[RX_SIZE]; /* input for the reader (tx_lock) */
static unsigned in_len;

/* Multiplexed mode (tx_lock) */
static int mux_on;
static char mux_want[HV_SI_NAME];     /* mux=NAME: focus NAME once named */
static long focus = VIEW_ALL;         /* a client id, VIEW_ALL or VIEW_NONE */
static int tty_col0 = 1;              /* the UART's last byte was a newline */
static int tty_cr;                    /* the focus's last byte was '\r' */
static struct mux_ring rings[MAX_IDS + 1];
static unsigned long seen[MAX_IDS + 1]; /* ring total the terminal showed */
static struct mux_esc esc;
static char replay[MUX_RING_SIZE];

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

static const char *client_name(unsigned long id, char *buf, size_t size)
{
	if (clients[id].name[0])
		return clients[id].name;
	if (id == 0)
		return "root";
	snprintf(buf, size, "dom%lu", id);
	return buf;
}

static void put_prefix(unsigned long id)
{
	char buf[HV_SI_NAME + 16], name[HV_SI_NAME];

	snprintf(buf, sizeof(buf), "[%s] ", client_name(id, name, sizeof(name)));
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
	tty_col0 = complete;
}

/* Mux: the focused domain's bytes as they come; a lone '\n' gets its '\r'. */
static void tty_write(const char *p, size_t n)
{
	for (; n; n--, p++) {
		if (*p == '\n' && !tty_cr)
			uart_putc('\r');
		uart_putc(*p);
		tty_cr = *p == '\r';
		tty_col0 = *p == '\n';
	}
}

/* Mux: a message of the console's own on the terminal, on a line of its
 * own, whatever the view. */
static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notice(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!tty_col0 || open_id >= 0)
		uart_puts("\r\n");
	open_id = -1;
	put_prefix(SELF_ID);
	uart_puts(buf);
	uart_puts("\r\n");
	tty_col0 = 1;
	tty_cr = 0;
}

static void client_write(unsigned long id, const unsigned char *p, unsigned n)
{
	struct client *c = &clients[id];

	if (mux_on) {
		mux_ring_put(&rings[id], (const char *)p, n);
		if (focus == (long)id) {
			tty_write((const char *)p, n);
			seen[id] = rings[id].total;
			return;
		}
		if (focus != VIEW_ALL)
			return; /* kept only */
		seen[id] = rings[id].total;
	}
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
	if (mux_on && focus != VIEW_ALL) {
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		notice("%s", buf);
	} else {
		client_write(SELF_ID, (const unsigned char *)buf, (unsigned)n);
	}
	hv_spin_unlock(&tx_lock);
}

/* ---- Multiplexer (tx_lock held) ---------------------------------------------- */

/* A domain one can focus: named by the roottask or has written. */
static int mux_known(unsigned long id)
{
	return id < MAX_IDS && (clients[id].name[0] || rings[id].total);
}

/* Leave the current view: no partial line of the line mode stays open. */
static void view_leave(void)
{
	unsigned i;

	for (i = 0; i <= MAX_IDS; i++)
		clients[i].len = 0; /* their bytes are in the rings */
	in_len = 0;                 /* typed for the old focus: not for the new */
}

static void mux_focus(unsigned long id)
{
	char name[HV_SI_NAME];
	size_t n;

	view_leave();
	notice("focus: %s (domain %lu), its last %lu bytes follow; Ctrl-] ? for help",
	       client_name(id, name, sizeof(name)), id,
	       (unsigned long)mux_ring_get(&rings[id], replay, sizeof(replay)));
	focus = (long)id;
	tty_cr = 0;
	n = mux_ring_get(&rings[id], replay, sizeof(replay));
	tty_write(replay, n);
	seen[id] = rings[id].total;
}

static void mux_help(void)
{
	char name[HV_SI_NAME];
	unsigned long id;

	notice("keys: Ctrl-] then 0-9 (domain id), n (next), p (previous), a (all, prefixed), "
	       "? (this list); Ctrl-] Ctrl-] sends Ctrl-]");
	for (id = 0; id < MAX_IDS; id++)
		if (mux_known(id))
			notice("  %2lu %-15s %s%lu bytes kept, %lu unseen", id,
			       client_name(id, name, sizeof(name)),
			       focus == (long)id ? "(focus) " : "",
			       rings[id].total < MUX_RING_SIZE ? rings[id].total : (unsigned long)MUX_RING_SIZE,
			       rings[id].total - seen[id]);
}

/* Next (dir 1) or previous (-1) known domain after the focus. */
static void mux_cycle(int dir)
{
	long id = focus < 0 ? (dir > 0 ? -1 : MAX_IDS) : focus;
	unsigned i;

	for (i = 0; i < MAX_IDS; i++) {
		id = (id + dir + MAX_IDS + 1) % (MAX_IDS + 1);
		if (id < MAX_IDS && mux_known((unsigned long)id)) {
			mux_focus((unsigned long)id);
			return;
		}
	}
	notice("no domain to show");
}

static void mux_command(int cmd)
{
	switch (cmd) {
	case MUX_NEXT:
		mux_cycle(1);
		break;
	case MUX_PREV:
		mux_cycle(-1);
		break;
	case MUX_ALL:
		view_leave();
		focus = VIEW_ALL;
		notice("all domains, prefixed lines; Ctrl-] ? for help");
		break;
	case MUX_HELP:
		mux_help();
		break;
	case MUX_BAD:
		notice("unknown key after Ctrl-]; Ctrl-] ? for help");
		break;
	default:
		if (cmd >= 0 && mux_known((unsigned long)cmd))
			mux_focus((unsigned long)cmd);
		else if (cmd >= 0)
			notice("no domain %d; Ctrl-] ? for help", cmd);
		break;
	}
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

/* Handlers, tx_lock held: the ring through the escape parser (mux mode)
 * into in_buf; a full in_buf drops input, as a full ring does. */
static void rx_process(void)
{
	unsigned t = rx_tail, h = __atomic_load_n(&rx_head, __ATOMIC_ACQUIRE);

	while (t != h) {
		unsigned char c = (unsigned char)rx_ring[t++ % RX_SIZE];
		int cmd = mux_on ? mux_esc_feed(&esc, c) : MUX_DATA;

		if (cmd == MUX_DATA) {
			if (in_len < RX_SIZE)
				in_buf[in_len++] = (char)c;
		} else if (cmd != MUX_NONE) {
			mux_command(cmd);
		}
	}
	__atomic_store_n(&rx_tail, t, __ATOMIC_RELEASE);
}

/* Handlers, tx_lock held: up to max input bytes for client id. */
static unsigned in_take(unsigned long id, char *buf, unsigned max)
{
	unsigned n;

	rx_process();
	if (mux_on && focus != VIEW_ALL && focus != (long)id)
		return 0; /* input is the focused domain's */
	n = in_len < max ? in_len : max;
	memcpy(buf, in_buf, n);
	memmove(in_buf, in_buf + n, in_len - n);
	in_len -= n;
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
	if (id == SELF_PORTAL) { /* the main thread: new input */
		hv_spin_lock(&tx_lock);
		rx_process();
		hv_spin_unlock(&tx_lock);
		return reply_status(u, HV_OK);
	}
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
		n = in_take(id, rx_buf, HV_CONS_MAX);
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
		if (mux_on && focus == VIEW_NONE && !strcmp(name, mux_want))
			mux_focus(target);
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

/* Arguments: "mux" or "mux=NAME" (other words are ignored). */
static void parse_args(const struct hv_startinfo *si)
{
	char args[HV_SI_ARGS + 1];
	const char *p = args;

	memcpy(args, si->args, HV_SI_ARGS);
	args[HV_SI_ARGS] = '\0';
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		for (n = 0; p[n] && p[n] != ' ' && p[n] != '\t'; n++)
			;
		if (n == 3 && !strncmp(p, "mux", 3)) {
			mux_on = 1;
		} else if (n > 4 && !strncmp(p, "mux=", 4)) {
			mux_on = 1;
			memcpy(mux_want, p + 4, n - 4 < HV_SI_NAME - 1 ? n - 4 : HV_SI_NAME - 1);
			focus = VIEW_NONE;
		}
		p += n;
	}
}

int main(const struct hv_startinfo *si)
{
	hv_sel_t ecs[HV_HIP_MAX_CPUS], self_pt = HV_SEL_NONE;
	const struct hv_si_irq *irq;
	unsigned c, ncpu;
	hv_status_t st;

	si = hv_si();
	if (!si)
		return 1;
	find_uart(si);
	uart_init();
	strlcpy(clients[SELF_ID].name, si->name[0] ? si->name : "console", HV_SI_NAME);
	parse_args(si);

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

	if (irq && mux_on && si->cpu < ncpu) {
		/* the main thread's own portal: a switch needs no client call */
		self_pt = hv_sel_alloc();
		if (self_pt == HV_SEL_NONE ||
		    hv_create_pt(self_pt, HV_SI_SEL_PD, ecs[si->cpu], 0, (hv_word_t)cons_portal,
				 SELF_PORTAL) != HV_OK)
			self_pt = HV_SEL_NONE; /* input is processed at the next client call */
	}
	say("16550 at port 0x%x, %u handler(s), input %s\n", uart, ncpu,
	    irq ? "on" : "off");
	if (mux_on)
		say("multiplexed: the terminal shows %s%s%s; Ctrl-] ? lists the keys\n",
		    mux_want[0] ? "'" : "all domains", mux_want, mux_want[0] ? "'" : "");
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
		if (self_pt != HV_SEL_NONE) {
			hv_utcb()->mr[0] = 0;
			(void)hv_call(self_pt, HV_TAG(1, 0), NULL);
		}
	}
}
