/*
 * Roottask configuration parser. See config.h for the interface and
 * docs/config.md for the file format.
 *
 * The parser works line by line on a private copy of each line (at most
 * CFG_LINE_MAX characters), so no input can make it read or write out of
 * bounds. Every error message is built into a fixed buffer with snprintf,
 * which truncates long tokens instead of overflowing.
 */
#include "config.h"

#include <hv/startinfo.h>
#include <stdio.h>
#include <string.h>

/* The start-info page must be able to carry what a configuration grants. */
_Static_assert(CFG_NAME_MAX == HV_SI_NAME, "name size differs from startinfo");
_Static_assert(CFG_ARGS_MAX == HV_SI_ARGS, "args size differs from startinfo");
_Static_assert(CFG_MAX_CALLS <= HV_SI_MAX_SVC, "too many calls for startinfo");
_Static_assert(CFG_MAX_IRQ <= HV_SI_MAX_IRQ, "too many irqs for startinfo");
_Static_assert(CFG_MAX_IO <= HV_SI_MAX_IO, "too many ioports for startinfo");
_Static_assert(CFG_PRIO_MAX <= HV_PRIO_MAX, "priority above kernel maximum");

#define CFG_MAX_TOK 4 /* tokens remembered per line; more are only counted */

enum cfg_key {
	CFG_K_DOMAIN,
	CFG_K_MODULE,
	CFG_K_CPU,
	CFG_K_PRIO,
	CFG_K_QUANTUM,
	CFG_K_MEMORY,
	CFG_K_KMEM,
	CFG_K_IOPORT,
	CFG_K_IRQ,
	CFG_K_PROVIDES,
	CFG_K_CALL,
	CFG_K_COUNT
};

/* Keyword and what its argument should look like (for messages). */
static const struct {
	const char *name;
	const char *expect;
} cfg_keys[CFG_K_COUNT] = {
	[CFG_K_DOMAIN] = { "domain", "a domain name" },
	[CFG_K_MODULE] = { "module", "a module name" },
	[CFG_K_CPU] = { "cpu", "a CPU number 0..15" },
	[CFG_K_PRIO] = { "priority", "a priority 1..63" },
	[CFG_K_QUANTUM] = { "quantum", "microseconds 100..1000000" },
	[CFG_K_MEMORY] = { "memory", "a size 64K..1G" },
	[CFG_K_KMEM] = { "kmem", "a size 0..64M" },
	[CFG_K_IOPORT] = { "ioport", "FIRST or FIRST-LAST in 0..0xffff" },
	[CFG_K_IRQ] = { "irq", "a GSI 0..23" },
	[CFG_K_PROVIDES] = { "provides", "a service name" },
	[CFG_K_CALL] = { "call", "a service name" },
};

/* One line split into tokens. */
struct cfg_line {
	char raw[CFG_LINE_MAX + 1]; /* without comment and trailing blanks */
	char tok[CFG_LINE_MAX + 1]; /* same, blanks replaced by NULs */
	const char *argv[CFG_MAX_TOK];
	size_t pos[CFG_MAX_TOK]; /* offset of argv[i] in raw */
	unsigned argc;           /* number of tokens on the line */
};

/* Everything the parser needs; lives on the stack of cfg_parse. */
struct cfg_state {
	const char *fname;
	struct cfg *out;
	cfg_report_fn report;
	void *ctx;
	unsigned line;           /* current line number */
	struct cfg_domain *cur;  /* domain receiving directives, or NULL */
	struct cfg_domain spill; /* stands in for domains beyond the table */
	struct cfg_line ln;
	char msg[640];  /* message body being built */
	char full[960]; /* "FILE:LINE: body" */
};

/* Reports st->msg at line, counts it and invalidates d (if not NULL). */
static void cfg_error(struct cfg_state *st, unsigned line, struct cfg_domain *d)
{
	if (st->out->nerrors != ~0u)
		st->out->nerrors++;
	if (d)
		d->valid = false;
	if (st->report) {
		snprintf(st->full, sizeof st->full, "%s:%u: %s", st->fname, line,
			 st->msg);
		st->report(st->ctx, st->full);
	}
}

