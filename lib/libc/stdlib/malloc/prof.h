/*
 * The sampling heap profiler's interface to the allocator.
 *
 * Sampling is by bytes: a thread samples the allocation during which its
 * allocated byte count reaches prof_sample_at, then draws the next
 * distance from an exponential distribution with mean 2^lg_prof_sample.
 * The allocation paths see one compare (tsd->alloc_event_at, see tsd.h);
 * everything here runs on the slow path.
 *
 * A sampled allocation gets an extent of its own (small classes are
 * promoted to the smallest large class, as jemalloc does) whose
 * prof_tctx points to the sample's record; its free bypasses the thread
 * cache and calls prof_sample_free.
 */
#ifndef MALLOC_PROF_H
#define	MALLOC_PROF_H

#include "compat.h"

struct tsd;
struct prof_tctx;

/* After options are parsed, before any thread boots. */
void	prof_boot(void);
/* After initialisation completes (may allocate: atexit, dump setup). */
void	prof_boot_late(void);
/* A thread's profiling state at boot: prof_active, prof_sample_at. */
void	prof_tsd_init(struct tsd *tsd);
/*
 * Called when an allocation of usize takes tsd->allocated to or past
 * tsd->prof_sample_at.  Always moves tsd->prof_sample_at past the new
 * allocated count (and calls tsd_update_event), and returns the record to
 * attach (backtrace taken here), or NULL not to sample this one.
 */
struct prof_tctx *prof_sample_prepare(struct tsd *tsd, size_t usize);
/* The sampled allocation now lives at ptr. */
void	prof_sample_commit(struct prof_tctx *tctx, const void *ptr,
	    size_t usize);
/* A sampled allocation is being freed. */
void	prof_sample_free(struct prof_tctx *tctx, const void *ptr,
	    size_t usize);
void	prof_prefork(void);
void	prof_postfork_parent(void);
void	prof_postfork_child(void);

#endif /* !MALLOC_PROF_H */
