/*
 * Returning memory to the kernel: decay of dirty and muzzy pages, the
 * purge and decay mallctls, per-arena settings, retain, and background
 * threads (idle purging, fork, thread exit, run-time toggling).
 *
 * Expectations are on the resident set (/proc/self/statm) and on the
 * arena statistics.  Nothing here is a performance assertion: waits for a
 * behaviour are bounded generously (WAIT_S) so that a loaded 2-core
 * machine passes, and the checks that depend on timing (an intermediate
 * sample during a gradual decay) leave wide margins.
 *
 * Cases that need start-up options re-execute this program with
 * MALLOC_CONF and DECAY_TEST_HELPER set; the helper reports through the
 * report pipe of malloc_test_util.h and exits 0 on success.  The others
 * work on arenas from arenas.create, with MALLOCX_TCACHE_NONE, so that no
 * other arena's or cache's memory blurs the numbers.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"


#define	MIB		((size_t)1 << 20)
/* The heap the RSS cases free: HEAP_NBLOCKS blocks of BLOCK bytes. */
#define	BLOCK		MIB
#define	HEAP_NBLOCKS	256
#define	HEAP		(HEAP_NBLOCKS * BLOCK)
/* Resident memory the program may keep above its baseline once purged. */
#define	RSS_SLACK	(16 * MIB)
/* The bound on every wait for a behaviour. */
#define	WAIT_S		10

/* Helpers --------------------------------------------------------------- */

/*
 * Field idx of /proc/self/statm in bytes (0 size, 1 resident), read with
 * open/read: rss_bytes() goes through stdio, which allocates, and the idle
 * cases must not allocate (an allocation is a decay tick).
 */
static size_t
statm_bytes(int idx)
{
	char buf[256], *p, *end;
	unsigned long v = 0;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/statm", O_RDONLY);
	if (fd == -1)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	for (p = buf, i = 0; i <= idx; i++, p = end)
		v = strtoul(p, &end, 10);
	return ((size_t)v * (size_t)sysconf(_SC_PAGESIZE));
}

static size_t
rss_now(void)
{

	return (statm_bytes(1));
}

static size_t
vsz_now(void)
{

	return (statm_bytes(0));
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

static void
epoch_refresh(void)
{
	uint64_t epoch = 1;

	(void)mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch));
}

/* A size_t or uint64_t statistic by printf-style name; stats are fresh. */
static size_t
stat_size(const char *fmt, unsigned ind)
{
	char name[128];
	size_t v = 0, len = sizeof(v);

	snprintf(name, sizeof(name), fmt, ind);
	epoch_refresh();
	if (mallctl(name, &v, &len, NULL, 0) != 0)
		return ((size_t)-1);
	return (v);
}

static uint64_t
stat_u64(const char *fmt, unsigned ind)
{
	char name[128];
	uint64_t v = 0;
	size_t len = sizeof(v);

	snprintf(name, sizeof(name), fmt, ind);
	epoch_refresh();
	if (mallctl(name, &v, &len, NULL, 0) != 0)
		return (UINT64_MAX);
	return (v);
}

static int
arena_ctl_void(const char *what, unsigned ind)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.%s", ind, what);
	return (mallctl(name, NULL, NULL, NULL, 0));
}

static int
arena_set_decay(const char *which, unsigned ind, ssize_t ms)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.%s_decay_ms", ind, which);
	return (mallctl(name, NULL, NULL, &ms, sizeof(ms)));
}

static unsigned
thread_arena(void)
{
	unsigned ind = 0;
	size_t len = sizeof(ind);

	(void)mallctl("thread.arena", &ind, &len, NULL, 0);
	return (ind);
}

/* Allocates n touched blocks of BLOCK bytes with flags (mallocx). */
static bool
heap_fill(void **blocks, size_t n, int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		blocks[i] = flags == 0 ? malloc(BLOCK) : mallocx(BLOCK, flags);
		if (blocks[i] == NULL)
			return (false);
		memset(blocks[i], 0xa5, BLOCK);
	}
	return (true);
}

static void
heap_free(void **blocks, size_t n, int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (flags == 0)
			free(blocks[i]);
		else
			dallocx(blocks[i], flags);
		blocks[i] = NULL;
	}
}

/* One decay tick for the calling thread: a MiB allocated (malloc.c). */
static void
drive_tick(void)
{
	void *p;

	p = malloc(BLOCK);
	free(ptr_launder(p));
}

/* A created arena with the given decay settings (muzzy first: see below). */
static unsigned
arena_create_with(ssize_t dirty_ms, ssize_t muzzy_ms)
{
	unsigned ind;
	size_t len = sizeof(ind);

	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &ind, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, arena_set_decay("muzzy", ind, muzzy_ms));
	ATF_REQUIRE_EQ(0, arena_set_decay("dirty", ind, dirty_ms));
	return (ind);
}

static int
arena_flags(unsigned ind)
{

	return (MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
}

/* Does this kernel have MADV_FREE (muzzy pages)? */
static bool
madv_free_works(void)
{
	void *p;
	bool ok;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON,
	    -1, 0);
	if (p == MAP_FAILED)
		return (false);
	ok = madvise(p, 4096, MADV_FREE) == 0;
	munmap(p, 4096);
	return (ok);
}

/* Re-executed helpers ---------------------------------------------------- */

