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
	/*
	 * How many bytes malloc's fast path may still allocate before an
	 * event (the next sample or tick; none under junk, zero, harden and
	 * live counters): event point - allocated - 1, at least 0.  It counts
	 * down with one subtraction whose sign is the divert test; the slow
	 * path that follows a failed test gives the subtraction back
	 * (malloc_fast_undo) and sets it again (tsd_update_event).
	 *
	 * It is also the thread's allocated byte count, which is therefore
	 * never stored on the fast path: thread.allocated is alloc_mark -
	 * event_left, alloc_mark being set with event_left.
	 */
	int64_t		event_left;
	uint64_t	alloc_mark;
	/* Bytes freed off free's fast path; the cache counts the rest. */
	uint64_t	dealloc_slow;
	struct arena	*arena;		/* arena bound to this thread */
	uint64_t	tick_at;	/* allocated value of the next slow_tick */
	uint32_t	decay_ticks;	/* frees on slow paths since a tick */
	uint8_t		state;
	bool		tcache_enabled;
	bool		prof_active;
	/*
	 * Set once the thread asked for thread.allocatedp or deallocatedp:
	 * those hand out the address of a counter that must stay exact, so
	 * from then on the thread's calls take the slow paths, which keep
	 * the two below (malloc(3) says what it costs).
	 */
	bool		counters_live;
	uint64_t	allocated_live;
	uint64_t	deallocated_live;
	uint64_t	event_at;	/* allocated value of the next event */
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

/* Sets event_left after a mode, sampling, tick or count change. */
void	tsd_update_event(struct tsd *tsd);

/* thread.allocated and thread.deallocated, exact (struct tsd). */
ALWAYS_INLINE uint64_t
tsd_allocated(const struct tsd *tsd)
{
	if (tsd->counters_live)
		return (tsd->allocated_live);
	return (tsd->alloc_mark - (uint64_t)tsd->event_left);
}
uint64_t tsd_deallocated(const struct tsd *tsd);

/*
 * Bytes allocated off malloc's fast path.  event_left goes down with
 * them; below 0, the next malloc takes the slow path, which checks the
 * events and sets it again.
 */
ALWAYS_INLINE void
tsd_count_alloc(struct tsd *tsd, uint64_t bytes)
{
	tsd->event_left -= (int64_t)bytes;
	if (unlikely(tsd->counters_live))
		tsd->allocated_live += bytes;
}

/* Bytes freed off free's fast path. */
ALWAYS_INLINE void
tsd_count_dalloc(struct tsd *tsd, uint64_t bytes)
{
	tsd->dealloc_slow += bytes;
	if (unlikely(tsd->counters_live))
		tsd->deallocated_live += bytes;
}

/* thread.allocatedp, thread.deallocatedp: see counters_live. */
void	tsd_counters_go_live(struct tsd *tsd);
void	tsd_postfork_child(void);

#endif /* !MALLOC_TSD_H */
