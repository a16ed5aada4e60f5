/*
 * Option parsing.  One table lists every option with its type and limits;
 * parsing, mallctl's opt.* nodes and the manual all follow it.
 *
 * Sources, later overriding earlier: compiled-in defaults, the program's
 * malloc_conf symbol, the target of the /etc/malloc.conf symbolic link
 * (MALLOC_CONF_LINK overrides the path unless set-id), and MALLOC_CONF
 * (ignored when set-id).  Syntax: key:value[,key:value...].  A bad pair is
 * reported naming the pair and its source, and skipped; under abort_conf
 * the process aborts once all sources are read.
 */
#ifdef __linux__
#define	_GNU_SOURCE		/* secure_getenv */
#include <sys/auxv.h>
#endif
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "msg.h"

/* The program may define it; weak so that linking never requires it. */
extern const char *malloc_conf __attribute__((weak));

struct malloc_opts opt = {
	.abort = false,
	.retain = true,
	.tcache = true,
	.narenas = 0,
	.max_background_threads = 0,
	.stats_print_fd = 2,
	.stats_publish = true,
	.tcache_max = 32768,
	.dirty_decay_ms = 10000,
	.muzzy_decay_ms = 0,
	.lg_prof_sample = 19,
	.lg_prof_interval = -1,
	.prof_active = true,
	.prof_thread_active_init = true,
	.thp = THP_DEFAULT,
	.metadata_thp = METADATA_THP_DISABLED,
	.junk = "false",
	.prof_unwind = "auto",
	.prof_prefix = "jeprof",
};

enum conf_type { CONF_BOOL, CONF_UNSIGNED, CONF_SIZE, CONF_SSIZE,
	CONF_THP, CONF_METADATA_THP, CONF_JUNK, CONF_PROF_UNWIND, CONF_STRING };

struct conf_option {
	const char	*name;
	enum conf_type	 type;
	void		*var;
	long long	 min, max;	/* numeric limits; string: buffer size */
};

#define	OPT_BOOL(n)		{ #n, CONF_BOOL, &opt.n, 0, 1 }
#define	OPT_NUM(n, t, lo, hi)	{ #n, t, &opt.n, lo, hi }

static const struct conf_option conf_options[] = {
	OPT_BOOL(abort),
	OPT_BOOL(abort_conf),
	OPT_BOOL(background_thread),
	OPT_BOOL(confirm_conf),
	OPT_NUM(dirty_decay_ms, CONF_SSIZE, -1, LLONG_MAX / 1000000),
	OPT_BOOL(harden),
	OPT_NUM(junk, CONF_JUNK, 0, 0),
	OPT_NUM(lg_prof_interval, CONF_SSIZE, -1, 62),
	OPT_NUM(lg_prof_sample, CONF_SIZE, 0, 62),
	OPT_NUM(max_background_threads, CONF_UNSIGNED, 0, 4096),
	OPT_NUM(metadata_thp, CONF_METADATA_THP, 0, 0),
	OPT_NUM(muzzy_decay_ms, CONF_SSIZE, -1, LLONG_MAX / 1000000),
	OPT_NUM(narenas, CONF_UNSIGNED, 1, 4095),
	OPT_BOOL(numa),
	OPT_BOOL(prof),
	OPT_BOOL(prof_accum),
	OPT_BOOL(prof_active),
	OPT_BOOL(prof_final),
	OPT_BOOL(prof_gdump),
	OPT_BOOL(prof_leak),
	OPT_NUM(prof_prefix, CONF_STRING, 0, sizeof(opt.prof_prefix)),
	OPT_BOOL(prof_thread_active_init),
	OPT_NUM(prof_unwind, CONF_PROF_UNWIND, 0, 0),
	OPT_BOOL(retain),
	OPT_BOOL(stats_print),
	OPT_NUM(stats_print_fd, CONF_UNSIGNED, 0, INT_MAX),
	OPT_NUM(stats_print_opts, CONF_STRING, 0, sizeof(opt.stats_print_opts)),
	OPT_BOOL(stats_publish),
	OPT_BOOL(tcache),
	OPT_NUM(tcache_max, CONF_SIZE, 0, 8 << 20),
	OPT_NUM(thp, CONF_THP, 0, 0),
	OPT_BOOL(xmalloc),
	OPT_BOOL(zero),
};

#define	NOPTIONS	(sizeof(conf_options) / sizeof(conf_options[0]))

static bool	conf_had_error;

const struct conf_option *
conf_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strlen(conf_options[i].name) == len &&
		    memcmp(conf_options[i].name, name, len) == 0)
			return (&conf_options[i]);
	return (NULL);
}

static bool
conf_match(const char *v, size_t vlen, const char *word)
{
	return (strlen(word) == vlen && memcmp(v, word, vlen) == 0);
}

/* Parses a decimal (or 0x hex) integer with optional sign; false on success. */
static bool
conf_parse_int(const char *v, size_t vlen, long long *out)
{
	char buf[32], *end;

	if (vlen == 0 || vlen >= sizeof(buf))
		return (true);
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 0);
	return (errno != 0 || *end != '\0');
}

