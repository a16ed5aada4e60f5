/*
 * Per-thread state, in initial-exec TLS so that the fast paths reach it
 * with one %fs-relative access.  Lifecycle:
 *	UNINIT	 the TLS image: every tcache bin disabled, so the first call of
 *		 any kind lands on a slow path, which boots the thread
 *	BOOTING	 being set up; calls made meanwhile (by libc underneath us)
 *		 use the arena directly
 *	NOMINAL	 normal operation
 *	EXITED	 its destructor ran: cache flushed, bins disabled; later
 *		 calls (other destructors) use the arena directly
 */
#ifndef MALLOC_TSD_H
#define	MALLOC_TSD_H

#include "compat.h"
#include "tcache.h"

enum tsd_state { TSD_UNINIT = 0, TSD_BOOTING, TSD_NOMINAL, TSD_EXITED };

struct tsd {
	struct tcache	tcache;		/* first: bins at a fixed TLS offset */
	uint64_t	allocated;	/* bytes, thread.allocated */
	/* malloc's fast path diverts when allocated would reach this. */
	uint64_t	alloc_event_at;
	/*
	 * What the fast path reads instead: how many bytes it may still
	 * allocate, alloc_event_at - allocated - 1 (0 when none).  It counts
	 * down with one subtraction whose sign is the divert test; that test
	 * comes last, and the subtraction that fails leaves it negative, for
	 * the slow path to set again (tsd_event_sync).
	 */
	int64_t		event_left;
	uint64_t	deallocated;	/* bytes, thread.deallocated */
	struct arena	*arena;		/* arena bound to this thread */
	uint64_t	tick_at;	/* allocated value of the next slow_tick */
	uint32_t	decay_ticks;	/* frees on slow paths since a tick */
	uint8_t		state;
	bool		tcache_enabled;
	bool		prof_active;
	uint64_t	prof_sample_at;	/* allocated value of the next sample */
	struct quarantine *quarantine;	/* harden:true, see harden.c */
	char		prof_name[64];
};

extern TLS_IE struct tsd	tsd_tls HIDDEN;

/* Thread exit, provided by malloc.c: releases what the thread holds. */
void	malloc_thread_cleanup(struct tsd *tsd);
/* Boots the calling thread if needed; false when it is NOMINAL after. */
bool	tsd_boot(struct tsd *tsd);
void	tsd_boot_global(void);
void	tsd_set_arena(struct tsd *tsd, struct arena *arena);
/* numa:true: an arena of the node the thread runs on, round-robin. */
unsigned tsd_numa_arena(void);
void	tsd_set_tcache_enabled(struct tsd *tsd, bool enabled);
/*
 * Periodic work (decay, the published statistics) runs once per
 * TSD_TICK_BYTES allocated by a thread, through the same compare.
 */
#define	TSD_TICK_BYTES	((uint64_t)1 << 20)

/* Recomputes alloc_event_at after a mode, sampling or tick change. */
void	tsd_update_event(struct tsd *tsd);

/* Sets event_left from allocated and alloc_event_at (see struct tsd). */
ALWAYS_INLINE void
tsd_event_sync(struct tsd *tsd)
{
	uint64_t left = tsd->alloc_event_at > tsd->allocated ?
	    tsd->alloc_event_at - tsd->allocated - 1 : 0;

	tsd->event_left = left > INT64_MAX ? INT64_MAX : (int64_t)left;
}

/* Bytes allocated off malloc's fast path. */
ALWAYS_INLINE void
tsd_count_alloc(struct tsd *tsd, uint64_t bytes)
{
	tsd->allocated += bytes;
	tsd_event_sync(tsd);
}
void	tsd_postfork_child(void);

#endif /* !MALLOC_TSD_H */
