/*
 * Lock wrapper: a failed trylock counts as contention, then we block.
 * Spinning first would help only on more cores than this allocator's
 * critical sections are long; measure before adding it.
 */
#include "lock.h"

void
mlock_init(struct mlock *lock, enum lock_rank rank)
{
	pthread_mutex_init(&lock->mutex, NULL);
	lock->nlocks = 0;
	lock->ncontended = 0;
	lock->rank = rank;
	lock->always = false;
	lock->skipped = false;
}

void
mlock_lock_slow(struct mlock *lock)
{
	pthread_mutex_lock(&lock->mutex);
	lock->nlocks++;
	lock->ncontended++;
}