/* True for the blanks that separate tokens. */
static bool cfg_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* True if s is a valid domain or service name. */
static bool cfg_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* Copies s into dst[size], truncating, always NUL-terminated. */
static void cfg_copy(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Parses the digits at s (decimal, or hex after "0x"/"0X") into *val and
 * sets *end after them; *ovf tells whether the value exceeded 64 bits.
 * Returns false if there are no digits at all.
 */
static bool cfg_num_prefix(const char *s, uint64_t *val, const char **end,
			   bool *ovf)
{
	unsigned base = 10, ndig = 0;
	uint64_t v = 0;
	const char *p = s;

	*ovf = false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		unsigned dig;
		if (*p >= '0' && *p <= '9')
			dig = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dig = (unsigned)(*p - 'a') + 10u;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dig = (unsigned)(*p - 'A') + 10u;
		else
			break;
		if (v > (UINT64_MAX - dig) / base)
			*ovf = true;
		else
			v = v * base + dig;
		ndig++;
	}
	*val = v;
	*end = p;
	return ndig > 0;
}

/*
 * Parses token t of key k as a whole number in lo..hi (range is its text
 * for messages). On error reports, invalidates d and returns false.
 */
static bool cfg_get_num(struct cfg_state *st, struct cfg_domain *d,
			enum cfg_key k, const char *t, uint64_t lo, uint64_t hi,
			const char *range, uint64_t *out)
{
	uint64_t v;
	const char *end;
	bool ovf;

	if (!cfg_num_prefix(t, &v, &end, &ovf) || *end != '\0') {
		snprintf(st->msg, sizeof st->msg,
			 "bad number '%s' for %s (expected decimal or 0x hex)", t,
			 cfg_keys[k].name);
		cfg_error(st, st->line, d);
		return false;
	}
	if (ovf || v < lo || v > hi) {
		snprintf(st->msg, sizeof st->msg, "%s %s out of range (%s)",
			 cfg_keys[k].name, t, range);
		cfg_error(st, st->line, d);
		return false;
	}
	*out = v;
	return true;
}

/*
 * Parses token t of key k as a size: a number with an optional suffix
 * K, M or G (binary, either case), within lo..hi bytes.
 */
static bool cfg_get_size(struct cfg_state *st, struct cfg_domain *d,
			 enum cfg_key k, const char *t, uint64_t lo, uint64_t hi,
			 const char *range, uint64_t *out)
{
	uint64_t v;
	const char *end;
	bool ovf;
	unsigned shift = 0;

	if (!cfg_num_prefix(t, &v, &end, &ovf)) {
		snprintf(st->msg, sizeof st->msg,
			 "bad number '%s' for %s (expected N, NK, NM or NG; "
			 "decimal or 0x hex)",
			 t, cfg_keys[k].name);
		cfg_error(st, st->line, d);
		return false;
	}
	if (*end != '\0') {
		char c = end[0];
		if (end[1] == '\0' && (c == 'K' || c == 'k'))
			shift = 10;
		else if (end[1] == '\0' && (c == 'M' || c == 'm'))
			shift = 20;
		else if (end[1] == '\0' && (c == 'G' || c == 'g'))
			shift = 30;
		else {
			snprintf(st->msg, sizeof st->msg,
				 "bad size suffix '%s' in '%s' for %s "
				 "(expected K, M or G)",
				 end, t, cfg_keys[k].name);
			cfg_error(st, st->line, d);
			return false;
		}
	}
	if (ovf || v > (UINT64_MAX >> shift) || (v << shift) < lo ||
	    (v << shift) > hi) {
		snprintf(st->msg, sizeof st->msg, "%s %s out of range (%s)",
			 cfg_keys[k].name, t, range);
		cfg_error(st, st->line, d);
		return false;
	}
	*out = v << shift;
	return true;
}

/*
 * For a single-valued key: reports a repetition (first given on *first)
 * and returns false, or records the current line in *first.
 */
static bool cfg_once(struct cfg_state *st, struct cfg_domain *d,
		     enum cfg_key k, unsigned *first)
{
	if (*first) {
		snprintf(st->msg, sizeof st->msg,
			 "'%s' given twice (first on line %u)", cfg_keys[k].name,
			 *first);
		cfg_error(st, st->line, d);
		return false;
	}
	*first = st->line;
	return true;
}

/* For a repeatable key: reports if d already has max of them. */
static bool cfg_room(struct cfg_state *st, struct cfg_domain *d,
		     enum cfg_key k, unsigned n, unsigned max)
{
	if (n < max)
		return true;
	snprintf(st->msg, sizeof st->msg, "too many '%s' lines (at most %u)",
		 cfg_keys[k].name, max);
	cfg_error(st, st->line, d);
	return false;
}

