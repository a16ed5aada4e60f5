/*
 * Thread state lifecycle and arena binding.  A pthread key whose
 * destructor flushes the thread cache gives thread exit its cleanup; the
 * key's value is only a non-NULL token (the state itself is in TLS).
 */
#include <pthread.h>
#include <string.h>

#include "arena.h"
#include "conf.h"
#include "numa.h"
#include "prof.h"
#include "tsd.h"

/* Every bin disabled (tcache.h), so that the first call takes a slow path. */
TLS_IE struct tsd	tsd_tls = {
	.tcache = {
		.top = { [0 ... TCACHE_NBINS_MAX - 1] = TCACHE_EMPTY },
		.low = { [0 ... TCACHE_NBINS_MAX - 1] = TCACHE_EMPTY },
		.high = { [0 ... TCACHE_NBINS_MAX - 1] = TCACHE_EMPTY },
	},
};

static pthread_key_t	tsd_key;
static unsigned		next_arena;	/* atomic round-robin counter */

static void
tsd_destructor(void *arg)
{
	struct tsd *tsd = &tsd_tls;

	(void)arg;
	if (tsd->state == TSD_NOMINAL) {
		malloc_thread_cleanup(tsd);
		prof_thread_exit();
		tcache_destroy(&tsd->tcache);
		if (tsd->arena != NULL)
			__atomic_fetch_sub(&tsd->arena->nthreads, 1,
			    __ATOMIC_RELAXED);
	}
	tsd->state = TSD_EXITED;
	tsd->tcache_enabled = false;
}

void
tsd_boot_global(void)
{
	pthread_key_create(&tsd_key, tsd_destructor);
}

unsigned
tsd_numa_arena(void)
{
	unsigned rr = __atomic_fetch_add(&next_arena, 1, __ATOMIC_RELAXED);

	return (numa_current_node() * numa_arenas_per_node +
	    rr % numa_arenas_per_node);
}

void
tsd_update_event(struct tsd *tsd)
{
	uint64_t allocated = tsd_allocated(tsd), at, left;

	/* junk and zero need every allocation on the slow path. */
	if (opt.junk_alloc || opt.zero || opt.harden)
		at = 0;
	else if (tsd->prof_active && tsd->prof_sample_at < tsd->tick_at)
		at = tsd->prof_sample_at;
	else
		at = tsd->tick_at;
	left = at > allocated ? at - allocated - 1 : 0;
	if (left > INT64_MAX)
		left = INT64_MAX;
	tsd->event_at = at;
	if (tsd->counters_live)
		left = 0;	/* malloc_live() */
	tsd->event_left = (int64_t)left;
	tsd->alloc_mark = allocated + left;
}

uint64_t
tsd_deallocated(const struct tsd *tsd)
{
	return (tsd->dealloc_slow + tcache_fast_freed(&tsd->tcache));
}

void
tsd_counters_go_live(struct tsd *tsd)
{
	if (tsd->counters_live || tsd->state != TSD_NOMINAL)
		return;
	tsd->allocated_live = tsd_allocated(tsd);
	tsd->deallocated_live = tsd_deallocated(tsd);
	tsd->counters_live = true;
	tcache_frees_slow(&tsd->tcache);
	tsd_update_event(tsd);
}

void
tsd_set_arena(struct tsd *tsd, struct arena *arena)
{
	if (tsd->arena == arena)
		return;
	if (tsd->arena != NULL)
		__atomic_fetch_sub(&tsd->arena->nthreads, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&arena->nthreads, 1, __ATOMIC_RELAXED);
	/* Cached objects keep their own arenas; only stats follow. */
	tsd->arena = arena;
	tsd->tcache.arena = arena;
}

void
tsd_set_tcache_enabled(struct tsd *tsd, bool enabled)
{
	if (tsd->state != TSD_NOMINAL || enabled == tsd->tcache_enabled)
		return;
	if (enabled) {
		if (tcache_init(&tsd->tcache, tsd->arena))
			return;
	} else
		tcache_destroy(&tsd->tcache);
	tsd->tcache_enabled = enabled;
}

bool
tsd_boot(struct tsd *tsd)
{
	struct arena *arena;
	unsigned ind;

	if (tsd->state == TSD_NOMINAL)
		return (false);
	if (tsd->state != TSD_UNINIT)
		return (true);
	tsd->state = TSD_BOOTING;
	if (numa_nnodes > 0)
		ind = tsd_numa_arena();
	else
		ind = __atomic_fetch_add(&next_arena, 1, __ATOMIC_RELAXED) %
		    narenas_auto;
	arena = arena_get(ind, true);
	if (arena == NULL)
		arena = arena_get(0, false);
	tsd_set_arena(tsd, arena);
	tsd->tick_at = tsd_allocated(tsd) + TSD_TICK_BYTES;
	prof_tsd_init(tsd);
	tsd_update_event(tsd);
	/* pthread_setspecific may allocate: we are BOOTING, so that works. */
	pthread_setspecific(tsd_key, tsd);
	tsd->tcache_enabled = opt.tcache && !tcache_init(&tsd->tcache, arena);
	tsd->state = TSD_NOMINAL;
	return (false);
}

void
tsd_postfork_child(void)
{
	next_arena = 0;
}
