/*
 * mallctl, mallctlnametomib and mallctlbymib: every node's type and
 * access, jemalloc's error codes, and the nodes that act (thread caches,
 * arenas, decay) doing what they say.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <atf-c.h>

#include "malloc_np.h"

#ifndef nitems
#define	nitems(x)	(sizeof(x) / sizeof((x)[0]))
#endif

/* Readable leaves and the size of their values; w: also writable. */
static const struct node {
	const char	*name;
	size_t		 size;
	bool		 w;
} nodes[] = {
	{ "version", sizeof(char *), false },
	{ "epoch", sizeof(uint64_t), true },
	{ "config.debug", sizeof(bool), false },
	{ "config.fill", sizeof(bool), false },
	{ "config.malloc_conf", sizeof(char *), false },
	{ "config.prof", sizeof(bool), false },
	{ "config.stats", sizeof(bool), false },
	{ "config.xmalloc", sizeof(bool), false },
	{ "opt.abort", sizeof(bool), false },
	{ "opt.abort_conf", sizeof(bool), false },
	{ "opt.background_thread", sizeof(bool), false },
	{ "opt.dirty_decay_ms", sizeof(ssize_t), false },
	{ "opt.junk", sizeof(char *), false },
	{ "opt.lg_prof_sample", sizeof(size_t), false },
	{ "opt.max_background_threads", sizeof(size_t), false },
	{ "opt.metadata_thp", sizeof(char *), false },
	{ "opt.muzzy_decay_ms", sizeof(ssize_t), false },
	{ "opt.narenas", sizeof(unsigned), false },
	{ "opt.retain", sizeof(bool), false },
	{ "opt.stats_print", sizeof(bool), false },
	{ "opt.stats_print_opts", sizeof(char *), false },
	{ "opt.tcache", sizeof(bool), false },
	{ "opt.tcache_max", sizeof(size_t), false },
	{ "opt.thp", sizeof(char *), false },
	{ "opt.xmalloc", sizeof(bool), false },
	{ "opt.zero", sizeof(bool), false },
	{ "thread.arena", sizeof(unsigned), true },
	{ "thread.allocated", sizeof(uint64_t), false },
	{ "thread.allocatedp", sizeof(uint64_t *), false },
	{ "thread.deallocated", sizeof(uint64_t), false },
	{ "thread.deallocatedp", sizeof(uint64_t *), false },
	{ "thread.tcache.enabled", sizeof(bool), true },
	{ "arena.0.initialized", sizeof(bool), false },
	{ "arena.0.dirty_decay_ms", sizeof(ssize_t), true },
	{ "arena.0.muzzy_decay_ms", sizeof(ssize_t), true },
	{ "arena.0.extent_hooks", sizeof(void *), true },
	{ "arenas.narenas", sizeof(unsigned), false },
	{ "arenas.dirty_decay_ms", sizeof(ssize_t), true },
	{ "arenas.muzzy_decay_ms", sizeof(ssize_t), true },
	{ "arenas.quantum", sizeof(size_t), false },
	{ "arenas.page", sizeof(size_t), false },
	{ "arenas.tcache_max", sizeof(size_t), false },
	{ "arenas.nbins", sizeof(unsigned), false },
	{ "arenas.nhbins", sizeof(unsigned), false },
	{ "arenas.bin.0.size", sizeof(size_t), false },
	{ "arenas.bin.0.nregs", sizeof(uint32_t), false },
	{ "arenas.bin.0.slab_size", sizeof(size_t), false },
	{ "arenas.nlextents", sizeof(unsigned), false },
	{ "arenas.lextent.0.size", sizeof(size_t), false },
	{ "stats.allocated", sizeof(size_t), false },
	{ "stats.active", sizeof(size_t), false },
	{ "stats.metadata", sizeof(size_t), false },
	{ "stats.metadata_thp", sizeof(size_t), false },
	{ "stats.resident", sizeof(size_t), false },
	{ "stats.mapped", sizeof(size_t), false },
	{ "stats.retained", sizeof(size_t), false },
	{ "stats.mutexes.ctl.num_ops", sizeof(uint64_t), false },
	{ "stats.mutexes.ctl.max_num_thds", sizeof(uint32_t), false },
	{ "stats.arenas.0.nthreads", sizeof(unsigned), false },
	{ "stats.arenas.0.uptime", sizeof(uint64_t), false },
	{ "stats.arenas.0.dss", sizeof(char *), false },
	{ "stats.arenas.0.dirty_decay_ms", sizeof(ssize_t), false },
	{ "stats.arenas.0.pactive", sizeof(size_t), false },
	{ "stats.arenas.0.pdirty", sizeof(size_t), false },
	{ "stats.arenas.0.pmuzzy", sizeof(size_t), false },
	{ "stats.arenas.0.mapped", sizeof(size_t), false },
	{ "stats.arenas.0.retained", sizeof(size_t), false },
	{ "stats.arenas.0.base", sizeof(size_t), false },
	{ "stats.arenas.0.resident", sizeof(size_t), false },
	{ "stats.arenas.0.dirty_npurge", sizeof(uint64_t), false },
	{ "stats.arenas.0.muzzy_purged", sizeof(uint64_t), false },
	{ "stats.arenas.0.small.allocated", sizeof(size_t), false },
	{ "stats.arenas.0.small.nmalloc", sizeof(uint64_t), false },
	{ "stats.arenas.0.small.nrequests", sizeof(uint64_t), false },
	{ "stats.arenas.0.large.allocated", sizeof(size_t), false },
	{ "stats.arenas.0.large.nmalloc", sizeof(uint64_t), false },
	{ "stats.arenas.0.mutexes.extents.num_ops", sizeof(uint64_t), false },
	{ "stats.arenas.0.bins.0.nmalloc", sizeof(uint64_t), false },
	{ "stats.arenas.0.bins.0.curregs", sizeof(size_t), false },
	{ "stats.arenas.0.bins.0.nonfull_slabs", sizeof(size_t), false },
	{ "stats.arenas.0.bins.0.mutex.num_wait", sizeof(uint64_t), false },
	{ "stats.arenas.0.lextents.0.nmalloc", sizeof(uint64_t), false },
	{ "stats.arenas.0.lextents.0.curlextents", sizeof(size_t), false },
	{ "stats.arenas.0.extents.0.ndirty", sizeof(size_t), false },
	{ "stats.arenas.0.extents.0.retained_bytes", sizeof(size_t), false },
	{ "stats.arenas.4096.pactive", sizeof(size_t), false },
};
#define	NNODES	(sizeof(nodes) / sizeof(nodes[0]))

