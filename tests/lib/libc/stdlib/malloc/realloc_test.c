/*
 * realloc(3) keeps a block's contents across every kind of move (small,
 * large and huge, growing and shrinking), realloc(NULL, n) is malloc, and
 * realloc(p, 0) releases p.  Also C23's free_sized and free_aligned_sized,
 * which must release the block like free, and where a huge block that
 * cannot grow in place goes (a freed extent first; its own pages moved).
 */
#define	_GNU_SOURCE		/* mremap */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"

#include "pages.h"

/* C23; glibc 2.36's <stdlib.h> does not declare them yet. */
void	free_sized(void *, size_t);
void	free_aligned_sized(void *, size_t, size_t);

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

/* A leak of what these loops allocate would be far above this. */
#define	RSS_GROWTH_MAX	(64 * MiB)

#define	NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const size_t small_sizes[] = { 1, 15, 16, 17, 100, 1000, 4096,
    14000, 16 * KiB };
static const size_t large_sizes[] = { 16 * KiB + 1, 20 * KiB, 100 * KiB,
    1 * MiB };
static const size_t huge_sizes[] = { 4 * MiB, 8 * MiB + 1, 32 * MiB };

/*
 * Fill a block of size from, realloc it to size to, and check that the
 * first min(from, to) bytes survived.
 */
static void
check_realloc(size_t from, size_t to, unsigned seed)
{
	size_t keep, off;
	void *p, *q;

	p = malloc(from);
	ATF_REQUIRE(p != NULL);
	pattern_fill(p, from, seed);
	q = realloc(p, to);
	ATF_REQUIRE_MSG(q != NULL, "realloc(%zu -> %zu) failed: %s", from, to,
	    strerror(errno));
	ATF_REQUIRE_MSG(usable_size(q) >= to,
	    "realloc(%zu -> %zu): usable size %zu", from, to, usable_size(q));
	keep = from < to ? from : to;
	off = pattern_check(q, keep, seed);
	ATF_REQUIRE_MSG(off == keep,
	    "realloc(%zu -> %zu) lost byte %zu of the contents", from, to,
	    off);
	/* The grown part is the caller's too. */
	memset(q, 0x3c, to);
	free(q);
}

/* Every (from, to) pair from two tables of sizes, in both directions. */
static void
check_realloc_tables(const size_t *a, size_t na, const size_t *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			check_realloc(a[i], b[j], (unsigned)(i * 31 + j));
			check_realloc(b[j], a[i], (unsigned)(i * 17 + j));
		}
	}
}

/* One block grown a byte at a time through every small class, then shrunk. */
ATF_TC_WITHOUT_HEAD(realloc_preserves_contents_small_to_small);
ATF_TC_BODY(realloc_preserves_contents_small_to_small, tc)
{
	unsigned char *p, *q;
	size_t n, off, prev;

	p = malloc(1);
	ATF_REQUIRE(p != NULL);
	pattern_fill(p, 1, 5);
	for (prev = 1, n = 2; n <= 16 * KiB; prev = n, n += n < 2048 ? 1 : 13) {
		q = realloc(p, n);
		ATF_REQUIRE_MSG(q != NULL, "realloc to %zu failed", n);
		p = q;
		off = pattern_check(p, prev, 5);
		ATF_REQUIRE_MSG(off == prev,
		    "growing from %zu to %zu lost byte %zu", prev, n, off);
		pattern_fill(p, n, 5);
	}
	for (n = prev; n > 1; n -= n > 2048 ? 13 : 1) {
		q = realloc(p, n);
		ATF_REQUIRE_MSG(q != NULL, "realloc to %zu failed", n);
		p = q;
		off = pattern_check(p, n, 5);
		ATF_REQUIRE_MSG(off == n, "shrinking to %zu lost byte %zu", n,
		    off);
	}
	free(p);
	check_realloc_tables(small_sizes, NELEMS(small_sizes), small_sizes,
	    NELEMS(small_sizes));
}

ATF_TC_WITHOUT_HEAD(realloc_preserves_contents_small_and_large);
ATF_TC_BODY(realloc_preserves_contents_small_and_large, tc)
{

	check_realloc_tables(small_sizes, NELEMS(small_sizes), large_sizes,
	    NELEMS(large_sizes));
}

ATF_TC_WITHOUT_HEAD(realloc_preserves_contents_large_and_large);
ATF_TC_BODY(realloc_preserves_contents_large_and_large, tc)
{

	check_realloc_tables(large_sizes, NELEMS(large_sizes), large_sizes,
	    NELEMS(large_sizes));
}

