/*
 * The default extent hooks over the page provider, and the dispatch that
 * calls a user table's hooks.  Calls into user hooks are made with the
 * arena's extent_lock held, as jemalloc does; hooks must not call back into
 * the allocator's extent functions of the same arena.
 */
#include "hooks.h"
#include "numa.h"
#include "pages.h"

static void *
default_alloc(extent_hooks_t *h, void *hint, size_t size, size_t alignment,
    bool *zero, bool *commit, unsigned arena_ind)
{
	void *p;

	(void)h;
	p = pages_map(hint, size, alignment < PAGE ? PAGE : alignment);
	if (p != NULL) {
		*zero = true;
		*commit = true;
		/* Automatic arenas serve their node under numa:true. */
		if (arena_ind < numa_nnodes * numa_arenas_per_node)
			pages_bind_node(p, size,
			    arena_ind / numa_arenas_per_node);
	}
	return (p);
}

static bool
default_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	(void)h;
	(void)committed;
	(void)arena_ind;
	pages_unmap(addr, size);
	return (false);
}

static void
default_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	(void)h;
	(void)committed;
	(void)arena_ind;
	pages_unmap(addr, size);
}

static bool
default_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	(void)h;
	(void)size;
	(void)arena_ind;
	return (pages_commit((char *)addr + offset, length));
}

static bool
default_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	(void)h;
	(void)size;
	(void)arena_ind;
	return (pages_decommit((char *)addr + offset, length));
}

static bool
default_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	(void)h;
	(void)size;
	(void)arena_ind;
	return (pages_purge_lazy((char *)addr + offset, length));
}

static bool
default_purge_forced(extent_hooks_t *h, void *addr, size_t size,
    size_t offset, size_t length, unsigned arena_ind)
{
	(void)h;
	(void)size;
	(void)arena_ind;
	return (pages_purge_forced((char *)addr + offset, length));
}

static bool
default_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h;
	(void)addr;
	(void)size;
	(void)size_a;
	(void)size_b;
	(void)committed;
	(void)arena_ind;
	return (false);
}

static bool
default_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h;
	(void)addr_a;
	(void)size_a;
	(void)addr_b;
	(void)size_b;
	(void)committed;
	(void)arena_ind;
	return (false);
}

extent_hooks_t hooks_default = {
	default_alloc,
	default_dalloc,
	default_destroy,
	default_commit,
	default_decommit,
	default_purge_lazy,
	default_purge_forced,
	default_split,
	default_merge,
};

void *
hooks_alloc(extent_hooks_t *h, void *hint, size_t size, size_t alignment,
    bool *zero, bool *commit, unsigned arena_ind)
{
	if (h == &hooks_default)
		return (default_alloc(h, hint, size, alignment, zero, commit,
		    arena_ind));
	if (h->alloc == NULL)
		return (NULL);
	return (h->alloc(h, hint, size, alignment, zero, commit, arena_ind));
}

bool
hooks_dalloc(extent_hooks_t *h, void *addr, size_t size, unsigned arena_ind)
{
	if (h == &hooks_default) {
		pages_unmap(addr, size);
		return (false);
	}
	if (h->dalloc == NULL)
		return (true);
	return (h->dalloc(h, addr, size, true, arena_ind));
}

void
hooks_destroy(extent_hooks_t *h, void *addr, size_t size, unsigned arena_ind)
{
	if (h == &hooks_default)
		pages_unmap(addr, size);
	else if (h->destroy != NULL)
		h->destroy(h, addr, size, true, arena_ind);
}

/* The default hooks never decommit: Linux and FreeBSD overcommit. */
bool
hooks_decommit(extent_hooks_t *h, void *addr, size_t size,
    unsigned arena_ind)
{
	if (h == &hooks_default || h->decommit == NULL)
		return (true);
	return (h->decommit(h, addr, size, 0, size, arena_ind));
}

bool
hooks_commit(extent_hooks_t *h, void *addr, size_t size, unsigned arena_ind)
{
	if (h == &hooks_default)
		return (false);
	if (h->commit == NULL)
		return (true);
	return (h->commit(h, addr, size, 0, size, arena_ind));
}

bool
hooks_purge_lazy(extent_hooks_t *h, void *addr, size_t size,
    unsigned arena_ind)
{
	if (h == &hooks_default)
		return (pages_purge_lazy(addr, size));
	if (h->purge_lazy == NULL)
		return (true);
	return (h->purge_lazy(h, addr, size, 0, size, arena_ind));
}

bool
hooks_purge_forced(extent_hooks_t *h, void *addr, size_t size,
    unsigned arena_ind)
{
	if (h == &hooks_default)
		return (pages_purge_forced(addr, size));
	if (h->purge_forced == NULL)
		return (true);
	return (h->purge_forced(h, addr, size, 0, size, arena_ind));
}

bool
hooks_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    unsigned arena_ind)
{
	if (h == &hooks_default)
		return (false);
	if (h->split == NULL)
		return (true);
	return (h->split(h, addr, size, size_a, size - size_a, true,
	    arena_ind));
}

bool
hooks_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, unsigned arena_ind)
{
	if (h == &hooks_default)
		return (false);
	if (h->merge == NULL)
		return (true);
	return (h->merge(h, addr_a, size_a, addr_b, size_b, true, arena_ind));
}