static void
epoch(void)
{
	uint64_t e = 1;

	ATF_REQUIRE_EQ(0, mallctl("epoch", NULL, NULL, &e, sizeof(e)));
}

static size_t
read_size(const char *name)
{
	size_t v, len = sizeof(v);

	ATF_REQUIRE_EQ_MSG(0, mallctl(name, &v, &len, NULL, 0), "%s", name);
	return (v);
}

static uint64_t
read_u64(const char *name)
{
	uint64_t v;
	size_t len = sizeof(v);

	ATF_REQUIRE_EQ_MSG(0, mallctl(name, &v, &len, NULL, 0), "%s", name);
	return (v);
}

ATF_TC_WITHOUT_HEAD(every_node_reads_with_its_size);
ATF_TC_BODY(every_node_reads_with_its_size, tc)
{
	char buf[16];
	size_t i, len;

	for (i = 0; i < NNODES; i++) {
		len = nodes[i].size;
		ATF_CHECK_EQ_MSG(0, mallctl(nodes[i].name, buf, &len, NULL, 0),
		    "%s", nodes[i].name);
		ATF_CHECK_EQ_MSG(nodes[i].size, len, "%s", nodes[i].name);
	}
}

ATF_TC_WITHOUT_HEAD(wrong_oldlen_is_einval_and_copies_the_overlap);
ATF_TC_BODY(wrong_oldlen_is_einval_and_copies_the_overlap, tc)
{
	char buf[16];
	size_t i, len;

	for (i = 0; i < NNODES; i++) {
		len = nodes[i].size + 1;
		ATF_CHECK_EQ_MSG(EINVAL, mallctl(nodes[i].name, buf, &len,
		    NULL, 0), "%s", nodes[i].name);
		ATF_CHECK_EQ_MSG(nodes[i].size, len, "%s", nodes[i].name);
		if (nodes[i].size == 1)
			continue;
		len = 1;
		ATF_CHECK_EQ_MSG(EINVAL, mallctl(nodes[i].name, buf, &len,
		    NULL, 0), "%s", nodes[i].name);
		ATF_CHECK_EQ_MSG(1, len, "%s", nodes[i].name);
	}
}

