/*
 * Statistics: merging the counters that arenas and threads keep into
 * snapshots (refreshed by the epoch mallctl), and malloc_stats_print's
 * text and JSON output.
 */
#ifndef MALLOC_STATS_H
#define	MALLOC_STATS_H

#include "compat.h"

/* Process-wide totals, in bytes unless named n*. */
struct stats_summary {
	uint64_t	allocated;
	uint64_t	active;
	uint64_t	metadata;
	uint64_t	resident;
	uint64_t	mapped;
	uint64_t	retained;
	uint64_t	dirty;
	uint64_t	muzzy;
	uint64_t	nmalloc;	/* small + large, arena level */
	uint64_t	ndalloc;
	uint64_t	npurged;	/* pages purged, dirty + muzzy */
	uint64_t	nmadvise;
};

/* Sums every arena's counters now (takes each arena's locks briefly). */
void	stats_summary_read(struct stats_summary *out);

#endif /* !MALLOC_STATS_H */