ATF_TC_WITHOUT_HEAD(realloc_preserves_contents_large_and_huge);
ATF_TC_BODY(realloc_preserves_contents_large_and_huge, tc)
{

	check_realloc_tables(large_sizes, NELEMS(large_sizes), huge_sizes,
	    NELEMS(huge_sizes));
}

/* Huge blocks shrunk to small ones and back, and between huge sizes. */
ATF_TC_WITHOUT_HEAD(realloc_preserves_contents_huge_and_small);
ATF_TC_BODY(realloc_preserves_contents_huge_and_small, tc)
{

	check_realloc_tables(huge_sizes, NELEMS(huge_sizes), small_sizes,
	    NELEMS(small_sizes));
	check_realloc_tables(huge_sizes, NELEMS(huge_sizes), huge_sizes,
	    NELEMS(huge_sizes));
}

/*
 * Blocks reallocated among many live ones (in-place growth is tempting
 * here) leave their neighbours' contents alone.
 */
ATF_TC_WITHOUT_HEAD(realloc_leaves_other_blocks_intact);
ATF_TC_BODY(realloc_leaves_other_blocks_intact, tc)
{
	enum { NBLOCKS = 512, ROUNDS = 8 };
	static void *blocks[NBLOCKS];
	static size_t sizes[NBLOCKS];
	static unsigned seeds[NBLOCKS];
	size_t i, off;
	unsigned r;
	void *q;

	srandom(42);
	for (i = 0; i < NBLOCKS; i++) {
		sizes[i] = (size_t)random() % (64 * KiB) + 1;
		seeds[i] = (unsigned)i;
		blocks[i] = malloc(sizes[i]);
		ATF_REQUIRE(blocks[i] != NULL);
		pattern_fill(blocks[i], sizes[i], seeds[i]);
	}
	for (r = 0; r < ROUNDS; r++) {
		/* Half the blocks move; every fourth round some go huge. */
		for (i = r % 2; i < NBLOCKS; i += 2) {
			sizes[i] = (size_t)random() % (r % 4 == 3 ? 2 * MiB :
			    64 * KiB) + 1;
			q = realloc(blocks[i], sizes[i]);
			ATF_REQUIRE(q != NULL);
			blocks[i] = q;
			seeds[i] = (unsigned)i + r;
			pattern_fill(blocks[i], sizes[i], seeds[i]);
		}
		for (i = 0; i < NBLOCKS; i++) {
			off = pattern_check(blocks[i], sizes[i], seeds[i]);
			ATF_REQUIRE_MSG(off == sizes[i],
			    "round %u: block %zu (%p, %zu bytes) changed at "
			    "byte %zu", r, i, blocks[i], sizes[i], off);
		}
	}
	for (i = 0; i < NBLOCKS; i++)
		free(blocks[i]);
}

ATF_TC_WITHOUT_HEAD(realloc_null_behaves_as_malloc);
ATF_TC_BODY(realloc_null_behaves_as_malloc, tc)
{
	static const size_t sizes[] = { 0, 1, 16, 100, 5000, 100 * KiB,
	    8 * MiB };
	size_t i;
	void *p;

	for (i = 0; i < NELEMS(sizes); i++) {
		p = realloc(NULL, sizes[i]);
		ATF_REQUIRE_MSG(p != NULL, "realloc(NULL, %zu) failed",
		    sizes[i]);
		ATF_REQUIRE((uintptr_t)p % (sizes[i] >= 16 ? 16 : 1) == 0);
		ATF_REQUIRE(usable_size(p) >= sizes[i]);
		memset(p, 0x11, sizes[i]);
		free(p);
	}
}

/*
 * realloc(p, 0) either frees p and returns NULL (glibc) or returns a
 * minimal block in its place (jemalloc, BSD): both are allowed, but p's
 * memory must be released.  A leak of the 100 000 touched 4 KiB blocks
 * would be 400 MiB of resident memory.
 */
ATF_TC_WITHOUT_HEAD(realloc_to_zero_releases_block);
ATF_TC_BODY(realloc_to_zero_releases_block, tc)
{
	size_t before, after;
	void *p, *q;
	int i;

	before = rss_bytes();
	for (i = 0; i < 100000; i++) {
		p = malloc(4096);
		ATF_REQUIRE(p != NULL);
		memset(p, 0x77, 4096);
		q = realloc(p, 0);
		if (q != NULL) {
			ATF_REQUIRE((uintptr_t)q % 16 == 0);
			free(q);
		}
	}
	after = rss_bytes();
	ATF_REQUIRE_MSG(after < before + RSS_GROWTH_MAX,
	    "RSS grew from %zu to %zu bytes: realloc(p, 0) leaks", before,
	    after);
}

