/*
 * Mutexes with ranks and contention counters.
 *
 * Ranks order every lock in the allocator; a thread takes locks only in
 * increasing rank, and the fork handlers take all of them in that same
 * order.  The order is a rule of the code: nothing checks the rank a lock
 * stores at run time.  (Not writing it, so that a new arena's bin locks
 * stay zero pages, saved nothing measurable: 8 threads' arenas, 2026-11.)  Counters are updated while the lock
 * is held, so they need no atomics.
 */
#ifndef MALLOC_LOCK_H
#define	MALLOC_LOCK_H

#include <pthread.h>

#include "compat.h"

enum lock_rank {
	RANK_INIT = 1,		/* malloc_init, arena table */
	RANK_CTL,		/* mallctl writes, arena creation */
	RANK_PROF,		/* profiler tables */
	RANK_TCACHES,		/* explicit tcaches, tsd list */
	RANK_BIN,		/* an arena's bin */
	RANK_EXTENTS,		/* an arena's extent caches and large stats */
	RANK_BACKGROUND,	/* background threads' table and sleep state */
	RANK_EDATA,		/* extent descriptor pool */
	RANK_BASE,		/* metadata allocator */
};

struct mlock {
	pthread_mutex_t	mutex;
	uint64_t	nlocks;		/* acquisitions */
	uint64_t	ncontended;	/* acquisitions that had to wait */
	uint32_t	rank;
};

void	mlock_init(struct mlock *lock, enum lock_rank rank);
void	mlock_lock_slow(struct mlock *lock);

ALWAYS_INLINE void
mlock_lock(struct mlock *lock)
{
	if (unlikely(pthread_mutex_trylock(&lock->mutex) != 0))
		mlock_lock_slow(lock);
	lock->nlocks++;
}

ALWAYS_INLINE void
mlock_unlock(struct mlock *lock)
{
	pthread_mutex_unlock(&lock->mutex);
}

/* After fork, in the child: every lock the parent held is reset. */
ALWAYS_INLINE void
mlock_postfork_child(struct mlock *lock)
{
	pthread_mutex_init(&lock->mutex, NULL);
}

#endif /* !MALLOC_LOCK_H */
