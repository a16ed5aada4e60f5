/*
 * Arenas: bins of slabs for small classes, page runs for large ones, and
 * the extent caches both draw from.
 *
 * Invariants:
 * - A slab is on its bin's nonfull list exactly when it has free regions
 *   and is not the bin's slabcur; full slabs are tracked by nobody (the
 *   pointer map finds them on free).
 * - An empty slab other than slabcur goes back to the dirty cache at once.
 * - Free extents have SZ_FREE entries at both ends in the pointer map and
 *   zero entries inside; freeing such a pointer again is a double free.
 *
 * Lock order: bin lock, then extent_lock (see arena.h).
 */
#include <string.h>
#include <time.h>

#include "arena.h"
#include "base.h"
#include "background.h"
#include "conf.h"
#include "harden.h"
#include "hooks.h"
#include "msg.h"
#include "pages.h"
#include "pmap.h"

#define	GROW_MIN	HUGEPAGE
#define	GROW_MAX	((size_t)1 << 30)

struct arena	*arenas[ARENAS_MAX];
unsigned	 narenas_auto;
unsigned	 narenas_total;

static struct mlock	arenas_lock = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
			    RANK_CTL, false, false };
/* Destroyed arenas' memory, reused by the next creation; arenas_lock. */
static struct arena	*arenas_free;

