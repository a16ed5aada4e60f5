/*
 * Options: compiled-in defaults, then the malloc_conf symbol, then the name
 * the /etc/malloc.conf link points to, then MALLOC_CONF, later sources
 * overriding earlier ones, all parsed once at initialisation.
 */
#ifndef MALLOC_CONF_H
#define	MALLOC_CONF_H

#include <sys/types.h>

#include "compat.h"
#include "pages.h"

enum metadata_thp_mode { METADATA_THP_DISABLED, METADATA_THP_AUTO,
	METADATA_THP_ALWAYS };

struct malloc_opts {
	bool		abort;
	bool		abort_conf;
	bool		confirm_conf;
	bool		retain;
	bool		tcache;
	bool		stats_print;
	bool		stats_publish;	/* the page mallstat -p reads */
	bool		xmalloc;
	bool		zero;
	bool		junk_alloc;
	bool		junk_free;
	bool		harden;
	bool		numa;
	bool		background_thread;
	bool		prof;
	bool		prof_active;
	bool		prof_thread_active_init;
	bool		prof_gdump;
	bool		prof_final;
	bool		prof_leak;
	bool		prof_accum;
	unsigned	narenas;
	unsigned	max_background_threads;
	unsigned	stats_print_fd;	/* where stats_print writes */
	size_t		tcache_max;
	size_t		lg_tcache_nslots_mul;
	ssize_t		dirty_decay_ms;
	ssize_t		muzzy_decay_ms;
	size_t		lg_prof_sample;
	ssize_t		lg_prof_interval;
	enum thp_mode	thp;
	enum metadata_thp_mode metadata_thp;
	const char	*junk;		/* "true", "false", "alloc" or "free" */
	const char	*prof_unwind;	/* "auto", "fp" or "libgcc" */
	char		stats_print_opts[32];
	char		prof_prefix[256];
};

extern HIDDEN struct malloc_opts	opt;

/* Parses every source into opt; ncpus sizes the default narenas. */
void	conf_boot(unsigned ncpus);
/*
 * Applies one source's key:value list to opt, reporting bad pairs (also
 * the entry point of the configuration fuzzer).
 */
void	conf_parse(const char *s, const char *src);
/* Whether the process is set-id (then the environment is ignored). */
bool	conf_issetid(void);
/* For mallctl: the table of options, by name. */
struct conf_option;
const struct conf_option *conf_lookup(const char *name, size_t len);

#endif /* !MALLOC_CONF_H */
