/*
 * Extent hooks (arenas.create with an extent_hooks_t *, arena.<i>.extent_hooks):
 * an arena served from one fixed 256 MiB region that this program owns,
 * carved by a first-fit page allocator inside the hooks.  Each case checks
 * one behaviour of the hook protocol as jemalloc 5 documents it: where the
 * memory comes from, the arguments of each hook, what the allocator does
 * when a hook refuses, and that destroy gives every page back.
 *
 * The hooks run with the arena's extent lock held, so they never call the
 * allocator and never call ATF: they count, and record the first protocol
 * violation they see in region.bad for the case to report.
 *
 * retain:false so that purges offer extents to dalloc first (with retain
 * they go to purge_forced and stay), which exercises both paths.
 */
#include <sys/mman.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"

const char *malloc_conf = "retain:false";

#define	REGION_SIZE	((size_t)256 << 20)
#define	PG		((size_t)4096)
#define	REGION_NPAGES	(REGION_SIZE / PG)
#define	ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uintptr_t)(a) - 1))
#define	nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The caller-owned region and the hooks' view of it.  inuse[i]: page i was
 * handed out by alloc and not yet given back by dalloc or destroy.
 * committed[i]: page i is committed as far as the hooks told the
 * allocator.  Byte counters are sums of the sizes each hook received.
 */
static struct {
	pthread_mutex_t	lock;
	char		*base;
	uint8_t		inuse[REGION_NPAGES];
	uint8_t		committed[REGION_NPAGES];
	unsigned	arena_ind;	/* the arena the hooks serve */
	/* Behaviour switches. */
	bool		refuse_split, refuse_merge, refuse_dalloc;
	bool		report_uncommitted;	/* alloc sets *commit = false */
	bool		dirty_fill;		/* alloc hands out garbage */
	/* Counters. */
	unsigned	nalloc, ndalloc, ndestroy, ncommit, ndecommit;
	unsigned	npurge_lazy, npurge_forced, nsplit, nmerge;
	size_t		alloc_bytes, dalloc_bytes, destroy_bytes;
	size_t		purge_lazy_bytes, purge_forced_bytes, decommit_bytes;
	char		bad[256];	/* first violation seen, or "" */
} region = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
violation(const char *fmt, ...)
{
	va_list ap;

	if (region.bad[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(region.bad, sizeof(region.bad), fmt, ap);
	va_end(ap);
}

/* Page index of addr, or violation and SIZE_MAX if [addr, +size) is out. */
static size_t
page_of(const char *hook, void *addr, size_t size)
{
	char *p = addr;

	if (p < region.base || p + size > region.base + REGION_SIZE ||
	    size == 0 || size % PG != 0 || (uintptr_t)p % PG != 0) {
		violation("%s(%p, %zu): outside the region or not pages", hook,
		    addr, size);
		return (SIZE_MAX);
	}
	return ((size_t)(p - region.base) / PG);
}

/* Are all pages of [addr, +size) in use (handed out, not given back)? */
static bool
range_inuse(size_t first, size_t npages)
{
	size_t i;

	for (i = first; i < first + npages; i++)
		if (!region.inuse[i])
			return (false);
	return (true);
}

static void
check_arena(const char *hook, unsigned arena_ind)
{
	if (arena_ind != region.arena_ind)
		violation("%s: arena_ind %u, expected %u", hook, arena_ind,
		    region.arena_ind);
}

static void *
region_alloc(extent_hooks_t *h, void *new_addr, size_t size,
    size_t alignment, bool *zero, bool *commit, unsigned arena_ind)
{
	size_t step, first, i, npages;
	void *ret = NULL;

	(void)h;
	pthread_mutex_lock(&region.lock);
	region.nalloc++;
	check_arena("alloc", arena_ind);
	if (new_addr != NULL)
		violation("alloc: new_addr %p, expected NULL", new_addr);
	if (size == 0 || size % PG != 0)
		violation("alloc: size %zu not a page multiple", size);
	if (alignment < PG || (alignment & (alignment - 1)) != 0)
		violation("alloc: alignment %zu", alignment);
	if (!*commit)
		violation("alloc: *commit false on entry");
	npages = size / PG;
	step = alignment / PG;
	/* Alignment is of the address, not of the offset in the region. */
	first = (ALIGN_UP((uintptr_t)region.base, alignment) -
	    (uintptr_t)region.base) / PG;
	for (; first + npages <= REGION_NPAGES; first += step) {
		for (i = 0; i < npages && !region.inuse[first + i]; i++)
			;
		if (i == npages)
			break;
	}
	if (first + npages <= REGION_NPAGES) {
		ret = region.base + first * PG;
		memset(&region.inuse[first], 1, npages);
		memset(&region.committed[first], !region.report_uncommitted,
		    npages);
		region.alloc_bytes += size;
		if (region.dirty_fill) {
			memset(ret, 0xa5, size);
			*zero = false;
		} else if (*zero)
			memset(ret, 0, size);
		*commit = !region.report_uncommitted;
	}
	pthread_mutex_unlock(&region.lock);
	return (ret);
}

/* Gives pages back to the region (dalloc or destroy). */
static bool
region_release(const char *hook, void *addr, size_t size, size_t *bytes)
{
	size_t first;

	first = page_of(hook, addr, size);
	if (first == SIZE_MAX)
		return (false);
	if (!range_inuse(first, size / PG)) {
		violation("%s(%p, %zu): pages not in use", hook, addr, size);
		return (false);
	}
	memset(&region.inuse[first], 0, size / PG);
	*bytes += size;
	return (true);
}

static bool
region_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	bool refused;

	(void)h;
	(void)committed;
	pthread_mutex_lock(&region.lock);
	region.ndalloc++;
	check_arena("dalloc", arena_ind);
	refused = region.refuse_dalloc;
	if (!refused)
		region_release("dalloc", addr, size, &region.dalloc_bytes);
	pthread_mutex_unlock(&region.lock);
	return (refused);
}

static void
region_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	(void)h;
	(void)committed;
	pthread_mutex_lock(&region.lock);
	region.ndestroy++;
	check_arena("destroy", arena_ind);
	region_release("destroy", addr, size, &region.destroy_bytes);
	pthread_mutex_unlock(&region.lock);
}