/* In a helper: report a failed expectation and exit 1. */
#define	HCHECK(cond, ...) do {						\
	if (!(cond)) {							\
		char hmsg_[512];					\
		int hn_;						\
									\
		hn_ = snprintf(hmsg_, sizeof(hmsg_), "%s:%d: %s: ",	\
		    __func__, __LINE__, #cond);				\
		if (hn_ > 0 && (size_t)hn_ < sizeof(hmsg_))		\
			snprintf(hmsg_ + hn_, sizeof(hmsg_) - (size_t)hn_, \
			    __VA_ARGS__);				\
		child_report(hmsg_);					\
		child_report("\n");					\
		_exit(1);						\
	}								\
} while (0)

static void *heap[HEAP_NBLOCKS];

/*
 * Fills and frees the heap; returns the baseline RSS (before filling) and
 * checks that the heap was resident while live.
 */
static size_t
helper_fill_and_free(void)
{
	size_t base, peak;

	base = rss_now();
	HCHECK(heap_fill(heap, HEAP_NBLOCKS, 0), "malloc failed");
	peak = rss_now();
	HCHECK(peak >= base + HEAP - RSS_SLACK, "heap not resident: base %zu "
	    "peak %zu", base >> 20, peak >> 20);
	heap_free(heap, HEAP_NBLOCKS, 0);
	return (base);
}

/* dirty_decay_ms:0: RSS back near the baseline as soon as free returns. */
static int
helper_decay_zero(void)
{
	size_t base, after;
	unsigned a = thread_arena();

	base = helper_fill_and_free();
	after = rss_now();
	HCHECK(after <= base + RSS_SLACK, "base %zu MiB, after free %zu MiB",
	    base >> 20, after >> 20);
	HCHECK(stat_size("stats.arenas.%u.pdirty", a) == 0, "pdirty %zu",
	    stat_size("stats.arenas.%u.pdirty", a));
	HCHECK(stat_u64("stats.arenas.%u.dirty_purged", a) >= HEAP / 4096,
	    "dirty_purged %ju pages",
	    (uintmax_t)stat_u64("stats.arenas.%u.dirty_purged", a));
	return (0);
}

/*
 * A short decay (DECAY_SHORT_MS): right after free the heap is still
 * resident; while the thread keeps allocating a little, RSS falls back
 * within WAIT_S, passing through intermediate values (not all at once) in
 * several purges.
 */
#define	DECAY_SHORT_MS	1000

static int
helper_decay_short(void)
{
	size_t base, first, rss, lo, hi, nmid = 0;
	unsigned a = thread_arena();
	uint64_t npurge0, npurge;
	double start;

	base = helper_fill_and_free();
	npurge0 = stat_u64("stats.arenas.%u.dirty_npurge", a);
	first = rss_now();
	HCHECK(first >= base + HEAP / 2, "fell at once: base %zu MiB, right "
	    "after free %zu MiB", base >> 20, first >> 20);
	lo = base + HEAP / 10;
	hi = base + HEAP * 9 / 10;
	start = now_s();
	do {
		sleep_ms(10);
		drive_tick();
		rss = rss_now();
		if (rss > lo && rss < hi)
			nmid++;
	} while (rss > base + RSS_SLACK && now_s() - start < WAIT_S);
	npurge = stat_u64("stats.arenas.%u.dirty_npurge", a) - npurge0;
	HCHECK(rss <= base + RSS_SLACK, "after %d s: base %zu MiB, RSS %zu "
	    "MiB", WAIT_S, base >> 20, rss >> 20);
	HCHECK(nmid > 0 && npurge >= 3, "not gradual: %zu samples between "
	    "10%% and 90%% of the heap, %ju purges", nmid, (uintmax_t)npurge);
	return (0);
}

/*
 * background_thread:true and a sleeping process (no allocation, so no
 * tick): the background thread purges; RSS falls within WAIT_S.
 */
static int
helper_background_idle(void)
{
	size_t base, rss, nthreads;
	uint64_t nruns;
	double start;

	base = helper_fill_and_free();
	start = now_s();
	do {
		sleep_ms(100);
		rss = rss_now();
	} while (rss > base + RSS_SLACK && now_s() - start < WAIT_S);
	HCHECK(rss <= base + RSS_SLACK, "idle %d s with background threads: "
	    "base %zu MiB, RSS %zu MiB", WAIT_S, base >> 20, rss >> 20);
	nthreads = stat_size("stats.background_thread.num_threads", 0);
	nruns = stat_u64("stats.background_thread.num_runs", 0);
	HCHECK(nthreads > 0 && nruns > 0, "num_threads %zu num_runs %ju",
	    nthreads, (uintmax_t)nruns);
	return (0);
}

/*
 * The same without background threads: an idle process keeps its dirty
 * pages however long it sleeps (no tick), and gives them back once it
 * allocates again.  Together with helper_background_idle this shows that
 * the threads do the idle purging.
 */
#define	IDLE_MS		(3 * DECAY_SHORT_MS)