ATF_TC_WITHOUT_HEAD(writing_a_read_only_node_is_eperm);
ATF_TC_BODY(writing_a_read_only_node_is_eperm, tc)
{
	char buf[16];
	size_t i;

	memset(buf, 0, sizeof(buf));
	for (i = 0; i < NNODES; i++) {
		if (nodes[i].w)
			continue;
		ATF_CHECK_EQ_MSG(EPERM, mallctl(nodes[i].name, NULL, NULL, buf,
		    nodes[i].size), "%s", nodes[i].name);
	}
}

ATF_TC_WITHOUT_HEAD(wrong_newlen_is_einval);
ATF_TC_BODY(wrong_newlen_is_einval, tc)
{
	ssize_t ms = 1000;
	unsigned a = 0;

	ATF_CHECK_EQ(EINVAL, mallctl("arena.0.dirty_decay_ms", NULL, NULL,
	    &ms, sizeof(ms) - 1));
	ATF_CHECK_EQ(EINVAL, mallctl("thread.arena", NULL, NULL, &a, 1));
	ATF_CHECK_EQ(EINVAL, mallctl("epoch", NULL, NULL, &a, sizeof(a)));
}

ATF_TC_WITHOUT_HEAD(unknown_names_and_indices_are_enoent);
ATF_TC_BODY(unknown_names_and_indices_are_enoent, tc)
{
	static const char *const bad[] = { "no.such.node", "", "opt",
	    "stats", "opt.narenas.x", "opt.", "arenas.bin.35.size",
	    "arenas.bin.x.size", "arenas.lextent.129.size",
	    "stats.arenas.4000.pactive", "stats.arenas.0.bins.35.nmalloc",
	    "stats.arenas.0.lextents.1000.nmalloc", "arena.4097.purge",
	    "stats.arenas.0.nosuch" };
	size_t v, len, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = sizeof(v);
		ATF_CHECK_EQ_MSG(ENOENT, mallctl(bad[i], &v, &len, NULL, 0),
		    "\"%s\"", bad[i]);
	}
}

ATF_TC_WITHOUT_HEAD(nametomib_then_bymib_equals_mallctl);
ATF_TC_BODY(nametomib_then_bymib_equals_mallctl, tc)
{
	size_t mib[8], miblen, i, len1, len2;
	char v1[16], v2[16];

	epoch();
	for (i = 0; i < NNODES; i++) {
		if (strcmp(nodes[i].name, "stats.arenas.0.uptime") == 0 ||
		    strstr(nodes[i].name, "mutex") != NULL)
			continue;	/* these move between two reads */
		miblen = 8;
		ATF_REQUIRE_EQ_MSG(0, mallctlnametomib(nodes[i].name, mib,
		    &miblen), "%s", nodes[i].name);
		memset(v1, 0, sizeof(v1));
		memset(v2, 0, sizeof(v2));
		len1 = len2 = nodes[i].size;
		ATF_CHECK_EQ(0, mallctl(nodes[i].name, v1, &len1, NULL, 0));
		ATF_CHECK_EQ(0, mallctlbymib(mib, miblen, v2, &len2, NULL, 0));
		ATF_CHECK_MSG(memcmp(v1, v2, sizeof(v1)) == 0, "%s",
		    nodes[i].name);
	}
}

ATF_TC_WITHOUT_HEAD(mib_index_can_be_replaced);
ATF_TC_BODY(mib_index_can_be_replaced, tc)
{
	size_t mib[4], miblen = 4, sz, len = sizeof(sz), i;

	ATF_REQUIRE_EQ(0, mallctlnametomib("arenas.bin.0.size", mib, &miblen));
	ATF_REQUIRE_EQ(4, miblen);
	for (i = 0; i < 35; i++) {
		mib[2] = i;
		ATF_REQUIRE_EQ(0, mallctlbymib(mib, miblen, &sz, &len, NULL,
		    0));
		ATF_CHECK_EQ(sz, nallocx(sz, 0));
	}
	mib[2] = 35;
	ATF_CHECK_EQ(ENOENT, mallctlbymib(mib, miblen, &sz, &len, NULL, 0));
}

ATF_TC_WITHOUT_HEAD(epoch_write_advances_epoch);
ATF_TC_BODY(epoch_write_advances_epoch, tc)
{
	uint64_t e0, e1, one = 1;
	size_t len = sizeof(e0);

	ATF_REQUIRE_EQ(0, mallctl("epoch", &e0, &len, &one, sizeof(one)));
	ATF_REQUIRE_EQ(0, mallctl("epoch", &e1, &len, &one, sizeof(one)));
	ATF_CHECK_EQ(e0 + 1, e1);
}

