/*
 * The published summary page (layout and protocol in statpage.h): every
 * STATPAGE_REFRESH_MS at most, one thread's slow path copies the
 * process-wide summary into a shared page that mallstat -p reads from
 * outside, and answers any request a reader left there.
 *
 * Cost: statpage_tick reads a coarse clock (the vDSO, no system call) and
 * compares; only a due refresh does more (a getpid(), statpage_totals_read's
 * brief arena locks, ~200 bytes of stores), ten times a second at most.
 * The page is created on the first refresh: memfd_create, ftruncate,
 * mmap, close; nothing is allocated through malloc and no stdio is used.
 *
 * Invariants: one refresher at a time (statpage_busy, taken with a
 * compare-and-swap; a thread that loses skips its turn).  The page
 * belongs to the process whose pid it holds: it is mapped MADV_DONTFORK,
 * so a child of fork() does not inherit it, and the first refresh in the
 * child (pid differs) forgets the parent's address and creates its own.
 * Nothing touches the page before that check.
 *
 * With stats_publish:false, or where memfd_create is missing or refused
 * (another kernel, a seccomp filter), nothing is published and the tick
 * costs one load and a branch.
 */
#ifdef __linux__
#define	_GNU_SOURCE		/* memfd_create, MFD_CLOEXEC */
#endif
#include <sys/mman.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "base.h"
#include "conf.h"
#include "lock.h"
#include "prof.h"
#include "statpage.h"

#ifdef __linux__
#define	STATPAGE_CLOCK	CLOCK_MONOTONIC_COARSE
#elif defined(CLOCK_MONOTONIC_FAST)
#define	STATPAGE_CLOCK	CLOCK_MONOTONIC_FAST
#else
#define	STATPAGE_CLOCK	CLOCK_MONOTONIC
#endif

#define	STATPAGE_MAPSIZE	PAGE_CEIL(sizeof(struct statpage))

static struct statpage	*statpage;	/* NULL until created */
static pid_t		 statpage_pid;	/* who created it */
static uint64_t		 statpage_next_ns; /* next refresh due */
static bool		 statpage_busy;
static bool		 statpage_failed; /* do not retry creating it */
static uint32_t		 statpage_last_tag; /* last request answered */

/*
 * Sums every arena's counters now (takes each arena's locks briefly).
 * Here, not in stats.c with the snapshots: every process with slow paths
 * runs it, and stats.c is cold code, which such a process then never runs
 * (lib/libmalloc/text.hot, Makefile.inc).
 */
static void
statpage_totals_read(struct statpage_totals *out)
{
	struct arena *arena;
	struct bin *bin;
	size_t base_allocated, base_resident, base_mapped;
	uint64_t pactive = 0, pdirty = 0, ntake, nput;
	size_t large;
	unsigned i, j, n;

	memset(out, 0, sizeof(*out));
	n = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);
	for (i = 0; i < n && i < ARENAS_MAX; i++) {
		arena = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
		if (arena == NULL)
			continue;
		for (j = 0; j < SC_NBINS; j++) {
			bin = &arena->bins[j];
			mlock_lock(&bin->lock);
			out->allocated += (uint64_t)bin->stats.curregs *
			    bin_infos[j].reg_size;
			pactive += (uint64_t)bin->stats.curslabs *
			    bin_infos[j].slab_npages;
			out->nmalloc += bin->stats.nmalloc;
			out->ndalloc += bin->stats.ndalloc;
			mlock_unlock(&bin->lock);
		}
		mlock_lock(&arena->extent_lock);
		arena_sample_moves(arena, &ntake, &nput);
		large = arena_large_allocated(arena, ntake, nput);
		out->allocated += large;
		pactive += large >> LG_PAGE;
		pdirty += arena->dirty.npages;
		out->muzzy += (uint64_t)arena->muzzy.npages << LG_PAGE;
		out->retained += (uint64_t)arena->retained.npages << LG_PAGE;
		out->nmalloc += arena->nmalloc_large + ntake;
		out->ndalloc += arena->ndalloc_large + nput;
		out->npurged += arena->decay_dirty.purged +
		    arena->decay_muzzy.purged;
		out->nmadvise += arena->decay_dirty.nmadvise +
		    arena->decay_muzzy.nmadvise;
		mlock_unlock(&arena->extent_lock);
	}
	base_stats(&base_allocated, &base_resident, &base_mapped);
	out->active = pactive << LG_PAGE;
	out->dirty = pdirty << LG_PAGE;
	out->metadata = base_allocated;
	out->resident = out->active + out->dirty + base_resident;
	out->mapped = out->active + out->dirty + out->muzzy + base_mapped;
}

