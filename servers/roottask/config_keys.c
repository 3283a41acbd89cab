/*
 * Configuration parser, part 2: the values of the keys inside a domain
 * (numbers, sizes, port ranges, names). config.c has split the line into
 * tokens and checked the number of arguments; see config_int.h.
 */
#include "config_int.h"

#include <string.h>

/* Keyword and what its argument should look like (for messages). */
const struct cfg_keyinfo cfg_keys[CFG_K_COUNT] = {
	[CFG_K_DOMAIN] = {"domain", "a domain name"},
	[CFG_K_MODULE] = {"module", "a module name"},
	[CFG_K_CPU] = {"cpu", "a CPU number 0..15"},
	[CFG_K_PRIO] = {"priority", "a priority 1..63"},
	[CFG_K_QUANTUM] = {"quantum", "microseconds 100..1000000"},
	[CFG_K_MEMORY] = {"memory", "a size 64K..1G"},
	[CFG_K_KMEM] = {"kmem", "a size 0..64M"},
	[CFG_K_IOPORT] = {"ioport", "FIRST or FIRST-LAST in 0..0xffff"},
	[CFG_K_IRQ] = {"irq", "a GSI 0..23"},
	[CFG_K_PROVIDES] = {"provides", "a service name"},
	[CFG_K_CALL] = {"call", "a service name"},
	[CFG_K_FILE] = {"file", "a module name"},
	[CFG_K_MAX_PRIO] = {"max-priority", "a priority 1..63"},
	[CFG_K_CPUS] = {"cpus", "a list of CPUs 0..15 such as 0,2-3"},
	[CFG_K_REPORT] = {"report", "what to report: kmem"},
	[CFG_K_DEVICE] = {"device", "BB:DD.F or VVVV:DDDD (hex), then optionally wc and/or msix"},
	[CFG_K_DMA] = {"dma", "a size 4K..64M"},
	[CFG_K_DISK] = {"disk", "SERVER [all|FIRST+COUNT|partN] [ro] [size SIZE]"},
	[CFG_K_PORT] = {"port", "SWITCH MAC [vlan N] [rate RATE] [size SIZE]"},
	[CFG_K_ALLOW] = {"allow", "two domain names with ports on this switch"},
	[CFG_K_RESTART] = {"restart", "never, on-crash or always, then optionally the most restarts 1..1000"},
};

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
 * Parses "FIRST" or "FIRST-LAST" at s (numbers as cfg_num_prefix) into
 * *first and *last and sets *end after it; *ovf tells whether a number
 * exceeded 64 bits. Returns false if a number has no digits.
 */
static bool cfg_range_prefix(const char *s, uint64_t *first, uint64_t *last,
			     const char **end, bool *ovf)
{
	bool ovf2 = false, ok = cfg_num_prefix(s, first, end, ovf);

	*last = *first;
	if (ok && **end == '-')
		ok = cfg_num_prefix(*end + 1, last, end, &ovf2);
	*ovf = *ovf || ovf2;
	return ok;
}

/*
 * Checks a range FIRST-LAST of key k (token t) against 0..max (its text is
 * range); reports, invalidates d and returns false if it is bad.
 */
static bool cfg_range_ok(struct cfg_state *st, struct cfg_domain *d,
			 enum cfg_key k, const char *t, uint64_t first,
			 uint64_t last, bool ovf, uint64_t max,
			 const char *range)
{
	if (ovf || first > max || last > max) {
		CFG_ERR(st, d, "%s %s out of range (%s)", cfg_keys[k].name, t,
			range);
		return false;
	}
	if (first > last) {
		CFG_ERR(st, d, "%s %s: FIRST is above LAST", cfg_keys[k].name,
			t);
		return false;
	}
	return true;
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
		CFG_ERR(st, d,
			"bad number '%s' for %s (expected decimal or 0x hex)",
			t, cfg_keys[k].name);
		return false;
	}
	if (ovf || v < lo || v > hi) {
		CFG_ERR(st, d, "%s %s out of range (%s)", cfg_keys[k].name, t,
			range);
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
			 enum cfg_key k, const char *t, uint64_t lo,
			 uint64_t hi, const char *range, uint64_t *out)
{
	uint64_t v;
	const char *end;
	bool ovf;
	unsigned shift = 0;

	if (!cfg_num_prefix(t, &v, &end, &ovf)) {
		CFG_ERR(st, d,
			"bad number '%s' for %s (expected N, NK, NM or NG; "
			"decimal or 0x hex)",
			t, cfg_keys[k].name);
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
			CFG_ERR(st, d,
				"bad size suffix '%s' in '%s' for %s "
				"(expected K, M or G)",
				end, t, cfg_keys[k].name);
			return false;
		}
	}
	if (ovf || v > (UINT64_MAX >> shift) || (v << shift) < lo ||
	    (v << shift) > hi) {
		CFG_ERR(st, d, "%s %s out of range (%s)", cfg_keys[k].name, t,
			range);
		return false;
	}
	*out = v << shift;
	return true;
}