ATF_TC_WITHOUT_HEAD(thread_allocated_counts_exact_bytes);
ATF_TC_BODY(thread_allocated_counts_exact_bytes, tc)
{
	uint64_t a0, a1, d0, d1, *ap, *dp;
	size_t len = sizeof(ap);
	void *p;

	ATF_REQUIRE_EQ(0, mallctl("thread.allocatedp", &ap, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("thread.deallocatedp", &dp, &len, NULL, 0));
	a0 = read_u64("thread.allocated");
	d0 = read_u64("thread.deallocated");
	p = malloc(100);		/* class 112 */
	ATF_REQUIRE(p != NULL);
	a1 = read_u64("thread.allocated");
	ATF_CHECK_EQ(a0 + 112, a1);
	ATF_CHECK_EQ(a1, *ap);
	free(p);
	d1 = read_u64("thread.deallocated");
	ATF_CHECK_EQ(d0 + 112, d1);
	ATF_CHECK_EQ(d1, *dp);
	p = malloc(100000);		/* class 114688 */
	free(p);
	ATF_CHECK_EQ(a1 + 114688, read_u64("thread.allocated"));
	ATF_CHECK_EQ(d1 + 114688, read_u64("thread.deallocated"));
}

/*
 * thread.allocated and thread.deallocated are exact however the bytes
 * went: fast paths (whose counts are derived, not stored), refills,
 * flushes, a cache switched off and on, large blocks, realloc and sized
 * frees; and so are the allocatedp/deallocatedp counters once the thread
 * has asked for them, with the same traffic.  In a thread of its own, so
 * that it starts without live counters.
 */
#define	COUNT_SLOTS	600
#define	COUNT_OPS	40000

struct count_expect {
	uint64_t	alloc, dalloc;
	unsigned	bad;
};

static void
count_check(struct count_expect *e, uint64_t a0, uint64_t d0,
    const uint64_t *ap, const uint64_t *dp, int op)
{
	uint64_t a = read_u64("thread.allocated") - a0;
	uint64_t d = read_u64("thread.deallocated") - d0;

	if (a != e->alloc || d != e->dalloc ||
	    (ap != NULL && (*ap - a0 != e->alloc || *dp - d0 != e->dalloc))) {
		if (e->bad++ < 5)
			fprintf(stderr, "op %d: allocated %ju (want %ju), "
			    "deallocated %ju (want %ju)%s\n", op, (uintmax_t)a,
			    (uintmax_t)e->alloc, (uintmax_t)d,
			    (uintmax_t)e->dalloc, ap != NULL ? " live" : "");
	}
}

static void
count_traffic(struct count_expect *e, const uint64_t *ap, const uint64_t *dp)
{
	static const size_t sizes[] = { 1, 16, 24, 100, 512, 1000, 3000,
	    8192, 20000, 32768, 40000, 300000 };
	void *slot[COUNT_SLOTS] = { NULL };
	uint64_t a0 = read_u64("thread.allocated");
	uint64_t d0 = read_u64("thread.deallocated");
	unsigned rnd = 12345, i, j;
	bool off = false;
	size_t sz, n;
	int op;

	for (op = 0; op < COUNT_OPS; op++) {
		rnd = rnd * 1103515245 + 12345;
		i = (rnd >> 8) % COUNT_SLOTS;
		j = (rnd >> 20) % 8;
		sz = sizes[(rnd >> 4) % (j == 0 ? nitems(sizes) : 6)];
		if (slot[i] == NULL) {
			slot[i] = (rnd & 1) ? calloc(1, sz) : malloc(sz);
			ATF_REQUIRE(slot[i] != NULL);
			e->alloc += malloc_usable_size(slot[i]);
		} else if (j == 1) {
			n = malloc_usable_size(slot[i]);
			slot[i] = realloc(slot[i], sz);
			ATF_REQUIRE(slot[i] != NULL);
			if (malloc_usable_size(slot[i]) != n) {
				e->dalloc += n;
				e->alloc += malloc_usable_size(slot[i]);
			}
		} else {
			n = malloc_usable_size(slot[i]);
			if (j == 2)
				sdallocx(slot[i], n, 0);
			else
				free(slot[i]);
			e->dalloc += n;
			slot[i] = NULL;
		}
		if (op % 997 == 0)
			count_check(e, a0, d0, ap, dp, op);
		if (op % 9973 == 0 && !off)
			ATF_REQUIRE_EQ(0, mallctl("thread.tcache.flush", NULL,
			    NULL, NULL, 0));
		if (op % 7919 == 0) {
			bool on = off;

			ATF_REQUIRE_EQ(0, mallctl("thread.tcache.enabled", NULL,
			    NULL, &on, sizeof(on)));
			off = !off;
		}
	}
	for (i = 0; i < COUNT_SLOTS; i++)
		if (slot[i] != NULL) {
			e->dalloc += malloc_usable_size(slot[i]);
			free(slot[i]);
		}
	count_check(e, a0, d0, ap, dp, op);
}

static void *
count_thread(void *arg)
{
	struct count_expect *e = arg;
	uint64_t *ap, *dp;
	size_t len = sizeof(ap);

	count_traffic(&e[0], NULL, NULL);
	ATF_REQUIRE_EQ(0, mallctl("thread.allocatedp", &ap, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("thread.deallocatedp", &dp, &len, NULL, 0));
	ATF_CHECK_EQ(*ap, read_u64("thread.allocated"));
	ATF_CHECK_EQ(*dp, read_u64("thread.deallocated"));
	count_traffic(&e[1], ap, dp);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(thread_counts_exact_under_traffic);
ATF_TC_BODY(thread_counts_exact_under_traffic, tc)
{
	struct count_expect e[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	pthread_t t;

	ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, count_thread, e));
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_CHECK(e[0].alloc > 10000000);
	ATF_CHECK_EQ_MSG(0, e[0].bad, "%u mismatches, derived counters",
	    e[0].bad);
	ATF_CHECK_EQ_MSG(0, e[1].bad, "%u mismatches, live counters",
	    e[1].bad);
}

ATF_TC_WITHOUT_HEAD(thread_tcache_flush_returns_cached_regions);
ATF_TC_BODY(thread_tcache_flush_returns_cached_regions, tc)
{
	unsigned ind;
	size_t len = sizeof(ind);
	uint64_t before;
	char name[64];
	void *p;

	ATF_REQUIRE_EQ(0, mallctl("thread.arena", &ind, &len, NULL, 0));
	p = malloc(16);
	free(p);			/* into the thread cache */
	snprintf(name, sizeof(name), "stats.arenas.%u.bins.0.ndalloc", ind);
	epoch();
	before = read_u64(name);
	ATF_REQUIRE_EQ(0, mallctl("thread.tcache.flush", NULL, NULL, NULL, 0));
	epoch();
	ATF_CHECK(read_u64(name) > before);
	ATF_CHECK_EQ(EPERM, mallctl("thread.tcache.flush", &ind, &len, NULL,
	    0));
}

ATF_TC_WITHOUT_HEAD(thread_tcache_enabled_toggles);
ATF_TC_BODY(thread_tcache_enabled_toggles, tc)
{
	bool on, off = false, old;
	size_t len = sizeof(on);

	ATF_REQUIRE_EQ(0, mallctl("thread.tcache.enabled", &on, &len, NULL,
	    0));
	ATF_REQUIRE(on);
	ATF_REQUIRE_EQ(0, mallctl("thread.tcache.enabled", &old, &len, &off,
	    sizeof(off)));
	ATF_CHECK(old);
	ATF_REQUIRE_EQ(0, mallctl("thread.tcache.enabled", &on, &len, NULL,
	    0));
	ATF_CHECK(!on);
	ATF_CHECK_EQ(EFAULT, mallctl("thread.tcache.flush", NULL, NULL, NULL,
	    0));
	free(malloc(32));
}

ATF_TC_WITHOUT_HEAD(explicit_tcache_create_use_destroy);
ATF_TC_BODY(explicit_tcache_create_use_destroy, tc)
{
	unsigned t1, t2, bad = 4000;
	size_t len = sizeof(t1);
	void *p[10];
	int i;

	ATF_REQUIRE_EQ(0, mallctl("tcache.create", &t1, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("tcache.create", &t2, &len, NULL, 0));
	ATF_CHECK(t1 != t2);
	for (i = 0; i < 10; i++) {
		p[i] = mallocx(64, MALLOCX_TCACHE(t1));
		ATF_REQUIRE(p[i] != NULL);
	}
	for (i = 0; i < 10; i++)
		dallocx(p[i], MALLOCX_TCACHE(t1));
	ATF_CHECK_EQ(0, mallctl("tcache.flush", NULL, NULL, &t1, sizeof(t1)));
	ATF_CHECK_EQ(0, mallctl("tcache.destroy", NULL, NULL, &t1,
	    sizeof(t1)));
	ATF_CHECK_EQ(EFAULT, mallctl("tcache.destroy", NULL, NULL, &t1,
	    sizeof(t1)));
	ATF_CHECK_EQ(EFAULT, mallctl("tcache.flush", NULL, NULL, &bad,
	    sizeof(bad)));
	ATF_CHECK_EQ(EINVAL, mallctl("tcache.create", NULL, NULL, NULL, 0));
	ATF_CHECK_EQ(EPERM, mallctl("tcache.flush", &t2, &len, &t2,
	    sizeof(t2)));
	/* A destroyed index is handed out again. */
	ATF_REQUIRE_EQ(0, mallctl("tcache.create", &t2, &len, NULL, 0));
	ATF_CHECK_EQ(t1, t2);
}

ATF_TC_WITHOUT_HEAD(arenas_create_gives_an_arena_mallocx_uses);
ATF_TC_BODY(arenas_create_gives_an_arena_mallocx_uses, tc)
{
	unsigned a, n0, n1, looked;
	size_t len = sizeof(a);
	uint64_t before;
	char name[64];
	bool init;
	void *p;

	ATF_REQUIRE_EQ(0, mallctl("arenas.narenas", &n0, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &a, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("arenas.narenas", &n1, &len, NULL, 0));
	ATF_CHECK(a >= n0);
	ATF_CHECK_EQ(a + 1, n1);
	len = sizeof(init);
	snprintf(name, sizeof(name), "arena.%u.initialized", a);
	ATF_REQUIRE_EQ(0, mallctl(name, &init, &len, NULL, 0));
	ATF_CHECK(init);
	epoch();
	snprintf(name, sizeof(name), "stats.arenas.%u.small.nmalloc", a);
	before = read_u64(name);
	p = mallocx(48, MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE);
	ATF_REQUIRE(p != NULL);
	len = sizeof(looked);
	ATF_REQUIRE_EQ(0, mallctl("arenas.lookup", &looked, &len, &p,
	    sizeof(p)));
	ATF_CHECK_EQ(a, looked);
	epoch();
	ATF_CHECK_EQ(before + 1, read_u64(name));
	dallocx(p, MALLOCX_TCACHE_NONE);
}

ATF_TC_WITHOUT_HEAD(arenas_lookup_rejects_foreign_pointers);
ATF_TC_BODY(arenas_lookup_rejects_foreign_pointers, tc)
{
	unsigned ind;
	size_t len = sizeof(ind);
	int local;
	void *p = &local;

	ATF_CHECK_EQ(EINVAL, mallctl("arenas.lookup", &ind, &len, &p,
	    sizeof(p)));
	p = NULL;
	ATF_CHECK_EQ(EINVAL, mallctl("arenas.lookup", &ind, &len, &p,
	    sizeof(p)));
}

ATF_TC_WITHOUT_HEAD(arena_destroy_of_created_arena_succeeds);
ATF_TC_BODY(arena_destroy_of_created_arena_succeeds, tc)
{
	unsigned a;
	size_t len = sizeof(a);
	char name[64];
	bool init;

	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &a, &len, NULL, 0));
	ATF_REQUIRE(mallocx(5000, MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE) !=
	    NULL);
	snprintf(name, sizeof(name), "arena.%u.reset", a);
	ATF_CHECK_EQ(0, mallctl(name, NULL, NULL, NULL, 0));
	snprintf(name, sizeof(name), "arena.%u.destroy", a);
	ATF_CHECK_EQ(0, mallctl(name, NULL, NULL, NULL, 0));
	snprintf(name, sizeof(name), "arena.%u.initialized", a);
	len = sizeof(init);
	ATF_REQUIRE_EQ(0, mallctl(name, &init, &len, NULL, 0));
	ATF_CHECK(!init);
	ATF_CHECK_EQ(EFAULT, mallctl("arena.0.destroy", NULL, NULL, NULL, 0));
	ATF_CHECK_EQ(EFAULT, mallctl("arena.0.reset", NULL, NULL, NULL, 0));
}

/* A destroyed arena's requests live on at MALLCTL_ARENAS_DESTROYED. */
ATF_TC_WITHOUT_HEAD(destroyed_arena_stats_are_kept);
ATF_TC_BODY(destroyed_arena_stats_are_kept, tc)
{
	unsigned a;
	size_t len = sizeof(a);
	uint64_t before = 0, after;
	char name[64];
	void *p;

	epoch();
	len = sizeof(before);
	(void)mallctl("stats.arenas.4097.large.nmalloc", &before, &len, NULL,
	    0);
	len = sizeof(a);
	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &a, &len, NULL, 0));
	p = mallocx(100000, MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE);
	ATF_REQUIRE(p != NULL);
	dallocx(p, MALLOCX_TCACHE_NONE);
	snprintf(name, sizeof(name), "arena.%u.destroy", a);
	ATF_REQUIRE_EQ(0, mallctl(name, NULL, NULL, NULL, 0));
	epoch();
	after = read_u64("stats.arenas.4097.large.nmalloc");
	ATF_CHECK_EQ(before + 1, after);
	ATF_CHECK_EQ(0, read_size("stats.arenas.4097.pactive"));
}

