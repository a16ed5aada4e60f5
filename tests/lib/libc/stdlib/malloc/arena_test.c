/*
 * Arenas and thread caches as a substrate: routing with MALLOCX_ARENA and
 * thread.arena, ownership (arenas.lookup), per-arena statistics, frees from
 * other threads, arena.<i>.reset while other arenas are busy, and explicit
 * thread caches (tcache.create/flush/destroy, MALLOCX_TCACHE,
 * MALLOCX_TCACHE_NONE, thread.tcache.enabled and thread.tcache.flush), and
 * which freed extent a large request reuses.
 *
 * Statistics are read after an epoch bump; the cases that count requests
 * use created arenas no other code touches, so the counts are exact.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"

#define	nitems(a)	(sizeof(a) / sizeof((a)[0]))

static unsigned
arena_of(void *p)
{
	unsigned ind;
	size_t sz = sizeof(ind);

	ATF_REQUIRE_EQ(mallctl("arenas.lookup", &ind, &sz, &p, sizeof(p)), 0);
	return (ind);
}

static void
arena_ctl(unsigned a, const char *leaf)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.%s", a, leaf);
	ATF_REQUIRE_EQ_MSG(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
}

/* stats.arenas.<a>.<leaf>, a size_t or uint64_t, after an epoch bump. */
static uint64_t
astat(unsigned a, const char *leaf)
{
	char name[96];
	uint64_t epoch = 1, v64;
	size_t v, sz;

	ATF_REQUIRE_EQ(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0);
	snprintf(name, sizeof(name), "stats.arenas.%u.%s", a, leaf);
	sz = sizeof(v64);
	if (strstr(leaf, "allocated") != NULL ||
	    strcmp(leaf, "mapped") == 0) {
		sz = sizeof(v);
		ATF_REQUIRE_EQ_MSG(mallctl(name, &v, &sz, NULL, 0), 0, "%s",
		    name);
		return (v);
	}
	ATF_REQUIRE_EQ_MSG(mallctl(name, &v64, &sz, NULL, 0), 0, "%s", name);
	return (v64);
}

static uint64_t
allocated(unsigned a)
{
	return (astat(a, "small.allocated") + astat(a, "large.allocated"));
}

/*
 * Binds the calling thread to arena a.  Its cache may still hold blocks of
 * the old arena, which malloc would hand out first: flush them.
 */
static void
thread_bind(unsigned a)
{
	ATF_REQUIRE_EQ(mallctl("thread.arena", NULL, NULL, &a, sizeof(a)), 0);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0);
}

static unsigned
tcache_new(void)
{
	unsigned tc;
	size_t sz = sizeof(tc);

	ATF_REQUIRE_EQ(mallctl("tcache.create", &tc, &sz, NULL, 0), 0);
	return (tc);
}

static void
tcache_ctl(const char *name, unsigned tc)
{
	ATF_REQUIRE_EQ_MSG(mallctl(name, NULL, NULL, &tc, sizeof(tc)), 0,
	    "%s %u", name, tc);
}

static const size_t sizes[] = { 8, 100, 1024, 3000, 20000, 300000,
    5 << 20 };