static int
helper_no_background_idle(void)
{
	size_t base, rss, nthreads;
	double start;

	base = helper_fill_and_free();
	sleep_ms(IDLE_MS);
	rss = rss_now();
	HCHECK(rss >= base + HEAP - RSS_SLACK, "purged while idle without "
	    "background threads: base %zu MiB, RSS %zu MiB", base >> 20,
	    rss >> 20);
	nthreads = stat_size("stats.background_thread.num_threads", 0);
	HCHECK(nthreads == 0, "num_threads %zu", nthreads);
	/* Decay is overdue: the next tick purges everything. */
	start = now_s();
	do {
		drive_tick();
		rss = rss_now();
	} while (rss > base + RSS_SLACK && now_s() - start < WAIT_S);
	HCHECK(rss <= base + RSS_SLACK, "ticks did not purge: base %zu MiB, "
	    "RSS %zu MiB", base >> 20, rss >> 20);
	return (0);
}

/*
 * retain:false: purged extents are unmapped; the address space shrinks
 * back and nothing is retained.  retain:true: purged extents stay mapped
 * as retained (zeroed, not resident).
 */
static int
helper_retain(bool retain)
{
	size_t vsz0, vsz_peak, vsz, rss, base, mapped_peak, mapped, retained;
	unsigned a = thread_arena();

	vsz0 = vsz_now();
	base = rss_now();
	HCHECK(heap_fill(heap, HEAP_NBLOCKS, 0), "malloc failed");
	vsz_peak = vsz_now();
	mapped_peak = stat_size("stats.mapped", 0);
	HCHECK(vsz_peak >= vsz0 + HEAP, "vsz %zu -> %zu MiB", vsz0 >> 20,
	    vsz_peak >> 20);
	HCHECK(mapped_peak >= HEAP, "stats.mapped %zu MiB", mapped_peak >> 20);
	heap_free(heap, HEAP_NBLOCKS, 0);
	vsz = vsz_now();
	rss = rss_now();
	mapped = stat_size("stats.mapped", 0);
	retained = stat_size("stats.arenas.%u.retained", a);
	HCHECK(rss <= base + RSS_SLACK, "RSS %zu -> %zu MiB", base >> 20,
	    rss >> 20);
	HCHECK(mapped + HEAP - RSS_SLACK <= mapped_peak, "stats.mapped %zu -> "
	    "%zu MiB", mapped_peak >> 20, mapped >> 20);
	HCHECK(stat_size("stats.retained", 0) >= retained, "stats.retained "
	    "%zu < arena's %zu", stat_size("stats.retained", 0), retained);
	if (retain) {
		HCHECK(retained >= HEAP, "retain:true: retained %zu MiB",
		    retained >> 20);
		HCHECK(vsz + RSS_SLACK >= vsz_peak, "retain:true: vsz %zu -> "
		    "%zu MiB", vsz_peak >> 20, vsz >> 20);
	} else {
		HCHECK(retained < RSS_SLACK, "retain:false: retained %zu MiB",
		    retained >> 20);
		HCHECK(vsz <= vsz0 + RSS_SLACK, "retain:false: vsz %zu -> %zu "
		    "-> %zu MiB", vsz0 >> 20, vsz_peak >> 20, vsz >> 20);
	}
	return (0);
}

static int
helper_retain_true(void)
{

	return (helper_retain(true));
}

static int
helper_retain_false(void)
{

	return (helper_retain(false));
}

/* Allocates, frees and purges 64 MiB in a forked child; checks bg threads. */
static void
fork_child_work(void)
{
	void *blocks[64];
	size_t base, rss, nthreads;

	base = rss_now();
	if (!heap_fill(blocks, 64, 0))
		_exit(2);
	heap_free(blocks, 64, 0);
	if (arena_ctl_void("purge", MALLCTL_ARENAS_ALL) != 0)
		_exit(3);
	rss = rss_now();
	if (rss > base + RSS_SLACK)
		_exit(4);
	/* Its allocations ticked: the threads the parent had are back. */
	nthreads = stat_size("stats.background_thread.num_threads", 0);
	if (nthreads == 0)
		_exit(5);
	_exit(0);
}

/* Keeps the background thread busy: dirty pages decaying all the time. */
static void *
fork_churn(void *arg)
{
	volatile bool *stop = arg;
	void *blocks[8];

	while (!*stop) {
		if (!heap_fill(blocks, 8, 0))
			return (NULL);
		heap_free(blocks, 8, 0);
		sleep_ms(1);
	}
	return (NULL);
}

#define	NFORKS	20

/*
 * fork while background threads purge (and another thread allocates): each
 * child allocates, frees, purges and exits 0; afterwards the parent's
 * threads still purge an idle process.
 */
static int
helper_fork(void)
{
	volatile bool stop = false;
	pthread_t churn;
	size_t base, rss;
	uint64_t nruns0;
	double start;
	pid_t pid;
	int i, status;

	HCHECK(pthread_create(&churn, NULL, fork_churn, (void *)&stop) == 0,
	    "pthread_create");
	for (i = 0; i < NFORKS; i++) {
		sleep_ms(20);
		pid = fork();
		HCHECK(pid != -1, "fork: %s", strerror(errno));
		if (pid == 0)
			fork_child_work();
		HCHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		HCHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "fork %d: child wait status 0x%x", i, status);
	}
	stop = true;
	pthread_join(churn, NULL);
	nruns0 = stat_u64("stats.background_thread.num_runs", 0);
	base = helper_fill_and_free();
	start = now_s();
	do {
		sleep_ms(100);
		rss = rss_now();
	} while (rss > base + RSS_SLACK && now_s() - start < WAIT_S);
	HCHECK(rss <= base + RSS_SLACK, "after the forks, idle %d s: base %zu "
	    "MiB, RSS %zu MiB", WAIT_S, base >> 20, rss >> 20);
	HCHECK(stat_u64("stats.background_thread.num_runs", 0) > nruns0,
	    "background threads did not run after the forks");
	return (0);
}