/* Checks a (addr, size, offset, length) call on pages in use. */
static size_t
sub_range(const char *hook, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	size_t first;

	check_arena(hook, arena_ind);
	first = page_of(hook, addr, size);
	if (first == SIZE_MAX)
		return (SIZE_MAX);
	if (offset % PG != 0 || length == 0 || length % PG != 0 ||
	    offset + length > size) {
		violation("%s: offset %zu length %zu of size %zu", hook, offset,
		    length, size);
		return (SIZE_MAX);
	}
	if (!range_inuse(first, size / PG)) {
		violation("%s(%p, %zu): pages not in use", hook, addr, size);
		return (SIZE_MAX);
	}
	return (first + offset / PG);
}

static bool
region_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	size_t first;

	(void)h;
	pthread_mutex_lock(&region.lock);
	region.ncommit++;
	first = sub_range("commit", addr, size, offset, length, arena_ind);
	if (first != SIZE_MAX)
		memset(&region.committed[first], 1, length / PG);
	pthread_mutex_unlock(&region.lock);
	return (false);
}

static bool
region_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	size_t first;

	(void)h;
	pthread_mutex_lock(&region.lock);
	region.ndecommit++;
	first = sub_range("decommit", addr, size, offset, length, arena_ind);
	if (first != SIZE_MAX) {
		memset(&region.committed[first], 0, length / PG);
		region.decommit_bytes += length;
	}
	pthread_mutex_unlock(&region.lock);
	return (false);
}

static bool
region_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset,
    size_t length, unsigned arena_ind)
{
	(void)h;
	pthread_mutex_lock(&region.lock);
	region.npurge_lazy++;
	if (sub_range("purge_lazy", addr, size, offset, length, arena_ind) !=
	    SIZE_MAX)
		region.purge_lazy_bytes += length;
	pthread_mutex_unlock(&region.lock);
	return (false);
}

/* Zeroes the pages, as MADV_DONTNEED on private memory does. */
static bool
region_purge_forced(extent_hooks_t *h, void *addr, size_t size,
    size_t offset, size_t length, unsigned arena_ind)
{
	(void)h;
	pthread_mutex_lock(&region.lock);
	region.npurge_forced++;
	if (sub_range("purge_forced", addr, size, offset, length, arena_ind) !=
	    SIZE_MAX) {
		memset((char *)addr + offset, 0, length);
		region.purge_forced_bytes += length;
	}
	pthread_mutex_unlock(&region.lock);
	return (false);
}

