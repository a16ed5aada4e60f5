/*
 * Extent hooks: how an arena gets, returns and purges its page runs.  The
 * default table is the page provider; an arena may install a user table
 * (arenas.create, arena.<i>.extent_hooks).  Every hook returns false on
 * success; a NULL hook means the operation is unsupported and the caller
 * copes (no dalloc: keep the extent retained; no split or merge: don't).
 */
#ifndef MALLOC_HOOKS_H
#define	MALLOC_HOOKS_H

#include "compat.h"
#include "malloc_np.h"

extern extent_hooks_t	hooks_default;

void	*hooks_alloc(extent_hooks_t *h, void *hint, size_t size,
	    size_t alignment, bool *zero, bool *commit, unsigned arena_ind);
bool	 hooks_dalloc(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
void	 hooks_destroy(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
/* Gives up [addr, addr + size)'s backing; false on success. */
bool	 hooks_decommit(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
/* Makes [addr, addr + size) usable; false on success (or no hook needed). */
bool	 hooks_commit(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
bool	 hooks_purge_lazy(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
bool	 hooks_purge_forced(extent_hooks_t *h, void *addr, size_t size,
	    unsigned arena_ind);
bool	 hooks_split(extent_hooks_t *h, void *addr, size_t size,
	    size_t size_a, unsigned arena_ind);
bool	 hooks_merge(extent_hooks_t *h, void *addr_a, size_t size_a,
	    void *addr_b, size_t size_b, unsigned arena_ind);

#endif /* !MALLOC_HOOKS_H */