static uint64_t
clock_ns(void)
{
	struct timespec ts;

#ifdef CLOCK_MONOTONIC_COARSE
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

static struct arena *
arena_new_locked(unsigned ind, extent_hooks_t *hooks)
{
	struct arena *arena;
	unsigned i;

	/*
	 * Zeroed memory either way, so the initialisers below write only
	 * what is not zero, and a fresh arena's later pages (decay backlogs,
	 * cache buckets, large stats) stay untouched until used (arena.h).
	 * Page-aligned, so those writes span as few pages as they can.
	 */
	arena = arenas_free;
	if (arena != NULL) {
		arenas_free = arena->active.head != NULL ? NULL :
		    (struct arena *)arena->hooks;
		memset(arena, 0, sizeof(*arena));
	} else {
		arena = base_alloc(sizeof(*arena), PAGE);
		if (arena == NULL)
			return (NULL);
	}
	arena->ind = ind;
	mlock_init(&arena->extent_lock, RANK_EXTENTS);
	arena->hooks = hooks != NULL ? hooks : &hooks_default;
	ecache_init(&arena->dirty, EXTENT_DIRTY, arena->dirty_buckets);
	ecache_init(&arena->muzzy, EXTENT_MUZZY, arena->muzzy_buckets);
	ecache_init(&arena->retained, EXTENT_RETAINED,
	    arena->retained_buckets);
	arena->dirty_decay_ms = opt.dirty_decay_ms;
	arena->muzzy_decay_ms = opt.muzzy_decay_ms;
	/* The epochs start at the first pages cached (decay.h). */
	decay_init(&arena->dirty_decay, arena->dirty_backlog,
	    arena->dirty_decay_ms, 0);
	decay_init(&arena->muzzy_decay, arena->muzzy_backlog,
	    arena->muzzy_decay_ms, 0);
	arena->grow_next = GROW_MIN;
	arena->grow_limit = GROW_MAX;
	for (i = 0; i < SC_NBINS; i++)
		mlock_init(&arena->bins[i].lock, RANK_BIN);
	if (ind >= narenas_total)
		__atomic_store_n(&narenas_total, ind + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&arenas[ind], arena, __ATOMIC_RELEASE);
	return (arena);
}

struct arena *
arena_create(extent_hooks_t *hooks)
{
	struct arena *arena = NULL;
	unsigned ind;

	mlock_lock(&arenas_lock);
	for (ind = narenas_auto; ind < ARENAS_MAX; ind++)
		if (arenas[ind] == NULL)
			break;
	if (ind < ARENAS_MAX)
		arena = arena_new_locked(ind, hooks);
	mlock_unlock(&arenas_lock);
	return (arena);
}

struct arena *
arena_get(unsigned ind, bool create)
{
	struct arena *arena;

	if (ind >= ARENAS_MAX)
		return (NULL);
	arena = __atomic_load_n(&arenas[ind], __ATOMIC_ACQUIRE);
	if (arena != NULL || !create || ind >= narenas_auto)
		return (arena);
	mlock_lock(&arenas_lock);
	arena = arenas[ind];
	if (arena == NULL)
		arena = arena_new_locked(ind, NULL);
	mlock_unlock(&arenas_lock);
	return (arena);
}

/* Extents -------------------------------------------------------------- */

/* Accounts for ext's pages leaving the arena's mappings. */
static void
arena_unmapped(struct arena *arena, const struct extent *ext)
{
	uintptr_t lo = ALIGN_UP(ext->addr, HUGEPAGE);
	uintptr_t hi = ALIGN_DOWN(ext->addr + ext->size, HUGEPAGE);

	arena->mapped -= ext->size;
	if (hi > lo && arena->mapped_superpage >= hi - lo)
		arena->mapped_superpage -= hi - lo;
}

/* Cuts ext at size_a; returns the tail, or NULL if the hooks refuse. */
static struct extent *
extent_split(struct arena *arena, struct extent *ext, size_t size_a)
{
	struct extent *tail;

	tail = extent_desc_alloc();
	if (tail == NULL)
		return (NULL);
	if (hooks_split(arena->hooks, (void *)ext->addr, ext->size, size_a,
	    arena->ind)) {
		extent_desc_free(tail);
		return (NULL);
	}
	memset(tail, 0, sizeof(*tail));
	tail->addr = ext->addr + size_a;
	tail->size = ext->size - size_a;
	tail->arena = arena;
	tail->zeroed = ext->zeroed;
	tail->decommitted = ext->decommitted;
	tail->state = EXTENT_ACTIVE;
	ext->size = size_a;
	return (tail);
}

/* The free neighbour of ext in cache on one side, if it can merge. */
static struct extent *
extent_neighbor(struct arena *arena, struct ecache *cache,
    struct extent *ext, bool left)
{
	struct pmap_entry entry;
	uintptr_t probe;
	struct extent *nb;

	if (left) {
		if (ext->addr < PAGE)
			return (NULL);
		probe = ext->addr - PAGE;
	} else
		probe = ext->addr + ext->size;
	entry = pmap_lookup((void *)probe);
	if (entry.ext == NULL || pmap_entry_szind(entry) != SZ_FREE)
		return (NULL);
	nb = pmap_entry_extent(entry);
	if (nb->arena != arena || nb->state != cache->state ||
	    nb->decommitted != ext->decommitted)
		return (NULL);
	if (left ? nb->addr + nb->size != ext->addr : nb->addr != probe)
		return (NULL);
	return (nb);
}

/* Whether the hooks refuse to join a and b (a directly precedes b). */
static bool
extent_merge_refused(struct arena *arena, const struct extent *a,
    const struct extent *b)
{
	return (hooks_merge(arena->hooks, (void *)a->addr, a->size,
	    (void *)b->addr, b->size, arena->ind));
}

/*
 * Joins nb, a free neighbour taken from cache (NULL: already out of its
 * cache), into ext (left: nb precedes ext); the pointer-map ends that
 * become interior are cleared.  Returns whether nb's pages were zeroed.
 */
static bool
extent_absorb(struct ecache *cache, struct extent *ext, struct extent *nb,
    bool left)
{
	bool zeroed = nb->zeroed;

	if (cache != NULL)
		ecache_remove(cache, nb);
	pmap_set_ends(nb->addr, nb->size, PMAP_NONE);
	pmap_set_ends(ext->addr, ext->size, PMAP_NONE);
	if (left)
		ext->addr = nb->addr;
	ext->size += nb->size;
	extent_desc_free(nb);
	return (zeroed);
}

/*
 * Puts a free extent into cache, merged with its free neighbours there.
 * Its pointer-map entries other than the two ends are already clear.
 */
static void
ecache_put(struct arena *arena, struct ecache *cache, struct extent *ext)
{
	struct extent *nb;
	int side;

	if (cache->state == EXTENT_DIRTY)
		ext->zeroed = false;
	for (side = 0; side < 2; side++) {
		nb = extent_neighbor(arena, cache, ext, side == 0);
		if (nb == NULL || (side == 0 ? extent_merge_refused(arena, nb,
		    ext) : extent_merge_refused(arena, ext, nb)))
			continue;
		ext->zeroed = extent_absorb(cache, ext, nb, side == 0) &&
		    ext->zeroed;
	}
	ext->slab = false;
	pmap_set_ends(ext->addr, ext->size, pmap_entry_make(ext, SZ_FREE,
	    false));
	ecache_insert(cache, ext);
}

static struct extent *
extent_grow(struct arena *arena, size_t size, size_t alignment)
{
	struct extent *ext;
	size_t gsize, galign;
	bool zero = false, commit = true;
	void *addr;

	gsize = size > arena->grow_next ? ALIGN_UP(size, HUGEPAGE) :
	    arena->grow_next;
	galign = alignment > HUGEPAGE ? alignment : HUGEPAGE;
	addr = hooks_alloc(arena->hooks, NULL, gsize, galign, &zero, &commit,
	    arena->ind);
	if (addr == NULL && gsize > size) {
		gsize = size;
		galign = alignment;
		addr = hooks_alloc(arena->hooks, NULL, gsize, galign, &zero,
		    &commit, arena->ind);
	}
	if (addr == NULL)
		return (NULL);
	/* A hook that ignores the alignment would break every extent after. */
	if (((uintptr_t)addr & (galign - 1)) != 0) {
		msg_warn("extent hook alloc returned %p, not aligned to %zu",
		    addr, galign);
		hooks_dalloc(arena->hooks, addr, gsize, arena->ind);
		return (NULL);
	}
	/*
	 * Extents are used as soon as they are cached, so what a hook hands
	 * out uncommitted is committed now; if that fails it goes back.
	 */
	if (!commit && hooks_commit(arena->hooks, addr, gsize, arena->ind)) {
		hooks_dalloc(arena->hooks, addr, gsize, arena->ind);
		return (NULL);
	}
	ext = extent_desc_alloc();
	if (ext == NULL) {
		hooks_dalloc(arena->hooks, addr, gsize, arena->ind);
		return (NULL);
	}
	memset(ext, 0, sizeof(*ext));
	ext->addr = (uintptr_t)addr;
	ext->size = gsize;
	ext->arena = arena;
	ext->zeroed = zero;
	ext->state = EXTENT_ACTIVE;
	arena->mapped += gsize;
	if (((uintptr_t)addr & (HUGEPAGE - 1)) == 0 && gsize % HUGEPAGE == 0)
		arena->mapped_superpage += gsize;
	if (opt.thp != THP_DEFAULT && arena->hooks == &hooks_default)
		pages_set_thp(addr, gsize, opt.thp);
	if (opt.retain && arena->grow_next < arena->grow_limit &&
	    gsize >= arena->grow_next)
		arena->grow_next *= 2;
	if (arena->grow_next > arena->grow_limit)
		arena->grow_next = arena->grow_limit;
	return (ext);
}

/*
 * Joins to ext, a dirty extent too small for size, the part of nb (its free
 * neighbour in cache, muzzy or retained; left: nb precedes ext) that brings
 * it to size bytes; the rest of nb stays in cache (as its youngest extent).
 * ext leaves the dirty cache.  False, with nothing taken, if the hooks
 * refuse the split or the merge.
 */
static bool
extent_extend(struct arena *arena, struct ecache *cache, struct extent *ext,
    struct extent *nb, bool left, size_t size)
{
	size_t need = size - ext->size;
	struct extent *piece;

	DASSERT(ext->state == EXTENT_DIRTY && ext->size < size);
	DASSERT(nb->state == cache->state && ext->size + nb->size >= size);
	ecache_remove(cache, nb);
	if (nb->size > need) {
		piece = extent_split(arena, nb, left ? nb->size - need : need);
		if (piece == NULL) {
			ecache_put(arena, cache, nb);
			return (false);
		}
		/* Keep in nb the piece next to ext; the rest goes back. */
		if (left) {
			ecache_put(arena, cache, nb);
			nb = piece;
		} else
			ecache_put(arena, cache, piece);
	}
	if (left ? extent_merge_refused(arena, nb, ext) :
	    extent_merge_refused(arena, ext, nb)) {
		ecache_put(arena, cache, nb);
		return (false);
	}
	ecache_remove(&arena->dirty, ext);
	ext->zeroed = extent_absorb(NULL, ext, nb, left) && ext->zeroed;
	DASSERT(ext->size == size);
	return (true);
}

/*
 * When no dirty extent fits, a dirty extent joined with a free clean
 * neighbour may: only the neighbour's part is faulted in afresh, instead
 * of the whole request.  Without this, blocks of varying sizes that are
 * freed and allocated again (churn-huge: 5 to 25 MiB) leave dirty extents
 * just too small for the next request, which then comes from retained
 * address space and grows the resident set by its whole size each time.
 * The largest dirty extents are tried first (the most pages reused), at
 * most EXTEND_SCAN of them.  Taken from the dirty cache, or NULL.
 */
#define	EXTEND_SCAN	16

/* Extends dirty ext to size with a muzzy or retained neighbour, if one fits. */
static bool
extent_extend_clean(struct arena *arena, struct extent *ext, size_t size)
{
	struct ecache *clean[2] = { &arena->muzzy, &arena->retained };
	struct extent *nb;
	int i, side;

	for (side = 0; side < 2; side++)
		for (i = 0; i < 2; i++) {
			nb = extent_neighbor(arena, clean[i], ext, side == 0);
			if (nb != NULL && ext->size + nb->size >= size &&
			    extent_extend(arena, clean[i], ext, nb, side == 0,
			    size))
				return (true);
		}
	return (false);
}

static struct extent *
extent_take_extended(struct arena *arena, size_t size)
{
	struct extent *ext;
	unsigned scanned = 0;
	int b;

	if (arena->muzzy.npages + arena->retained.npages == 0)
		return (NULL);
	for (b = ecache_bucket_below(&arena->dirty, PSZ_N);
	    b >= 0 && scanned < EXTEND_SCAN;
	    b = ecache_bucket_below(&arena->dirty, b)) {
		for (ext = arena->dirty.buckets[b].head;
		    ext != NULL && scanned < EXTEND_SCAN;
		    ext = ext->link.next, scanned++)
			if (ext->size < size &&
			    extent_extend_clean(arena, ext, size))
				return (ext);
	}
	return (NULL);
}

/*
 * ext, just grown and in no cache, borders a dirty extent too small for
 * size: returns that dirty extent extended into ext (the rest of ext is
 * retained), or ext if there is none.  New mappings often land next to
 * the arena's others (Linux maps top down, below the last mapping), so
 * this turns a grow into faults for only what the dirty extent lacks.
 * Only the default hooks, which never refuse a split or a merge: the one
 * way extent_extend fails then leaves ext whole in the retained cache.
 */
static struct extent *
extent_grow_join(struct arena *arena, struct extent *ext, size_t size)
{
	struct extent *dirty;
	int side;

	if (arena->hooks != &hooks_default)
		return (ext);
	for (side = 0; side < 2; side++) {
		dirty = extent_neighbor(arena, &arena->dirty, ext, side == 0);
		if (dirty == NULL || dirty->size >= size)
			continue;
		ecache_put(arena, &arena->retained, ext);
		if (extent_extend(arena, &arena->retained, dirty, ext,
		    side == 1, size))
			return (dirty);
		ecache_remove(&arena->retained, ext);
		break;
	}
	return (ext);
}

/*
 * An active extent of exactly size bytes at alignment: reused from the
 * caches (dirty first: its pages are resident, then dirty extended into
 * clean neighbours) or grown.  Pointer-map entries of the result are the
 * caller's to set.
 */
static struct extent *
extent_alloc_locked(struct arena *arena, size_t size, size_t alignment)
{
	struct ecache *caches[3] = { &arena->dirty, &arena->muzzy,
	    &arena->retained };
	struct ecache *from = &arena->retained;
	struct extent *ext = NULL, *piece;
	uintptr_t lead;
	int i;

	for (i = 0; i < 3 && ext == NULL; i++) {
		ext = ecache_take(caches[i], size, alignment);
		if (ext != NULL)
			from = caches[i];
		if (ext == NULL && i == 0 && alignment <= PAGE &&
		    (ext = extent_take_extended(arena, size)) != NULL)
			from = &arena->dirty;
	}
	if (ext == NULL) {
		ext = extent_grow(arena, size, alignment);
		if (ext == NULL)
			return (NULL);
		if (alignment <= PAGE && (piece = extent_grow_join(arena, ext,
		    size)) != ext) {
			ext = piece;
			from = &arena->dirty;
		}
	}
	lead = ALIGN_UP(ext->addr, alignment) - ext->addr;
	if (lead != 0) {
		piece = extent_split(arena, ext, lead);
		if (piece == NULL) {
			ecache_put(arena, from, ext);
			return (NULL);
		}
		ecache_put(arena, from, ext);
		ext = piece;
	}
	if (ext->size > size) {
		piece = extent_split(arena, ext, size);
		if (piece != NULL)
			ecache_put(arena, from, piece);
	}
	if (ext->decommitted) {
		if (hooks_commit(arena->hooks, (void *)ext->addr, ext->size,
		    arena->ind)) {
			ecache_put(arena, from, ext);
			return (NULL);
		}
		ext->decommitted = false;
		ext->zeroed = true;
	}
	ext->state = EXTENT_ACTIVE;
	extent_list_append(&arena->active, ext, LRU_OFF);
	return (ext);
}

/* Purging ---------------------------------------------------------------- */

/* Returns ext's pages for good: retained (zeroed) or unmapped. */
static void
extent_purge_forced(struct arena *arena, struct extent *ext)
{
	/*
	 * As jemalloc: user hooks are offered the extent back even under
	 * retain (the default hooks keep it then); refused, it is decommitted
	 * if the hooks can, else purged, and retained.
	 */
	if (!opt.retain || arena->hooks != &hooks_default) {
		pmap_set_ends(ext->addr, ext->size, PMAP_NONE);
		if (!hooks_dalloc(arena->hooks, (void *)ext->addr, ext->size,
		    arena->ind)) {
			arena_unmapped(arena, ext);
			extent_desc_free(ext);
			return;
		}
	}
	if (!hooks_decommit(arena->hooks, (void *)ext->addr, ext->size,
	    arena->ind)) {
		ext->decommitted = true;
		ext->zeroed = true;
	} else
		ext->zeroed = !hooks_purge_forced(arena->hooks,
		    (void *)ext->addr, ext->size, arena->ind) &&
		    (pages_purge_forced_zeroes ||
		    arena->hooks != &hooks_default);
	ecache_put(arena, &arena->retained, ext);
}

/* The number of pages cache may keep now under its decay settings. */
static size_t
decay_target(struct decay *d, ssize_t decay_ms, struct ecache *cache,
    uint64_t now, bool all)
{
	if (all)
		return (0);
	if (d->decay_ms != decay_ms)
		decay_reset(d, decay_ms, now);
	return (decay_limit(d, now, cache->npages));
}

/*
 * The oldest extent of cache, removed, cut down to what must go for the
 * cache to reach limit pages (at least DECAY_MIN_PURGE pages per call, so
 * purges are not many tiny madvise calls); the rest stays, oldest.
 */
#define	DECAY_MIN_PURGE	((size_t)64)

static struct extent *
decay_take(struct arena *arena, struct ecache *cache, size_t limit)
{
	struct extent *ext = cache->lru.head, *rest;
	size_t excess = cache->npages - limit, cut;

	if (ext == NULL)
		return (NULL);
	ecache_remove(cache, ext);
	if (excess < DECAY_MIN_PURGE)
		excess = DECAY_MIN_PURGE;
	cut = excess << LG_PAGE;
	/* Whole superpages go, so the rest's superpages stay intact. */
	if (ext->size > HUGEPAGE)
		cut = ALIGN_UP(ext->addr + cut, HUGEPAGE) - ext->addr;
	if (cut < ext->size && (rest = extent_split(arena, ext, cut)) != NULL) {
		pmap_set_ends(rest->addr, rest->size,
		    pmap_entry_make(rest, SZ_FREE, false));
		ecache_insert_oldest(cache, rest);
	}
	return (ext);
}

/*
 * Moves the oldest extents dirty -> muzzy -> retained until each cache is
 * within its decay limit.  all purges everything (arena.<i>.purge).
 */
static void
arena_decay_locked(struct arena *arena, bool all)
{
	struct extent *ext;
	uint64_t now = clock_ns();
	size_t limit;
	bool lazy;

	lazy = arena->muzzy_decay_ms != 0 && !all && (arena->hooks !=
	    &hooks_default || pages_can_purge_lazy);
	limit = decay_target(&arena->dirty_decay, arena->dirty_decay_ms,
	    &arena->dirty, now, all);
	if (arena->dirty.npages > limit)
		arena->decay_dirty.npurge++;
	while (arena->dirty.npages > limit &&
	    (ext = decay_take(arena, &arena->dirty, limit)) != NULL) {
		arena->decay_dirty.nmadvise++;
		arena->decay_dirty.purged += ext->size >> LG_PAGE;
		if (lazy && !hooks_purge_lazy(arena->hooks, (void *)ext->addr,
		    ext->size, arena->ind)) {
			if (arena->muzzy_decay.decay_ms ==
			    arena->muzzy_decay_ms)
				decay_note(&arena->muzzy_decay, now,
				    arena->muzzy.npages);
			ecache_put(arena, &arena->muzzy, ext);
		} else
			extent_purge_forced(arena, ext);
	}
	decay_purged(&arena->dirty_decay, arena->dirty.npages);
	limit = decay_target(&arena->muzzy_decay, arena->muzzy_decay_ms,
	    &arena->muzzy, now, all);
	if (arena->muzzy.npages > limit)
		arena->decay_muzzy.npurge++;
	while (arena->muzzy.npages > limit &&
	    (ext = decay_take(arena, &arena->muzzy, limit)) != NULL) {
		arena->decay_muzzy.nmadvise++;
		arena->decay_muzzy.purged += ext->size >> LG_PAGE;
		extent_purge_forced(arena, ext);
	}
	decay_purged(&arena->muzzy_decay, arena->muzzy.npages);
}

uint64_t
arena_clock_ns(void)
{
	return (clock_ns());
}

void
arena_decay_tick(struct arena *arena)
{
	if (!mlock_trylock(&arena->extent_lock))
		return;
	arena_decay_locked(arena, false);
	mlock_unlock(&arena->extent_lock);
}

uint64_t
arena_decay_next_ns(struct arena *arena)
{
	uint64_t a, b;

	mlock_lock(&arena->extent_lock);
	a = decay_next_ns(&arena->dirty_decay, arena->dirty.npages);
	b = decay_next_ns(&arena->muzzy_decay, arena->muzzy.npages);
	mlock_unlock(&arena->extent_lock);
	return (a < b ? a : b);
}

static void	slab_destroy(struct arena *arena, struct extent *slab);
static void	arena_release_samples(struct arena *arena);

/* Gives back the empty slab each bin keeps (purges: all must go). */
static void
arena_release_spares(struct arena *arena)
{
	struct extent *spare;
	struct bin *bin;
	unsigned i;

	for (i = 0; i < SC_NBINS; i++) {
		bin = &arena->bins[i];
		if (bin->spare == NULL)
			continue;
		mlock_lock(&bin->lock);
		spare = bin->spare;
		bin->spare = NULL;
		if (spare != NULL)
			bin->stats.curslabs--;
		mlock_unlock(&bin->lock);
		if (spare != NULL)
			slab_destroy(arena, spare);
	}
}

void
arena_decay(struct arena *arena, bool all)
{
	if (all) {
		arena_release_spares(arena);
		arena_release_samples(arena);
	}
	mlock_lock(&arena->extent_lock);
	arena_decay_locked(arena, all);
	mlock_unlock(&arena->extent_lock);
}

static void
extent_dalloc_locked(struct arena *arena, struct extent *ext)
{
	bool was_empty = arena->dirty.npages == 0;

	if (arena->dirty_decay_ms > 0 &&
	    arena->dirty_decay.decay_ms == arena->dirty_decay_ms)
		decay_note(&arena->dirty_decay, clock_ns(),
		    arena->dirty.npages);
	ecache_put(arena, &arena->dirty, ext);
	if (arena->dirty_decay_ms == 0)
		arena_decay_locked(arena, false);
	else if (was_empty && arena->dirty_decay_ms > 0)
		background_wake(arena);
}

/* Frees an extent that extent_alloc_locked handed out. */
static void
extent_release_locked(struct arena *arena, struct extent *ext)
{
	extent_list_remove(&arena->active, ext, LRU_OFF);
	extent_dalloc_locked(arena, ext);
}

/* Slabs ----------------------------------------------------------------- */

static struct extent *
slab_create(struct arena *arena, unsigned ind)
{
	const struct bin_info *bi = &bin_infos[ind];
	struct extent *slab;
	unsigned w;

	mlock_lock(&arena->extent_lock);
	slab = extent_alloc_locked(arena, (size_t)bi->slab_npages << LG_PAGE,
	    PAGE);
	if (slab != NULL && pmap_set_range(slab->addr, bi->slab_npages,
	    pmap_entry_make(slab, ind, true))) {
		extent_release_locked(arena, slab);
		slab = NULL;
	}
	mlock_unlock(&arena->extent_lock);
	if (slab == NULL)
		return (NULL);
	slab->slab = true;
	slab->szind = (uint8_t)ind;
	slab->nfree = bi->nregs;
	slab->in_nonfull = false;
	memset(slab->bitmap, 0, sizeof(slab->bitmap));
	for (w = 0; w < bi->nregs / 64; w++)
		slab->bitmap[w] = ~(uint64_t)0;
	if (bi->nregs % 64 != 0)
		slab->bitmap[w] = ((uint64_t)1 << (bi->nregs % 64)) - 1;
	/*
	 * harden takes regions in random order, so that "untouched from an
	 * index up" does not hold: every region gets the mark now.  (This
	 * also clears stale keys that a previous life of the pages left
	 * behind, which harden's junk check would take for freed blocks.)
	 */
	slab->untouched = 0;
	if (opt.harden) {
		for (w = 0; w < bi->nregs; w++)
			FREE_KEY_WORD(slab->addr + (size_t)w * bi->reg_size) =
			    slab_mark;
		slab->untouched = bi->nregs;
	}
	return (slab);
}

/*
 * An empty slab goes: every region ever handed out must carry the mark,
 * or one of them was freed twice and is still someone's (tcache.h).
 */
static void
slab_destroy(struct arena *arena, struct extent *slab)
{
	size_t reg_size = bin_infos[slab->szind].reg_size;
	uintptr_t p;
	unsigned i;

	for (i = 0; i < slab->untouched; i++) {
		p = slab->addr + (size_t)i * reg_size;
		if (unlikely(FREE_KEY_WORD(p) != slab_mark))
			double_free_found((void *)p, "free");
	}
	pmap_set_range(slab->addr, slab->size >> LG_PAGE, PMAP_NONE);
	mlock_lock(&arena->extent_lock);
	extent_release_locked(arena, slab);
	mlock_unlock(&arena->extent_lock);
}

/*
 * A slab whose bitmap holds a number of free regions (how: "held" or
 * "holds at least" got) other than its count: its metadata was written
 * over, and going on would hand out a region twice or loop for ever.
 */
static COLD __attribute__((noreturn)) void
slab_count_corrupt(const struct extent *slab, const char *how, unsigned got)
{
	msg_fatal("malloc(): metadata corruption: slab %p: its free count "
	    "(%u) and bitmap (%s %u) disagree", (void *)slab->addr,
	    (unsigned)slab->nfree, how, got);
}

/*
 * harden:true: takes one free region at a random position, so that heap
 * layout is not predictable from allocation order.
 */
static void *
slab_take_random(struct extent *slab, const struct bin_info *bi,
    uint64_t *prng)
{
	unsigned start, i, idx;
	uint64_t x = *prng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*prng = x;
	start = (unsigned)(x % bi->nregs);
	for (i = 0; i < bi->nregs; i++) {
		idx = (start + i) % bi->nregs;
		if (slab->bitmap[idx / 64] & ((uint64_t)1 << (idx % 64))) {
			slab->bitmap[idx / 64] &= ~((uint64_t)1 << (idx % 64));
			slab->nfree--;
			return ((void *)(slab->addr + (size_t)idx * bi->reg_size));
		}
	}
	/* Called only while nfree > 0 (arena_bin_fill). */
	slab_count_corrupt(slab, "held", 0);
}

/* Clears bits [from, to) of a slab's bitmap. */
static void
bitmap_clear_range(uint64_t *bitmap, unsigned from, unsigned to)
{
	unsigned w;
	uint64_t mask;

	for (w = from / 64; w * 64 < to; w++) {
		mask = ~(uint64_t)0;
		if (w * 64 < from)
			mask <<= from % 64;
		if (to - w * 64 < 64)
			mask &= ((uint64_t)1 << (to % 64)) - 1;
		bitmap[w] &= ~mask;
	}
}

/*
 * Takes up to n free regions of slab, lowest addresses first.  Lowest
 * first means that the regions ever handed out are those below
 * slab->untouched, and that every region from there up is free: the
 * bitmap is searched below it only, and regions above are counted off
 * by address, tagged FILL_UNTOUCHED (tcache.h).  A fresh slab's fill
 * (frag: most of them) then costs a store per region, not a bit search.
 */
static unsigned
slab_take(struct extent *slab, const struct bin_info *bi, void **out,
    unsigned n)
{
	size_t reg_size = bi->reg_size;
	unsigned untouched = slab->untouched, w, got = 0, k, end;
	uint64_t bits, taken;
	uintptr_t p;

	for (w = 0; w * 64 < untouched && got < n; w++) {
		bits = slab->bitmap[w];
		if (untouched - w * 64 < 64)
			bits &= ((uint64_t)1 << (untouched % 64)) - 1;
		if (bits == 0)
			continue;
		taken = bits;
		do {
			out[got++] = (void *)(slab->addr + (size_t)(w * 64 +
			    (unsigned)__builtin_ctzll(bits)) * reg_size);
			bits &= bits - 1;
		} while (bits != 0 && got < n);
		slab->bitmap[w] &= ~(taken ^ bits);
	}
	k = bi->nregs - untouched;
	if (k > n - got)
		k = n - got;
	if (k > 0) {
		p = (slab->addr + (size_t)untouched * reg_size) |
		    FILL_UNTOUCHED;
		for (end = got + k; got < end; got++, p += reg_size)
			out[got] = (void *)p;
		bitmap_clear_range(slab->bitmap, untouched, untouched + k);
		slab->untouched = (uint16_t)(untouched + k);
	}
	/* Ran out with regions still counted free, or held more than counted. */
	if (unlikely(got > slab->nfree || (got < n && got != slab->nfree)))
		slab_count_corrupt(slab, got < n ? "held" : "holds at least",
		    got);
	slab->nfree -= (uint16_t)got;
	return (got);
}

unsigned
arena_bin_fill(struct arena *arena, unsigned ind, void **out, unsigned n,
    uint64_t nrequests)
{
	const struct bin_info *bi = &bin_infos[ind];
	struct bin *bin = &arena->bins[ind];
	struct extent *slab;
	unsigned got = 0;

	mlock_lock(&bin->lock);
	while (got < n) {
		slab = bin->slabcur;
		if (slab == NULL || slab->nfree == 0) {
			slab = bin->nonfull.head;
			if (slab != NULL) {
				extent_list_remove(&bin->nonfull, slab,
				    LINK_OFF);
				slab->in_nonfull = false;
				bin->stats.nonfull_slabs--;
				bin->stats.nreslabs++;
			} else if (bin->spare != NULL) {
				slab = bin->spare;
				bin->spare = NULL;
			} else {
				slab = slab_create(arena, ind);
				if (slab == NULL)
					break;
				bin->stats.nslabs++;
				bin->stats.curslabs++;
			}
			bin->slabcur = slab;
		}
		if (unlikely(opt.harden)) {
			if (bin->prng == 0)
				bin->prng = (free_key ^ (uintptr_t)bin) | 1;
			while (got < n && slab->nfree > 0)
				out[got++] = slab_take_random(slab, bi,
				    &bin->prng);
		} else
			got += slab_take(slab, bi, out + got, n - got);
	}
	bin->stats.nmalloc += got;
	bin->stats.curregs += got;
	bin->stats.nrequests += nrequests;
	bin->stats.nfills++;
	mlock_unlock(&bin->lock);
	return (got);
}

/*
 * A slab whose region bin_dalloc_locked() just freed and that is neither
 * the current slab nor staying in the nonfull list: it was full (it joins
 * the list) or is now empty.  Returns it if it must be destroyed once the
 * bin is unlocked.
 */
static NOINLINE struct extent *
bin_slab_freed(struct bin *bin, struct extent *slab,
    const struct bin_info *bi)
{
	if (slab->nfree == bi->nregs) {
		if (slab->in_nonfull) {
			extent_list_remove(&bin->nonfull, slab, LINK_OFF);
			slab->in_nonfull = false;
			bin->stats.nonfull_slabs--;
		}
		/* One empty slab stays, so a bin at a boundary doesn't thrash. */
		if (bin->spare == NULL) {
			bin->spare = slab;
			return (NULL);
		}
		bin->stats.curslabs--;
		return (slab);
	}
	/* Lower addresses first keeps the live heap compact. */
	if (bin->nonfull.head == NULL || slab->addr < bin->nonfull.head->addr) {
		slab->link.next = bin->nonfull.head;
		slab->link.prev = NULL;
		if (bin->nonfull.head != NULL)
			bin->nonfull.head->link.prev = slab;
		else
			bin->nonfull.tail = slab;
		bin->nonfull.head = slab;
	} else
		extent_list_append(&bin->nonfull, slab, LINK_OFF);
	slab->in_nonfull = true;
	bin->stats.nonfull_slabs++;
	return (NULL);
}

/*
 * Gives one region of class ind back to its slab, with the bin locked.
 * Returns the slab if it became empty and must be destroyed once the bin
 * is unlocked.  The caller counts the free in bin->stats (a flush once per
 * pass).  Inline, as flushes call it for every block they give back
 * (python: 48 instructions a block out of line); list moves are out of
 * line.  ind is the caller's (all of a flush's blocks share their bin's),
 * which spares a load of the slab's class before the class's constants:
 * a slab of another class is metadata gone wrong, reported rather than
 * followed.
 */
ALWAYS_INLINE struct extent *
bin_dalloc_locked(struct bin *bin, struct extent *slab, void *ptr,
    unsigned ind, const char *fn)
{
	const struct bin_info *bi = &bin_infos[ind];
	uint64_t idx;

	if (unlikely(slab->szind != ind))
		msg_fatal("%s(): metadata corruption: %p is freed as class %u "
		    "into a slab of class %u", fn, ptr, ind,
		    (unsigned)slab->szind);
	idx = sz_region_index(ind, (uintptr_t)ptr - slab->addr);
	if (unlikely(idx >= bi->nregs))
		msg_fatal("%s(): invalid pointer %p (inside a block)", fn, ptr);
	if (unlikely(slab->bitmap[idx / 64] & ((uint64_t)1 << (idx % 64))))
		msg_fatal("%s(): double free of %p", fn, ptr);
	if (unlikely(slab->nfree >= bi->nregs))
		msg_fatal("%s(): metadata corruption: slab %p counts %u free "
		    "regions of %u before a free", fn, (void *)slab->addr,
		    (unsigned)slab->nfree, (unsigned)bi->nregs);
	slab->bitmap[idx / 64] |= (uint64_t)1 << (idx % 64);
	slab->nfree++;
	if (slab == bin->slabcur ||
	    (slab->in_nonfull && slab->nfree != bi->nregs))
		return (NULL);
	return (bin_slab_freed(bin, slab, bi));
}

/*
 * Flushes up to FLUSH_BATCH pointers, one lock per bin touched: each pass
 * locks the bin of the first remaining pointer and frees every pointer of
 * that bin.  The slabs' descriptors are looked up and prefetched first,
 * outside the lock, so that a batch of cold descriptors costs about one
 * miss rather than one per pointer (pyalloc.py: 60% fewer profile samples
 * in flushing, 2% of the whole run).
 * *nrequests goes to the requester's bin.
 */
#define	FLUSH_BATCH	64

static void
bin_flush_batch(void **ptrs, unsigned n, unsigned ind, uint64_t *nrequests,
    struct arena *requester)
{
	struct extent *empty[FLUSH_BATCH], *slabs[FLUSH_BATCH], *slab;
	struct bin *bin;
	struct arena *arena;
	unsigned i, keep, nempty, nfreed;

	for (i = 0; i < n; i++) {
		slabs[i] = pmap_entry_extent(pmap_lookup(ptrs[i]));
		__builtin_prefetch(slabs[i], 1);
	}
	while (n > 0) {
		arena = slabs[0]->arena;
		bin = &arena->bins[ind];
		nempty = 0;
		mlock_lock(&bin->lock);
		if (arena == requester) {
			bin->stats.nrequests += *nrequests;
			*nrequests = 0;
		}
		bin->stats.nflushes++;
		for (i = 0, keep = 0; i < n; i++) {
			slab = slabs[i];
			if (slab->arena != arena) {
				slabs[keep] = slab;
				ptrs[keep++] = ptrs[i];
				continue;
			}
			slab = bin_dalloc_locked(bin, slab, ptrs[i], ind, "free");
			if (slab != NULL)
				empty[nempty++] = slab;
		}
		nfreed = n - keep;
		bin->stats.ndalloc += nfreed;
		bin->stats.curregs -= nfreed;
		mlock_unlock(&bin->lock);
		for (i = 0; i < nempty; i++)
			slab_destroy(arena, empty[i]);
		n = keep;
	}
}

void
arena_bin_flush(void **ptrs, unsigned n, unsigned ind, uint64_t nrequests,
    struct arena *requester)
{
	struct bin *bin;
	unsigned k;

	for (; n > 0; ptrs += k, n -= k) {
		k = n < FLUSH_BATCH ? n : FLUSH_BATCH;
		bin_flush_batch(ptrs, k, ind, &nrequests, requester);
	}
	if (nrequests != 0 && requester != NULL) {
		bin = &requester->bins[ind];
		mlock_lock(&bin->lock);
		bin->stats.nrequests += nrequests;
		mlock_unlock(&bin->lock);
	}
}

/* Large ------------------------------------------------------------------ */

/* The statistics of a large block of class ind, with extent_lock held. */
static void
large_count_alloc_locked(struct arena *arena, unsigned ind)
{
	struct lextent_stats *ls = &arena->lstats[ind - SC_NBINS];

	arena->allocated_large += sz_index2size(ind);
	arena->nmalloc_large++;
	ls->nmalloc++;
	ls->nrequests++;
	ls->curlextents++;
}

static void
large_count_dalloc_locked(struct arena *arena, unsigned ind)
{
	struct lextent_stats *ls = &arena->lstats[ind - SC_NBINS];

	arena->allocated_large -= sz_index2size(ind);
	arena->ndalloc_large++;
	ls->ndalloc++;
	ls->curlextents--;
}

void *
arena_large_alloc(struct arena *arena, unsigned ind, size_t alignment,
    bool zero)
{
	size_t usize = sz_index2size(ind);
	struct extent *ext;
	bool zeroed, guard;

	mlock_lock(&arena->extent_lock);
	guard = opt.harden && arena->hooks == &hooks_default;
	ext = extent_alloc_locked(arena, usize + (guard ? PAGE : 0),
	    alignment < PAGE ? PAGE : alignment);
	if (ext != NULL && pmap_set_ends(ext->addr, ext->size,
	    pmap_entry_make(ext, ind, false))) {
		extent_release_locked(arena, ext);
		ext = NULL;
	}
	if (ext == NULL) {
		mlock_unlock(&arena->extent_lock);
		return (NULL);
	}
	ext->szind = (uint8_t)ind;
	ext->slab = false;
	ext->prof_tctx = NULL;
	ext->guarded = guard;
	if (guard)
		pages_guard((void *)(ext->addr + usize), PAGE);
	zeroed = ext->zeroed;
	large_count_alloc_locked(arena, ind);
	mlock_unlock(&arena->extent_lock);
	if (zero && !zeroed)
		memset((void *)ext->addr, 0, usize);
	return ((void *)ext->addr);
}

void
arena_large_dalloc(struct extent *ext)
{
	struct arena *arena = ext->arena;

	if (ext->guarded) {
		pages_unguard((void *)(ext->addr + ext->size - PAGE), PAGE);
		ext->guarded = false;
	}
	mlock_lock(&arena->extent_lock);
	large_count_dalloc_locked(arena, ext->szind);
	extent_release_locked(arena, ext);
	mlock_unlock(&arena->extent_lock);
}

/*
 * Sampled small blocks (prof.c) each get an extent of the smallest large
 * class, so that the extent can point to the sample's record and the free
 * fast path never sees them.  At the default rate a loop allocating GB/s
 * takes thousands of samples a second, and the extent caches' search,
 * split and coalescing were a quarter of what a sample cost (2,400
 * instructions, 1,750 with this; callgrind, 1 KiB pairs).  So up to
 * ARENA_SAMPLES_MAX freed sample extents wait in the arena's slots for
 * the next sample: they stay on the active list (reset frees them), the
 * statistics count them freed, and a forced purge gives them back (at
 * most 128 KiB an arena otherwise).  Eight, not four: the number of live
 * samples swings, and with four a loop through a window of 1,000 1 KiB
 * blocks still sent one sample in twelve through the extent caches (130
 * instructions a sample on average).  Their pointer-map entries stay
 * those of the last sample, so that the next sample of the same class
 * writes none (four entry writes were 290 instructions a sample):
 * sample_szind says which class they give.  prof_tctx reads
 * EXTENT_SAMPLE_FREED meanwhile, which validate() in malloc.c refuses as
 * a double free.
 *
 * The slots take no lock (taking and giving back under extent_lock were
 * 150 instructions a sample): an exchange empties a slot, a
 * compare-and-swap fills one, and the statistics count the moves apart
 * (sample_ntake, sample_nput; arena_sample_moves), since the locked
 * counters cannot take an atomic add.  The fields of an extent in a slot
 * are written before the release that fills it.
 */
struct extent *
arena_sample_alloc(struct arena *arena, unsigned ind, bool zero)
{
	struct extent *ext = NULL;
	unsigned last, i, k;

	/*
	 * From the slot filled last: its extent is the likeliest to be in
	 * the cache, and the slots of a loop's samples are seldom the first.
	 */
	last = __atomic_load_n(&arena->sample_last, __ATOMIC_RELAXED);
	for (k = 0; k < ARENA_SAMPLES_MAX && ext == NULL; k++) {
		i = (last + k) % ARENA_SAMPLES_MAX;
		if (__atomic_load_n(&arena->samples[i], __ATOMIC_RELAXED) !=
		    NULL)
			ext = __atomic_exchange_n(&arena->samples[i], NULL,
			    __ATOMIC_ACQUIRE);
	}
	if (ext == NULL) {
		void *p = arena_large_alloc(arena, SC_NBINS, PAGE, zero);

		if (p == NULL)
			return (NULL);
		ext = pmap_entry_extent(pmap_lookup(p));
	} else {
		__atomic_fetch_add(&arena->sample_ntake, 1, __ATOMIC_RELAXED);
		DASSERT(ext->prof_tctx == EXTENT_SAMPLE_FREED);
		ext->prof_tctx = NULL;
		if (zero)
			memset((void *)ext->addr, 0, sz_index2size(ind));
		if (ext->sample_szind == ind)
			return (ext);
	}
	/* Callers see the requested class; stats count the extent's. */
	pmap_set_ends(ext->addr, ext->size, pmap_entry_make(ext, ind, false));
	ext->sample_szind = (uint8_t)ind;
	return (ext);
}

void
arena_sample_dalloc(struct extent *ext)
{
	struct arena *arena = ext->arena;
	struct extent *empty;
	unsigned i;

	/* Only harden guards: guarded is in another cache line. */
	if (ext->szind != SC_NBINS || (opt.harden && ext->guarded)) {
		arena_large_dalloc(ext);
		return;
	}
	ext->prof_tctx = EXTENT_SAMPLE_FREED;
	for (i = 0; i < ARENA_SAMPLES_MAX; i++) {
		empty = NULL;
		if (__atomic_load_n(&arena->samples[i], __ATOMIC_RELAXED) ==
		    NULL && __atomic_compare_exchange_n(&arena->samples[i],
		    &empty, ext, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			__atomic_fetch_add(&arena->sample_nput, 1,
			    __ATOMIC_RELAXED);
			__atomic_store_n(&arena->sample_last, i,
			    __ATOMIC_RELAXED);
			return;
		}
	}
	ext->prof_tctx = NULL;
	arena_large_dalloc(ext);
}

/*
 * Gives the waiting sample extents back to the extent caches; the
 * statistics counted them freed when they were put.
 */
static void
arena_release_samples(struct arena *arena)
{
	struct extent *ext;
	unsigned i;

	mlock_lock(&arena->extent_lock);
	for (i = 0; i < ARENA_SAMPLES_MAX; i++) {
		ext = __atomic_exchange_n(&arena->samples[i], NULL,
		    __ATOMIC_ACQUIRE);
		if (ext != NULL) {
			ext->prof_tctx = NULL;
			extent_release_locked(arena, ext);
		}
	}
	mlock_unlock(&arena->extent_lock);
}

static void
large_stats_move(struct arena *arena, unsigned from, unsigned to)
{
	arena->allocated_large += sz_index2size(to) - sz_index2size(from);
	arena->lstats[from - SC_NBINS].curlextents--;
	arena->lstats[from - SC_NBINS].ndalloc++;
	arena->lstats[to - SC_NBINS].curlextents++;
	arena->lstats[to - SC_NBINS].nmalloc++;
	arena->lstats[to - SC_NBINS].nrequests++;
}

/*
 * Shrinks by giving the tail back, or grows into a free right neighbour
 * from any of the three caches.
 */
bool
arena_large_resize(struct extent *ext, unsigned new_ind, bool zero)
{
	struct arena *arena = ext->arena;
	struct ecache *caches[3] = { &arena->dirty, &arena->muzzy,
	    &arena->retained }, *cache = NULL;
	size_t new_size = sz_index2size(new_ind), old_usize;
	struct extent *nb = NULL, *tail;
	bool nb_zeroed;
	int i;

	old_usize = sz_index2size(ext->szind);
	if (ext->guarded)
		return (true);
	mlock_lock(&arena->extent_lock);
	if (new_size <= ext->size) {
		if (ext->size - new_size >= PAGE) {
			tail = extent_split(arena, ext, new_size);
			if (tail == NULL)
				goto fail;
			pmap_set_range(ext->addr + new_size, 1, PMAP_NONE);
			extent_dalloc_locked(arena, tail);
		}
		goto done;
	}
	/* A neighbour is committed like ext (extent_neighbor checks). */
	for (i = 0; i < 3 && nb == NULL; i++) {
		cache = caches[i];
		nb = extent_neighbor(arena, cache, ext, false);
	}
	if (nb == NULL || ext->size + nb->size < new_size ||
	    extent_merge_refused(arena, ext, nb))
		goto fail;
	nb_zeroed = extent_absorb(cache, ext, nb, false);
	if (ext->size > new_size) {
		tail = extent_split(arena, ext, new_size);
		if (tail != NULL)
			ecache_put(arena, cache, tail);
	}
	if (zero && !nb_zeroed) {
		mlock_unlock(&arena->extent_lock);
		memset((void *)(ext->addr + old_usize), 0, new_size - old_usize);
		mlock_lock(&arena->extent_lock);
	}
done:
	pmap_set_ends(ext->addr, ext->size, pmap_entry_make(ext, new_ind,
	    false));
	large_stats_move(arena, ext->szind, new_ind);
	ext->szind = (uint8_t)new_ind;
	mlock_unlock(&arena->extent_lock);
	return (false);
fail:
	mlock_unlock(&arena->extent_lock);
	return (true);
}

/*
 * Finishes a move of ext's pages to new_addr (new_size bytes there, the
 * first ext->size of them ext's own now): the old range is a hole nothing
 * refers to (its pointer-map entries are cleared).
 */
static void
large_moved_locked(struct arena *arena, struct extent *ext, uintptr_t new_addr,
    size_t new_size, unsigned new_ind)
{
	pmap_set_ends(ext->addr, ext->size, PMAP_NONE);
	arena_unmapped(arena, ext);
	ext->addr = new_addr;
	ext->size = new_size;
	if (pmap_set_ends(ext->addr, ext->size, pmap_entry_make(ext, new_ind,
	    false)))
		msg_fatal("out of metadata memory for the pointer map");
	large_stats_move(arena, ext->szind, new_ind);
	ext->szind = (uint8_t)new_ind;
}

/*
 * Moves ext's pages to the start of dest, an extent of new_ind's size out
 * of every cache and list: the pages the move lands on are freed, dest's
 * others become the block's tail.  False on success; true if the kernel
 * refused, with dest given back (to the dirty cache, or, if its head
 * could not be mapped again, out of the arena).
 */
static bool
large_move_locked(struct arena *arena, struct extent *ext,
    struct extent *dest, unsigned new_ind, bool zero)
{
	size_t old_size = ext->size;
	uintptr_t addr = dest->addr;
	bool zeroed = dest->zeroed;

	switch (pages_move((void *)ext->addr, old_size, (void *)addr)) {
	case PAGES_MOVED:
		break;
	case PAGES_MOVE_TORN:
		msg_fatal("realloc(): the kernel moved part of the block at "
		    "%p to %p and failed (out of memory or of mappings)",
		    (void *)ext->addr, (void *)addr);
	case PAGES_DEST_LOST:
		/* What was lost is only dest's head; all of dest goes. */
		pmap_set_ends(dest->addr, dest->size, PMAP_NONE);
		pages_unmap((void *)dest->addr, dest->size);
		arena_unmapped(arena, dest);
		extent_desc_free(dest);
		return (true);
	case PAGES_NOT_MOVED:
		/* Its head mapped afresh, the rest as it was. */
		extent_dalloc_locked(arena, dest);
		return (true);
	}
	extent_desc_free(dest);
	large_moved_locked(arena, ext, addr, sz_index2size(new_ind), new_ind);
	if (zero && !zeroed) {
		mlock_unlock(&arena->extent_lock);
		memset((void *)(addr + old_size), 0, ext->size - old_size);
		mlock_lock(&arena->extent_lock);
	}
	return (false);
}

/*
 * Grows a huge block without copying it, for the default hooks' own
 * mappings only: by mremap to a mapping of its own (the kernel finds the
 * room), or, for a block over more than one mapping, which mremap cannot
 * grow (extents merge across mappings), by moving its pages into an
 * extent from the caches or new, whose tail is faulted in as a remap's
 * would be (a copy there would fault in all of it: a millisecond for
 * 4 MiB here).  The old range is a hole nothing refers to (its
 * pointer-map entries are cleared).
 *
 * NULL, so that the caller copies, when the dirty cache holds an extent
 * of the new size and the copy comes from ext's arena (copy_here): its
 * pages are resident, and a copy of even 4 MiB costs less than faulting
 * in the fresh tail of a remap (2 MiB: 32 us against 340 us a MiB of
 * faults here), while the dirty pages it would leave behind wait for
 * decay.  realloc -t 1 -r 8 (two buffers grown to 4 MiB, eight times):
 * peak 28.4 -> 17.4 MiB, 0.019 -> 0.015 s.  Moving the pages into the
 * dirty extent instead peaked at 13.4 MiB but took 0.025 s: the move
 * frees the dirty pages it lands on, faulted in again later.
 */
void *
arena_large_remap(struct extent *ext, unsigned new_ind, bool zero,
    bool copy_here)
{
	struct arena *arena = ext->arena;
	size_t new_size = sz_index2size(new_ind);
	struct extent *dest;
	void *p = NULL;

	if (arena->hooks != &hooks_default || ext->guarded ||
	    ext->prof_tctx != NULL || new_size <= ext->size)
		return (NULL);
	mlock_lock(&arena->extent_lock);
	if (copy_here && ecache_has_fit(&arena->dirty, new_size))
		goto done;
	p = pages_remap((void *)ext->addr, ext->size, new_size);
	if (p != NULL) {
		arena->mapped += new_size;
		large_moved_locked(arena, ext, (uintptr_t)p, new_size, new_ind);
		goto done;
	}
	dest = pages_can_move ? extent_alloc_locked(arena, new_size, PAGE) :
	    NULL;
	if (dest != NULL) {
		extent_list_remove(&arena->active, dest, LRU_OFF);
		if (!large_move_locked(arena, ext, dest, new_ind, zero))
			p = (void *)ext->addr;
	}
done:
	mlock_unlock(&arena->extent_lock);
	return (p);
}

/* Entry points ----------------------------------------------------------- */

void *
arena_malloc(struct arena *arena, unsigned ind, bool zero)
{
	void *p;

	if (ind >= SC_NBINS)
		return (arena_large_alloc(arena, ind, PAGE, zero));
	if (arena_bin_fill(arena, ind, &p, 1, 1) == 0)
		return (NULL);
	p = tcache_block_from_slab(p, "malloc");
	if (zero)
		memset(p, 0, sz_index2size(ind));
	return (p);
}

size_t
sz_sa2u(size_t size, size_t alignment)
{
	unsigned ind;
	size_t usize;

	if (alignment <= QUANTUM)
		return (sz_s2u(size));
	if (size > SC_MAX || alignment > SC_MAX / 2)
		return (0);
	/* Small: a class whose regions all fall on the alignment. */
	if (alignment <= PAGE && size <= SC_SMALL_MAX) {
		for (ind = sz_size2index(ALIGN_UP(size, alignment));
		    ind < SC_NBINS; ind++) {
			usize = sz_index2size(ind);
			if (usize % alignment == 0 &&
			    (bin_infos[ind].slab_npages << LG_PAGE) % alignment
			    == 0)
				return (usize);
		}
	}
	usize = sz_s2u(size < SC_LARGE_MIN ? SC_LARGE_MIN : size);
	return (usize);
}

void *
arena_palloc(struct arena *arena, size_t usize, size_t alignment, bool zero)
{
	unsigned ind = sz_size2index(usize);

	if (ind < SC_NBINS)
		return (arena_malloc(arena, ind, zero));
	return (arena_large_alloc(arena, ind, alignment, zero));
}

void
arena_dalloc(struct extent *ext, void *ptr, const char *fn)
{
	struct bin *bin;
	struct extent *empty;

	if (!ext->slab) {
		arena_large_dalloc(ext);
		return;
	}
	/* Free in its slab: the mark (tcache.h; a flush wrote it already). */
	FREE_KEY_WORD(ptr) = slab_mark;
	bin = &ext->arena->bins[ext->szind];
	mlock_lock(&bin->lock);
	empty = bin_dalloc_locked(bin, ext, ptr, ext->szind, fn);
	bin->stats.ndalloc++;
	bin->stats.curregs--;
	mlock_unlock(&bin->lock);
	if (empty != NULL)
		slab_destroy(ext->arena, empty);
}

/* Reset and destroy ------------------------------------------------------ */

void
arena_reset(struct arena *arena)
{
	struct extent *ext;
	uint64_t ntake, nput;
	unsigned i;

	for (i = 0; i < SC_NBINS; i++)
		mlock_lock(&arena->bins[i].lock);
	mlock_lock(&arena->extent_lock);
	/* The slots' extents are active, freed below; their moves counted. */
	memset(arena->samples, 0, sizeof(arena->samples));
	arena_sample_moves(arena, &ntake, &nput);
	arena->nmalloc_large += ntake;
	arena->ndalloc_large += nput;
	arena->lstats[0].nmalloc += ntake;
	arena->lstats[0].nrequests += ntake;
	arena->lstats[0].ndalloc += nput;
	arena->sample_ntake = arena->sample_nput = 0;
	while ((ext = arena->active.head) != NULL) {
		if (ext->slab)
			pmap_set_range(ext->addr, ext->size >> LG_PAGE, PMAP_NONE);
		extent_release_locked(arena, ext);
	}
	for (i = 0; i < SC_NBINS; i++) {
		arena->bins[i].slabcur = NULL;
		arena->bins[i].spare = NULL;
		arena->bins[i].nonfull.head = arena->bins[i].nonfull.tail =
		    NULL;
		arena->bins[i].stats.curregs = 0;
		arena->bins[i].stats.curslabs = 0;
		arena->bins[i].stats.nonfull_slabs = 0;
	}
	for (i = 0; i < SC_NLARGE; i++)
		arena->lstats[i].curlextents = 0;
	arena->allocated_large = 0;
	mlock_unlock(&arena->extent_lock);
	for (i = 0; i < SC_NBINS; i++)
		mlock_unlock(&arena->bins[i].lock);
}

/* Hands every cached extent back through the hooks' destroy. */
static void
ecache_destroy_all(struct arena *arena, struct ecache *cache)
{
	struct extent *ext;

	while ((ext = cache->lru.head) != NULL) {
		ecache_remove(cache, ext);
		pmap_set_ends(ext->addr, ext->size, PMAP_NONE);
		hooks_destroy(arena->hooks, (void *)ext->addr, ext->size,
		    arena->ind);
		arena_unmapped(arena, ext);
		extent_desc_free(ext);
	}
}

bool
arena_destroy(struct arena *arena)
{
	if (arena->ind < narenas_auto ||
	    __atomic_load_n(&arena->nthreads, __ATOMIC_RELAXED) != 0)
		return (true);
	arena_reset(arena);
	mlock_lock(&arena->extent_lock);
	ecache_destroy_all(arena, &arena->dirty);
	ecache_destroy_all(arena, &arena->muzzy);
	ecache_destroy_all(arena, &arena->retained);
	mlock_unlock(&arena->extent_lock);
	mlock_lock(&arenas_lock);
	__atomic_store_n(&arenas[arena->ind], NULL, __ATOMIC_RELEASE);
	/* The free list links through hooks; active is empty. */
	arena->hooks = (extent_hooks_t *)arenas_free;
	arenas_free = arena;
	mlock_unlock(&arenas_lock);
	return (false);
}

/* Fork ------------------------------------------------------------------- */

void
arenas_prefork(void)
{
	struct arena *arena;
	unsigned i, j;

	mlock_lock(&arenas_lock);
	for (i = 0; i < ARENAS_MAX; i++) {
		if ((arena = arenas[i]) == NULL)
			continue;
		for (j = 0; j < SC_NBINS; j++)
			mlock_lock(&arena->bins[j].lock);
		mlock_lock(&arena->extent_lock);
	}
}

void
arenas_postfork_parent(void)
{
	struct arena *arena;
	unsigned i, j;

	for (i = 0; i < ARENAS_MAX; i++) {
		if ((arena = arenas[i]) == NULL)
			continue;
		mlock_unlock(&arena->extent_lock);
		for (j = 0; j < SC_NBINS; j++)
			mlock_unlock(&arena->bins[j].lock);
	}
	mlock_unlock(&arenas_lock);
}

void
arenas_postfork_child(void)
{
	struct arena *arena;
	unsigned i, j;

	for (i = 0; i < ARENAS_MAX; i++) {
		if ((arena = arenas[i]) == NULL)
			continue;
		mlock_postfork_child(&arena->extent_lock);
		for (j = 0; j < SC_NBINS; j++)
			mlock_postfork_child(&arena->bins[j].lock);
		arena->nthreads = 0;
	}
	mlock_postfork_child(&arenas_lock);
}