/*
 * free_sized with the size that was requested releases the block: live
 * neighbours keep their contents, and a loop that would leak 640 MiB of
 * touched memory if it did not release stays within the RSS bound.
 */
ATF_TC_WITHOUT_HEAD(free_sized_releases_block);
ATF_TC_BODY(free_sized_releases_block, tc)
{
	enum { NLIVE = 64 };
	void *live[NLIVE], *p;
	size_t before, after, i, n;

	for (i = 0; i < NLIVE; i++) {
		live[i] = malloc(i * 100 + 1);
		ATF_REQUIRE(live[i] != NULL);
		pattern_fill(live[i], i * 100 + 1, (unsigned)i);
	}
	for (n = 0; n <= 20000; n += n < 1024 ? 1 : 97) {
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		memset(p, 0xee, n);
		free_sized(p, n);
	}
	free_sized(NULL, 0);
	before = rss_bytes();
	for (i = 0; i < 10000; i++) {
		n = i % 3 == 0 ? 64 * KiB : (i % 3 == 1 ? 40 * KiB : 3 * MiB);
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		memset(p, 0xee, n < 64 * KiB ? n : 64 * KiB);
		free_sized(p, n);
	}
	after = rss_bytes();
	ATF_REQUIRE_MSG(after < before + RSS_GROWTH_MAX,
	    "RSS grew from %zu to %zu bytes: free_sized leaks", before, after);
	for (i = 0; i < NLIVE; i++) {
		ATF_REQUIRE_EQ_MSG(pattern_check(live[i], i * 100 + 1,
		    (unsigned)i), i * 100 + 1, "live block %zu changed", i);
		free_sized(live[i], i * 100 + 1);
	}
}

ATF_TC_WITHOUT_HEAD(free_aligned_sized_releases_block);
ATF_TC_BODY(free_aligned_sized_releases_block, tc)
{
	size_t align, before, after, i, n;
	void *p;
	int lg;

	for (lg = 0; lg <= 21; lg++) {
		align = (size_t)1 << lg;
		for (n = align; n <= 4 * align && n <= 8 * MiB; n += align) {
			p = aligned_alloc(align, n);
			ATF_REQUIRE_MSG(p != NULL, "aligned_alloc(%zu, %zu)",
			    align, n);
			ATF_REQUIRE((uintptr_t)p % align == 0);
			memset(p, 0xdd, n);
			free_aligned_sized(p, align, n);
		}
	}
	free_aligned_sized(NULL, 64, 0);
	before = rss_bytes();
	for (i = 0; i < 10000; i++) {
		align = (size_t)1 << (6 + i % 10);
		n = 64 * KiB;
		p = aligned_alloc(align, n);
		ATF_REQUIRE(p != NULL);
		memset(p, 0xdd, n);
		free_aligned_sized(p, align, n);
	}
	after = rss_bytes();
	ATF_REQUIRE_MSG(after < before + RSS_GROWTH_MAX,
	    "RSS grew from %zu to %zu bytes: free_aligned_sized leaks", before,
	    after);
}

/*
 * A huge block that cannot grow in place (its neighbour is live) is
 * copied into a freed extent of the new size, whose pages are resident,
 * rather than remapped to a range whose tail is faulted in afresh.  In a
 * new arena: freed gets a mapping of its own, b and c share the next.
 */
ATF_TC_WITHOUT_HEAD(realloc_huge_grows_into_freed_extent);
ATF_TC_BODY(realloc_huge_grows_into_freed_extent, tc)
{
	int flags = MALLOCX_ARENA(arena_new()) | MALLOCX_TCACHE_NONE;
	char *freed, *b, *c, *q;
	size_t off;

	freed = mallocx(4 * MiB, flags);
	b = mallocx(1 * MiB, flags);
	c = mallocx(1 * MiB, flags);
	ATF_REQUIRE(freed != NULL && b != NULL && c != NULL);
	ATF_REQUIRE_MSG(c == b + 1 * MiB, "b %p, c %p: not neighbours",
	    (void *)b, (void *)c);
	memset(freed, 0x5a, 4 * MiB);
	pattern_fill(b, 1 * MiB, 11);
	dallocx(freed, flags);
	q = rallocx(b, 2 * MiB, flags);
	ATF_REQUIRE(q != NULL);
	ATF_REQUIRE_MSG(q == freed, "grown to %p, not into the freed extent "
	    "at %p", (void *)q, (void *)freed);
	off = pattern_check(q, 1 * MiB, 11);
	ATF_REQUIRE_MSG(off == 1 * MiB, "lost byte %zu of the contents", off);
	dallocx(q, flags);
	dallocx(c, flags);
}

