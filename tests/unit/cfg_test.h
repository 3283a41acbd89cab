/*
 * Helpers shared by the configuration parser tests: parse a string and
 * check the reported messages exactly.
 */
#ifndef CFG_TEST_H
#define CFG_TEST_H

#include "unit.h"

#include "config.h"

#define MAX_MSGS 128
#define MSG_LEN 1024

/* Messages reported by the parser during one test. */
struct msgs {
	unsigned n; /* reported, may exceed MAX_MSGS */
	char m[MAX_MSGS][MSG_LEN];
};

static struct cfg C;
static struct msgs M;

/* Report function: remembers each message (checks it is a sane string). */
static inline void collect(void *ctx, const char *msg)
{
	struct msgs *ms = ctx;
	assert_non_null(msg);
	assert_true(strlen(msg) < MSG_LEN);
	assert_null(strchr(msg, '\n'));
	if (ms->n < MAX_MSGS)
		snprintf(ms->m[ms->n], MSG_LEN, "%s", msg);
	ms->n++;
}

/* Parses the NUL-terminated text as "t.conf" into C, messages into M. */
static inline void parse_len(const char *text, size_t len)
{
	char *copy = unit_exact_copy(text, len);
	memset(&M, 0, sizeof M);
	cfg_parse(copy, len, "t.conf", &C, collect, &M);
	free(copy);
	assert_int_equal(M.n, C.nerrors);
}

static inline void parse(const char *text)
{
	parse_len(text, strlen(text));
}

/* Prints what was reported, to make failures readable. */
static inline void dump(void)
{
	for (unsigned i = 0; i < M.n && i < MAX_MSGS; i++)
		print_message("  reported: %s\n", M.m[i]);
}

/* Whether message s was reported. */
static inline bool has_msg(const char *s)
{
	for (unsigned i = 0; i < M.n && i < MAX_MSGS; i++)
		if (strcmp(M.m[i], s) == 0)
			return true;
	return false;
}

#define expect_msg(s)                                                        \
	do {                                                                 \
		if (!has_msg(s)) {                                           \
			dump();                                              \
			fail_msg("message not reported: %s", s);             \
		}                                                            \
	} while (0)

/* Parses text and expects exactly one error, the message want. */
static inline void one_error(const char *text, const char *want)
{
	parse(text);
	if (M.n != 1 || strcmp(M.m[0], want) != 0) {
		dump();
		fail_msg("expected exactly: %s", want);
	}
}

/* Parses text and expects no error at all. */
static inline void no_error(const char *text)
{
	parse(text);
	if (M.n != 0) {
		dump();
		fail_msg("unexpected errors in: %s", text);
	}
}

/* Domain called name in C (must exist). */
static inline const struct cfg_domain *dom(const char *name)
{
	int i = cfg_find_domain(&C, name);
	if (i < 0)
		fail_msg("no domain %s", name);
	return &C.dom[i];
}

/* One line in a domain: expect it to be accepted. */
static inline void ok_line(const char *line)
{
	char text[300];
	snprintf(text, sizeof text, "domain a\nmodule m\n%s\n", line);
	no_error(text);
	assert_true(dom("a")->valid);
}

/* One line in a domain: expect exactly the error msg on line 3. */
static inline void bad_line(const char *line, const char *msg)
{
	char text[300], want[400];
	snprintf(text, sizeof text, "domain a\nmodule m\n%s\n", line);
	snprintf(want, sizeof want, "t.conf:3: %s", msg);
	one_error(text, want);
	assert_false(dom("a")->valid);
}

/* Report function that only counts. */
static inline void count_only(void *ctx, const char *msg)
{
	(void)msg;
	(*(unsigned *)ctx)++;
}

#endif