#define	NTHREADS_SHORT	2000
#define	NTHREADS_AT_ONCE 4

/* A short-lived thread: small and large blocks, freed, then exit. */
static void *
short_thread(void *arg)
{
	void *small[64], *large;
	unsigned i;

	(void)arg;
	for (i = 0; i < 64; i++)
		small[i] = malloc(16 + 16 * i);
	large = malloc(256 << 10);
	if (large != NULL)
		memset(large, 1, 256 << 10);
	for (i = 0; i < 64; i++)
		free(small[i]);
	free(large);
	return (NULL);
}

/*
 * NTHREADS_SHORT threads come and go with background threads on: no hang
 * (the alarm of child_run), and their caches do not pile up in RSS.
 */
static int
helper_thread_exit(void)
{
	pthread_t t[NTHREADS_AT_ONCE];
	size_t base, rss, nthreads;
	unsigned i, j;

	drive_tick();
	base = rss_now();
	for (i = 0; i < NTHREADS_SHORT; i += NTHREADS_AT_ONCE) {
		for (j = 0; j < NTHREADS_AT_ONCE; j++)
			HCHECK(pthread_create(&t[j], NULL, short_thread,
			    NULL) == 0, "pthread_create %u", i + j);
		for (j = 0; j < NTHREADS_AT_ONCE; j++)
			pthread_join(t[j], NULL);
	}
	rss = rss_now();
	HCHECK(rss <= base + 4 * RSS_SLACK, "after %d threads: RSS %zu -> %zu "
	    "MiB", NTHREADS_SHORT, base >> 20, rss >> 20);
	nthreads = stat_size("stats.background_thread.num_threads", 0);
	HCHECK(nthreads > 0, "background threads gone");
	return (0);
}

static const struct test_helper helpers[] = {
	{ "decay_zero",		helper_decay_zero },
	{ "decay_short",	helper_decay_short },
	{ "background_idle",	helper_background_idle },
	{ "no_background_idle",	helper_no_background_idle },
	{ "retain_true",	helper_retain_true },
	{ "retain_false",	helper_retain_false },
	{ "fork",		helper_fork },
	{ "thread_exit",	helper_thread_exit },
};

/* In the re-executed program: run the helper named in the environment. */
__attribute__((constructor))
static void
helper_dispatch(void)
{
	helper_dispatch_from(helpers, sizeof(helpers) / sizeof(helpers[0]));
}

/* Cases ------------------------------------------------------------------ */

ATF_TC_WITHOUT_HEAD(decay_zero_returns_freed_heap_at_once);
ATF_TC_BODY(decay_zero_returns_freed_heap_at_once, tc)
{

	require_helper_ok("dirty_decay_ms:0", "decay_zero");
}

ATF_TC_WITHOUT_HEAD(short_decay_returns_freed_heap_gradually);
ATF_TC_BODY(short_decay_returns_freed_heap_gradually, tc)
{

	require_helper_ok("dirty_decay_ms:1000,muzzy_decay_ms:0",
	    "decay_short");
}

ATF_TC_WITHOUT_HEAD(background_thread_purges_idle_process);
ATF_TC_BODY(background_thread_purges_idle_process, tc)
{

	require_helper_ok("background_thread:true,dirty_decay_ms:1000,"
	    "muzzy_decay_ms:0", "background_idle");
}

ATF_TC_WITHOUT_HEAD(idle_process_keeps_dirty_without_background_thread);
ATF_TC_BODY(idle_process_keeps_dirty_without_background_thread, tc)
{

	require_helper_ok("background_thread:false,dirty_decay_ms:1000,"
	    "muzzy_decay_ms:0", "no_background_idle");
}

ATF_TC_WITHOUT_HEAD(retain_false_unmaps_purged_memory);
ATF_TC_BODY(retain_false_unmaps_purged_memory, tc)
{

	require_helper_ok("retain:false,dirty_decay_ms:0,muzzy_decay_ms:0",
	    "retain_false");
}

ATF_TC_WITHOUT_HEAD(retain_true_keeps_purged_memory_retained);
ATF_TC_BODY(retain_true_keeps_purged_memory_retained, tc)
{

	require_helper_ok("retain:true,dirty_decay_ms:0,muzzy_decay_ms:0",
	    "retain_true");
}

ATF_TC_WITHOUT_HEAD(fork_while_background_thread_runs);
ATF_TC_BODY(fork_while_background_thread_runs, tc)
{

	require_helper_ok("background_thread:true,dirty_decay_ms:100,"
	    "muzzy_decay_ms:0", "fork");
}

ATF_TC_WITHOUT_HEAD(many_thread_exits_with_background_threads);
ATF_TC_BODY(many_thread_exits_with_background_threads, tc)
{

	require_helper_ok("background_thread:true", "thread_exit");
}

#define	ARENA_NBLOCKS	64

/*
 * arena.<i>.purge empties the dirty cache whatever the decay setting (here
 * -1, keep everything) and counts the purge; RSS drops with it.
 */