/*
 * The copy into a freed extent is for blocks of the calling thread's
 * arena; a huge block of another arena is remapped and stays there,
 * where a copy would fault in fresh pages of the caller's arena.
 */
ATF_TC_WITHOUT_HEAD(realloc_huge_of_another_arena_stays_there);
ATF_TC_BODY(realloc_huge_of_another_arena_stays_there, tc)
{
#ifdef __linux__
	unsigned home, mine = arena_new(), other = arena_new(), got;
	int flags = MALLOCX_ARENA(other) | MALLOCX_TCACHE_NONE;
	size_t len = sizeof(home);
	char *freed, *b, *c, *q;

	freed = mallocx(4 * MiB, flags);
	b = mallocx(1 * MiB, flags);
	c = mallocx(1 * MiB, flags);
	ATF_REQUIRE(freed != NULL && b != NULL && c != NULL);
	ATF_REQUIRE(c == b + 1 * MiB);
	dallocx(freed, flags);
	pattern_fill(b, 1 * MiB, 17);
	ATF_REQUIRE_EQ(mallctl("thread.arena", &home, &len, &mine,
	    sizeof(mine)), 0);
	q = realloc(b, 2 * MiB);
	ATF_REQUIRE_EQ(mallctl("thread.arena", NULL, NULL, &home,
	    sizeof(home)), 0);
	ATF_REQUIRE(q != NULL);
	ATF_REQUIRE_EQ(pattern_check(q, 1 * MiB, 17), 1 * MiB);
	len = sizeof(got);
	ATF_REQUIRE_EQ(mallctl("arenas.lookup", &got, &len, &q, sizeof(q)),
	    0);
	ATF_REQUIRE_EQ_MSG(got, other, "moved to arena %u, not kept in %u",
	    got, other);
	dallocx(q, flags);
	dallocx(c, flags);
#else
	atf_tc_skip("only Linux remaps");
#endif
}

/*
 * A large block may start on pages a freed slab left dirty, whose word 1
 * still holds a free region's mark; realloc to a small class copies the
 * block's first bytes into the new block, which must not then pass for a
 * freed one (malloc_usable_size and free aborted, "double free").  In a
 * new arena, the thread cache bypassed: of three slabs of 14 KiB regions
 * emptied, the second goes back to the dirty cache, and the 40 KiB block
 * reuses it.
 */
ATF_TC_WITHOUT_HEAD(realloc_large_on_freed_slab_to_small);
ATF_TC_BODY(realloc_large_on_freed_slab_to_small, tc)
{
	int flags = MALLOCX_ARENA(arena_new()) | MALLOCX_TCACHE_NONE;
	char *regions[12], *large, *q;
	unsigned i;

	/* Three slabs of four: emptied, one stays current, one spare. */
	for (i = 0; i < 12; i++) {
		regions[i] = mallocx(14336, flags);
		ATF_REQUIRE(regions[i] != NULL);
	}
	for (i = 0; i < 12; i++)
		dallocx(regions[i], flags);
	large = mallocx(40 * KiB, flags);
	ATF_REQUIRE(large != NULL);
	ATF_REQUIRE_MSG(large == regions[4], "40 KiB at %p, not on the freed "
	    "slab at %p", (void *)large, (void *)regions[4]);
	q = rallocx(large, 1000, flags);
	ATF_REQUIRE(q != NULL);
	ATF_REQUIRE(malloc_usable_size(q) >= 1000);
	dallocx(q, flags);
}

#ifdef __linux__
/* Whether mremap can move a range over two mappings (Linux 6.17 on). */
static bool
kernel_moves_two_mappings(void)
{
	size_t len = 4 * (size_t)getpagesize();
	char *a, *dst;
	void *p;
	bool ok;

	a = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(a != MAP_FAILED);
	dst = a + len;
	ATF_REQUIRE_EQ(madvise(a + len / 2, len / 2, MADV_DONTFORK), 0);
	p = mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ok = p == dst;
	munmap(ok ? dst : a, ok ? len : 2 * len);
	return (ok);
}
#endif

