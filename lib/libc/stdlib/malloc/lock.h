/*
 * Mutexes with ranks and contention counters.
 *
 * Ranks order every lock in the allocator; a thread takes locks only in
 * increasing rank, and the fork handlers take all of them in that same
 * order.  The order is a rule of the code: nothing checks the rank a lock
 * stores at run time.  (Not writing it, so that a new arena's bin locks
 * stay zero pages, saved nothing measurable: 8 threads' arenas, 2026-11.)
 * Counters are updated while the lock is held, so they need no atomics.
 */
#ifndef MALLOC_LOCK_H
#define	MALLOC_LOCK_H

#include <pthread.h>
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#include <sys/single_threaded.h>
#define	MLOCK_LIBC_SINGLE_THREADED
#endif

#include "compat.h"

/*
 * Whether the process has one thread, as the C library knows it: glibc
 * clears __libc_single_threaded in pthread_create() before the new thread
 * runs, in the creating thread, and sets it again only in a fork child;
 * FreeBSD's libc sets __isthreaded likewise.  glibc's own malloc skips
 * its locks and atomics on the same test.  Programs that make threads
 * with clone(2) behind the C library's back break both allocators alike.
 */
#if defined(MLOCK_LIBC_SINGLE_THREADED)
#define	MLOCK_SINGLE_THREADED()	(__libc_single_threaded != 0)
#elif defined(__FreeBSD__)
extern int	__isthreaded;
#define	MLOCK_SINGLE_THREADED()	(__isthreaded == 0)
#else
#define	MLOCK_SINGLE_THREADED()	false
#endif

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

/*
 * A single-threaded process takes no lock: mlock_lock() only notes that
 * it skipped the mutex (an atomic pair less: frag's and python's locks
 * were 3-4% of their profiles), and mlock_unlock() then leaves it alone.
 * That is sound because a process gains threads only in pthread_create(),
 * which the allocator calls with no such lock held: the locks under which
 * it starts threads (ctl_lock, bg_lock, whose mutex a condition variable
 * also waits on) are always taken.  A user's extent hooks must not start
 * threads (malloc(3)).
 */
struct mlock {
	pthread_mutex_t	mutex;
	uint64_t	nlocks;		/* acquisitions */
	uint64_t	ncontended;	/* acquisitions that had to wait */
	uint32_t	rank;
	bool		always;		/* taken even with one thread */
	bool		skipped;	/* held without its mutex */
};

void	mlock_init(struct mlock *lock, enum lock_rank rank);
void	mlock_lock_slow(struct mlock *lock);

/* Takes the lock if it is free: false, not taken. */
ALWAYS_INLINE bool
mlock_trylock(struct mlock *lock)
{
	if (MLOCK_SINGLE_THREADED() && !lock->always)
		lock->skipped = true;
	else if (pthread_mutex_trylock(&lock->mutex) != 0)
		return (false);
	lock->nlocks++;
	return (true);
}

/* A failed trylock counts as contention, then blocks (lock.c). */
ALWAYS_INLINE void
mlock_lock(struct mlock *lock)
{
	if (unlikely(!mlock_trylock(lock)))
		mlock_lock_slow(lock);
}

ALWAYS_INLINE void
mlock_unlock(struct mlock *lock)
{
	if (lock->skipped)
		lock->skipped = false;
	else
		pthread_mutex_unlock(&lock->mutex);
}

/* After fork, in the child: every lock the parent held is reset. */
ALWAYS_INLINE void
mlock_postfork_child(struct mlock *lock)
{
	pthread_mutex_init(&lock->mutex, NULL);
	lock->skipped = false;
}

#endif /* !MALLOC_LOCK_H */