/*
 * For a single-valued key: reports a repetition (first given on *first)
 * and returns false, or records the current line in *first.
 */
static bool cfg_once(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k,
		     unsigned *first)
{
	if (*first) {
		CFG_ERR(st, d, "'%s' given twice (first on line %u)",
			cfg_keys[k].name, *first);
		return false;
	}
	*first = st->line;
	return true;
}

/* For a repeatable key: reports if d already has max of them. */
static bool cfg_room(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k,
		     unsigned n, unsigned max)
{
	if (n < max)
		return true;
	CFG_ERR(st, d, "too many '%s' lines (at most %u)", cfg_keys[k].name,
		max);
	return false;
}

/* Checks a service name token; reports and returns false if bad. */
static bool cfg_service_ok(struct cfg_state *st, struct cfg_domain *d,
			   const char *t)
{
	if (cfg_name_ok(t))
		return true;
	CFG_ERR(st, d,
		"bad service name '%s' (expected 1..15 characters of "
		"A-Z a-z 0-9 _ -)",
		t);
	return false;
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
		CFG_ERR(st, d,
			"module name '%s' too long (at most %u characters)",
			ln->argv[1], CFG_MODULE_MAX - 1);
		return;
	}
	n = strlen(args);
	if (n >= CFG_ARGS_MAX) {
		CFG_ERR(st, d,
			"module arguments too long (%lu characters, at most "
			"%u)",
			(unsigned long)n, CFG_ARGS_MAX - 1);
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
	bool ovf;

	if (!cfg_room(st, d, CFG_K_IOPORT, d->nio, CFG_MAX_IO))
		return;
	if (!cfg_range_prefix(t, &first, &last, &end, &ovf) || *end != '\0') {
		CFG_ERR(st, d,
			"bad I/O port range '%s' (expected FIRST or "
			"FIRST-LAST, decimal or 0x hex)",
			t);
		return;
	}
	if (!cfg_range_ok(st, d, CFG_K_IOPORT, t, first, last, ovf,
			  CFG_MAX_PORT, "0..0xffff"))
		return;
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
		CFG_ERR(st, d, "irq %u granted twice (first on line %u)",
			d->irq[i], d->irq_line[i]);
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
		CFG_ERR(st, d, "service '%s' provided twice (first on line %u)",
			t, d->provides_line[i]);
		return;
	}
	for (unsigned i = 0; i < c->ndom; i++) {
		const struct cfg_domain *o = &c->dom[i];
		if (o == d)
			continue;
		for (unsigned j = 0; j < o->nprovides; j++) {
			if (strcmp(o->provides[j], t) != 0)
				continue;
			CFG_ERR(st, d,
				"service '%s' already provided by %s (line %u)",
				t, cfg_label(st, o), o->provides_line[j]);
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
		CFG_ERR(st, d, "service '%s' called twice (first on line %u)",
			t, d->call_line[i]);
		return;
	}
	cfg_copy(d->calls[d->ncalls], CFG_NAME_MAX, t);
	d->call_line[d->ncalls++] = st->line;
}

/* 'file MODULE': a boot module the domain may read (e.g. a guest image). */
static void cfg_do_file(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1];

	if (!cfg_room(st, d, CFG_K_FILE, d->nfiles, CFG_MAX_FILES))
		return;
	if (strlen(t) >= CFG_MODULE_MAX) {
		CFG_ERR(st, d, "module name '%s' too long (at most %u characters)", t,
			CFG_MODULE_MAX - 1);
		return;
	}
	cfg_copy(d->files[d->nfiles], CFG_MODULE_MAX, t);
	d->file_line[d->nfiles++] = st->line;
}