/* Applies one pair; false on success. */
static bool
conf_apply(const struct conf_option *o, const char *v, size_t vlen)
{
	static const char *const thp_names[] = { "default", "always", "never" };
	static const char *const mthp_names[] = { "disabled", "auto", "always" };
	static const char *const unwind_names[] = { "auto", "fp", "libgcc" };
	long long n;
	unsigned i;

	switch (o->type) {
	case CONF_BOOL:
		if (conf_match(v, vlen, "true"))
			*(bool *)o->var = true;
		else if (conf_match(v, vlen, "false"))
			*(bool *)o->var = false;
		else
			return (true);
		return (false);
	case CONF_UNSIGNED:
	case CONF_SIZE:
	case CONF_SSIZE:
		if (conf_parse_int(v, vlen, &n) || n < o->min || n > o->max)
			return (true);
		if (o->type == CONF_UNSIGNED)
			*(unsigned *)o->var = (unsigned)n;
		else if (o->type == CONF_SIZE)
			*(size_t *)o->var = (size_t)n;
		else
			*(ssize_t *)o->var = (ssize_t)n;
		return (false);
	case CONF_THP:
		for (i = 0; i < 3; i++)
			if (conf_match(v, vlen, thp_names[i])) {
				opt.thp = (enum thp_mode)i;
				return (false);
			}
		return (true);
	case CONF_METADATA_THP:
		for (i = 0; i < 3; i++)
			if (conf_match(v, vlen, mthp_names[i])) {
				opt.metadata_thp = (enum metadata_thp_mode)i;
				return (false);
			}
		return (true);
	case CONF_JUNK:
		if (conf_match(v, vlen, "true"))
			opt.junk = "true";
		else if (conf_match(v, vlen, "false"))
			opt.junk = "false";
		else if (conf_match(v, vlen, "alloc"))
			opt.junk = "alloc";
		else if (conf_match(v, vlen, "free"))
			opt.junk = "free";
		else
			return (true);
		return (false);
	case CONF_PROF_UNWIND:
		for (i = 0; i < 3; i++)
			if (conf_match(v, vlen, unwind_names[i])) {
				opt.prof_unwind = unwind_names[i];
				return (false);
			}
		return (true);
	case CONF_STRING:
		if (vlen >= (size_t)o->max)
			return (true);
		memcpy(o->var, v, vlen);
		((char *)o->var)[vlen] = '\0';
		return (false);
	}
	return (true);
}

static void
conf_report(const char *what, const char *pair, size_t len, const char *src,
    bool error)
{
	char buf[128];

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, pair, len);
	buf[len] = '\0';
	msg_warn("%s conf pair \"%s\" in %s", what, buf, src);
	if (error)
		conf_had_error = true;
}

void
conf_parse(const char *s, const char *src)
{
	const char *pair, *colon, *end;
	const struct conf_option *o;

	while (*s != '\0') {
		pair = s;
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		s = *end == ',' ? end + 1 : end;
		if (end == pair)
			continue;
		colon = memchr(pair, ':', (size_t)(end - pair));
		if (colon == NULL) {
			conf_report("Malformed", pair, (size_t)(end - pair),
			    src, true);
			continue;
		}
		o = conf_lookup(pair, (size_t)(colon - pair));
		if (o == NULL) {
			conf_report("Unknown option in", pair,
			    (size_t)(end - pair), src, true);
			continue;
		}
		if (conf_apply(o, colon + 1, (size_t)(end - colon - 1)))
			conf_report("Invalid value in", pair,
			    (size_t)(end - pair), src, true);
		else if (opt.confirm_conf)
			conf_report("Applied", pair, (size_t)(end - pair), src,
			    false);
	}
}

bool
conf_issetid(void)
{
#ifdef __linux__
	return (getauxval(AT_SECURE) != 0);
#else
	return (issetugid() != 0);
#endif
}

/*
 * The environment variable, or NULL in a set-id process.  glibc's
 * secure_getenv rather than getauxval and getenv: one libc function on the
 * start-up path instead of two (each may fault in 64 KiB of libc text that
 * a program would not otherwise touch).
 */
static const char *
conf_getenv(const char *name)
{
#ifdef __GLIBC__
	return (secure_getenv(name));
#else
	return (conf_issetid() ? NULL : getenv(name));
#endif
}

void
conf_boot(unsigned ncpus)
{
	/*
	 * Static, not on the stack: init runs once (under init_mutex), and a
	 * PATH_MAX frame put readlink and everything called after it on
	 * another stack page.  readlink writes only what it returns, so the
	 * page stays untouched unless the link exists (Makefile.inc links
	 * conf.c after the modules whose variables start-up writes).
	 */
	static char linkbuf[PATH_MAX];
	const char *path, *env;
	ssize_t n;

	if (&malloc_conf != NULL && malloc_conf != NULL)
		conf_parse(malloc_conf, "malloc_conf");
	path = "/etc/malloc.conf";
	if ((env = conf_getenv("MALLOC_CONF_LINK")) != NULL)
		path = env;
	n = readlink(path, linkbuf, sizeof(linkbuf) - 1);
	if (n > 0) {
		linkbuf[n] = '\0';
		conf_parse(linkbuf, path);
	}
	if ((env = conf_getenv("MALLOC_CONF")) != NULL)
		conf_parse(env, "MALLOC_CONF");
	if (opt.narenas == 0)
		opt.narenas = ncpus * 4 > 4095 ? 4095 : ncpus * 4;
	opt.junk_alloc = strcmp(opt.junk, "true") == 0 ||
	    strcmp(opt.junk, "alloc") == 0;
	opt.junk_free = strcmp(opt.junk, "true") == 0 ||
	    strcmp(opt.junk, "free") == 0;
	if (conf_had_error && opt.abort_conf)
		msg_fatal("Aborting: invalid configuration (abort_conf:true)");
}
