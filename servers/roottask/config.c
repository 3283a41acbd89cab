/*
 * Roottask configuration parser, part 1: lines, tokens, domains and the
 * resolution of services; config_keys.c parses the values of the keys.
 * See config.h for the interface and docs/config.md for the file format.
 *
 * The parser works line by line on a private copy of each line (at most
 * CFG_LINE_MAX characters), so no input can make it read or write out of
 * bounds. Every error message is built into a fixed buffer with snprintf,
 * which truncates long tokens instead of overflowing.
 */
#include "config_int.h"

#include <hv/startinfo.h>
#include <string.h>

/* The start-info page must be able to carry what a configuration grants. */
_Static_assert(CFG_NAME_MAX == HV_SI_NAME, "name size differs from startinfo");
_Static_assert(CFG_ARGS_MAX == HV_SI_ARGS, "args size differs from startinfo");
_Static_assert(CFG_MAX_CALLS <= HV_SI_MAX_SVC, "too many calls for startinfo");
_Static_assert(CFG_MAX_IRQ <= HV_SI_MAX_IRQ, "too many irqs for startinfo");
_Static_assert(CFG_MAX_IO <= HV_SI_MAX_IO, "too many ioports for startinfo");
_Static_assert(CFG_MAX_DEV <= HV_SI_MAX_DEV, "too many devices for startinfo");
_Static_assert(CFG_PRIO_MAX <= HV_PRIO_MAX, "priority above kernel maximum");

/* Reports st->msg at line, counts it and invalidates d (if not NULL). */
void cfg_error(struct cfg_state *st, unsigned line, struct cfg_domain *d)
{
	if (st->out->nerrors != ~0u)
		st->out->nerrors++;
	if (d)
		d->valid = false;
	if (st->report) {
		snprintf(st->full, sizeof st->full, "%s:%u: %s", st->fname,
			 line, st->msg);
		st->report(st->ctx, st->full);
	}
}