ATF_TC_WITHOUT_HEAD(arena_purge_empties_dirty_pages);
ATF_TC_BODY(arena_purge_empties_dirty_pages, tc)
{
	void *blocks[ARENA_NBLOCKS];
	unsigned a;
	size_t rss0, rss1, pdirty;
	uint64_t npurge0, nmadvise0, purged0;

	a = arena_create_with(-1, 0);
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS, arena_flags(a)));
	heap_free(blocks, ARENA_NBLOCKS, arena_flags(a));
	pdirty = stat_size("stats.arenas.%u.pdirty", a);
	ATF_REQUIRE_MSG(pdirty >= ARENA_NBLOCKS * BLOCK / 4096,
	    "pdirty %zu", pdirty);
	npurge0 = stat_u64("stats.arenas.%u.dirty_npurge", a);
	nmadvise0 = stat_u64("stats.arenas.%u.dirty_nmadvise", a);
	purged0 = stat_u64("stats.arenas.%u.dirty_purged", a);
	rss0 = rss_now();
	ATF_REQUIRE_EQ(0, arena_ctl_void("purge", a));
	rss1 = rss_now();
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK(stat_u64("stats.arenas.%u.dirty_npurge", a) >= npurge0 + 1);
	ATF_CHECK(stat_u64("stats.arenas.%u.dirty_nmadvise", a) >=
	    nmadvise0 + 1);
	ATF_CHECK_EQ(purged0 + pdirty,
	    stat_u64("stats.arenas.%u.dirty_purged", a));
	ATF_CHECK_MSG(rss1 + ARENA_NBLOCKS * BLOCK - RSS_SLACK <= rss0,
	    "RSS %zu -> %zu MiB", rss0 >> 20, rss1 >> 20);
}

/*
 * arena.<i>.decay purges only what decay allows: nothing under -1, and
 * everything once the pages are older than the arena's decay time (no
 * tick reached this arena meanwhile: the test thread's ticks go to its
 * own arena).
 */
ATF_TC_WITHOUT_HEAD(arena_decay_purges_only_decayed_pages);
ATF_TC_BODY(arena_decay_purges_only_decayed_pages, tc)
{
	void *blocks[ARENA_NBLOCKS];
	unsigned a;
	size_t pdirty;
	uint64_t npurge0;

	a = arena_create_with(-1, 0);
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS, arena_flags(a)));
	heap_free(blocks, ARENA_NBLOCKS, arena_flags(a));
	pdirty = stat_size("stats.arenas.%u.pdirty", a);
	ATF_REQUIRE(pdirty >= ARENA_NBLOCKS * BLOCK / 4096);
	npurge0 = stat_u64("stats.arenas.%u.dirty_npurge", a);
	ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	ATF_CHECK_EQ(pdirty, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK_EQ(npurge0, stat_u64("stats.arenas.%u.dirty_npurge", a));

	/* Setting the decay time starts its window now: pages stay. */
	ATF_REQUIRE_EQ(0, arena_set_decay("dirty", a, 500));
	ATF_CHECK_MSG(stat_size("stats.arenas.%u.pdirty", a) >= pdirty / 2,
	    "pdirty %zu of %zu right after setting 500 ms",
	    stat_size("stats.arenas.%u.pdirty", a), pdirty);
	sleep_ms(1500);
	ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK(stat_u64("stats.arenas.%u.dirty_npurge", a) > npurge0);
}

/* arena.<MALLCTL_ARENAS_ALL>.purge and .decay reach every arena. */
ATF_TC_WITHOUT_HEAD(arenas_all_purge_and_decay_reach_every_arena);
ATF_TC_BODY(arenas_all_purge_and_decay_reach_every_arena, tc)
{
	void *blocks[2][ARENA_NBLOCKS / 2];
	size_t mib[3], miblen = 3;
	unsigned a[2];
	int i;

	for (i = 0; i < 2; i++) {
		a[i] = arena_create_with(-1, 0);
		ATF_REQUIRE(heap_fill(blocks[i], ARENA_NBLOCKS / 2,
		    arena_flags(a[i])));
		heap_free(blocks[i], ARENA_NBLOCKS / 2, arena_flags(a[i]));
		ATF_REQUIRE(stat_size("stats.arenas.%u.pdirty", a[i]) > 0);
	}
	/* decay under -1 keeps everything, in every arena. */
	ATF_REQUIRE_EQ(0, arena_ctl_void("decay", MALLCTL_ARENAS_ALL));
	for (i = 0; i < 2; i++)
		ATF_CHECK(stat_size("stats.arenas.%u.pdirty", a[i]) > 0);
	/* Through a MIB, as jemalloc's documentation shows it. */
	ATF_REQUIRE_EQ(0, mallctlnametomib("arena.0.purge", mib, &miblen));
	mib[1] = MALLCTL_ARENAS_ALL;
	ATF_REQUIRE_EQ(0, mallctlbymib(mib, miblen, NULL, NULL, NULL, 0));
	for (i = 0; i < 2; i++)
		ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a[i]));
}

/*
 * Two arenas, dirty_decay_ms 0 and -1: after the same frees one has no
 * dirty pages and the other keeps them all.  arenas.dirty_decay_ms is what
 * a new arena starts with.
 */
