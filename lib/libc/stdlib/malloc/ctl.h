/*
 * mallctl: the only module that knows mallctl names.  The namespace is a
 * tree of named and indexed nodes (one table); names resolve to MIBs, and
 * leaves are handlers with jemalloc 5's types and error conventions.
 * Explicit thread caches (tcache.create) live here too.
 */
#ifndef MALLOC_CTL_H
#define	MALLOC_CTL_H

#include "compat.h"

struct tcache;

/* The explicit tcache created as index ind, or NULL. */
struct tcache	*ctl_tcache_get(unsigned ind);
void		 ctl_prefork(void);
void		 ctl_postfork_parent(void);
void		 ctl_postfork_child(void);

#endif /* !MALLOC_CTL_H */
