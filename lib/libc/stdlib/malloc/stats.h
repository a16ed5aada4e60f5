/*
 * Statistics: merging the counters that arenas and threads keep into
 * snapshots (refreshed by the epoch mallctl), and malloc_stats_print's
 * text and JSON output.
 */
#ifndef MALLOC_STATS_H
#define	MALLOC_STATS_H

#include <sys/types.h>

#include "arena.h"
#include "compat.h"
#include "sizeclass.h"

/*
 * Snapshots for mallctl's stats.* nodes, refreshed by the epoch mallctl
 * (stats_refresh, called with ctl's lock held; the snapshots are read under
 * that lock too).  Field types are jemalloc's for the matching node, so
 * that ctl copies them as they are.
 */

/* jemalloc's mutex counters; ours measure num_ops and num_wait only. */
struct mutex_snapshot {
	uint64_t	num_ops;		/* mlock.nlocks */
	uint64_t	num_wait;		/* mlock.ncontended */
	uint64_t	num_spin_acq;		/* 0: we do not spin */
	uint64_t	num_owner_switch;	/* 0: not measured */
	uint64_t	total_wait_time;	/* 0: not measured */
	uint64_t	max_wait_time;		/* 0: not measured */
	uint32_t	max_num_thds;		/* 0: not measured */
};

struct bin_snapshot {
	uint64_t	nmalloc;
	uint64_t	ndalloc;
	uint64_t	nrequests;
	size_t		curregs;
	uint64_t	nfills;
	uint64_t	nflushes;
	uint64_t	nslabs;
	uint64_t	nreslabs;
	size_t		curslabs;
	size_t		nonfull_slabs;
	struct mutex_snapshot mutex;
};

struct lextent_snapshot {
	uint64_t	nmalloc;
	uint64_t	ndalloc;
	uint64_t	nrequests;
	size_t		curlextents;
};

/* Free extents of one page-size class, by cache. */
struct extents_snapshot {
	size_t		ndirty, nmuzzy, nretained;
	size_t		dirty_bytes, muzzy_bytes, retained_bytes;
};

struct arena_snapshot {
	bool		valid;		/* the arena existed at the last epoch */
	unsigned	nthreads;
	uint64_t	seen_ns;	/* when statistics first saw the arena */
	uint64_t	uptime;		/* ns since seen_ns */
	ssize_t		dirty_decay_ms;
	ssize_t		muzzy_decay_ms;
	size_t		pactive, pdirty, pmuzzy;
	size_t		mapped, retained, base, internal, resident;
	size_t		superpage_mapped;	/* see arena.h */
	uint64_t	dirty_npurge, dirty_nmadvise, dirty_purged;
	uint64_t	muzzy_npurge, muzzy_nmadvise, muzzy_purged;
	size_t		small_allocated;
	uint64_t	small_nmalloc, small_ndalloc, small_nrequests;
	uint64_t	small_nfills, small_nflushes;
	size_t		large_allocated;
	uint64_t	large_nmalloc, large_ndalloc, large_nrequests;
	struct mutex_snapshot	extents_mutex;	/* the arena's extent_lock */
	struct bin_snapshot	bins[SC_NBINS];
	struct lextent_snapshot	lextents[SC_NLARGE];
	struct extents_snapshot	extents[PSZ_N];
};

struct stats_snapshot {
	uint64_t	epoch;
	size_t		allocated, active, metadata, metadata_thp;
	size_t		resident, mapped, retained;
	struct mutex_snapshot	ctl_mutex;
};

struct mlock;

extern struct stats_snapshot	stats_global;

/* Re-reads every arena into the snapshots; ctl is its lock's owner. */
void	stats_refresh(struct mlock *ctl_lock);
/* realloc(p, 0) calls (stats.zero_reallocs), counted by malloc.c. */
extern HIDDEN size_t	malloc_zero_reallocs;

/* Adds an arena about to be destroyed to MALLCTL_ARENAS_DESTROYED. */
void	stats_arena_destroyed(struct arena *arena);
/*
 * An arena's snapshot (MALLCTL_ARENAS_ALL: merged, MALLCTL_ARENAS_DESTROYED:
 * destroyed arenas), or NULL if none.
 */
struct arena_snapshot *stats_arena_snapshot(unsigned ind);
void	stats_mutex_read(struct mutex_snapshot *out, const struct mlock *lock);

#endif /* !MALLOC_STATS_H */