static bool
region_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    size_t size_b, bool committed, unsigned arena_ind)
{
	size_t first;
	bool refused;

	(void)h;
	(void)committed;
	pthread_mutex_lock(&region.lock);
	region.nsplit++;
	check_arena("split", arena_ind);
	first = page_of("split", addr, size);
	if (size_a == 0 || size_b == 0 || size_a % PG != 0 ||
	    size_a + size_b != size)
		violation("split(%p, %zu, %zu, %zu): bad sizes", addr, size,
		    size_a, size_b);
	else if (first != SIZE_MAX && !range_inuse(first, size / PG))
		violation("split(%p, %zu): pages not in use", addr, size);
	refused = region.refuse_split;
	pthread_mutex_unlock(&region.lock);
	return (refused);
}

static bool
region_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, bool committed, unsigned arena_ind)
{
	size_t first;
	bool refused;

	(void)h;
	(void)committed;
	pthread_mutex_lock(&region.lock);
	region.nmerge++;
	check_arena("merge", arena_ind);
	if ((char *)addr_a + size_a != (char *)addr_b)
		violation("merge(%p, %zu, %p, %zu): not adjacent", addr_a,
		    size_a, addr_b, size_b);
	else if ((first = page_of("merge", addr_a, size_a + size_b)) !=
	    SIZE_MAX && !range_inuse(first, (size_a + size_b) / PG))
		violation("merge(%p, %zu): pages not in use", addr_a,
		    size_a + size_b);
	refused = region.refuse_merge;
	pthread_mutex_unlock(&region.lock);
	return (refused);
}

static extent_hooks_t region_hooks = {
	region_alloc, region_dalloc, region_destroy, region_commit,
	region_decommit, region_purge_lazy, region_purge_forced, region_split,
	region_merge,
};

/* Maps the region afresh and resets the hooks' state. */
static void
region_setup(void)
{
	void *p;

	p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ATF_REQUIRE_MSG(p != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(&region.inuse, 0, sizeof(region) -
	    offsetof(__typeof__(region), inuse));
	region.base = p;
	region.arena_ind = UINT32_MAX;
}

static unsigned
arena_create_with(extent_hooks_t *h)
{
	unsigned ind;
	size_t sz = sizeof(ind);

	ATF_REQUIRE_EQ(mallctl("arenas.create", &ind, &sz, &h, sizeof(h)), 0);
	region.arena_ind = ind;
	return (ind);
}

static void
arena_ctl(unsigned a, const char *leaf)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.%s", a, leaf);
	ATF_REQUIRE_EQ_MSG(mallctl(name, NULL, NULL, NULL, 0), 0, "%s", name);
}

static void
arena_set_ssize(unsigned a, const char *leaf, ssize_t v)
{
	char name[64];

	snprintf(name, sizeof(name), "arena.%u.%s", a, leaf);
	ATF_REQUIRE_EQ_MSG(mallctl(name, NULL, NULL, &v, sizeof(v)), 0, "%s",
	    name);
}

static size_t
arena_stat(unsigned a, const char *leaf)
{
	char name[96];
	uint64_t epoch = 1;
	size_t v, sz = sizeof(v);

	ATF_REQUIRE_EQ(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0);
	snprintf(name, sizeof(name), "stats.arenas.%u.%s", a, leaf);
	ATF_REQUIRE_EQ_MSG(mallctl(name, &v, &sz, NULL, 0), 0, "%s", name);
	return (v);
}

static bool
in_region(const void *p, size_t size)
{
	const char *c = p;

	return (c >= region.base && c + size <= region.base + REGION_SIZE);
}

/* Every page of [p, +size) was handed out by alloc and is still in use. */
static bool
pages_inuse(const void *p, size_t size)
{
	size_t first = (size_t)((const char *)p - region.base) / PG;
	size_t last = (size_t)((const char *)p + size - 1 - region.base) / PG;
	bool ok;

	pthread_mutex_lock(&region.lock);
	ok = range_inuse(first, last - first + 1);
	pthread_mutex_unlock(&region.lock);
	return (ok);
}

static size_t
region_inuse_bytes(void)
{
	size_t i, n = 0;

	pthread_mutex_lock(&region.lock);
	for (i = 0; i < REGION_NPAGES; i++)
		n += region.inuse[i];
	pthread_mutex_unlock(&region.lock);
	return (n * PG);
}