/* Checks a service name token; reports and returns false if bad. */
static bool cfg_service_ok(struct cfg_state *st, struct cfg_domain *d,
			   const char *t)
{
	if (cfg_name_ok(t))
		return true;
	snprintf(st->msg, sizeof st->msg,
		 "bad service name '%s' (expected 1..15 characters of "
		 "A-Z a-z 0-9 _ -)",
		 t);
	cfg_error(st, st->line, d);
	return false;
}

/* Resets d to an empty, valid domain with the default values. */
static void cfg_domain_init(struct cfg_domain *d, unsigned line)
{
	memset(d, 0, sizeof *d);
	d->cpu = CFG_DEFAULT_CPU;
	d->prio = CFG_DEFAULT_PRIO;
	d->quantum_us = CFG_DEFAULT_QUANTUM;
	d->memory = CFG_DEFAULT_MEMORY;
	d->kmem = CFG_DEFAULT_KMEM;
	d->line = line;
	d->valid = true;
}

/* Ends the current domain: checks what can only be checked at its end. */
static void cfg_close_domain(struct cfg_state *st)
{
	struct cfg_domain *d = st->cur;

	if (!d)
		return;
	st->cur = NULL;
	if (!d->module_line) {
		snprintf(st->msg, sizeof st->msg,
			 "domain '%s' has no 'module' line", d->name);
		cfg_error(st, d->line, d);
	}
	for (unsigned i = 0; i < d->ncalls; i++) {
		for (unsigned j = 0; j < d->nprovides; j++) {
			if (strcmp(d->calls[i], d->provides[j]) != 0)
				continue;
			snprintf(st->msg, sizeof st->msg,
				 "domain '%s' calls its own service '%s'",
				 d->name, d->calls[i]);
			cfg_error(st, d->call_line[i], d);
		}
	}
}

/* 'domain NAME': closes the previous domain and opens a new one. */
static void cfg_do_domain(struct cfg_state *st)
{
	struct cfg *c = st->out;
	struct cfg_line *ln = &st->ln;
	struct cfg_domain *d;
	const char *name;

	cfg_close_domain(st);
	if (c->ndom < CFG_MAX_DOMAINS) {
		d = &c->dom[c->ndom++];
		cfg_domain_init(d, st->line);
	} else {
		d = &st->spill;
		cfg_domain_init(d, st->line);
		snprintf(st->msg, sizeof st->msg,
			 "too many domains (at most %u)", CFG_MAX_DOMAINS);
		cfg_error(st, st->line, d);
	}
	st->cur = d;
	if (ln->argc < 2) {
		snprintf(st->msg, sizeof st->msg,
			 "missing argument for 'domain' (expected %s)",
			 cfg_keys[CFG_K_DOMAIN].expect);
		cfg_error(st, st->line, d);
		return;
	}
	name = ln->argv[1];
	cfg_copy(d->name, sizeof d->name, name);
	if (!cfg_name_ok(name)) {
		snprintf(st->msg, sizeof st->msg,
			 "bad domain name '%s' (expected 1..15 characters of "
			 "A-Z a-z 0-9 _ -)",
			 name);
		cfg_error(st, st->line, d);
		return;
	}
	for (unsigned i = 0; i < c->ndom; i++) {
		if (&c->dom[i] == d || strcmp(c->dom[i].name, name) != 0)
			continue;
		snprintf(st->msg, sizeof st->msg,
			 "duplicate domain name '%s' (first on line %u)", name,
			 c->dom[i].line);
		cfg_error(st, st->line, d);
		return;
	}
	if (ln->argc > 2) {
		snprintf(st->msg, sizeof st->msg,
			 "unexpected extra argument '%s' for 'domain'",
			 ln->argv[2]);
		cfg_error(st, st->line, d);
	}
}

