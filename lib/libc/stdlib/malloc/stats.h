/*
 * Statistics: merging the counters arenas and threads keep into
 * snapshots (refreshed by the epoch mallctl), malloc_stats_print's text
 * and JSON, and the published summary page that mallstat(1) reads from
 * outside the process.
 */
#ifndef MALLOC_STATS_H
#define	MALLOC_STATS_H

#include "compat.h"

/* Called from allocation slow paths every few hundred events. */
void	stats_tick(void);

#endif /* !MALLOC_STATS_H */