/* 'cpus LIST': CPU numbers and ranges FIRST-LAST, separated by commas. */
static void cfg_do_cpus(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1], *p = t;
	uint64_t mask = 0, first, last;
	bool ovf;

	if (!cfg_once(st, d, CFG_K_CPUS, &d->cpus_line))
		return;
	for (;;) {
		if (!cfg_range_prefix(p, &first, &last, &p, &ovf) ||
		    (*p != ',' && *p != '\0')) {
			CFG_ERR(st, d,
				"bad CPU list '%s' (expected CPUs and ranges "
				"such as 0,2-3, decimal or 0x hex)",
				t);
			return;
		}
		if (!cfg_range_ok(st, d, CFG_K_CPUS, t, first, last, ovf,
				  CFG_MAX_CPU, "0..15"))
			return;
		for (uint64_t c = first; c <= last; c++)
			mask |= 1ull << c;
		if (*p++ == '\0')
			break;
	}
	d->cpus = mask;
}

/*
 * Parses hex digits at s into *val (at most 8 digits) and sets *end after
 * them; false if there are none or too many.
 */
static bool cfg_hex_prefix(const char *s, unsigned *val, const char **end)
{
	unsigned v = 0, n = 0;

	for (;; s++, n++) {
		unsigned dig;
		if (*s >= '0' && *s <= '9')
			dig = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			dig = (unsigned)(*s - 'a') + 10u;
		else if (*s >= 'A' && *s <= 'F')
			dig = (unsigned)(*s - 'A') + 10u;
		else
			break;
		if (n == 8)
			return false;
		v = v << 4 | dig;
	}
	*val = v;
	*end = s;
	return n > 0;
}

/* Reports and returns true if domain o has a 'device' line for address
 * bdf already (d is the domain being parsed). */
static bool cfg_dev_taken(struct cfg_state *st, struct cfg_domain *d,
			  const struct cfg_domain *o, unsigned bdf)
{
	for (unsigned j = 0; j < o->ndev; j++) {
		if (o->dev[j].by_id || o->dev[j].bdf != bdf)
			continue;
		if (o == d)
			CFG_ERR(st, d, "device %02x:%02x.%x given twice (first on line %u)",
				bdf >> 8, bdf >> 3 & 0x1f, bdf & 7, o->dev_line[j]);
		else
			CFG_ERR(st, d, "device %02x:%02x.%x already granted to %s (line %u)",
				bdf >> 8, bdf >> 3 & 0x1f, bdf & 7, cfg_label(st, o), o->dev_line[j]);
		return true;
	}
	return false;
}

/* 'device BB:DD.F [wc] [msix]' or 'device VVVV:DDDD [wc] [msix]' (hex). An address may
 * be granted only once in the whole file; IDs name the first function
 * with them that is not granted yet when the domain starts. */
static void cfg_do_device(struct cfg_state *st, struct cfg_domain *d)
{
	const char *t = st->ln.argv[1], *p;
	struct cfg *c = st->out;
	struct cfg_dev v = {0};
	unsigned a, b, f = 0;

	if (!cfg_room(st, d, CFG_K_DEVICE, d->ndev, CFG_MAX_DEV))
		return;
	bool ok = cfg_hex_prefix(t, &a, &p) && *p == ':' &&
		  cfg_hex_prefix(p + 1, &b, &p);
	/* IDs are exactly four digits each: 00:03 is no address without its function */
	v.by_id = ok && *p == '\0' && strlen(t) == 9 && t[4] == ':';
	if (ok && *p == '\0' && !v.by_id)
		ok = false;
	if (ok && !v.by_id)
		ok = *p == '.' && cfg_hex_prefix(p + 1, &f, &p) && *p == '\0';
	if (!ok) {
		CFG_ERR(st, d,
			"bad device '%s' (expected BB:DD.F or VVVV:DDDD, hex)",
			t);
		return;
	}
	if (v.by_id && a == 0xffff) {
		CFG_ERR(st, d, "device %s: vendor ID ffff means no device", t);
		return;
	}
	if (!v.by_id && (a > 0xff || b > 0x1f || f > 7)) {
		CFG_ERR(st, d,
			"device %s out of range (bus 00..ff, device 00..1f, "
			"function 0..7)",
			t);
		return;
	}
	for (unsigned i = 2; i < st->ln.argc && i < CFG_MAX_TOK; i++) {
		const char *o = st->ln.argv[i];
		bool *flag = !strcmp(o, "wc") ? &v.wc : !strcmp(o, "msix") ? &v.msix : NULL;
		if (!flag || *flag) {
			CFG_ERR(st, d, "%s device option '%s' (expected wc or msix, each once)",
				flag ? "repeated" : "unknown", o);
			return;
		}
		*flag = true;
	}
	if (v.by_id) {
		v.vendor = a;
		v.device = b;
	} else {
		v.bdf = a << 8 | b << 3 | f;
	}
	/* the same address twice: in this domain or any other */
	for (unsigned i = 0; !v.by_id && i < c->ndom; i++)
		if (cfg_dev_taken(st, d, &c->dom[i], v.bdf))
			return;
	if (!v.by_id && d == &st->spill && cfg_dev_taken(st, d, d, v.bdf))
		return;
	d->dev[d->ndev] = v;
	d->dev_line[d->ndev++] = st->line;
}