/* 'module NAME [ARGS...]' */
static void cfg_do_module(struct cfg_state *st, struct cfg_domain *d)
{
	struct cfg_line *ln = &st->ln;
	const char *args = ln->argc > 2 ? ln->raw + ln->pos[2] : "";
	size_t n;

	if (!cfg_once(st, d, CFG_K_MODULE, &d->module_line))
		return;
	if (strlen(ln->argv[1]) >= CFG_MODULE_MAX) {
		snprintf(st->msg, sizeof st->msg,
			 "module name '%s' too long (at most %u characters)",
			 ln->argv[1], CFG_MODULE_MAX - 1);
		cfg_error(st, st->line, d);
		return;
	}
	n = strlen(args);
	if (n >= CFG_ARGS_MAX) {
		snprintf(st->msg, sizeof st->msg,
			 "module arguments too long (%lu characters, at most %u)",
			 (unsigned long)n, CFG_ARGS_MAX - 1);
		cfg_error(st, st->line, d);
		return;
	}
	cfg_copy(d->module, sizeof d->module, ln->argv[1]);
	cfg_copy(d->args, sizeof d->args, args);
}

/* 'ioport FIRST[-LAST]' */
static void cfg_do_ioport(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1], *end;
	uint64_t first, last;
	bool ovf1, ovf2 = false, ok;

	if (!cfg_room(st, d, CFG_K_IOPORT, d->nio, CFG_MAX_IO))
		return;
	ok = cfg_num_prefix(t, &first, &end, &ovf1);
	last = first;
	if (ok && *end == '-')
		ok = cfg_num_prefix(end + 1, &last, &end, &ovf2);
	if (!ok || *end != '\0') {
		snprintf(st->msg, sizeof st->msg,
			 "bad I/O port range '%s' (expected FIRST or "
			 "FIRST-LAST, decimal or 0x hex)",
			 t);
		cfg_error(st, st->line, d);
		return;
	}
	if (ovf1 || ovf2 || first > CFG_MAX_PORT || last > CFG_MAX_PORT) {
		snprintf(st->msg, sizeof st->msg,
			 "ioport %s out of range (0..0xffff)", t);
		cfg_error(st, st->line, d);
		return;
	}
	if (first > last) {
		snprintf(st->msg, sizeof st->msg,
			 "ioport %s: FIRST is above LAST", t);
		cfg_error(st, st->line, d);
		return;
	}
	d->io[d->nio].first = (unsigned)first;
	d->io[d->nio].last = (unsigned)last;
	d->io_line[d->nio++] = st->line;
}

/* 'irq GSI' */
static void cfg_do_irq(struct cfg_state *st, struct cfg_domain *d)
{
	uint64_t v;

	if (!cfg_room(st, d, CFG_K_IRQ, d->nirq, CFG_MAX_IRQ))
		return;
	if (!cfg_get_num(st, d, CFG_K_IRQ, st->ln.argv[1], 0, CFG_MAX_GSI,
			 "0..23", &v))
		return;
	for (unsigned i = 0; i < d->nirq; i++) {
		if (d->irq[i] != v)
			continue;
		snprintf(st->msg, sizeof st->msg,
			 "irq %u granted twice (first on line %u)", d->irq[i],
			 d->irq_line[i]);
		cfg_error(st, st->line, d);
		return;
	}
	d->irq[d->nirq] = (unsigned)v;
	d->irq_line[d->nirq++] = st->line;
}

/* 'provides SERVICE': unique within the whole file. */
static void cfg_do_provides(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1];
	struct cfg *c = st->out;

	if (!cfg_room(st, d, CFG_K_PROVIDES, d->nprovides, CFG_MAX_PROVIDES) ||
	    !cfg_service_ok(st, d, t))
		return;
	for (unsigned i = 0; i < d->nprovides; i++) {
		if (strcmp(d->provides[i], t) != 0)
			continue;
		snprintf(st->msg, sizeof st->msg,
			 "service '%s' provided twice (first on line %u)", t,
			 d->provides_line[i]);
		cfg_error(st, st->line, d);
		return;
	}
	for (unsigned i = 0; i < c->ndom; i++) {
		const struct cfg_domain *o = &c->dom[i];
		if (o == d)
			continue;
		for (unsigned j = 0; j < o->nprovides; j++) {
			if (strcmp(o->provides[j], t) != 0)
				continue;
			snprintf(st->msg, sizeof st->msg,
				 "service '%s' already provided by domain '%s' "
				 "(line %u)",
				 t, o->name, o->provides_line[j]);
			cfg_error(st, st->line, d);
			return;
		}
	}
	cfg_copy(d->provides[d->nprovides], CFG_NAME_MAX, t);
	d->provides_line[d->nprovides++] = st->line;
}