/*
 * A huge block over two kernel mappings (extents merge across them),
 * which mremap cannot grow, with no freed extent of the new size: its
 * pages move to a new extent (the old range is unmapped) instead of
 * being copied into pages all faulted in afresh.
 */
ATF_TC_WITHOUT_HEAD(realloc_huge_over_two_mappings_moves_pages);
ATF_TC_BODY(realloc_huge_over_two_mappings_moves_pages, tc)
{
#ifdef __linux__
	int flags = MALLOCX_ARENA(arena_new()) | MALLOCX_TCACHE_NONE;
	unsigned char vec[256];
	char *b, *c, *q;
	size_t off;

	if (!kernel_moves_two_mappings())
		atf_tc_skip("mremap cannot move a range over two mappings");
	/* A new arena's first mapping is 2 MiB: b and c fill it. */
	b = mallocx(1536 * KiB, flags);
	c = mallocx(512 * KiB, flags);
	ATF_REQUIRE(b != NULL && c != NULL);
	ATF_REQUIRE_MSG(c == b + 1536 * KiB, "b %p, c %p: not neighbours",
	    (void *)b, (void *)c);
	pattern_fill(b, 1536 * KiB, 13);
	/* Another flag on b's last part splits its mapping in two. */
	ATF_REQUIRE_EQ(madvise(b + 1 * MiB, 512 * KiB, MADV_DONTFORK), 0);
	q = rallocx(b, 3 * MiB, flags);
	ATF_REQUIRE(q != NULL && q != b);
	off = pattern_check(q, 1536 * KiB, 13);
	ATF_REQUIRE_MSG(off == 1536 * KiB, "lost byte %zu of the contents",
	    off);
	ATF_REQUIRE_MSG(mincore(b, 1 * MiB, vec) == -1 && errno == ENOMEM,
	    "the old range %p is still mapped: the block was copied",
	    (void *)b);
	memset(q, 0x3c, 3 * MiB);
	dallocx(q, flags);
	dallocx(c, flags);
#else
	atf_tc_skip("mremap is Linux's");
#endif
}

/*
 * pages_move (white box) when the kernel refuses, here because source
 * and destination overlap: the source keeps its contents (where dest
 * does not cover it), and dest, which a refused move may have unmapped
 * (before Linux 6.17), is mapped again, afresh.
 */
ATF_TC_WITHOUT_HEAD(pages_move_refused_maps_destination_again);
ATF_TC_BODY(pages_move_refused_maps_destination_again, tc)
{
#ifdef __linux__
	size_t page = (size_t)getpagesize();
	char *a;

	a = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(a != MAP_FAILED);
	memset(a, 0x77, 4 * page);
	/* [a, a + 2 pages) to a + 1 page: EINVAL, nothing moved. */
	ATF_REQUIRE_EQ(pages_move(a, 2 * page, a + page), PAGES_NOT_MOVED);
	ATF_CHECK_EQ(a[0], 0x77);
	ATF_CHECK_EQ(a[page], 0);	/* dest, afresh */
	ATF_CHECK_EQ(a[3 * page - 1], 0);
	ATF_CHECK_EQ(a[3 * page], 0x77);	/* beyond dest */
	munmap(a, 4 * page);
#else
	atf_tc_skip("pages_move is Linux's");
#endif
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, realloc_preserves_contents_small_to_small);
	ATF_TP_ADD_TC(tp, realloc_preserves_contents_small_and_large);
	ATF_TP_ADD_TC(tp, realloc_preserves_contents_large_and_large);
	ATF_TP_ADD_TC(tp, realloc_preserves_contents_large_and_huge);
	ATF_TP_ADD_TC(tp, realloc_preserves_contents_huge_and_small);
	ATF_TP_ADD_TC(tp, realloc_leaves_other_blocks_intact);
	ATF_TP_ADD_TC(tp, realloc_null_behaves_as_malloc);
	ATF_TP_ADD_TC(tp, realloc_to_zero_releases_block);
	ATF_TP_ADD_TC(tp, free_sized_releases_block);
	ATF_TP_ADD_TC(tp, free_aligned_sized_releases_block);
	ATF_TP_ADD_TC(tp, realloc_huge_grows_into_freed_extent);
	ATF_TP_ADD_TC(tp, realloc_huge_over_two_mappings_moves_pages);
	ATF_TP_ADD_TC(tp, realloc_huge_of_another_arena_stays_there);
	ATF_TP_ADD_TC(tp, realloc_large_on_freed_slab_to_small);
	ATF_TP_ADD_TC(tp, pages_move_refused_maps_destination_again);
	return (atf_no_error());
}
