/*
 * The sampling heap profiler's interface to the allocator.
 *
 * Sampling is by bytes: a thread samples the allocation during which its
 * allocated byte count reaches prof_sample_at, then draws the next
 * distance from an exponential distribution with mean 2^lg_prof_sample.
 * The allocation paths see one subtraction (tsd->event_left, see tsd.h);
 * everything here runs on the slow path.
 *
 * A sampled allocation gets an extent of its own (small classes are
 * promoted to the smallest large class, as jemalloc does) whose
 * prof_tctx points to the sample's record; its free bypasses the thread
 * cache and calls prof_sample_free.
 */
#ifndef MALLOC_PROF_H
#define	MALLOC_PROF_H

#include <sys/types.h>

#include "compat.h"

struct tsd;
struct prof_tctx;

/* After options are parsed, before any thread boots. */
void	prof_boot(void);
/* After initialisation completes (may allocate: atexit, dump setup). */
void	prof_boot_late(void);
/* A thread's profiling state at boot: prof_active, prof_sample_at. */
void	prof_tsd_init(struct tsd *tsd);
/* At thread exit: gives back the record kept for the next sample. */
void	prof_thread_exit(void);
/*
 * Called when an allocation of usize takes tsd_allocated() to or past
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

/*
 * For mallctl (ctl.c): the prof.*, thread.prof.* and experimental.
 * prof_recent.* nodes.  Getters with a newval return the old value and set
 * the new one when newval is not NULL; the int ones return 0 or jemalloc's
 * errno for the node (ENOENT without opt.prof).
 */
bool	prof_ctl_active(const bool *newval);
bool	prof_ctl_gdump(const bool *newval);
bool	prof_ctl_thread_active_init(const bool *newval);
size_t	prof_ctl_lg_sample(void);
/* The stack walker in use, "fp" or "libgcc" (see opt.prof_unwind). */
const char *prof_ctl_unwind(void);
/* filename NULL: <prefix>.<pid>.<seq>.m<mseq>.heap. */
int	prof_ctl_dump(const char *filename);
int	prof_ctl_prefix(const char *prefix);
/* Forgets every count; lg_sample, if not NULL, becomes the sample rate. */
int	prof_ctl_reset(const size_t *lg_sample);
int	prof_ctl_thread_name(struct tsd *tsd, const char *name);
bool	prof_ctl_thread_active(struct tsd *tsd, const bool *newval);
ssize_t	prof_ctl_recent_alloc_max(const ssize_t *newval);
void	prof_recent_dump(void (*write_cb)(void *, const char *),
	    void *cbopaque);
/* statpage's STATPAGE_REQ_PROF_DUMP: dumps, answers a file name in text. */
uint32_t prof_statpage_dump(char *text, size_t textsize);

#endif /* !MALLOC_PROF_H */