/* 'call SERVICE': resolved once the whole file is read. */
static void cfg_do_call(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1];

	if (!cfg_room(st, d, CFG_K_CALL, d->ncalls, CFG_MAX_CALLS) ||
	    !cfg_service_ok(st, d, t))
		return;
	for (unsigned i = 0; i < d->ncalls; i++) {
		if (strcmp(d->calls[i], t) != 0)
			continue;
		snprintf(st->msg, sizeof st->msg,
			 "service '%s' called twice (first on line %u)", t,
			 d->call_line[i]);
		cfg_error(st, st->line, d);
		return;
	}
	cfg_copy(d->calls[d->ncalls], CFG_NAME_MAX, t);
	d->call_line[d->ncalls++] = st->line;
}

/* Executes the tokenized line in st->ln. */
static void cfg_directive(struct cfg_state *st)
{
	struct cfg_line *ln = &st->ln;
	struct cfg_domain *d = st->cur;
	const char *t;
	uint64_t v;
	unsigned k;

	for (k = 0; k < CFG_K_COUNT; k++)
		if (strcmp(ln->argv[0], cfg_keys[k].name) == 0)
			break;
	if (k == CFG_K_COUNT) {
		snprintf(st->msg, sizeof st->msg, "unknown key '%s'",
			 ln->argv[0]);
		cfg_error(st, st->line, d);
		return;
	}
	if (k == CFG_K_DOMAIN) {
		cfg_do_domain(st);
		return;
	}
	if (!d) {
		snprintf(st->msg, sizeof st->msg,
			 "'%s' outside a domain (expected 'domain NAME' first)",
			 cfg_keys[k].name);
		cfg_error(st, st->line, NULL);
		return;
	}
	if (ln->argc < 2) {
		snprintf(st->msg, sizeof st->msg,
			 "missing argument for '%s' (expected %s)",
			 cfg_keys[k].name, cfg_keys[k].expect);
		cfg_error(st, st->line, d);
		return;
	}
	if (ln->argc > 2 && k != CFG_K_MODULE) {
		snprintf(st->msg, sizeof st->msg,
			 "unexpected extra argument '%s' for '%s'", ln->argv[2],
			 cfg_keys[k].name);
		cfg_error(st, st->line, d);
		return;
	}
	t = ln->argv[1];
	switch ((enum cfg_key)k) {
	case CFG_K_MODULE:
		cfg_do_module(st, d);
		break;
	case CFG_K_CPU:
		if (cfg_once(st, d, CFG_K_CPU, &d->cpu_line) &&
		    cfg_get_num(st, d, CFG_K_CPU, t, 0, CFG_MAX_CPU, "0..15", &v))
			d->cpu = (unsigned)v;
		break;
	case CFG_K_PRIO:
		if (cfg_once(st, d, CFG_K_PRIO, &d->prio_line) &&
		    cfg_get_num(st, d, CFG_K_PRIO, t, CFG_PRIO_MIN, CFG_PRIO_MAX,
				"1..63", &v))
			d->prio = (unsigned)v;
		break;
	case CFG_K_QUANTUM:
		if (cfg_once(st, d, CFG_K_QUANTUM, &d->quantum_line) &&
		    cfg_get_num(st, d, CFG_K_QUANTUM, t, CFG_QUANTUM_MIN,
				CFG_QUANTUM_MAX, "100..1000000", &v))
			d->quantum_us = (unsigned)v;
		break;
	case CFG_K_MEMORY:
		if (cfg_once(st, d, CFG_K_MEMORY, &d->memory_line) &&
		    cfg_get_size(st, d, CFG_K_MEMORY, t, CFG_MEMORY_MIN,
				 CFG_MEMORY_MAX, "64K..1G", &v))
			d->memory = (v + 0xfffu) & ~(uint64_t)0xfffu;
		break;
	case CFG_K_KMEM:
		if (cfg_once(st, d, CFG_K_KMEM, &d->kmem_line) &&
		    cfg_get_size(st, d, CFG_K_KMEM, t, 0, CFG_KMEM_MAX, "0..64M",
				 &v))
			d->kmem = v;
		break;
	case CFG_K_IOPORT:
		cfg_do_ioport(st, d);
		break;
	case CFG_K_IRQ:
		cfg_do_irq(st, d);
		break;
	case CFG_K_PROVIDES:
		cfg_do_provides(st, d);
		break;
	case CFG_K_CALL:
		cfg_do_call(st, d);
		break;
	default:
		break;
	}
}

