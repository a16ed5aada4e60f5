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

/*
 * Introspection for malloc_stats_print, which walks the tree by MIB.
 * Components: a named node's child k, an indexed node's index.
 */
#define	CTL_MAXDEPTH	10

enum ctl_type { CTL_VOID, CTL_BOOL, CTL_UNSIGNED, CTL_U32, CTL_U64, CTL_SIZE,
	CTL_SSIZE, CTL_STR, CTL_PTR };

struct ctl_info {
	const char	*name;		/* NULL for an indexed node's element */
	unsigned	 nchildren;	/* named node */
	size_t		 nindex;	/* indexed node: indices are below */
	bool		 indexed;
	bool		 leaf;
	bool		 printable;	/* readable leaf without side effect */
	enum ctl_type	 type;
};

/* Bytes of a value of each type. */
extern const size_t	ctl_type_size[];

/* Describes the node that mib[0..miblen) reaches; ENOENT if none. */
int	ctl_node_info(const size_t *mib, size_t miblen, struct ctl_info *out);
/* Whether the indexed node that mib reaches has index i now. */
bool	ctl_index_exists(const size_t *mib, size_t miblen, size_t i);

#endif /* !MALLOC_CTL_H */
