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
	/*
	 * How many bytes malloc's fast path may still allocate before an
	 * event (the next sample or tick; none under junk, zero and harden):
	 * event point - allocated - 1, at least 0.  It counts down with one
	 * subtraction whose sign is the divert test; that test comes last,
	 * and the subtraction that fails leaves it negative, for the slow
	 * path to set again (tsd_update_event).
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

/* Sets event_left after a mode, sampling, tick or count change. */
void	tsd_update_event(struct tsd *tsd);

/*
 * Bytes allocated off malloc's fast path.  event_left goes down with
 * allocated; below 0, the next malloc takes the slow path, which checks
 * the events and sets it again.
 */
ALWAYS_INLINE void
tsd_count_alloc(struct tsd *tsd, uint64_t bytes)
{
	tsd->allocated += bytes;
	tsd->event_left -= (int64_t)bytes;
}
void	tsd_postfork_child(void);

#endif /* !MALLOC_TSD_H */