/* Checks, strips and tokenizes one line of n bytes (no line end) at s. */
static void cfg_line(struct cfg_state *st, const char *s, size_t n)
{
	struct cfg_line *ln = &st->ln;
	size_t m = 0, i = 0;

	if (n > CFG_LINE_MAX) {
		snprintf(st->msg, sizeof st->msg,
			 "line too long (%lu characters, at most %u)",
			 (unsigned long)n, CFG_LINE_MAX);
		cfg_error(st, st->line, st->cur);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || (c >= 0x20 && c <= 0x7e))
			continue;
		snprintf(st->msg, sizeof st->msg,
			 "non-printable byte 0x%02x in column %lu", (unsigned)c,
			 (unsigned long)(i + 1));
		cfg_error(st, st->line, st->cur);
		return;
	}
	while (m < n && s[m] != '#')
		m++;
	while (m > 0 && cfg_blank(s[m - 1]))
		m--;
	memcpy(ln->raw, s, m);
	memcpy(ln->tok, s, m);
	ln->raw[m] = ln->tok[m] = '\0';
	ln->argc = 0;
	for (i = 0; i < m;) {
		if (cfg_blank(ln->tok[i])) {
			ln->tok[i++] = '\0';
			continue;
		}
		if (ln->argc < CFG_MAX_TOK) {
			ln->argv[ln->argc] = &ln->tok[i];
			ln->pos[ln->argc] = i;
		}
		ln->argc++;
		while (i < m && !cfg_blank(ln->tok[i]))
			i++;
	}
	if (ln->argc)
		cfg_directive(st);
}

/*
 * After the whole file: every 'call' must name a service that a valid
 * domain provides. Invalidating a caller can orphan its own clients, so
 * repeat until nothing changes (at most once per domain).
 */
static void cfg_resolve_calls(struct cfg_state *st)
{
	struct cfg *c = st->out;
	bool changed;

	do {
		changed = false;
		for (unsigned i = 0; i < c->ndom; i++) {
			struct cfg_domain *d = &c->dom[i];
			bool bad = false;
			if (!d->valid)
				continue;
			for (unsigned j = 0; j < d->ncalls; j++) {
				if (cfg_find_provider(c, d->calls[j]) >= 0)
					continue;
				snprintf(st->msg, sizeof st->msg,
					 "domain '%s' calls service '%s' which "
					 "no valid domain provides",
					 d->name, d->calls[j]);
				cfg_error(st, d->call_line[j], NULL);
				bad = true;
			}
			if (bad) {
				d->valid = false;
				changed = true;
			}
		}
	} while (changed);
}

/* See config.h. */
void cfg_parse(const char *text, size_t len, const char *fname,
	       struct cfg *out, cfg_report_fn report, void *ctx)
{
	struct cfg_state st;
	size_t i = 0;

	memset(out, 0, sizeof *out);
	memset(&st, 0, sizeof st);
	st.fname = fname ? fname : "(config)";
	st.out = out;
	st.report = report;
	st.ctx = ctx;
	if (!text)
		len = 0;
	while (i < len) {
		size_t start = i, end;
		while (i < len && text[i] != '\n')
			i++;
		end = i;
		if (i < len)
			i++; /* the '\n' */
		if (end > start && text[end - 1] == '\r')
			end--;
		if (st.line != ~0u)
			st.line++;
		cfg_line(&st, text + start, end - start);
	}
	cfg_close_domain(&st);
	cfg_resolve_calls(&st);
}

/* See config.h. */
int cfg_find_domain(const struct cfg *c, const char *name)
{
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++)
		if (strcmp(c->dom[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* See config.h. */
int cfg_find_provider(const struct cfg *c, const char *svc)
{
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++) {
		const struct cfg_domain *d = &c->dom[i];
		if (!d->valid)
			continue;
		for (unsigned j = 0; j < d->nprovides && j < CFG_MAX_PROVIDES; j++)
			if (strcmp(d->provides[j], svc) == 0)
				return (int)i;
	}
	return -1;
}

/* See config.h. */
unsigned cfg_count_valid(const struct cfg *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++)
		if (c->dom[i].valid)
			n++;
	return n;
}
