/* printf-style formatting (see <stdio.h>). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct fmt_spec {
	int left;      /* '-' */
	int zero;      /* '0' */
	int width;
	int prec;      /* -1: none */
};

struct fmt_out {
	void (*put)(char c, void *ctx);
	void *ctx;
	int count;
};

static void out_char(struct fmt_out *o, char c)
{
	o->put(c, o->ctx);
	o->count++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/* Emit prefix (sign or "0x") + digits, padded to the field width. */
static void out_field(struct fmt_out *o, const struct fmt_spec *sp, const char *prefix,
		      const char *body, int len)
{
	int plen = (int)strlen(prefix);
	int pad = sp->width - plen - len;

	if (!sp->left && !sp->zero)
		out_pad(o, ' ', pad);
	while (*prefix)
		out_char(o, *prefix++);
	if (!sp->left && sp->zero)
		out_pad(o, '0', pad);
	while (len-- > 0)
		out_char(o, *body++);
	if (sp->left)
		out_pad(o, ' ', pad);
}

static void out_number(struct fmt_out *o, struct fmt_spec *sp, unsigned long long v,
		       int neg, unsigned base, int upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24]; /* 2^64 in octal would need 22; we use base >= 10 */
	int i = (int)sizeof(buf);
	int ndig;

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	ndig = (int)sizeof(buf) - i;
	/* A precision gives the minimum number of digits and disables '0'. */
	if (sp->prec >= 0) {
		sp->zero = 0;
		while (ndig < sp->prec && i > 0) {
			buf[--i] = '0';
			ndig++;
		}
	}
	out_field(o, sp, neg ? "-" : prefix, buf + i, ndig);
}

int hv_vformat(void (*put)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out o = { put, ctx, 0 };

	while (*fmt) {
		struct fmt_spec sp = { 0, 0, 0, -1 };
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t, -1 short, -2 char */
		unsigned long long uv;
		long long sv;
		char c;

		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = 1;
			else if (*fmt == '0')
				sp.zero = 1;
			else if (*fmt != ' ' && *fmt != '+' && *fmt != '#')
				break; /* ' ', '+', '#' are accepted and ignored */
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = 1;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				if (sp.prec < 0)
					sp.prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}
		if (sp.left)
			sp.zero = 0;
		for (;; fmt++) {
			if (*fmt == 'l')
				lng = lng == 1 ? 2 : 1;
			else if (*fmt == 'z')
				lng = 3;
			else if (*fmt == 'h')
				lng = lng == -1 ? -2 : -1;
			else
				break;
		}

		switch ((c = *fmt)) {
		case '\0':
			continue; /* lone '%' at the end */
		case 'd':
		case 'i':
			if (lng == 1)
				sv = va_arg(ap, long);
			else if (lng == 2)
				sv = va_arg(ap, long long);
			else if (lng == 3)
				sv = (long long)va_arg(ap, size_t);
			else
				sv = va_arg(ap, int);
			if (lng == -1)
				sv = (short)sv;
			else if (lng == -2)
				sv = (signed char)sv;
			uv = sv < 0 ? 0ull - (unsigned long long)sv : (unsigned long long)sv;
			out_number(&o, &sp, uv, sv < 0, 10, 0, "");
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng == 1)
				uv = va_arg(ap, unsigned long);
			else if (lng == 2)
				uv = va_arg(ap, unsigned long long);
			else if (lng == 3)
				uv = va_arg(ap, size_t);
			else
				uv = va_arg(ap, unsigned int);
			if (lng == -1)
				uv = (unsigned short)uv;
			else if (lng == -2)
				uv = (unsigned char)uv;
			out_number(&o, &sp, uv, 0, c == 'u' ? 10 : 16, c == 'X', "");
			break;
		case 'p':
			uv = (unsigned long long)(unsigned long)va_arg(ap, void *);
			out_number(&o, &sp, uv, 0, 16, 0, "0x");
			break;
		case 'c': {
			char ch = (char)va_arg(ap, int);
			sp.zero = 0;
			out_field(&o, &sp, "", &ch, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len;
			if (!s)
				s = "(null)";
			len = (int)(sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s));
			sp.zero = 0;
			out_field(&o, &sp, "", s, len);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		default: /* unknown conversion: print it verbatim */
			out_char(&o, '%');
			out_char(&o, c);
			break;
		}
		fmt++;
	}
	return o.count;
}

struct buf_ctx {
	char *buf;
	size_t size, pos;
};

static void buf_put(char c, void *ctx)
{
	struct buf_ctx *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = hv_vformat(buf_put, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