/* Checks a domain-name token of key k; reports and returns false if bad. */
static bool cfg_peer_ok(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k, const char *t)
{
	if (cfg_name_ok(t))
		return true;
	CFG_ERR(st, d, "%s: bad domain name '%s' (expected 1..15 characters of A-Z a-z 0-9 _ -)", cfg_keys[k].name, t);
	return false;
}

/* Parses "XX:XX:XX:XX:XX:XX" (hex octets) into *mac; false if malformed. */
static bool cfg_mac(const char *t, uint64_t *mac)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 6; i++) {
		unsigned o;
		const char *end;
		if (!cfg_hex_prefix(t, &o, &end) || end != t + 2 || *end != (i == 5 ? '\0' : ':'))
			return false;
		v = v << 8 | o;
		t = end + 1;
	}
	*mac = v;
	return true;
}

/* The options after a link's fixed arguments: NAME VALUE pairs and flags.
 * Returns false (reported) on anything unknown, repeated or malformed. */
static bool cfg_link_opts(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k, unsigned from,
			  struct cfg_link *l)
{
	bool have_size = false, have_vlan = false, have_rate = false, have_ro = false;
	for (unsigned i = from; i < st->ln.argc && i < CFG_MAX_TOK; i++) {
		const char *o = st->ln.argv[i];
		bool *seen = !strcmp(o, "size") ? &have_size
			   : k == CFG_K_PORT && !strcmp(o, "vlan") ? &have_vlan
			   : k == CFG_K_PORT && !strcmp(o, "rate") ? &have_rate
			   : k == CFG_K_DISK && !strcmp(o, "ro") ? &have_ro : NULL;
		if (!seen || *seen) {
			CFG_ERR(st, d, "%s %s option '%s' (expected %s)", seen ? "repeated" : "unknown",
				cfg_keys[k].name, o,
				k == CFG_K_PORT ? "vlan N, rate RATE, size SIZE" : "ro, size SIZE");
			return false;
		}
		*seen = true;
		if (seen == &have_ro) {
			l->ro = true;
			continue;
		}
		if (i + 1 >= st->ln.argc || i + 1 >= CFG_MAX_TOK) {
			CFG_ERR(st, d, "%s option '%s' needs a value", cfg_keys[k].name, o);
			return false;
		}
		const char *val = st->ln.argv[++i];
		uint64_t v;
		if (seen == &have_size) {
			if (!cfg_get_size(st, d, k, val, CFG_LINK_SIZE_MIN, CFG_LINK_SIZE_MAX, "size 64K..16M", &v))
				return false;
			l->size = (v + 0xfffu) & ~(uint64_t)0xfffu;
		} else if (seen == &have_vlan) {
			if (!cfg_get_num(st, d, k, val, 1, 4094, "vlan 1..4094", &v))
				return false;
			l->vlan = (unsigned)v;
		} else {
			if (!cfg_get_size(st, d, k, val, CFG_RATE_MIN, UINT64_MAX >> 1, "rate at least 1K bytes/s", &v))
				return false;
			l->rate = v;
		}
	}
	return true;
}