ATF_TC_WITHOUT_HEAD(zero_reallocs_counts_realloc_to_zero);
ATF_TC_BODY(zero_reallocs_counts_realloc_to_zero, tc)
{
	size_t before, after;
	void *p;

	before = read_size("stats.zero_reallocs");
	p = malloc(10);
	ATF_REQUIRE(p != NULL);
	p = realloc(p, 0);
	free(p);
	after = read_size("stats.zero_reallocs");
	ATF_CHECK_EQ(before + 1, after);
}

ATF_TC_WITHOUT_HEAD(retain_grow_limit_write_then_read);
ATF_TC_BODY(retain_grow_limit_write_then_read, tc)
{
	size_t old, v = (size_t)4 << 20, tiny = 1, len = sizeof(old);

	ATF_REQUIRE_EQ(0, mallctl("arena.0.retain_grow_limit", &old, &len,
	    &v, sizeof(v)));
	ATF_CHECK(old >= v);
	ATF_CHECK_EQ(v, read_size("arena.0.retain_grow_limit"));
	ATF_CHECK_EQ(EINVAL, mallctl("arena.0.retain_grow_limit", NULL, NULL,
	    &tiny, sizeof(tiny)));
	ATF_REQUIRE_EQ(0, mallctl("arena.0.retain_grow_limit", NULL, NULL,
	    &old, sizeof(old)));
}

