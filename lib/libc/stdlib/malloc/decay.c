/*
 * Smoothstep decay, in fixed point.  h[i] weighs the pages freed in epoch
 * i of the window (0 oldest): smoothstep((i + 1) / NSTEPS) scaled by
 * 2^DECAY_BFP, computed once.
 *
 * Accounting, as jemalloc's: nunpurged is the cache size when the current
 * epoch began (lowered by purges); the epoch's growth is the cache size
 * above it.  When epochs end, the growth is dated to the epoch that just
 * closed, so churn (pages taken for reuse and freed again) is not counted
 * twice, and pages freed just before a long idle spell are old when the
 * next pass comes.  Callers note the size before pages enter the cache, so
 * epochs advance at the moment of a free.
 *
 * Unlike jemalloc's, churn across epochs is not counted twice either: when
 * the cache falls below nunpurged, pages of earlier epochs were taken for
 * reuse; nunpurged follows the cache down (so their next free is growth of
 * the epoch it happens in) and, at the epoch's end, that many pages leave
 * the backlog, the oldest that were not purged first (the caches hand out
 * one of the oldest extents of a size class).  Without this, a workload that
 * keeps reusing its freed pages builds a backlog many times the cache, and
 * nothing is purged until most of it is older than decay_ms: rss-over-time
 * idled at its peak with background threads (50,000 backlog pages for
 * 28,000 cached).
 */
#include <string.h>

#include "decay.h"

#define	DECAY_BFP	24

static uint64_t	h_steps[DECAY_NSTEPS];

static void
decay_boot_table(void)
{
	unsigned i;
	double x;

	for (i = 0; i < DECAY_NSTEPS; i++) {
		x = (double)(i + 1) / DECAY_NSTEPS;
		h_steps[i] = (uint64_t)((3 * x * x - 2 * x * x * x) *
		    (double)((uint64_t)1 << DECAY_BFP));
	}
}

void
decay_reset(struct decay *d, ssize_t decay_ms, uint64_t now_ns)
{
	size_t *backlog = d->backlog;

	memset(d, 0, sizeof(*d));
	memset(backlog, 0, DECAY_NSTEPS * sizeof(*backlog));
	decay_init(d, backlog, decay_ms, now_ns);
}

void
decay_init(struct decay *d, size_t *backlog, ssize_t decay_ms,
    uint64_t now_ns)
{
	if (h_steps[DECAY_NSTEPS - 1] == 0)
		decay_boot_table();
	d->backlog = backlog;
	d->decay_ms = decay_ms;
	d->epoch_ns = now_ns;
	if (decay_ms > 0)
		d->interval_ns = (uint64_t)decay_ms * 1000000 / DECAY_NSTEPS;
	if (d->interval_ns == 0)
		d->interval_ns = 1;
}

/*
 * The pages the backlog lets stay: only changes when an epoch ends.  Also
 * bounds npurged by the backlog (purges may have taken pages of the epoch
 * that just ended, which were not in the backlog yet).
 */
static size_t
backlog_sum(struct decay *d)
{
	uint64_t sum = 0;
	size_t total = 0;
	unsigned i;

	for (i = 0; i < DECAY_NSTEPS; i++) {
		sum += (uint64_t)d->backlog[i] * h_steps[i];
		total += d->backlog[i];
	}
	if (d->npurged > total)
		d->npurged = total;
	return ((size_t)(sum >> DECAY_BFP));
}

static size_t
growth(const struct decay *d, size_t npages)
{
	return (npages > d->nunpurged ? npages - d->nunpurged : 0);
}

/* Takes the epoch's reused pages out of the backlog (see above). */
static void
backlog_forget_reused(struct decay *d)
{
	size_t skip = d->npurged, n;
	unsigned i;

	for (i = 0; i < DECAY_NSTEPS && d->nreused > 0; i++) {
		if (skip >= d->backlog[i]) {
			skip -= d->backlog[i];
			continue;
		}
		n = d->backlog[i] - skip;
		if (n > d->nreused)
			n = d->nreused;
		d->backlog[i] -= n;
		d->nreused -= n;
		skip = 0;
	}
	d->nreused = 0;
}

void
decay_note(struct decay *d, uint64_t now_ns, size_t npages)
{
	uint64_t nadvance;
	size_t ndropped = 0;
	unsigned i;

	d->npages_seen = npages;
	if (d->decay_ms <= 0)
		return;
	if (npages < d->nunpurged) {
		d->nreused += d->nunpurged - npages;
		d->nunpurged = npages;
	}
	if (d->epoch_ns == 0)
		d->epoch_ns = now_ns;
	if (now_ns < d->epoch_ns + d->interval_ns)
		return;
	nadvance = (now_ns - d->epoch_ns) / d->interval_ns;
	d->epoch_ns += nadvance * d->interval_ns;
	backlog_forget_reused(d);
	if (nadvance >= DECAY_NSTEPS) {
		/* The closed epoch is older than the window: weight 0. */
		memset(d->backlog, 0, DECAY_NSTEPS * sizeof(d->backlog[0]));
		d->npurged = 0;
	} else {
		for (i = 0; i < nadvance; i++)
			ndropped += d->backlog[i];
		d->npurged = d->npurged > ndropped ? d->npurged - ndropped : 0;
		memmove(d->backlog, d->backlog + nadvance,
		    (DECAY_NSTEPS - nadvance) * sizeof(d->backlog[0]));
		memset(d->backlog + DECAY_NSTEPS - nadvance, 0,
		    nadvance * sizeof(d->backlog[0]));
		d->backlog[DECAY_NSTEPS - nadvance] += growth(d, npages);
	}
	d->nunpurged = npages;
	d->backlog_limit = backlog_sum(d);
}

size_t
decay_limit(struct decay *d, uint64_t now_ns, size_t npages)
{
	if (d->decay_ms == 0)
		return (0);
	if (d->decay_ms < 0)
		return (SIZE_MAX);
	decay_note(d, now_ns, npages);
	/* What the current epoch added stays whole until it ends. */
	return (d->backlog_limit + growth(d, npages));
}

void
decay_purged(struct decay *d, size_t npages)
{
	size_t purged = d->npages_seen > npages ? d->npages_seen - npages : 0;

	/* Purges take the oldest pages: the current epoch's growth stays. */
	d->nunpurged = purged < d->nunpurged ? d->nunpurged - purged : 0;
	d->npurged += purged;
	d->npages_seen = npages;
}

uint64_t
decay_next_ns(const struct decay *d, size_t npages)
{
	if (npages == 0 || d->decay_ms < 0)
		return (UINT64_MAX);
	if (d->decay_ms == 0)
		return (0);
	return (d->epoch_ns + d->interval_ns);
}