/* True for the blanks that separate tokens. */
static bool cfg_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* True if s is a valid domain or service name. */
bool cfg_name_ok(const char *s)
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
void cfg_copy(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Resets d to an empty, valid domain with the default values. */
static void cfg_domain_init(struct cfg_domain *d, unsigned line)
{
	memset(d, 0, sizeof *d);
	d->cpu = CFG_DEFAULT_CPU;
	d->prio = CFG_DEFAULT_PRIO;
	d->cpus = CFG_CPUS_ALL;
	d->quantum_us = CFG_DEFAULT_QUANTUM;
	d->memory = CFG_DEFAULT_MEMORY;
	d->kmem = CFG_DEFAULT_KMEM;
	d->line = line;
	d->valid = true;
}

/* Puts "domain 'NAME'" (or just "domain" if it has no valid name) into
 * st->label, for messages about a whole domain. */
const char *cfg_label(struct cfg_state *st, const struct cfg_domain *d)
{
	if (d->name[0])
		snprintf(st->label, sizeof st->label, "domain '%s'", d->name);
	else
		snprintf(st->label, sizeof st->label, "domain");
	return st->label;
}

/* Ends the current domain: checks what can only be checked at its end. */
static void cfg_close_domain(struct cfg_state *st)
{
	struct cfg_domain *d = st->cur;

	if (!d)
		return;
	st->cur = NULL;
	if (!d->module_line) {
		CFG_ERR_AT(st, d->line, d, "%s has no 'module' line",
			   cfg_label(st, d));
	}
	/* the limits must admit the domain's own first thread */
	if (!d->max_prio) /* not given (or invalid, reported already) */
		d->max_prio = d->prio;
	else if (d->max_prio < d->prio)
		CFG_ERR_AT(st, d->max_prio_line, d,
			   "max-priority %u is below the domain's priority %u",
			   d->max_prio, d->prio);
	if (!((d->cpus >> d->cpu) & 1))
		CFG_ERR_AT(st, d->cpus_line, d,
			   "cpus does not include the domain's cpu %u",
			   d->cpu);
	if (d->dma && d->dma >= d->memory)
		CFG_ERR_AT(st, d->dma_line, d,
			   "dma %luK does not fit in the domain's memory %luK "
			   "(dma is part of memory)",
			   (unsigned long)(d->dma >> 10),
			   (unsigned long)(d->memory >> 10));
	if (d->restart != CFG_RESTART_NEVER && d->nprovides)
		CFG_ERR_AT(st, d->restart_line, d,
			   "restart: %s provides services, whose clients "
			   "hold portals to it: it cannot be restarted",
			   cfg_label(st, d));
	for (unsigned i = 0; i < d->ncalls; i++) {
		for (unsigned j = 0; j < d->nprovides; j++) {
			if (strcmp(d->calls[i], d->provides[j]) != 0)
				continue;
			CFG_ERR_AT(st, d->call_line[i], d,
				   "%s calls its own service '%s'",
				   cfg_label(st, d), d->calls[i]);
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
		CFG_ERR(st, d, "too many domains (at most %u)",
			CFG_MAX_DOMAINS);
	}
	st->cur = d;
	if (ln->argc < 2) {
		CFG_ERR(st, d, "missing argument for 'domain' (expected %s)",
			cfg_keys[CFG_K_DOMAIN].expect);
		return;
	}
	name = ln->argv[1];
	if (!cfg_name_ok(name)) { /* d keeps an empty name: not findable */
		CFG_ERR(st, d,
			"bad domain name '%s' (expected 1..15 characters of "
			"A-Z a-z 0-9 _ -)",
			name);
		return;
	}
	cfg_copy(d->name, sizeof d->name, name);
	for (unsigned i = 0; i < c->ndom; i++) {
		if (&c->dom[i] == d || strcmp(c->dom[i].name, name) != 0)
			continue;
		CFG_ERR(st, d, "duplicate domain name '%s' (first on line %u)",
			name, c->dom[i].line);
		return;
	}
	if (ln->argc > 2) {
		CFG_ERR(st, d, "unexpected extra argument '%s' for 'domain'",
			ln->argv[2]);
	}
}

/* Executes the tokenized line in st->ln. */
static void cfg_directive(struct cfg_state *st)
{
	struct cfg_line *ln = &st->ln;
	struct cfg_domain *d = st->cur;
	unsigned k;

	for (k = 0; k < CFG_K_COUNT; k++)
		if (strcmp(ln->argv[0], cfg_keys[k].name) == 0)
			break;
	if (k == CFG_K_COUNT) {
		CFG_ERR(st, d, "unknown key '%s'", ln->argv[0]);
		return;
	}
	if (k == CFG_K_DOMAIN) {
		cfg_do_domain(st);
		return;
	}
	if (!d) {
		CFG_ERR(st, NULL,
			"'%s' outside a domain (expected 'domain NAME' first)",
			cfg_keys[k].name);
		return;
	}
	if (ln->argc < 2) {
		CFG_ERR(st, d, "missing argument for '%s' (expected %s)",
			cfg_keys[k].name, cfg_keys[k].expect);
		return;
	}
	/* tokens a line of the key may have, key included */
	unsigned max = k == CFG_K_DEVICE ? 4 : k == CFG_K_DISK ? 6 : k == CFG_K_PORT ? 9 : k == CFG_K_ALLOW ? 3
		     : k == CFG_K_RESTART ? 3 : 2;
	bool multi = max > 2;
	if (multi && ln->argc > max) {
		CFG_ERR(st, d, "too many arguments for '%s' (expected %s)", cfg_keys[k].name, cfg_keys[k].expect);
		return;
	}
	if (ln->argc > 2 && !multi && k != CFG_K_MODULE) {
		CFG_ERR(st, d, "unexpected extra argument '%s' for '%s'", ln->argv[2], cfg_keys[k].name);
		return;
	}
	cfg_key_value(st, d, (enum cfg_key)k);
}

/* Checks, strips and tokenizes one line of n bytes (no line end) at s. */
static void cfg_line(struct cfg_state *st, const char *s, size_t n)
{
	struct cfg_line *ln = &st->ln;
	size_t m = 0, i = 0;

	if (n > CFG_LINE_MAX) {
		CFG_ERR(st, st->cur,
			"line too long (%lu characters, at most %u)",
			(unsigned long)n, CFG_LINE_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || (c >= 0x20 && c <= 0x7e))
			continue;
		CFG_ERR(st, st->cur, "non-printable byte 0x%02x in column %lu",
			(unsigned)c, (unsigned long)(i + 1));
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

/* Problems of domain d's calls and links that only the whole file shows;
 * each is reported at its line. Returns true if d has any. */
static bool cfg_check_refs(struct cfg_state *st, struct cfg_domain *d)
{
	struct cfg *c = st->out;
	bool bad = false;
	for (unsigned j = 0; j < d->ncalls; j++) {
		if (cfg_find_provider(c, d->calls[j]) >= 0)
			continue;
		CFG_ERR_AT(st, d->call_line[j], NULL, "domain '%s' calls service '%s' which no valid domain provides",
			   d->name, d->calls[j]);
		bad = true;
	}
	unsigned nlinks = d->nlink, di = (unsigned)(d - c->dom);
	for (unsigned j = 0; j < d->nlink; j++) {
		const char *key = d->link[j].kind == CFG_LINK_DISK ? "disk" : "port";
		int p = cfg_find_domain(c, d->link[j].peer);
		if (p >= 0 && (unsigned)p != di && c->dom[p].valid)
			continue;
		CFG_ERR_AT(st, d->link_line[j], NULL, "%s '%s': %s", key, d->link[j].peer,
			   p < 0 ? "no domain of that name" : (unsigned)p == di ? "a domain cannot link to itself"
										: "that domain is not valid");
		bad = true;
	}
	for (unsigned i = 0; i < c->ndom; i++)
		for (unsigned j = 0; i != di && c->dom[i].valid && j < c->dom[i].nlink; j++)
			nlinks += !strcmp(c->dom[i].link[j].peer, d->name);
	if (nlinks > CFG_MAX_DOM_LINKS) {
		CFG_ERR_AT(st, d->line, NULL, "domain '%s' has %u links as client and server (at most %u)", d->name,
			   nlinks, CFG_MAX_DOM_LINKS);
		bad = true;
	}
	for (unsigned j = 0; j < d->nallow; j++)
		for (unsigned k = 0; k < 2; k++) {
			if (cfg_port_of(c, di, d->allow[j][k]) >= 0)
				continue;
			CFG_ERR_AT(st, d->allow_line[j], NULL, "allow: domain '%s' has no valid port on switch '%s'",
				   d->allow[j][k], d->name);
			bad = true;
		}
	return bad;
}

/*
 * After the whole file: every 'call' must name a service that a valid
 * domain provides, every link a valid peer, every 'allow' ports on this
 * switch. Invalidating a domain can orphan others, so repeat until nothing
 * changes (at most once per domain).
 */
static void cfg_resolve_refs(struct cfg_state *st)
{
	struct cfg *c = st->out;
	bool changed;

	do {
		changed = false;
		for (unsigned i = 0; i < c->ndom; i++) {
			struct cfg_domain *d = &c->dom[i];
			if (d->valid && cfg_check_refs(st, d)) {
				d->valid = false;
				changed = true;
			}
		}
	} while (changed);
}

/* Parses a whole configuration text into *out, reporting every error
 * (details in config.h). */
void cfg_parse(const char *text, size_t len, const char *fname, struct cfg *out,
	       cfg_report_fn report, void *ctx)
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
	cfg_resolve_refs(&st);
}

/* Index of the domain named name, or -1. */
int cfg_find_domain(const struct cfg *c, const char *name)
{
	if (!name[0])
		return -1; /* domains with a bad name have an empty one */
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++)
		if (strcmp(c->dom[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Index of the valid domain that provides service svc, or -1. */
int cfg_find_provider(const struct cfg *c, const char *svc)
{
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++) {
		const struct cfg_domain *d = &c->dom[i];
		if (!d->valid)
			continue;
		for (unsigned j = 0; j < d->nprovides && j < CFG_MAX_PROVIDES;
		     j++)
			if (strcmp(d->provides[j], svc) == 0)
				return (int)i;
	}
	return -1;
}

/* Number of valid domains. */
unsigned cfg_count_valid(const struct cfg *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->ndom && i < CFG_MAX_DOMAINS; i++)
		if (c->dom[i].valid)
			n++;
	return n;
}

/* Index of the link of domain name that is a port on the valid domain at
 * index sw, or -1 (also if name is not a valid domain). */
int cfg_port_of(const struct cfg *c, unsigned sw, const char *name)
{
	int i = cfg_find_domain(c, name);
	if (i < 0 || !c->dom[i].valid || sw >= c->ndom)
		return -1;
	for (unsigned j = 0; j < c->dom[i].nlink; j++)
		if (c->dom[i].link[j].kind == CFG_LINK_PORT && !strcmp(c->dom[i].link[j].peer, c->dom[sw].name))
			return (int)j;
	return -1;
}
