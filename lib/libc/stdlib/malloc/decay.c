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
decay_init(struct decay *d, ssize_t decay_ms, uint64_t now_ns)
{
	if (h_steps[DECAY_NSTEPS - 1] == 0)
		decay_boot_table();
	memset(d, 0, sizeof(*d));
	d->decay_ms = decay_ms;
	d->epoch_ns = now_ns;
	if (decay_ms > 0)
		d->interval_ns = (uint64_t)decay_ms * 1000000 / DECAY_NSTEPS;
	if (d->interval_ns == 0)
		d->interval_ns = 1;
}

/* The pages the backlog lets stay: only changes when an epoch ends. */
static size_t
backlog_sum(const struct decay *d)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < DECAY_NSTEPS; i++)
		sum += (uint64_t)d->backlog[i] * h_steps[i];
	return ((size_t)(sum >> DECAY_BFP));
}

static size_t
growth(const struct decay *d, size_t npages)
{
	return (npages > d->nunpurged ? npages - d->nunpurged : 0);
}

void
decay_note(struct decay *d, uint64_t now_ns, size_t npages)
{
	uint64_t nadvance;

	d->npages_seen = npages;
	if (d->decay_ms <= 0 || now_ns < d->epoch_ns + d->interval_ns)
		return;
	nadvance = (now_ns - d->epoch_ns) / d->interval_ns;
	d->epoch_ns += nadvance * d->interval_ns;
	if (nadvance >= DECAY_NSTEPS) {
		/* The closed epoch is older than the window: weight 0. */
		memset(d->backlog, 0, sizeof(d->backlog));
	} else {
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