/* 'disk SERVER [all|FIRST+COUNT|partN] [ro] [size SIZE]' */
static void cfg_do_disk(struct cfg_state *st, struct cfg_domain *d)
{
	struct cfg_link l = {.kind = CFG_LINK_DISK, .size = CFG_LINK_SIZE_DEFAULT};
	unsigned opt = 2;
	if (!cfg_room(st, d, CFG_K_DISK, d->ndisk, CFG_MAX_DISK) || !cfg_peer_ok(st, d, CFG_K_DISK, st->ln.argv[1]))
		return;
	cfg_copy(l.peer, sizeof l.peer, st->ln.argv[1]);
	const char *t = st->ln.argc > 2 ? st->ln.argv[2] : "all";
	if (st->ln.argc > 2 && strcmp(t, "ro") && strcmp(t, "size")) {
		opt = 3;
		const char *end;
		bool ovf, ovf2 = false;
		uint64_t v;
		if (!strncmp(t, "part", 4)) {
			if (!cfg_num_prefix(t + 4, &v, &end, &ovf) || *end || ovf || v < 1 || v > CFG_MAX_PART) {
				CFG_ERR(st, d, "disk: bad partition '%s' (expected part1..part%u)", t, CFG_MAX_PART);
				return;
			}
			l.part = true;
			l.first = v;
		} else if (strcmp(t, "all")) {
			if (!cfg_num_prefix(t, &l.first, &end, &ovf) || *end != '+' ||
			    !cfg_num_prefix(end + 1, &l.count, &end, &ovf2) || *end) {
				CFG_ERR(st, d, "disk: bad extent '%s' (expected all, FIRST+COUNT in sectors, or partN)", t);
				return;
			}
			if (ovf || ovf2 || l.count == 0 || l.first > UINT64_MAX / 512 - l.count) {
				CFG_ERR(st, d, "disk: extent '%s' is empty or beyond any disk", t);
				return;
			}
		}
	}
	if (!cfg_link_opts(st, d, CFG_K_DISK, opt, &l))
		return;
	d->link[d->nlink] = l;
	d->link_line[d->nlink++] = st->line;
	d->ndisk++;
}

/* Reports and returns true if domain o has a port with MAC mac. */
static bool cfg_mac_taken(struct cfg_state *st, struct cfg_domain *d, const struct cfg_domain *o, uint64_t mac,
			  const char *t)
{
	for (unsigned j = 0; j < o->nlink; j++) {
		if (o->link[j].kind != CFG_LINK_PORT || o->link[j].mac != mac)
			continue;
		CFG_ERR(st, d, "port %s is taken by %s (line %u)", t, cfg_label(st, o), o->link_line[j]);
		return true;
	}
	return false;
}

/* 'port SWITCH MAC [vlan N] [rate RATE] [size SIZE]' */
static void cfg_do_port(struct cfg_state *st, struct cfg_domain *d)
{
	struct cfg_link l = {.kind = CFG_LINK_PORT, .size = CFG_LINK_SIZE_DEFAULT};
	if (!cfg_room(st, d, CFG_K_PORT, d->nport, CFG_MAX_PORT_LINKS) ||
	    !cfg_peer_ok(st, d, CFG_K_PORT, st->ln.argv[1]))
		return;
	cfg_copy(l.peer, sizeof l.peer, st->ln.argv[1]);
	const char *t = st->ln.argc > 2 ? st->ln.argv[2] : "";
	if (!cfg_mac(t, &l.mac)) {
		CFG_ERR(st, d, "port: bad MAC '%s' (expected six hex octets such as 52:54:00:12:34:56)", t);
		return;
	}
	if (l.mac == 0 || (l.mac >> 40 & 1)) {
		CFG_ERR(st, d, "port: MAC %s is %s (a port needs a unicast MAC)", t, l.mac ? "multicast" : "all zero");
		return;
	}
	if (!cfg_link_opts(st, d, CFG_K_PORT, 3, &l))
		return;
	for (unsigned i = 0; i < st->out->ndom; i++)
		if (cfg_mac_taken(st, d, &st->out->dom[i], l.mac, t))
			return;
	if (d == &st->spill && cfg_mac_taken(st, d, d, l.mac, t))
		return;
	d->link[d->nlink] = l;
	d->link_line[d->nlink++] = st->line;
	d->nport++;
}