ATF_TC_WITHOUT_HEAD(arena_dirty_decay_ms_write_then_read);
ATF_TC_BODY(arena_dirty_decay_ms_write_then_read, tc)
{
	ssize_t old, v = 1234, bad = -2;
	size_t len = sizeof(old);

	ATF_REQUIRE_EQ(0, mallctl("arena.0.dirty_decay_ms", &old, &len, &v,
	    sizeof(v)));
	ATF_REQUIRE_EQ(0, mallctl("arena.0.dirty_decay_ms", &v, &len, NULL,
	    0));
	ATF_CHECK_EQ(1234, v);
	ATF_CHECK_EQ(EFAULT, mallctl("arena.0.dirty_decay_ms", NULL, NULL,
	    &bad, sizeof(bad)));
	ATF_CHECK_EQ(EFAULT, mallctl("arena.4000.dirty_decay_ms", &v, &len,
	    NULL, 0));
	ATF_CHECK_EQ(0, mallctl("arena.0.dirty_decay_ms", NULL, NULL, &old,
	    sizeof(old)));
}

ATF_TC_WITHOUT_HEAD(thread_arena_binds_and_rejects_missing_arenas);
ATF_TC_BODY(thread_arena_binds_and_rejects_missing_arenas, tc)
{
	unsigned a, cur, bad = 4000;
	size_t len = sizeof(a);
	void *p;

	ATF_REQUIRE_EQ(0, mallctl("arenas.create", &a, &len, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("thread.arena", NULL, NULL, &a, sizeof(a)));
	ATF_REQUIRE_EQ(0, mallctl("thread.arena", &cur, &len, NULL, 0));
	ATF_CHECK_EQ(a, cur);
	p = malloc(200000);
	ATF_REQUIRE_EQ(0, mallctl("arenas.lookup", &cur, &len, &p, sizeof(p)));
	ATF_CHECK_EQ(a, cur);
	free(p);
	ATF_CHECK_EQ(EFAULT, mallctl("thread.arena", NULL, NULL, &bad,
	    sizeof(bad)));
}

ATF_TC_WITHOUT_HEAD(stats_grow_with_allocation_and_drop_after_purge);
ATF_TC_BODY(stats_grow_with_allocation_and_drop_after_purge, tc)
{
	size_t alloc0, active0, res0, alloc1, active1, res1;
	enum { NSMALL = 10000 };
	static void *small[NSMALL];
	char *big;
	int i;

	epoch();
	alloc0 = read_size("stats.allocated");
	active0 = read_size("stats.active");
	res0 = read_size("stats.resident");
	big = malloc(100 << 20);
	ATF_REQUIRE(big != NULL);
	memset(big, 1, 100 << 20);
	for (i = 0; i < NSMALL; i++)
		small[i] = malloc(64 + i % 512);
	epoch();
	alloc1 = read_size("stats.allocated");
	active1 = read_size("stats.active");
	res1 = read_size("stats.resident");
	ATF_CHECK(alloc1 >= alloc0 + (100 << 20));
	ATF_CHECK(active1 >= active0 + (100 << 20));
	ATF_CHECK(res1 >= res0 + (100 << 20));
	ATF_CHECK(active1 >= alloc1);
	ATF_CHECK(read_size("stats.mapped") >= active1);
	free(big);
	for (i = 0; i < NSMALL; i++)
		free(small[i]);
	ATF_REQUIRE_EQ(0, mallctl("thread.tcache.flush", NULL, NULL, NULL, 0));
	ATF_REQUIRE_EQ(0, mallctl("arena.4096.purge", NULL, NULL, NULL, 0));
	epoch();
	ATF_CHECK(read_size("stats.allocated") <= alloc1 - (100 << 20));
	ATF_CHECK(read_size("stats.active") <= active1 - (100 << 20));
	ATF_CHECK(read_size("stats.resident") <= res1 - (100 << 20));
	ATF_CHECK(read_size("stats.retained") >= (100 << 20));
}

ATF_TC_WITHOUT_HEAD(merged_arena_stats_sum_the_arenas);
ATF_TC_BODY(merged_arena_stats_sum_the_arenas, tc)
{
	unsigned n, i;
	size_t len = sizeof(n), sum = 0, v;
	char name[64];

	free(malloc(1000));
	epoch();
	ATF_REQUIRE_EQ(0, mallctl("arenas.narenas", &n, &len, NULL, 0));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "stats.arenas.%u.pactive", i);
		len = sizeof(v);
		if (mallctl(name, &v, &len, NULL, 0) == 0)
			sum += v;
	}
	ATF_CHECK_EQ(sum, read_size("stats.arenas.4096.pactive"));
	ATF_CHECK_EQ(sum * 4096, read_size("stats.active"));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, every_node_reads_with_its_size);
	ATF_TP_ADD_TC(tp, wrong_oldlen_is_einval_and_copies_the_overlap);
	ATF_TP_ADD_TC(tp, writing_a_read_only_node_is_eperm);
	ATF_TP_ADD_TC(tp, wrong_newlen_is_einval);
	ATF_TP_ADD_TC(tp, unknown_names_and_indices_are_enoent);
	ATF_TP_ADD_TC(tp, nametomib_then_bymib_equals_mallctl);
	ATF_TP_ADD_TC(tp, mib_index_can_be_replaced);
	ATF_TP_ADD_TC(tp, epoch_write_advances_epoch);
	ATF_TP_ADD_TC(tp, thread_allocated_counts_exact_bytes);
	ATF_TP_ADD_TC(tp, thread_counts_exact_under_traffic);
	ATF_TP_ADD_TC(tp, thread_tcache_flush_returns_cached_regions);
	ATF_TP_ADD_TC(tp, thread_tcache_enabled_toggles);
	ATF_TP_ADD_TC(tp, explicit_tcache_create_use_destroy);
	ATF_TP_ADD_TC(tp, arenas_create_gives_an_arena_mallocx_uses);
	ATF_TP_ADD_TC(tp, arenas_lookup_rejects_foreign_pointers);
	ATF_TP_ADD_TC(tp, arena_destroy_of_created_arena_succeeds);
	ATF_TP_ADD_TC(tp, destroyed_arena_stats_are_kept);
	ATF_TP_ADD_TC(tp, zero_reallocs_counts_realloc_to_zero);
	ATF_TP_ADD_TC(tp, retain_grow_limit_write_then_read);
	ATF_TP_ADD_TC(tp, arena_dirty_decay_ms_write_then_read);
	ATF_TP_ADD_TC(tp, thread_arena_binds_and_rejects_missing_arenas);
	ATF_TP_ADD_TC(tp, stats_grow_with_allocation_and_drop_after_purge);
	ATF_TP_ADD_TC(tp, merged_arena_stats_sum_the_arenas);
	return (atf_no_error());
}