static uint64_t
statpage_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(STATPAGE_CLOCK, &ts) != 0)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Maps a new page for this process; NULL where that is not possible. */
static struct statpage *
statpage_create(void)
{
#ifdef __linux__
	struct statpage *sp;
	void *p;
	int fd, saved = errno;

	fd = memfd_create(STATPAGE_NAME, MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (ftruncate(fd, (off_t)STATPAGE_MAPSIZE) != 0) {
		close(fd);
		goto fail;
	}
	p = mmap(NULL, STATPAGE_MAPSIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	/* The mapping keeps the memfd alive; the process keeps no fd. */
	close(fd);
	if (p == MAP_FAILED)
		goto fail;
	(void)madvise(p, STATPAGE_MAPSIZE, MADV_DONTFORK);
	sp = p;
	sp->size = sizeof(*sp);
	sp->version = STATPAGE_VERSION;
	sp->pid = (uint32_t)getpid();
	/* Readers accept the page once magic is there. */
	__atomic_store_n(&sp->magic, STATPAGE_MAGIC, __ATOMIC_RELEASE);
	errno = saved;
	return (sp);
fail:
	errno = saved;
	return (NULL);
#else
	/* FreeBSD: a SHM_ANON object could serve; not done yet. */
	return (NULL);
#endif
}

/*
 * The hook for out-of-process requests.  Writes the answer's text into
 * text and returns the status.  The heap profiler answers
 * STATPAGE_REQ_PROF_DUMP (dumps, and puts the file name in text, or says
 * that profiling is not enabled).
 */
static uint32_t
statpage_handle_request(uint32_t code, char *text, size_t textsize)
{
	const char *msg;
	uint32_t status;

	switch (code) {
	case STATPAGE_REQ_PROF_DUMP:
		return (prof_statpage_dump(text, textsize));
	default:
		msg = "unknown request";
		status = STATPAGE_RESP_EINVAL;
		break;
	}
	strncpy(text, msg, textsize - 1);
	text[textsize - 1] = '\0';
	return (status);
}

static void
statpage_answer(struct statpage *sp)
{
	uint64_t req = __atomic_load_n(&sp->request, __ATOMIC_ACQUIRE);
	uint32_t tag = STATPAGE_REQ_TAG(req), status;

	if (tag == 0 || tag == statpage_last_tag)
		return;
	statpage_last_tag = tag;
	status = statpage_handle_request(STATPAGE_REQ_CODE(req),
	    sp->response_text, sizeof(sp->response_text));
	/* The text is complete before the reader can see the tag. */
	__atomic_store_n(&sp->response, (uint64_t)tag << 32 | status,
	    __ATOMIC_RELEASE);
}

static void
statpage_publish(struct statpage *sp, uint64_t now_ns)
{
	struct statpage_totals s;
	uint64_t seq;

	statpage_totals_read(&s);
	seq = __atomic_load_n(&sp->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sp->time_ns = now_ns;
	sp->nrefresh++;
	sp->totals = s;
	__atomic_store_n(&sp->seq, seq + 2, __ATOMIC_RELEASE);
}

static NOINLINE void
statpage_refresh(uint64_t now_ns)
{
	pid_t pid;

	if (__atomic_exchange_n(&statpage_busy, true, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&statpage_next_ns,
	    now_ns + STATPAGE_REFRESH_MS * 1000000u, __ATOMIC_RELAXED);
	pid = getpid();
	if (statpage != NULL && pid != statpage_pid) {
		/* A child of fork(): the parent's page is not mapped here. */
		statpage = NULL;
		statpage_failed = false;
		statpage_last_tag = 0;
	}
	if (statpage == NULL && !statpage_failed) {
		statpage = statpage_create();
		statpage_pid = pid;
		statpage_failed = statpage == NULL;
	}
	if (statpage != NULL) {
		statpage_publish(statpage, now_ns);
		statpage_answer(statpage);
	}
	__atomic_store_n(&statpage_busy, false, __ATOMIC_RELEASE);
}

void
statpage_tick(void)
{
	uint64_t now_ns;

	if (!opt.stats_publish)
		return;
	now_ns = statpage_now_ns();
	if (now_ns < __atomic_load_n(&statpage_next_ns, __ATOMIC_RELAXED))
		return;
	statpage_refresh(now_ns);
}
