/* Console client (see <hv/console.h>, protocol in <hv/startinfo.h>). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <hv/console.h>
#include <hv/runtime.h>

static hv_sel_t cons_pt = HV_SI_SEL_CONSOLE;
static int cons_pt_set;

void cons_set_portal(hv_sel_t pt)
{
	cons_pt = pt;
	cons_pt_set = 1;
}

/*
 * Portals are CPU-local and HV_SI_SEL_CONSOLE leads to the handler on the
 * main EC's CPU. A thread on another CPU uses the "console" entry of the
 * start info's service list if the roottask provided one.
 */
static hv_sel_t cons_portal(const struct hv_tls *t)
{
	const struct hv_startinfo *si = hv_si();
	hv_sel_t sel;

	if (cons_pt_set || !si || t->cpu == si->cpu)
		return cons_pt;
	if (hv_service("console", t->cpu, &sel) == HV_OK)
		return sel;
	return cons_pt;
}

/*
 * One HV_CONS_WRITE of n <= HV_CONS_MAX bytes through the caller's UTCB.
 * The words it uses are put back afterwards: a portal handler (a VMM
 * serving a VM exit, say) may print in the middle of the message it
 * answers. The console's reply is at most one word.
 */
static void cons_send(const struct hv_tls *t, const char *p, unsigned n)
{
	struct hv_utcb *u = t->utcb;
	unsigned words = (n + 7) / 8;
	hv_word_t saved[2 + HV_CONS_MAX / 8];

	memcpy(saved, u->mr, (2 + words) * sizeof(hv_word_t));
	u->mr[0] = HV_CONS_WRITE;
	u->mr[1] = n;
	if (words)
		u->mr[2 + words - 1] = 0; /* no stale bytes in the last word */
	memcpy(&u->mr[2], p, n);
	(void)hv_call(cons_portal(t), HV_TAG(2 + words, 0), NULL); /* failure: drop */
	memcpy(u->mr, saved, (2 + words) * sizeof(hv_word_t));
}

/* Send the buffered bytes up to and including the last '\n' (all: every
 * buffered byte) and keep the rest. */
static void cons_emit(struct hv_tls *t, int all)
{
	unsigned n = t->cons_len, send = n;

	if (!all)
		while (send && t->cons_buf[send - 1] != '\n')
			send--;
	if (!send)
		return;
	cons_send(t, t->cons_buf, send);
	t->cons_open = t->cons_buf[send - 1] != '\n';
	memmove(t->cons_buf, t->cons_buf + send, n - send);
	t->cons_len = n - send;
}

static void cons_put(char c, void *ctx)
{
	struct hv_tls *t = ctx;

	if (t->cons_len == HV_CONS_MAX) {
		cons_emit(t, 0);
		if (t->cons_len == HV_CONS_MAX)
			cons_emit(t, 1); /* a line longer than a message */
	}
	t->cons_buf[t->cons_len++] = c;
}

size_t cons_write(const char *buf, size_t n)
{
	struct hv_tls *t = hv_tls();
	size_t i;

	for (i = 0; i < n; i++)
		cons_put(buf[i], t);
	cons_emit(t, 0);
	return n;
}

void cons_flush(void)
{
	cons_emit(hv_tls(), 1);
}

void cons_end(void)
{
	struct hv_tls *t = hv_tls();

	if (t->cons_len || t->cons_open)
		cons_write("\n", 1);
}

size_t cons_read(char *buf, size_t max)
{
	struct hv_tls *t = hv_tls();
	struct hv_utcb *u = t->utcb;
	hv_word_t rtag;
	size_t n, avail;

	cons_emit(t, 1); /* show a pending prompt first */
	u->mr[0] = HV_CONS_READ;
	if (hv_call(cons_portal(t), HV_TAG(1, 0), &rtag) != HV_OK)
		return 0;
	if (HV_TAG_UNTYPED(rtag) < 2 || u->mr[0] != HV_OK)
		return 0;
	n = u->mr[1];
	avail = (HV_TAG_UNTYPED(rtag) - 2) * 8;
	if (n > avail)
		n = avail;
	if (n > HV_CONS_MAX)
		n = HV_CONS_MAX;
	if (n > max)
		n = max; /* the excess is lost: pass max >= HV_CONS_MAX */
	memcpy(buf, &u->mr[2], n);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct hv_tls *t = hv_tls();
	int n = hv_vformat(cons_put, t, fmt, ap);

	cons_emit(t, 0);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	struct hv_tls *t = hv_tls();
	size_t n = 0;

	for (; s[n]; n++)
		cons_put(s[n], t);
	cons_put('\n', t);
	cons_emit(t, 0);
	return (int)n + 1;
}

int putchar(int c)
{
	struct hv_tls *t = hv_tls();

	cons_put((char)c, t);
	cons_emit(t, 0);
	return (unsigned char)c;
}