/* Routing and ownership ------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(mallocx_arena_allocations_are_owned_by_it);
ATF_TC_BODY(mallocx_arena_allocations_are_owned_by_it, tc)
{
	void *p[nitems(sizes)];
	unsigned a, b;
	size_t i;

	a = arena_new();
	b = arena_new();
	ATF_REQUIRE(a != b);
	for (i = 0; i < nitems(sizes); i++) {
		p[i] = mallocx(sizes[i], MALLOCX_ARENA(i % 2 ? a : b));
		ATF_REQUIRE(p[i] != NULL);
		ATF_CHECK_EQ_MSG(arena_of(p[i]), i % 2 ? a : b, "size %zu",
		    sizes[i]);
	}
	p[0] = rallocx(p[0], 50000, MALLOCX_ARENA(a));
	ATF_REQUIRE(p[0] != NULL);
	ATF_CHECK_EQ(arena_of(p[0]), a);
	for (i = 0; i < nitems(sizes); i++)
		dallocx(p[i], 0);
}

ATF_TC_WITHOUT_HEAD(per_arena_stats_grow_only_for_that_arena);
ATF_TC_BODY(per_arena_stats_grow_only_for_that_arena, tc)
{
	uint64_t sa0, la0, sb0, lb0;
	void *p[nitems(sizes)];
	unsigned a, b, nsmall = 0, nlarge = 0;
	size_t i;

	a = arena_new();
	b = arena_new();
	sa0 = astat(a, "small.nmalloc");
	la0 = astat(a, "large.nmalloc");
	sb0 = astat(b, "small.nmalloc");
	lb0 = astat(b, "large.nmalloc");
	for (i = 0; i < nitems(sizes); i++) {
		p[i] = mallocx(sizes[i], MALLOCX_ARENA(a));
		ATF_REQUIRE(p[i] != NULL);
		if (sizes[i] <= 14336)
			nsmall++;
		else
			nlarge++;
	}
	ATF_CHECK_EQ(astat(a, "small.nmalloc") - sa0, nsmall);
	ATF_CHECK_EQ(astat(a, "large.nmalloc") - la0, nlarge);
	ATF_CHECK_EQ(astat(b, "small.nmalloc"), sb0);
	ATF_CHECK_EQ(astat(b, "large.nmalloc"), lb0);
	ATF_CHECK(allocated(a) > 5 << 20);
	ATF_CHECK_EQ(allocated(b), 0);
	for (i = 0; i < nitems(sizes); i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	ATF_CHECK_EQ(allocated(a), 0);
}

struct freer {
	void	**ptrs;
	size_t	 n;
};

/* Frees ptrs three ways: free, dallocx and sdallocx with the size. */
static void *
freer_main(void *arg)
{
	struct freer *f = arg;
	size_t i;

	for (i = 0; i < f->n; i++) {
		switch (i % 3) {
		case 0:
			free(f->ptrs[i]);
			break;
		case 1:
			dallocx(f->ptrs[i], 0);
			break;
		default:
			sdallocx(f->ptrs[i], sizes[i % nitems(sizes)], 0);
			break;
		}
	}
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(frees_from_another_thread_with_and_without_size);
ATF_TC_BODY(frees_from_another_thread_with_and_without_size, tc)
{
	enum { N = 3 * 7 * 40 };
	static void *ptrs[N];
	struct freer f = { ptrs, N };
	pthread_t t;
	unsigned a;
	size_t i;

	a = arena_new();
	for (i = 0; i < N; i++) {
		ptrs[i] = mallocx(sizes[i % nitems(sizes)], MALLOCX_ARENA(a));
		ATF_REQUIRE(ptrs[i] != NULL);
		pattern_fill(ptrs[i], sizes[i % nitems(sizes)], (unsigned)i);
	}
	ATF_REQUIRE(pthread_create(&t, NULL, freer_main, &f) == 0);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	/* The freer's cache went back to the arena when the thread exited. */
	ATF_CHECK_EQ_MSG(allocated(a), 0, "%ju bytes still allocated",
	    (uintmax_t)allocated(a));
	ATF_CHECK_EQ(astat(a, "small.ndalloc") + astat(a, "large.ndalloc"),
	    astat(a, "small.nmalloc") + astat(a, "large.nmalloc"));
}

struct bound {
	unsigned	arena;
	unsigned	read_back;
	unsigned	owner[nitems(sizes)];
};

static void *
bound_main(void *arg)
{
	struct bound *b = arg;
	size_t sz = sizeof(b->read_back), i;
	void *p;

	if (mallctl("thread.arena", NULL, NULL, &b->arena, sizeof(b->arena)) !=
	    0)
		return (NULL);
	(void)mallctl("thread.arena", &b->read_back, &sz, NULL, 0);
	for (i = 0; i < nitems(sizes); i++) {
		p = malloc(sizes[i]);
		sz = sizeof(b->owner[i]);
		(void)mallctl("arenas.lookup", &b->owner[i], &sz, &p,
		    sizeof(p));
		free(p);
	}
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(thread_arena_write_binds_the_thread);
ATF_TC_BODY(thread_arena_write_binds_the_thread, tc)
{
	struct bound b;
	pthread_t t;
	unsigned mine, after;
	size_t i, sz = sizeof(mine);

	ATF_REQUIRE_EQ(mallctl("thread.arena", &mine, &sz, NULL, 0), 0);
	memset(&b, 0xff, sizeof(b));
	b.arena = arena_new();
	ATF_REQUIRE(pthread_create(&t, NULL, bound_main, &b) == 0);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_CHECK_EQ(b.read_back, b.arena);
	for (i = 0; i < nitems(sizes); i++)
		ATF_CHECK_EQ_MSG(b.owner[i], b.arena, "malloc(%zu) from arena "
		    "%u", sizes[i], b.owner[i]);
	/* Binding another thread does not move this one. */
	ATF_REQUIRE_EQ(mallctl("thread.arena", &after, &sz, NULL, 0), 0);
	ATF_CHECK_EQ(after, mine);
}

/* Reset ------------------------------------------------------------------ */

struct worker {
	pthread_t	thread;
	unsigned	arena;
	unsigned	seed;
	volatile bool	*stop;
	unsigned long	rounds;
	char		error[128];
};

/*
 * Allocates and frees in its own arena, checking every block's contents:
 * a reset of another arena must not touch them.
 */
static void *
worker_main(void *arg)
{
	enum { SLOTS = 64 };
	struct worker *w = arg;
	void *slot[SLOTS] = { NULL };
	size_t len[SLOTS], i, bad;
	unsigned owner;
	size_t sz;

	if (mallctl("thread.arena", NULL, NULL, &w->arena, sizeof(w->arena))
	    != 0) {
		snprintf(w->error, sizeof(w->error), "thread.arena failed");
		return (NULL);
	}
	while (!*w->stop && w->error[0] == '\0') {
		i = w->rounds % SLOTS;
		if (slot[i] != NULL) {
			bad = pattern_check(slot[i], len[i], w->seed + (unsigned)i);
			if (bad != len[i])
				snprintf(w->error, sizeof(w->error),
				    "block %p changed at %zu", slot[i], bad);
			free(slot[i]);
		}
		len[i] = sizes[(w->rounds + w->seed) % nitems(sizes)];
		slot[i] = malloc(len[i]);
		if (slot[i] == NULL) {
			snprintf(w->error, sizeof(w->error), "malloc failed");
			break;
		}
		sz = sizeof(owner);
		if (w->rounds % 97 == 0 && (mallctl("arenas.lookup", &owner,
		    &sz, &slot[i], sizeof(slot[i])) != 0 || owner != w->arena))
			snprintf(w->error, sizeof(w->error),
			    "block from arena %u", owner);
		pattern_fill(slot[i], len[i], w->seed + (unsigned)i);
		w->rounds++;
	}
	for (i = 0; i < SLOTS; i++)
		free(slot[i]);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(reset_while_other_arenas_are_busy);
ATF_TC_BODY(reset_while_other_arenas_are_busy, tc)
{
	enum { NWORKERS = 4, NBLOCKS = 500 };
	static struct worker w[NWORKERS];
	static void *blocks[NBLOCKS];
	volatile bool stop = false;
	unsigned a, i, round;
	size_t j;

	a = arena_new();
	for (i = 0; i < NWORKERS; i++) {
		w[i].arena = arena_new();
		w[i].seed = i * 1000;
		w[i].stop = &stop;
		ATF_REQUIRE(pthread_create(&w[i].thread, NULL, worker_main,
		    &w[i]) == 0);
	}
	for (round = 0; round < 20; round++) {
		for (j = 0; j < NBLOCKS; j++) {
			blocks[j] = mallocx(sizes[j % nitems(sizes)] / 4 + 1,
			    MALLOCX_ARENA(a));
			ATF_REQUIRE(blocks[j] != NULL);
			memset(blocks[j], 0x3c, sizes[j % nitems(sizes)] / 4 + 1);
		}
		ATF_CHECK(allocated(a) > 0);
		arena_ctl(a, "reset");
		ATF_CHECK_EQ_MSG(allocated(a), 0, "round %u: %ju bytes left "
		    "after reset", round, (uintmax_t)allocated(a));
	}
	stop = true;
	for (i = 0; i < NWORKERS; i++) {
		ATF_REQUIRE(pthread_join(w[i].thread, NULL) == 0);
		ATF_CHECK_MSG(w[i].error[0] == '\0', "worker %u: %s", i,
		    w[i].error);
		ATF_CHECK(w[i].rounds > 0);
	}
	/* The reset arena serves again. */
	blocks[0] = mallocx(100, MALLOCX_ARENA(a));
	ATF_REQUIRE(blocks[0] != NULL);
	ATF_CHECK_EQ(arena_of(blocks[0]), a);
	dallocx(blocks[0], 0);
}

/* Explicit thread caches ------------------------------------------------- */

struct tc_user {
	pthread_t	 thread;
	unsigned	 tc;		/* explicit tcache to use */
	pthread_mutex_t	*lock;		/* held around each use, or NULL */
	unsigned	 seed;
	char		 error[128];
};

static void *
tc_user_main(void *arg)
{
	enum { SLOTS = 32, ROUNDS = 20000 };
	struct tc_user *u = arg;
	void *slot[SLOTS] = { NULL };
	size_t len[SLOTS], i, bad;
	unsigned r;
	int flags = MALLOCX_TCACHE(u->tc);

	for (r = 0; r < ROUNDS && u->error[0] == '\0'; r++) {
		i = r % SLOTS;
		if (slot[i] != NULL) {
			bad = pattern_check(slot[i], len[i], u->seed + r % 7);
			if (bad != len[i])
				snprintf(u->error, sizeof(u->error),
				    "block %p changed at %zu", slot[i], bad);
			if (u->lock != NULL)
				pthread_mutex_lock(u->lock);
			if (r % 2)
				dallocx(slot[i], flags);
			else
				sdallocx(slot[i], len[i], flags);
			if (u->lock != NULL)
				pthread_mutex_unlock(u->lock);
		}
		len[i] = 8 + (r * 37 + u->seed) % 4000;
		if (u->lock != NULL)
			pthread_mutex_lock(u->lock);
		slot[i] = mallocx(len[i], flags);
		if (u->lock != NULL)
			pthread_mutex_unlock(u->lock);
		if (slot[i] == NULL) {
			snprintf(u->error, sizeof(u->error), "mallocx failed");
			break;
		}
		pattern_fill(slot[i], len[i], u->seed + (r + SLOTS) % 7);
	}
	/* pattern seeds: fill uses (r + SLOTS) % 7, checked at r + SLOTS. */
	for (i = 0; i < SLOTS; i++)
		if (slot[i] != NULL) {
			if (u->lock != NULL)
				pthread_mutex_lock(u->lock);
			dallocx(slot[i], flags);
			if (u->lock != NULL)
				pthread_mutex_unlock(u->lock);
		}
	return (NULL);
}

static void
tc_users_run(struct tc_user *u, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		ATF_REQUIRE(pthread_create(&u[i].thread, NULL, tc_user_main,
		    &u[i]) == 0);
	for (i = 0; i < n; i++) {
		ATF_REQUIRE(pthread_join(u[i].thread, NULL) == 0);
		ATF_CHECK_MSG(u[i].error[0] == '\0', "thread %u: %s", i,
		    u[i].error);
	}
}

ATF_TC_WITHOUT_HEAD(explicit_tcache_per_thread);
ATF_TC_BODY(explicit_tcache_per_thread, tc)
{
	enum { N = 4 };
	static struct tc_user u[N];
	unsigned i;

	for (i = 0; i < N; i++) {
		u[i].tc = tcache_new();
		u[i].seed = i * 11;
	}
	for (i = 1; i < N; i++)
		ATF_CHECK(u[i].tc != u[0].tc);
	tc_users_run(u, N);
	for (i = 0; i < N; i++) {
		tcache_ctl("tcache.flush", u[i].tc);
		tcache_ctl("tcache.destroy", u[i].tc);
	}
	/* A destroyed index is gone; flushing it again is an error. */
	ATF_CHECK_EQ(mallctl("tcache.flush", NULL, NULL, &u[0].tc,
	    sizeof(u[0].tc)), EFAULT);
}

ATF_TC_WITHOUT_HEAD(explicit_tcache_shared_under_a_mutex);
ATF_TC_BODY(explicit_tcache_shared_under_a_mutex, tc)
{
	enum { N = 4 };
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct tc_user u[N];
	unsigned i, shared;

	shared = tcache_new();
	for (i = 0; i < N; i++) {
		u[i].tc = shared;
		u[i].lock = &lock;
		u[i].seed = i * 13;
	}
	tc_users_run(u, N);
	tcache_ctl("tcache.flush", shared);
	tcache_ctl("tcache.destroy", shared);
}

/*
 * An explicit tcache caches: a fill takes a batch from the arena, frees
 * stay in the cache, tcache.flush gives them back, and a destroyed cache's
 * index is reused by the next create.
 */
ATF_TC_WITHOUT_HEAD(explicit_tcache_caches_until_flushed);
ATF_TC_BODY(explicit_tcache_caches_until_flushed, tc)
{
	enum { N = 10 };
	void *p[N];
	uint64_t n0, n1;
	unsigned a, t, t2, i;
	int flags;

	a = arena_new();
	t = tcache_new();
	flags = MALLOCX_TCACHE(t) | MALLOCX_ARENA(a);
	n0 = astat(a, "small.nmalloc");
	for (i = 0; i < N; i++)
		ATF_REQUIRE((p[i] = mallocx(64, flags)) != NULL);
	n1 = astat(a, "small.nmalloc");
	ATF_CHECK_MSG(n1 - n0 > N, "fills took %ju regions for %u requests",
	    (uintmax_t)(n1 - n0), N);
	for (i = 0; i < N; i++)
		dallocx(p[i], flags);
	/* All ten sit in the cache: the arena still counts them. */
	ATF_CHECK(astat(a, "small.allocated") >= N * 64);
	for (i = 0; i < N; i++)
		ATF_REQUIRE((p[i] = mallocx(64, flags)) != NULL);
	ATF_CHECK_EQ(astat(a, "small.nmalloc"), n1);
	for (i = 0; i < N; i++)
		dallocx(p[i], flags);
	tcache_ctl("tcache.flush", t);
	ATF_CHECK_EQ(astat(a, "small.allocated"), 0);
	tcache_ctl("tcache.destroy", t);
	t2 = tcache_new();
	ATF_CHECK_EQ(t2, t);
	tcache_ctl("tcache.destroy", t2);
}

/* MALLOCX_TCACHE_NONE: every request reaches the arena. */
ATF_TC_WITHOUT_HEAD(tcache_none_bypasses_caching);
ATF_TC_BODY(tcache_none_bypasses_caching, tc)
{
	uint64_t m0, d0, r0;
	void *p;
	unsigned a, i;

	a = arena_new();
	thread_bind(a);
	m0 = astat(a, "small.nmalloc");
	d0 = astat(a, "small.ndalloc");
	r0 = astat(a, "small.nrequests");
	for (i = 1; i <= 5; i++) {
		p = mallocx(64, MALLOCX_TCACHE_NONE);
		ATF_REQUIRE(p != NULL);
		ATF_CHECK_EQ(arena_of(p), a);
		ATF_CHECK_EQ(astat(a, "small.nmalloc") - m0, i);
		ATF_CHECK_EQ(astat(a, "small.nrequests") - r0, i);
		dallocx(p, MALLOCX_TCACHE_NONE);
		ATF_CHECK_EQ(astat(a, "small.ndalloc") - d0, i);
	}
	ATF_CHECK_EQ(astat(a, "small.allocated"), 0);
}

ATF_TC_WITHOUT_HEAD(thread_tcache_enabled_false_then_true);
ATF_TC_BODY(thread_tcache_enabled_false_then_true, tc)
{
	bool on, off = false, yes = true;
	uint64_t m0;
	size_t sz = sizeof(on);
	void *p;
	unsigned a, i;

	a = arena_new();
	thread_bind(a);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.enabled", &on, &sz, NULL, 0), 0);
	ATF_CHECK(on);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.enabled", &on, &sz, &off,
	    sizeof(off)), 0);
	ATF_CHECK(on);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.enabled", &on, &sz, NULL, 0), 0);
	ATF_CHECK(!on);
	/* Disabled: each malloc is one arena allocation, each free returns. */
	m0 = astat(a, "small.nmalloc");
	for (i = 1; i <= 5; i++) {
		p = malloc(64);
		ATF_REQUIRE(p != NULL);
		ATF_CHECK_EQ(astat(a, "small.nmalloc") - m0, i);
		free(p);
		ATF_CHECK_EQ(astat(a, "small.allocated"), 0);
	}
	ATF_REQUIRE_EQ(mallctl("thread.tcache.enabled", NULL, NULL, &yes,
	    sizeof(yes)), 0);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.enabled", &on, &sz, NULL, 0), 0);
	ATF_CHECK(on);
	/* Enabled again: a free stays in the cache. */
	p = malloc(64);
	ATF_REQUIRE(p != NULL);
	free(p);
	ATF_CHECK(astat(a, "small.allocated") >= 64);
}

ATF_TC_WITHOUT_HEAD(thread_tcache_flush_returns_cached_blocks);
ATF_TC_BODY(thread_tcache_flush_returns_cached_blocks, tc)
{
	void *p[16];
	unsigned a, i;

	a = arena_new();
	thread_bind(a);
	for (i = 0; i < nitems(p); i++)
		ATF_REQUIRE((p[i] = malloc(48)) != NULL);
	for (i = 0; i < nitems(p); i++)
		free(p[i]);
	ATF_CHECK(astat(a, "small.allocated") >= nitems(p) * 48);
	ATF_REQUIRE_EQ(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0);
	ATF_CHECK_EQ(astat(a, "small.allocated"), 0);
}

/*
 * Which freed extent a large request reuses, in a new arena whose first
 * mapping hands out blocks at rising addresses, the thread cache bypassed.
 * Freed neighbours coalesce; live blocks between keep extents apart.
 */
#define	KIB	((size_t)1024)

/* Of two freed extents that fit, the smaller, though it was freed later. */
ATF_TC_WITHOUT_HEAD(large_reuses_smallest_fitting_extent);
ATF_TC_BODY(large_reuses_smallest_fitting_extent, tc)
{
	int flags = MALLOCX_ARENA(arena_new()) | MALLOCX_TCACHE_NONE;
	char *a, *b, *g1, *y, *g2, *p;

	a = mallocx(28 * KIB, flags);
	b = mallocx(16 * KIB, flags);
	g1 = mallocx(16 * KIB, flags);
	y = mallocx(40 * KIB, flags);
	g2 = mallocx(16 * KIB, flags);
	ATF_REQUIRE(a != NULL && b != NULL && g1 != NULL && y != NULL &&
	    g2 != NULL);
	ATF_REQUIRE_MSG(b == a + 28 * KIB && g1 == b + 16 * KIB &&
	    y == g1 + 16 * KIB && g2 == y + 40 * KIB,
	    "blocks not laid out in a row: %p %p %p %p %p", (void *)a,
	    (void *)b, (void *)g1, (void *)y, (void *)g2);
	/* 44 KiB freed first, then 40 KiB: both in the same size bucket. */
	dallocx(a, flags);
	dallocx(b, flags);
	dallocx(y, flags);
	p = mallocx(40 * KIB, flags);
	ATF_REQUIRE_MSG(p == y, "40 KiB reused %p, not the 40 KiB extent %p "
	    "(the 44 KiB one is at %p)", (void *)p, (void *)y, (void *)a);
	dallocx(p, flags);
	dallocx(g1, flags);
	dallocx(g2, flags);
}

/* Of two equal freed extents, the lower, though it was freed later. */
ATF_TC_WITHOUT_HEAD(large_reuses_lowest_of_equal_extents);
ATF_TC_BODY(large_reuses_lowest_of_equal_extents, tc)
{
	int flags = MALLOCX_ARENA(arena_new()) | MALLOCX_TCACHE_NONE;
	char *x, *g1, *y, *g2, *p;

	x = mallocx(40 * KIB, flags);
	g1 = mallocx(16 * KIB, flags);
	y = mallocx(40 * KIB, flags);
	g2 = mallocx(16 * KIB, flags);
	ATF_REQUIRE(x != NULL && g1 != NULL && y != NULL && g2 != NULL);
	ATF_REQUIRE_MSG(g1 == x + 40 * KIB && y == g1 + 16 * KIB &&
	    g2 == y + 40 * KIB, "blocks not laid out in a row: %p %p %p %p",
	    (void *)x, (void *)g1, (void *)y, (void *)g2);
	dallocx(y, flags);
	dallocx(x, flags);
	p = mallocx(40 * KIB, flags);
	ATF_REQUIRE_MSG(p == x, "40 KiB reused %p, not the lower extent %p",
	    (void *)p, (void *)x);
	dallocx(p, flags);
	dallocx(g1, flags);
	dallocx(g2, flags);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, mallocx_arena_allocations_are_owned_by_it);
	ATF_TP_ADD_TC(tp, per_arena_stats_grow_only_for_that_arena);
	ATF_TP_ADD_TC(tp, frees_from_another_thread_with_and_without_size);
	ATF_TP_ADD_TC(tp, thread_arena_write_binds_the_thread);
	ATF_TP_ADD_TC(tp, reset_while_other_arenas_are_busy);
	ATF_TP_ADD_TC(tp, explicit_tcache_per_thread);
	ATF_TP_ADD_TC(tp, explicit_tcache_shared_under_a_mutex);
	ATF_TP_ADD_TC(tp, explicit_tcache_caches_until_flushed);
	ATF_TP_ADD_TC(tp, tcache_none_bypasses_caching);
	ATF_TP_ADD_TC(tp, thread_tcache_enabled_false_then_true);
	ATF_TP_ADD_TC(tp, thread_tcache_flush_returns_cached_blocks);
	ATF_TP_ADD_TC(tp, large_reuses_smallest_fitting_extent);
	ATF_TP_ADD_TC(tp, large_reuses_lowest_of_equal_extents);
	return (atf_no_error());
}