#define	CHECK_NO_VIOLATION()						\
	ATF_CHECK_MSG(region.bad[0] == '\0', "hook protocol: %s", region.bad)

/* Sizes that cover every kind: small, large, huge. */
static const size_t kind_sizes[] = {
	1, 8, 24, 100, 512, 3000, 14336, 16384 + 1, 100000, 1 << 20,
	(4 << 20) + 123, 20 << 20,
};

ATF_TC_WITHOUT_HEAD(every_allocation_lies_in_the_region);
ATF_TC_BODY(every_allocation_lies_in_the_region, tc)
{
	static const size_t aligns[] = { 64, 4096, 65536, 2 << 20, 8 << 20 };
	void *p[64];
	size_t i, j, n = 0, us;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	for (i = 0; i < nitems(kind_sizes); i++) {
		p[n] = mallocx(kind_sizes[i], MALLOCX_ARENA(a));
		ATF_REQUIRE(p[n] != NULL);
		n++;
	}
	for (i = 0; i < nitems(aligns); i++) {
		for (j = 0; j < 3; j++) {
			p[n] = mallocx(j == 0 ? 8 : j == 1 ? 70000 : 3 << 20,
			    MALLOCX_ARENA(a) | MALLOCX_ALIGN(aligns[i]));
			ATF_REQUIRE(p[n] != NULL);
			ATF_CHECK_MSG(((uintptr_t)p[n] & (aligns[i] - 1)) == 0,
			    "%p not aligned to %zu", p[n], aligns[i]);
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		us = sallocx(p[i], 0);
		ATF_CHECK_MSG(in_region(p[i], us), "%p (%zu bytes) outside "
		    "the region [%p, +256 MiB)", p[i], us, region.base);
		ATF_CHECK_MSG(in_region(p[i], us) && pages_inuse(p[i], us),
		    "%p (%zu bytes) on pages the hooks did not hand out", p[i],
		    us);
		memset(p[i], 0x5a, us);
	}
	for (i = 0; i < n; i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	ATF_CHECK(region.nalloc > 0);
	CHECK_NO_VIOLATION();
}

ATF_TC_WITHOUT_HEAD(alloc_hook_gets_documented_arguments);
ATF_TC_BODY(alloc_hook_gets_documented_arguments, tc)
{
	void *p, *q;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	p = mallocx(64, MALLOCX_ARENA(a));
	q = mallocx(30 << 20, MALLOCX_ARENA(a) | MALLOCX_ALIGN(4 << 20));
	ATF_REQUIRE(p != NULL && q != NULL);
	/* new_addr, page multiples, *commit and arena_ind: in the hook. */
	CHECK_NO_VIOLATION();
	ATF_CHECK(region.nalloc >= 2);
	ATF_CHECK_EQ(region.alloc_bytes, region_inuse_bytes());
	dallocx(p, MALLOCX_TCACHE_NONE);
	dallocx(q, MALLOCX_TCACHE_NONE);
}

/* *zero out false: the allocator must zero MALLOCX_ZERO memory itself. */
ATF_TC_WITHOUT_HEAD(zero_reported_false_is_zeroed_by_allocator);
ATF_TC_BODY(zero_reported_false_is_zeroed_by_allocator, tc)
{
	static const size_t sizes[] = { 16, 2048, 40000, 3 << 20 };
	unsigned char *p;
	size_t i, j;
	unsigned a;

	region_setup();
	region.dirty_fill = true;
	a = arena_create_with(&region_hooks);
	for (i = 0; i < nitems(sizes); i++) {
		p = mallocx(sizes[i], MALLOCX_ARENA(a) | MALLOCX_ZERO);
		ATF_REQUIRE(p != NULL);
		for (j = 0; j < sizes[i] && p[j] == 0; j++)
			;
		ATF_CHECK_MSG(j == sizes[i], "size %zu: byte %zu is 0x%x",
		    sizes[i], j, p[j]);
		dallocx(p, MALLOCX_TCACHE_NONE);
	}
	CHECK_NO_VIOLATION();
}

/*
 * *commit out false: the extent is not committed, and the allocator must
 * commit (through the commit hook) any page it uses, as jemalloc does.
 */
ATF_TC_WITHOUT_HEAD(uncommitted_extent_is_committed_before_use);
ATF_TC_BODY(uncommitted_extent_is_committed_before_use, tc)
{
	size_t first, npages, i, bad = SIZE_MAX;
	void *p;
	unsigned a;

	region_setup();
	region.report_uncommitted = true;
	a = arena_create_with(&region_hooks);
	p = mallocx(100000, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	first = (size_t)((char *)p - region.base) / PG;
	npages = (sallocx(p, 0) + PG - 1) / PG;
	for (i = 0; i < npages; i++)
		if (!region.committed[first + i] && bad == SIZE_MAX)
			bad = i;
	ATF_CHECK_MSG(bad == SIZE_MAX, "page %zu of %p is used without a "
	    "commit hook call (ncommit %u)", bad, p, region.ncommit);
	CHECK_NO_VIOLATION();
	dallocx(p, MALLOCX_TCACHE_NONE);
}

ATF_TC_WITHOUT_HEAD(split_called_when_extent_is_carved);
ATF_TC_BODY(split_called_when_extent_is_carved, tc)
{
	void *p;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	/* One slab out of a grown extent of at least 2 MiB. */
	p = mallocx(32, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	ATF_CHECK_EQ(region.nalloc, 1);
	ATF_CHECK_MSG(region.nsplit >= 1, "nsplit %u", region.nsplit);
	CHECK_NO_VIOLATION();
	dallocx(p, MALLOCX_TCACHE_NONE);
}

ATF_TC_WITHOUT_HEAD(merge_called_when_neighbours_coalesce);
ATF_TC_BODY(merge_called_when_neighbours_coalesce, tc)
{
	void *p[8];
	unsigned a, i, nalloc;

	region_setup();
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	for (i = 0; i < nitems(p); i++) {
		p[i] = mallocx(64 << 10, MALLOCX_ARENA(a));
		ATF_REQUIRE(p[i] != NULL);
	}
	nalloc = region.nalloc;
	for (i = 0; i < nitems(p); i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	ATF_CHECK_MSG(region.nmerge >= nitems(p) - 1, "nmerge %u",
	    region.nmerge);
	/* Coalesced: 512 KiB fits in what they left, without a new alloc. */
	p[0] = mallocx(512 << 10, MALLOCX_ARENA(a));
	ATF_REQUIRE(p[0] != NULL);
	ATF_CHECK_EQ(region.nalloc, nalloc);
	dallocx(p[0], MALLOCX_TCACHE_NONE);
	CHECK_NO_VIOLATION();
}

ATF_TC_WITHOUT_HEAD(purge_returns_pages_through_dalloc);
ATF_TC_BODY(purge_returns_pages_through_dalloc, tc)
{
	void *p;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	p = mallocx(8 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	dallocx(p, MALLOCX_TCACHE_NONE);
	ATF_CHECK_EQ(region.ndalloc, 0);
	arena_ctl(a, "purge");
	ATF_CHECK(region.ndalloc > 0);
	ATF_CHECK_EQ(region.dalloc_bytes, region.alloc_bytes);
	ATF_CHECK_EQ(region_inuse_bytes(), 0);
	CHECK_NO_VIOLATION();
}

/* Lazy purging happens on decay when muzzy_decay_ms is not 0. */
ATF_TC_WITHOUT_HEAD(decay_purges_lazily_through_purge_lazy);
ATF_TC_BODY(decay_purges_lazily_through_purge_lazy, tc)
{
	void *p;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "muzzy_decay_ms", 10000);
	arena_set_ssize(a, "dirty_decay_ms", 0);
	p = mallocx(1 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	dallocx(p, MALLOCX_TCACHE_NONE);
	ATF_CHECK_MSG(region.npurge_lazy > 0, "npurge_lazy %u",
	    region.npurge_lazy);
	ATF_CHECK(region.purge_lazy_bytes >= (1 << 20));
	ATF_CHECK_EQ(region.ndalloc, 0);
	CHECK_NO_VIOLATION();
}

/*
 * dalloc refusing (true) opts out: the extent stays mapped and is retained,
 * after being purged (decommit or purge_forced), and is reused without a
 * new alloc call.
 */
static void
dalloc_refused_case(bool no_dalloc_hook)
{
	extent_hooks_t h = region_hooks;
	static extent_hooks_t hooks;
	void *p;
	unsigned a, nalloc;

	region_setup();
	region.refuse_dalloc = true;
	if (no_dalloc_hook)
		h.dalloc = NULL;
	hooks = h;
	a = arena_create_with(&hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	p = mallocx(4 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	pattern_fill(p, 4 << 20, 1);
	dallocx(p, MALLOCX_TCACHE_NONE);
	arena_ctl(a, "purge");
	ATF_CHECK_EQ(region.dalloc_bytes, 0);
	ATF_CHECK_EQ(region_inuse_bytes(), region.alloc_bytes);
	ATF_CHECK_MSG(region.purge_forced_bytes + region.decommit_bytes >=
	    ((size_t)4 << 20), "purge_forced %zu decommit %zu bytes",
	    region.purge_forced_bytes, region.decommit_bytes);
	ATF_CHECK(arena_stat(a, "retained") >= ((size_t)4 << 20));
	nalloc = region.nalloc;
	p = mallocx(4 << 20, MALLOCX_ARENA(a) | MALLOCX_ZERO);
	ATF_REQUIRE(p != NULL);
	ATF_CHECK_EQ(region.nalloc, nalloc);
	ATF_CHECK(in_region(p, 4 << 20));
	dallocx(p, MALLOCX_TCACHE_NONE);
	CHECK_NO_VIOLATION();
}

/*
 * As jemalloc: an extent the dalloc hook refuses is decommitted when the
 * hooks can, and committed again before it is reused.
 */
ATF_TC_WITHOUT_HEAD(refused_extent_is_decommitted_then_recommitted);
ATF_TC_BODY(refused_extent_is_decommitted_then_recommitted, tc)
{
	void *p;
	unsigned a, ncommit;

	region_setup();
	region.refuse_dalloc = true;
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	p = mallocx(4 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	pattern_fill(p, 4 << 20, 2);
	dallocx(p, MALLOCX_TCACHE_NONE);
	arena_ctl(a, "purge");
	ATF_CHECK(region.ndecommit > 0);
	ATF_CHECK_MSG(region.decommit_bytes >= ((size_t)4 << 20),
	    "decommit %zu bytes", region.decommit_bytes);
	ncommit = region.ncommit;
	p = mallocx(4 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	ATF_CHECK(region.ncommit > ncommit);
	memset(p, 0x11, 4 << 20);
	dallocx(p, MALLOCX_TCACHE_NONE);
	CHECK_NO_VIOLATION();
}

ATF_TC_WITHOUT_HEAD(dalloc_refused_extent_is_retained);
ATF_TC_BODY(dalloc_refused_extent_is_retained, tc)
{
	dalloc_refused_case(false);
}

ATF_TC_WITHOUT_HEAD(no_dalloc_hook_extent_is_retained);
ATF_TC_BODY(no_dalloc_hook_extent_is_retained, tc)
{
	dalloc_refused_case(true);
	ATF_CHECK_EQ(region.ndalloc, 0);
}

/* Split refused: allocations still work (whole extents) or fail cleanly. */
ATF_TC_WITHOUT_HEAD(split_refused_allocation_still_works);
ATF_TC_BODY(split_refused_allocation_still_works, tc)
{
	void *p[3 * nitems(kind_sizes)];
	size_t i, n = 0;
	unsigned a;

	region_setup();
	region.refuse_split = true;
	a = arena_create_with(&region_hooks);
	for (i = 0; i < nitems(p); i++) {
		p[n] = mallocx(kind_sizes[i % nitems(kind_sizes)],
		    MALLOCX_ARENA(a));
		if (p[n] == NULL)
			continue;
		ATF_CHECK(in_region(p[n], sallocx(p[n], 0)));
		memset(p[n], 0x77, sallocx(p[n], 0));
		n++;
	}
	ATF_CHECK_MSG(n > 0, "every allocation failed");
	ATF_CHECK(region.nsplit > 0);
	for (i = 0; i < n; i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	arena_ctl(a, "purge");
	/* Nothing handed out twice: alloc tracked every extent exactly. */
	ATF_CHECK_EQ(region.alloc_bytes, region_inuse_bytes() +
	    region.dalloc_bytes);
	CHECK_NO_VIOLATION();
}

ATF_TC_WITHOUT_HEAD(merge_refused_extents_stay_apart);
ATF_TC_BODY(merge_refused_extents_stay_apart, tc)
{
	void *p[8];
	unsigned a, i;

	region_setup();
	region.refuse_merge = true;
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	for (i = 0; i < nitems(p); i++)
		ATF_REQUIRE((p[i] = mallocx(64 << 10, MALLOCX_ARENA(a))) !=
		    NULL);
	for (i = 0; i < nitems(p); i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	ATF_CHECK(region.nmerge > 0);
	for (i = 0; i < nitems(p); i++) {
		ATF_REQUIRE((p[i] = mallocx(64 << 10, MALLOCX_ARENA(a))) !=
		    NULL);
		ATF_CHECK(in_region(p[i], 64 << 10));
	}
	for (i = 0; i < nitems(p); i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	arena_ctl(a, "destroy");
	ATF_CHECK_EQ(region_inuse_bytes(), 0);
	CHECK_NO_VIOLATION();
}

ATF_TC_WITHOUT_HEAD(destroy_hands_every_extent_back);
ATF_TC_BODY(destroy_hands_every_extent_back, tc)
{
	void *p;
	size_t i;
	unsigned a;

	region_setup();
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	/* Live small, large and huge blocks, and some already freed. */
	for (i = 0; i < 2000; i++) {
		p = mallocx(kind_sizes[i % 9], MALLOCX_ARENA(a));
		ATF_REQUIRE(p != NULL);
		if (i % 3 == 0)
			dallocx(p, MALLOCX_TCACHE_NONE);
	}
	ATF_REQUIRE(mallocx(20 << 20, MALLOCX_ARENA(a)) != NULL);
	ATF_REQUIRE(region.alloc_bytes > 0);
	arena_ctl(a, "destroy");
	ATF_CHECK(region.ndestroy > 0);
	ATF_CHECK_EQ(region.destroy_bytes + region.dalloc_bytes,
	    region.alloc_bytes);
	ATF_CHECK_EQ(region_inuse_bytes(), 0);
	CHECK_NO_VIOLATION();
}

/*
 * Metadata (extent descriptors, slab bitmaps, the arena itself) comes from
 * the allocator's base, never from the hooks: thousands of extents later,
 * the region holds exactly the arena's mapped and retained pages.
 */
ATF_TC_WITHOUT_HEAD(metadata_never_comes_from_hooks);
ATF_TC_BODY(metadata_never_comes_from_hooks, tc)
{
	enum { NLARGE = 3000, NSMALL = 20000 };
	static void *large[NLARGE], *small[NSMALL];
	size_t i, meta0, meta1, sz = sizeof(meta0), user = 0;
	uint64_t epoch = 1;
	unsigned a;

	region_setup();
	ATF_REQUIRE_EQ(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0);
	ATF_REQUIRE_EQ(mallctl("stats.metadata", &meta0, &sz, NULL, 0), 0);
	a = arena_create_with(&region_hooks);
	arena_set_ssize(a, "dirty_decay_ms", -1);
	for (i = 0; i < NLARGE; i++) {
		/* Every other one freed: free extents need descriptors too. */
		large[i] = mallocx(16384 + (i % 5) * 4096, MALLOCX_ARENA(a));
		ATF_REQUIRE(large[i] != NULL);
	}
	for (i = 0; i < NLARGE; i += 2) {
		dallocx(large[i], MALLOCX_TCACHE_NONE);
		large[i] = NULL;
	}
	for (i = 0; i < NSMALL; i++) {
		small[i] = mallocx(8 + (i % 40) * 16, MALLOCX_ARENA(a));
		ATF_REQUIRE(small[i] != NULL);
	}
	for (i = 0; i < NLARGE; i++)
		if (large[i] != NULL) {
			ATF_CHECK(in_region(large[i], 16384));
			user += sallocx(large[i], 0);
		}
	for (i = 0; i < NSMALL; i++) {
		ATF_CHECK(in_region(small[i], 8));
		user += sallocx(small[i], 0);
	}
	ATF_REQUIRE_EQ(mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)), 0);
	ATF_REQUIRE_EQ(mallctl("stats.metadata", &meta1, &sz, NULL, 0), 0);
	ATF_CHECK_EQ_MSG(region_inuse_bytes(), arena_stat(a, "mapped") +
	    arena_stat(a, "retained"), "region %zu, arena mapped %zu + "
	    "retained %zu", region_inuse_bytes(), arena_stat(a, "mapped"),
	    arena_stat(a, "retained"));
	ATF_CHECK_EQ(arena_stat(a, "small.allocated") +
	    arena_stat(a, "large.allocated"), user);
	/* Descriptors for thousands of extents did come from somewhere. */
	ATF_CHECK_MSG(meta1 > meta0, "metadata %zu -> %zu", meta0, meta1);
	arena_ctl(a, "destroy");
	ATF_CHECK_EQ(region_inuse_bytes(), 0);
	CHECK_NO_VIOLATION();
}

/* Calls of the second table's alloc (extent_hooks_read_and_write). */
static unsigned	second_nalloc;

static void *
counting_alloc(extent_hooks_t *h, void *new_addr, size_t size,
    size_t alignment, bool *zero, bool *commit, unsigned arena_ind)
{
	__atomic_add_fetch(&second_nalloc, 1, __ATOMIC_RELAXED);
	return (region_alloc(h, new_addr, size, alignment, zero, commit,
	    arena_ind));
}

ATF_TC_WITHOUT_HEAD(extent_hooks_read_and_write);
ATF_TC_BODY(extent_hooks_read_and_write, tc)
{
	extent_hooks_t *old, *def, *newh;
	static extent_hooks_t second;
	char name[64];
	size_t sz = sizeof(old);
	void *p;
	unsigned a, nalloc;

	region_setup();
	a = arena_create_with(&region_hooks);
	snprintf(name, sizeof(name), "arena.%u.extent_hooks", a);
	ATF_REQUIRE_EQ(mallctl(name, &old, &sz, NULL, 0), 0);
	ATF_CHECK_EQ(old, &region_hooks);

	/* A second table: same region, its own identity. */
	second = region_hooks;
	second.alloc = counting_alloc;
	newh = &second;
	ATF_REQUIRE_EQ(mallctl(name, &old, &sz, &newh, sizeof(newh)), 0);
	ATF_CHECK_EQ(old, &region_hooks);
	ATF_REQUIRE_EQ(mallctl(name, &old, &sz, NULL, 0), 0);
	ATF_CHECK_EQ(old, &second);
	nalloc = second_nalloc;
	p = mallocx(40 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	ATF_CHECK(second_nalloc > nalloc);
	ATF_CHECK(in_region(p, 40 << 20));
	dallocx(p, MALLOCX_TCACHE_NONE);
	/* Give the region back before the default table takes over. */
	arena_ctl(a, "purge");
	ATF_CHECK_EQ(region_inuse_bytes(), 0);

	/* NULL is refused; arena 0 reports the default table. */
	newh = NULL;
	ATF_CHECK_EQ(mallctl(name, NULL, NULL, &newh, sizeof(newh)), EINVAL);
	ATF_REQUIRE_EQ(mallctl("arena.0.extent_hooks", &def, &sz, NULL, 0), 0);
	ATF_CHECK(def != NULL && def != &region_hooks && def->alloc != NULL);
	/* The default table works in a created arena too. */
	ATF_REQUIRE_EQ(mallctl(name, NULL, NULL, &def, sizeof(def)), 0);
	p = mallocx(40 << 20, MALLOCX_ARENA(a));
	ATF_REQUIRE(p != NULL);
	ATF_CHECK(!in_region(p, 40 << 20));
	dallocx(p, MALLOCX_TCACHE_NONE);
	CHECK_NO_VIOLATION();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, every_allocation_lies_in_the_region);
	ATF_TP_ADD_TC(tp, alloc_hook_gets_documented_arguments);
	ATF_TP_ADD_TC(tp, zero_reported_false_is_zeroed_by_allocator);
	ATF_TP_ADD_TC(tp, uncommitted_extent_is_committed_before_use);
	ATF_TP_ADD_TC(tp, split_called_when_extent_is_carved);
	ATF_TP_ADD_TC(tp, merge_called_when_neighbours_coalesce);
	ATF_TP_ADD_TC(tp, purge_returns_pages_through_dalloc);
	ATF_TP_ADD_TC(tp, decay_purges_lazily_through_purge_lazy);
	ATF_TP_ADD_TC(tp, dalloc_refused_extent_is_retained);
	ATF_TP_ADD_TC(tp, refused_extent_is_decommitted_then_recommitted);
	ATF_TP_ADD_TC(tp, no_dalloc_hook_extent_is_retained);
	ATF_TP_ADD_TC(tp, split_refused_allocation_still_works);
	ATF_TP_ADD_TC(tp, merge_refused_extents_stay_apart);
	ATF_TP_ADD_TC(tp, destroy_hands_every_extent_back);
	ATF_TP_ADD_TC(tp, metadata_never_comes_from_hooks);
	ATF_TP_ADD_TC(tp, extent_hooks_read_and_write);
	return (atf_no_error());
}
