/*
 * Internals of the configuration parser, shared by config.c (lines,
 * domains, services) and config_keys.c (values of the per-domain keys).
 * Nothing outside these two files should include it.
 */
#ifndef ROOTTASK_CONFIG_INT_H
#define ROOTTASK_CONFIG_INT_H

#include "config.h"

#include <stdio.h>

#define CFG_MAX_TOK 10 /* tokens remembered per line; more are only counted */

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
	CFG_K_FILE,
	CFG_K_MAX_PRIO,
	CFG_K_CPUS,
	CFG_K_REPORT,
	CFG_K_DEVICE,
	CFG_K_DMA,
	CFG_K_DISK,
	CFG_K_PORT,
	CFG_K_ALLOW,
	CFG_K_RESTART,
	CFG_K_COUNT
};

/* Keyword and what its argument should look like (for messages). */
struct cfg_keyinfo {
	const char *name;
	const char *expect;
};
extern const struct cfg_keyinfo cfg_keys[CFG_K_COUNT];

/* One line split into tokens. */
struct cfg_line {
	char raw[CFG_LINE_MAX + 1]; /* without comment and trailing blanks */
	char tok[CFG_LINE_MAX + 1]; /* same, blanks replaced by NULs */
	const char *argv[CFG_MAX_TOK];
	size_t pos[CFG_MAX_TOK]; /* offset of argv[i] in raw */
	unsigned argc;		 /* number of tokens on the line */
};

/* Everything the parser needs; lives on the stack of cfg_parse. */
struct cfg_state {
	const char *fname;
	struct cfg *out;
	cfg_report_fn report;
	void *ctx;
	unsigned line;		 /* current line number */
	struct cfg_domain *cur;	 /* domain receiving directives, or NULL */
	struct cfg_domain spill; /* stands in for domains beyond the table */
	struct cfg_line ln;
	char label[32]; /* see cfg_label */
	char msg[640];	/* message body being built */
	char full[960]; /* "FILE:LINE: body" */
};

/*
 * Formats an error into st->msg and reports it at line (CFG_ERR: at the
 * current line), invalidating domain d unless it is NULL. A macro so that
 * only snprintf is needed from the runtime, not vsnprintf.
 */
#define CFG_ERR_AT(st, line, d, ...)                                           \
	do {                                                                   \
		snprintf((st)->msg, sizeof(st)->msg, __VA_ARGS__);             \
		cfg_error(st, line, d);                                        \
	} while (0)
#define CFG_ERR(st, d, ...) CFG_ERR_AT(st, (st)->line, d, __VA_ARGS__)

/* Reports st->msg at line, counts it and invalidates d (if not NULL). */
void cfg_error(struct cfg_state *st, unsigned line, struct cfg_domain *d);

/* "domain 'NAME'", or "domain" if d has no valid name; in st->label. */
const char *cfg_label(struct cfg_state *st, const struct cfg_domain *d);

/* True if s is a valid domain or service name. */
bool cfg_name_ok(const char *s);

/* Copies s into dst[size], truncating, always NUL-terminated. */
void cfg_copy(char *dst, size_t size, const char *s);

/* Applies key k (not 'domain') with its one argument (module: one or more)
 * in st->ln to domain d. */
void cfg_key_value(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k);

#endif