ATF_TC_WITHOUT_HEAD(per_arena_decay_settings_apply_to_their_arena);
ATF_TC_BODY(per_arena_decay_settings_apply_to_their_arena, tc)
{
	void *blocks[ARENA_NBLOCKS / 2];
	ssize_t ms, old;
	size_t len = sizeof(ms);
	unsigned zero, keep, fresh;
	char name[64];

	zero = arena_create_with(0, 0);
	keep = arena_create_with(-1, 0);
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS / 2, arena_flags(zero)));
	heap_free(blocks, ARENA_NBLOCKS / 2, arena_flags(zero));
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS / 2, arena_flags(keep)));
	heap_free(blocks, ARENA_NBLOCKS / 2, arena_flags(keep));
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", zero));
	ATF_CHECK(stat_size("stats.arenas.%u.pdirty", keep) >=
	    ARENA_NBLOCKS / 2 * BLOCK / 4096);
	ATF_CHECK((ssize_t)stat_size("stats.arenas.%u.dirty_decay_ms", zero)
	    == 0);
	ATF_CHECK((ssize_t)stat_size("stats.arenas.%u.dirty_decay_ms", keep)
	    == -1);

	/* The default for arenas created from now on. */
	ATF_REQUIRE_EQ(0, mallctl("arenas.dirty_decay_ms", &old, &len, NULL,
	    0));
	ms = 0;
	ATF_REQUIRE_EQ(0, mallctl("arenas.dirty_decay_ms", NULL, NULL, &ms,
	    sizeof(ms)));
	len = sizeof(fresh);
	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &fresh, &len, NULL, 0));
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", fresh);
	len = sizeof(ms);
	ms = 12345;
	ATF_REQUIRE_EQ(0, mallctl(name, &ms, &len, NULL, 0));
	ATF_CHECK_EQ(0, ms);
	ATF_REQUIRE_EQ(0, mallctl("arenas.dirty_decay_ms", NULL, NULL, &old,
	    sizeof(old)));
}

/*
 * Pages freed a moment ago stay cached under a long decay however many
 * decay passes run meanwhile: here each 1 MiB freed into an arena with
 * a 10 s decay is followed by a pass (arena.<i>.decay), and after 64 of
 * them, well within the first second, smoothstep keeps over 99% of them.
 */
ATF_TC_WITHOUT_HEAD(decay_keeps_pages_freed_between_ticks);
ATF_TC_BODY(decay_keeps_pages_freed_between_ticks, tc)
{
	void *blocks[ARENA_NBLOCKS];
	unsigned a, i;
	size_t pdirty;
	double start;

	a = arena_create_with(10000, 0);
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS, arena_flags(a)));
	start = now_s();
	for (i = 0; i < ARENA_NBLOCKS; i++) {
		dallocx(blocks[i], arena_flags(a));
		ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	}
	pdirty = stat_size("stats.arenas.%u.pdirty", a);
	if (now_s() - start > 1.0)
		atf_tc_skip("machine too slow: the frees took %.1f s",
		    now_s() - start);
	ATF_CHECK_MSG(pdirty >= ARENA_NBLOCKS * BLOCK / 4096 * 9 / 10,
	    "pdirty %zu of %zu pages freed", pdirty,
	    ARENA_NBLOCKS * BLOCK / 4096);
}

/*
 * Pages freed, reused and freed again count once, at their last free: a
 * heap reused ten times over 200 ms, with a decay pass seeing it cached
 * each time, and then left alone for half the decay time is about half
 * purged by a decay pass, as if it had been freed once.  (Counting every
 * free, the backlog would hold eleven heaps and keep the whole one until
 * late in the decay time.)
 */
#define	REUSE_DECAY_MS	1000
#define	REUSE_ROUNDS	10

ATF_TC_WITHOUT_HEAD(decay_counts_reused_pages_once);
ATF_TC_BODY(decay_counts_reused_pages_once, tc)
{
	void *blocks[ARENA_NBLOCKS];
	size_t pdirty, heap_pages = ARENA_NBLOCKS * BLOCK / 4096;
	unsigned a, r;

	a = arena_create_with(REUSE_DECAY_MS, 0);
	for (r = 0; r <= REUSE_ROUNDS; r++) {
		ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS, arena_flags(a)));
		heap_free(blocks, ARENA_NBLOCKS, arena_flags(a));
		/*
		 * A few decay epochs (REUSE_DECAY_MS / 200 each) later, a
		 * pass that purges nothing yet sees the heap cached.
		 */
		sleep_ms(20);
		ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	}
	ATF_REQUIRE(stat_size("stats.arenas.%u.pdirty", a) >= heap_pages);
	sleep_ms(REUSE_DECAY_MS / 2);
	ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	pdirty = stat_size("stats.arenas.%u.pdirty", a);
	ATF_CHECK_MSG(pdirty <= heap_pages * 3 / 4, "pdirty %zu of %zu pages "
	    "after half the decay time", pdirty, heap_pages);
}

/*
 * muzzy_decay_ms > 0 with MADV_FREE: dirty pages purged by decay become
 * muzzy first (pmuzzy > 0, nothing muzzy-purged yet), and muzzy decay
 * later purges them for good (muzzy_purged grows, pmuzzy 0).
 */