/* 'allow A B': checked against the ports once the whole file is read. */
static void cfg_do_allow(struct cfg_state *st, struct cfg_domain *d)
{
	if (!cfg_room(st, d, CFG_K_ALLOW, d->nallow, CFG_MAX_ALLOW))
		return;
	if (st->ln.argc != 3) {
		CFG_ERR(st, d, "allow: expected two domain names, got %u", st->ln.argc - 1);
		return;
	}
	if (!cfg_peer_ok(st, d, CFG_K_ALLOW, st->ln.argv[1]) || !cfg_peer_ok(st, d, CFG_K_ALLOW, st->ln.argv[2]))
		return;
	if (!strcmp(st->ln.argv[1], st->ln.argv[2])) {
		CFG_ERR(st, d, "allow %s %s: a port always reaches itself; name two domains", st->ln.argv[1],
			st->ln.argv[2]);
		return;
	}
	cfg_copy(d->allow[d->nallow][0], CFG_NAME_MAX, st->ln.argv[1]);
	cfg_copy(d->allow[d->nallow][1], CFG_NAME_MAX, st->ln.argv[2]);
	d->allow_line[d->nallow++] = st->line;
}

/* Applies key k (not 'domain') with the argument(s) in st->ln to d. */
void cfg_key_value(struct cfg_state *st, struct cfg_domain *d, enum cfg_key k)
{
	const char *t = st->ln.argv[1];
	uint64_t v;

	switch (k) {
	case CFG_K_MODULE:
		cfg_do_module(st, d);
		break;
	case CFG_K_CPU:
		if (cfg_once(st, d, CFG_K_CPU, &d->cpu_line) &&
		    cfg_get_num(st, d, CFG_K_CPU, t, 0, CFG_MAX_CPU, "0..15",
				&v))
			d->cpu = (unsigned)v;
		break;
	case CFG_K_PRIO:
		if (cfg_once(st, d, CFG_K_PRIO, &d->prio_line) &&
		    cfg_get_num(st, d, CFG_K_PRIO, t, CFG_PRIO_MIN,
				CFG_PRIO_MAX, "1..63", &v))
			d->prio = (unsigned)v;
		break;
	case CFG_K_MAX_PRIO:
		if (cfg_once(st, d, CFG_K_MAX_PRIO, &d->max_prio_line) &&
		    cfg_get_num(st, d, CFG_K_MAX_PRIO, t, CFG_PRIO_MIN,
				CFG_PRIO_MAX, "1..63", &v))
			d->max_prio = (unsigned)v;
		break;
	case CFG_K_CPUS:
		cfg_do_cpus(st, d);
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
		    cfg_get_size(st, d, CFG_K_KMEM, t, 0, CFG_KMEM_MAX,
				 "0..64M", &v))
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
	case CFG_K_FILE:
		cfg_do_file(st, d);
		break;
	case CFG_K_DEVICE:
		cfg_do_device(st, d);
		break;
	case CFG_K_DMA:
		if (cfg_once(st, d, CFG_K_DMA, &d->dma_line) &&
		    cfg_get_size(st, d, CFG_K_DMA, t, CFG_DMA_MIN, CFG_DMA_MAX,
				 "4K..64M", &v))
			d->dma = (v + 0xfffu) & ~(uint64_t)0xfffu;
		break;
	case CFG_K_DISK:
		cfg_do_disk(st, d);
		break;
	case CFG_K_PORT:
		cfg_do_port(st, d);
		break;
	case CFG_K_ALLOW:
		cfg_do_allow(st, d);
		break;
	case CFG_K_RESTART:
		if (!cfg_once(st, d, CFG_K_RESTART, &d->restart_line))
			break;
		if (!strcmp(t, "never") || !strcmp(t, "on-crash") || !strcmp(t, "always")) {
			d->restart = t[0] == 'n' ? CFG_RESTART_NEVER : t[0] == 'o' ? CFG_RESTART_ON_CRASH : CFG_RESTART_ALWAYS;
			d->restart_max = CFG_DEFAULT_RESTARTS;
			if (st->ln.argc > 2 && cfg_get_num(st, d, CFG_K_RESTART, st->ln.argv[2], 1, CFG_MAX_RESTARTS,
							   "1..1000", &v))
				d->restart_max = (unsigned)v;
		} else {
			CFG_ERR(st, d, "unknown restart '%s' (expected never, on-crash or always)", t);
		}
		break;
	case CFG_K_REPORT:
		if (!cfg_once(st, d, CFG_K_REPORT, &d->report_line))
			break;
		if (strcmp(t, "kmem") == 0)
			d->report_kmem = true;
		else
			CFG_ERR(st, d, "unknown report '%s' (expected kmem)", t);
		break;
	default:
		break;
	}
}
