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
/* After fork, the child restarts the threads its parent had (slow path). */
void	background_check(void);
/* An arena got pages to decay: wake its thread if it sleeps for good. */
void	background_wake(struct arena *arena);
/* Counters for stats.background_thread.*. */
void	background_stats(size_t *nthreads, uint64_t *nruns,
	    uint64_t *run_interval_ns);
void	background_prefork(void);
void	background_postfork_parent(void);
void	background_postfork_child(void);

#endif /* !MALLOC_BACKGROUND_H */