ATF_TC_WITHOUT_HEAD(muzzy_decay_passes_pages_through_muzzy);
ATF_TC_BODY(muzzy_decay_passes_pages_through_muzzy, tc)
{
	void *blocks[ARENA_NBLOCKS];
	unsigned a;
	size_t pmuzzy, rss0, rss1;

	if (!madv_free_works())
		atf_tc_skip("madvise(MADV_FREE) unsupported here");
	/*
	 * Freed under -1, then dirty_decay_ms 0 moves every dirty page in
	 * one decay pass (see decay_keeps_pages_freed_between_ticks for why
	 * not one pass per free).
	 */
	a = arena_create_with(-1, 500);
	ATF_REQUIRE(heap_fill(blocks, ARENA_NBLOCKS, arena_flags(a)));
	heap_free(blocks, ARENA_NBLOCKS, arena_flags(a));
	ATF_REQUIRE_EQ(0, arena_set_decay("dirty", a, 0));
	pmuzzy = stat_size("stats.arenas.%u.pmuzzy", a);
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK_MSG(pmuzzy >= ARENA_NBLOCKS * BLOCK / 4096,
	    "pmuzzy %zu", pmuzzy);
	ATF_CHECK_EQ(0, stat_u64("stats.arenas.%u.muzzy_purged", a));
	ATF_CHECK(stat_u64("stats.arenas.%u.dirty_purged", a) >=
	    ARENA_NBLOCKS * BLOCK / 4096);
	rss0 = rss_now();
	sleep_ms(1500);
	ATF_REQUIRE_EQ(0, arena_ctl_void("decay", a));
	rss1 = rss_now();
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pmuzzy", a));
	ATF_CHECK(stat_u64("stats.arenas.%u.muzzy_npurge", a) >= 1);
	ATF_CHECK_EQ(pmuzzy, stat_u64("stats.arenas.%u.muzzy_purged", a));
	/* MADV_FREE left the pages resident (no memory pressure); now gone. */
	ATF_CHECK_MSG(rss1 + ARENA_NBLOCKS * BLOCK - RSS_SLACK <= rss0,
	    "RSS %zu -> %zu MiB", rss0 >> 20, rss1 >> 20);
}

/*
 * A freed block that is too small for the next request is not left aside
 * while the request faults in fresh pages: when it borders purged
 * (retained) address space, the request takes the freed block's pages and
 * only what is missing from its neighbour, on either side.  Set up in a
 * created arena that keeps dirty pages (-1): a purged 24 MiB run X is cut
 * into 8 MiB blocks, one is freed, and a 12 MiB request follows.
 */
#define	EXTEND_RUN	(24 * MIB)
#define	EXTEND_BLOCK	(8 * MIB)
#define	EXTEND_REQ	(12 * MIB)

/* Fills a fresh arena's purged run of EXTEND_RUN with blocks; X's address. */
static char *
extend_setup(unsigned a, char **blocks, unsigned n)
{
	char *x;
	unsigned i;

	x = mallocx(EXTEND_RUN, arena_flags(a));
	ATF_REQUIRE(x != NULL);
	memset(x, 1, EXTEND_RUN);
	dallocx(x, arena_flags(a));
	ATF_REQUIRE_EQ(0, arena_ctl_void("purge", a));
	for (i = 0; i < n; i++) {
		blocks[i] = mallocx(EXTEND_BLOCK, arena_flags(a));
		ATF_REQUIRE(blocks[i] != NULL);
		memset(blocks[i], 2, EXTEND_BLOCK);
	}
	ATF_REQUIRE_EQ(x, blocks[0]);
	return (x);
}

/* Touches a new EXTEND_REQ block; returns it, *grown the RSS growth. */
static char *
extend_request(unsigned a, size_t *grown)
{
	size_t rss0;
	char *p;

	rss0 = rss_now();
	p = mallocx(EXTEND_REQ, arena_flags(a));
	ATF_REQUIRE(p != NULL);
	memset(p, 3, EXTEND_REQ);
	*grown = rss_now() - rss0;
	return (p);
}

ATF_TC_WITHOUT_HEAD(freed_block_grows_into_purged_space_after_it);
ATF_TC_BODY(freed_block_grows_into_purged_space_after_it, tc)
{
	char *blocks[1], *x, *p;
	size_t grown;
	unsigned a;

	a = arena_create_with(-1, 0);
	x = extend_setup(a, blocks, 1);
	/* blocks[0] = X[0, 8): dirty, with retained X[8, 24) after it. */
	dallocx(blocks[0], arena_flags(a));
	p = extend_request(a, &grown);
	ATF_CHECK_EQ(x, p);
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK_MSG(grown < EXTEND_BLOCK, "RSS grew by %zu KiB for a %zu "
	    "KiB request over %zu KiB of freed pages", grown >> 10,
	    EXTEND_REQ >> 10, EXTEND_BLOCK >> 10);
	dallocx(p, arena_flags(a));
}

ATF_TC_WITHOUT_HEAD(freed_block_grows_into_purged_space_before_it);
ATF_TC_BODY(freed_block_grows_into_purged_space_before_it, tc)
{
	char *blocks[3], *x, *p;
	size_t grown;
	unsigned a;

	a = arena_create_with(-1, 0);
	x = extend_setup(a, blocks, 3);
	/* X[0, 8) purged, X[8, 16) dirty, X[16, 24) still live. */
	dallocx(blocks[0], arena_flags(a));
	ATF_REQUIRE_EQ(0, arena_ctl_void("purge", a));
	dallocx(blocks[1], arena_flags(a));
	p = extend_request(a, &grown);
	ATF_CHECK_EQ(x + EXTEND_BLOCK - (EXTEND_REQ - EXTEND_BLOCK), p);
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK_MSG(grown < EXTEND_BLOCK, "RSS grew by %zu KiB for a %zu "
	    "KiB request over %zu KiB of freed pages", grown >> 10,
	    EXTEND_REQ >> 10, EXTEND_BLOCK >> 10);
	dallocx(p, arena_flags(a));
	dallocx(blocks[2], arena_flags(a));
}

