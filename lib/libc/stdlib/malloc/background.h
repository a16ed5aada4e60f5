/*
 * Background threads (background_thread:true): purge arenas' decayed pages
 * while the process does not allocate.  Each thread serves the arenas
 * whose index is its own modulo the thread count, sleeps until the
 * earliest time decay has work, and sleeps without a timeout while there
 * is nothing to purge, so an idle process is not woken needlessly.
 */
#ifndef MALLOC_BACKGROUND_H
#define	MALLOC_BACKGROUND_H

#include "compat.h"

struct arena;

/* Starts or stops the threads (background_thread mallctl, boot). */
bool	background_set(bool enable);
bool	background_enabled(void);

/*
 * Whether threads are wanted (atomic).  The tests that every process makes
 * (slow-path ticks, pages entering a cache) read it inline, so that a
 * process without background threads runs no code of background.c: its
 * text is linked with the cold modules, in a block of 64 KiB of our text
 * that such a process then never faults in (Makefile.inc).
 */
extern HIDDEN bool	bg_enabled;
void	background_check_slow(void);
void	background_wake_slow(struct arena *arena);

/* After fork, the child restarts the threads its parent had (slow path). */
static inline void
background_check(void)
{
	if (unlikely(__atomic_load_n(&bg_enabled, __ATOMIC_RELAXED)))
		background_check_slow();
}

/* An arena got pages to decay: wake its thread if it sleeps for good. */
static inline void
background_wake(struct arena *arena)
{
	if (unlikely(__atomic_load_n(&bg_enabled, __ATOMIC_RELAXED)))
		background_wake_slow(arena);
}
/* Counters for stats.background_thread.*. */
void	background_stats(size_t *nthreads, uint64_t *nruns,
	    uint64_t *run_interval_ns);
void	background_prefork(void);
void	background_postfork_parent(void);
void	background_postfork_child(void);

#endif /* !MALLOC_BACKGROUND_H */
