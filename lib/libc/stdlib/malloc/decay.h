/*
 * Decay: how many pages a cache may keep.  Pages freed into a cache are
 * remembered per epoch (decay_ms / DECAY_NSTEPS long); the limit is the sum
 * of each epoch's pages weighted by a smoothstep curve that falls from 1
 * (just freed) to 0 (freed decay_ms ago), so a burst of frees is returned
 * to the kernel gradually over decay_ms instead of all at once.  decay_ms 0
 * keeps nothing; -1 keeps everything.  Pure computation: the caller owns
 * the lock and does the purging.
 */
#ifndef MALLOC_DECAY_H
#define	MALLOC_DECAY_H

#include <sys/types.h>

#include "compat.h"

#define	DECAY_NSTEPS	200

struct decay {
	ssize_t		decay_ms;	/* settings the state was built for */
	uint64_t	interval_ns;	/* epoch length */
	uint64_t	epoch_ns;	/* start of the current epoch; 0: none yet */
	size_t		nunpurged;	/* cache size the epoch's growth is over */
	size_t		npages_seen;	/* cache size at the last call */
	size_t		backlog_limit;	/* the backlog's weighted sum */
	/*
	 * Of the backlog's pages, the oldest npurged were purged (they count
	 * until they leave the window: that is the curve), and nreused
	 * pages from before this epoch were taken for reuse this epoch; they
	 * leave the backlog when the epoch ends, so that a page freed, reused
	 * and freed again is counted once, at its last free.
	 */
	size_t		npurged;
	size_t		nreused;
	/*
	 * DECAY_NSTEPS counts of pages added, oldest first: an array of the
	 * owner's, apart from these fields, so that an arena's decay states
	 * sit with its other small fields and the arrays' pages stay
	 * untouched until it first caches pages (arena.h).
	 */
	size_t		*backlog;
};

/*
 * decay_init sets up d in zeroed memory, backlog (zeroed, DECAY_NSTEPS
 * entries) untouched until used; decay_reset starts d over from any state
 * (new settings).  now_ns 0: the first epoch starts at the first
 * decay_note, so that an arena's creation reads no clock (a process that
 * never caches a page never calls clock_gettime, whose libc page it might
 * otherwise never touch).
 */
void	decay_init(struct decay *d, size_t *backlog, ssize_t decay_ms,
	    uint64_t now_ns);
void	decay_reset(struct decay *d, ssize_t decay_ms, uint64_t now_ns);
/*
 * Moves d to now, given the cache's size; called before pages enter the
 * cache, so that they are dated to the epoch they arrive in.
 */
void	decay_note(struct decay *d, uint64_t now_ns, size_t npages);
/* Moves d to now; returns how many of the cache's npages may stay. */
size_t	decay_limit(struct decay *d, uint64_t now_ns, size_t npages);
/* Records the cache's size after purging (the oldest pages) since decay_limit. */
void	decay_purged(struct decay *d, size_t npages);
/* When the limit next drops, or UINT64_MAX if it never will. */
uint64_t decay_next_ns(const struct decay *d, size_t npages);

#endif /* !MALLOC_DECAY_H */