/*
 * The same when the neighbour is a mapping made for the request: Linux
 * maps top down, so a fresh arena's next mapping usually lands just below
 * its first one, which here holds a freed 8 MiB block.  The 12 MiB request
 * then takes the freed block and only 4 MiB of the new mapping below it.
 * Where the kernel placed the mapping elsewhere there is nothing to check.
 */
ATF_TC_WITHOUT_HEAD(freed_block_grows_into_new_mapping_next_to_it);
ATF_TC_BODY(freed_block_grows_into_new_mapping_next_to_it, tc)
{
	char *x, *p;
	size_t grown;
	unsigned a;

	a = arena_create_with(-1, 0);
	x = mallocx(EXTEND_BLOCK, arena_flags(a));
	ATF_REQUIRE(x != NULL);
	memset(x, 1, EXTEND_BLOCK);
	dallocx(x, arena_flags(a));
	p = extend_request(a, &grown);
	/* Joined: p is x - 4 MiB; the mapping below x, not joined: x - 12. */
	if (p != x + EXTEND_BLOCK - EXTEND_REQ && p != x - EXTEND_REQ) {
		dallocx(p, arena_flags(a));
		atf_tc_skip("the new mapping is not next to the freed block");
	}
	ATF_CHECK_EQ(x + EXTEND_BLOCK - EXTEND_REQ, p);
	ATF_CHECK_EQ(0, stat_size("stats.arenas.%u.pdirty", a));
	ATF_CHECK_MSG(grown < EXTEND_BLOCK, "RSS grew by %zu KiB for a %zu "
	    "KiB request over %zu KiB of freed pages", grown >> 10,
	    EXTEND_REQ >> 10, EXTEND_BLOCK >> 10);
	dallocx(p, arena_flags(a));
}

/* The background_thread mallctl starts and stops the threads. */
ATF_TC_WITHOUT_HEAD(background_thread_mallctl_toggles_threads);
ATF_TC_BODY(background_thread_mallctl_toggles_threads, tc)
{
	bool on, old;
	size_t len = sizeof(old), max = 1;

	ATF_REQUIRE_EQ(0, mallctl("background_thread", &old, &len, NULL, 0));
	ATF_REQUIRE(!old);
	ATF_CHECK_EQ(0, stat_size("stats.background_thread.num_threads", 0));
	on = true;
	ATF_REQUIRE_EQ(0, mallctl("background_thread", &old, &len, &on,
	    sizeof(on)));
	ATF_CHECK(!old);
	ATF_CHECK(stat_size("stats.background_thread.num_threads", 0) > 0);
	ATF_REQUIRE_EQ(0, mallctl("max_background_threads", NULL, NULL, &max,
	    sizeof(max)));
	ATF_CHECK_EQ(1, stat_size("stats.background_thread.num_threads", 0));
	on = false;
	ATF_REQUIRE_EQ(0, mallctl("background_thread", &old, &len, &on,
	    sizeof(on)));
	ATF_CHECK(old);
	ATF_CHECK_EQ(0, stat_size("stats.background_thread.num_threads", 0));
	ATF_REQUIRE_EQ(0, mallctl("background_thread", &old, &len, NULL, 0));
	ATF_CHECK(!old);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, decay_zero_returns_freed_heap_at_once);
	ATF_TP_ADD_TC(tp, short_decay_returns_freed_heap_gradually);
	ATF_TP_ADD_TC(tp, background_thread_purges_idle_process);
	ATF_TP_ADD_TC(tp, idle_process_keeps_dirty_without_background_thread);
	ATF_TP_ADD_TC(tp, arena_purge_empties_dirty_pages);
	ATF_TP_ADD_TC(tp, arena_decay_purges_only_decayed_pages);
	ATF_TP_ADD_TC(tp, arenas_all_purge_and_decay_reach_every_arena);
	ATF_TP_ADD_TC(tp, per_arena_decay_settings_apply_to_their_arena);
	ATF_TP_ADD_TC(tp, retain_false_unmaps_purged_memory);
	ATF_TP_ADD_TC(tp, retain_true_keeps_purged_memory_retained);
	ATF_TP_ADD_TC(tp, decay_keeps_pages_freed_between_ticks);
	ATF_TP_ADD_TC(tp, decay_counts_reused_pages_once);
	ATF_TP_ADD_TC(tp, muzzy_decay_passes_pages_through_muzzy);
	ATF_TP_ADD_TC(tp, freed_block_grows_into_purged_space_after_it);
	ATF_TP_ADD_TC(tp, freed_block_grows_into_purged_space_before_it);
	ATF_TP_ADD_TC(tp, freed_block_grows_into_new_mapping_next_to_it);
	ATF_TP_ADD_TC(tp, fork_while_background_thread_runs);
	ATF_TP_ADD_TC(tp, many_thread_exits_with_background_threads);
	ATF_TP_ADD_TC(tp, background_thread_mallctl_toggles_threads);
	return (atf_no_error());
}
