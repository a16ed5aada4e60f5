/*
 * malloc(3) and its size classes: every size up to 16 KiB and the powers of
 * two (and their neighbours) up to 64 MiB come back non-NULL, aligned,
 * writable over their whole usable size, with usable sizes that follow the
 * size-class scheme (four classes per doubling, 16-byte quantum).  Also the
 * sanity checks that the program really runs on our allocator and not on
 * the C library's.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"

#define	KiB		((size_t)1 << 10)
#define	MiB		((size_t)1 << 20)
#define	SMALL_MAX	(16 * KiB)
#define	LG_BIG_MAX	26		/* 64 MiB */
#define	nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The alignment malloc owes a block of size n: 16, or less for tiny ones. */
static size_t
min_alignment(size_t n)
{

	if (n >= 16)
		return (16);
	if (n >= 8)
		return (8);
	return (1);
}

/* Allocate n bytes and check everything malloc promises about the block. */
static void
check_one_size(size_t n)
{
	size_t usize;
	void *p;

	p = malloc(n);
	ATF_REQUIRE_MSG(p != NULL, "malloc(%zu) failed: %s", n,
	    strerror(errno));
	ATF_REQUIRE_MSG((uintptr_t)p % min_alignment(n) == 0,
	    "malloc(%zu) = %p is not %zu-byte aligned", n, p,
	    min_alignment(n));
	usize = usable_size(p);
	ATF_REQUIRE_MSG(usize >= n,
	    "malloc_usable_size(malloc(%zu)) = %zu", n, usize);
	/* The whole usable size is the caller's: writing it must not crash. */
	memset(p, 0xa5, usize);
	free(p);
}

/*
 * Our allocator answers mallctl("version"); glibc has no mallctl and a
 * different malloc would not know the name.  If link order ever let glibc's
 * malloc win, this is the case that says so.
 */
ATF_TC_WITHOUT_HEAD(allocator_is_libmalloc);
ATF_TC_BODY(allocator_is_libmalloc, tc)
{
	const char *version;
	size_t len;

	version = NULL;
	len = sizeof(version);
	ATF_REQUIRE_EQ_MSG(mallctl("version", &version, &len, NULL, 0), 0,
	    "mallctl(\"version\") failed: this program is not running on "
	    "libmalloc");
	ATF_REQUIRE_EQ(len, sizeof(version));
	ATF_REQUIRE(version != NULL);
	ATF_REQUIRE_MSG(strlen(version) > 0, "empty version string");
}

/*
 * Blocks the C library allocates for itself (strdup here) must come from
 * our allocator too, or a program that frees them would mix allocators.
 * sallocx() of a block we did not hand out aborts, so a pass means strdup
 * went through us.
 */
ATF_TC_WITHOUT_HEAD(libc_internal_allocations_use_libmalloc);
ATF_TC_BODY(libc_internal_allocations_use_libmalloc, tc)
{
	char *s;

	s = strdup("a string that libc allocates");
	ATF_REQUIRE(s != NULL);
	ATF_REQUIRE(sallocx(s, 0) >= strlen(s) + 1);
	ATF_REQUIRE_EQ(sallocx(s, 0), usable_size(s));
	free(s);
}

ATF_TC_WITHOUT_HEAD(malloc_zero_returns_unique_freeable_pointer);
ATF_TC_BODY(malloc_zero_returns_unique_freeable_pointer, tc)
{
	void *p, *q;

	p = malloc(0);
	q = malloc(0);
	ATF_REQUIRE(p != NULL);
	ATF_REQUIRE(q != NULL);
	ATF_REQUIRE_MSG(p != q, "two live malloc(0) blocks share %p", p);
	free(p);
	free(q);
}

ATF_TC_WITHOUT_HEAD(every_size_to_16k_is_aligned_and_writable);
ATF_TC_BODY(every_size_to_16k_is_aligned_and_writable, tc)
{
	size_t n;

	for (n = 0; n <= SMALL_MAX; n++)
		check_one_size(n);
}

ATF_TC_WITHOUT_HEAD(powers_of_two_to_64m_are_aligned_and_writable);
ATF_TC_BODY(powers_of_two_to_64m_are_aligned_and_writable, tc)
{
	size_t n;
	int lg;

	for (lg = 0; lg <= LG_BIG_MAX; lg++) {
		n = (size_t)1 << lg;
		check_one_size(n - 1);
		check_one_size(n);
		check_one_size(n + 1);
	}
}

/* The sizes the monotonicity and class checks walk, in increasing order. */
static size_t
next_size(size_t n)
{
	size_t pow;

	if (n < SMALL_MAX)
		return (n + 1);
	/* Past 16 KiB: 2^k - 1, 2^k, 2^k + 1, then the next power of two. */
	for (pow = SMALL_MAX; pow < n - 1; pow <<= 1)
		;
	if (n == pow - 1 || n == pow)
		return (n + 1);
	return ((pow << 1) - 1);
}

ATF_TC_WITHOUT_HEAD(usable_size_is_monotonic);
ATF_TC_BODY(usable_size_is_monotonic, tc)
{
	size_t n, prev_n, prev_usize, usize;
	void *p;

	prev_n = 0;
	prev_usize = 0;
	for (n = 0; n <= ((size_t)1 << LG_BIG_MAX) + 1; n = next_size(n)) {
		p = malloc(n);
		ATF_REQUIRE_MSG(p != NULL, "malloc(%zu) failed", n);
		usize = usable_size(p);
		free(p);
		ATF_REQUIRE_MSG(usize >= prev_usize,
		    "usable size of malloc(%zu) is %zu but of malloc(%zu) %zu",
		    n, usize, prev_n, prev_usize);
		prev_n = n;
		prev_usize = usize;
	}
}

/*
 * Four size classes per doubling with a 16-byte quantum: in (2^k, 2^(k+1)]
 * the classes are 2^(k-2) apart, so a request never wastes more than a
 * quarter of itself (or 15 bytes below 64).  Rounding to powers of two, or
 * to pages for mid-sized blocks, fails here.
 */
ATF_TC_WITHOUT_HEAD(usable_size_follows_four_classes_per_doubling);
ATF_TC_BODY(usable_size_follows_four_classes_per_doubling, tc)
{
	size_t n, slack, usize;
	void *p;

	for (n = 1; n <= ((size_t)1 << LG_BIG_MAX) + 1; n = next_size(n)) {
		p = malloc(n);
		ATF_REQUIRE_MSG(p != NULL, "malloc(%zu) failed", n);
		usize = usable_size(p);
		free(p);
		slack = n / 4 > 15 ? n / 4 : 15;
		ATF_REQUIRE_MSG(usize - n <= slack,
		    "malloc(%zu) has usable size %zu: more than %zu bytes of "
		    "slack", n, usize, slack);
	}
}

/* nallocx() predicts exactly the usable size malloc() will give. */
ATF_TC_WITHOUT_HEAD(usable_size_matches_nallocx);
ATF_TC_BODY(usable_size_matches_nallocx, tc)
{
	size_t n, usize;
	void *p;

	for (n = 1; n <= ((size_t)1 << LG_BIG_MAX) + 1; n = next_size(n)) {
		p = malloc(n);
		ATF_REQUIRE_MSG(p != NULL, "malloc(%zu) failed", n);
		usize = usable_size(p);
		free(p);
		ATF_REQUIRE_EQ_MSG(nallocx(n, 0), usize,
		    "nallocx(%zu) = %zu, malloc_usable_size = %zu", n,
		    nallocx(n, 0), usize);
	}
}

static int
ptr_compare(const void *a, const void *b)
{
	uintptr_t pa = (uintptr_t)*(void *const *)a;
	uintptr_t pb = (uintptr_t)*(void *const *)b;

	return (pa < pb ? -1 : pa > pb);
}

/*
 * Every size from 1 to 4 KiB live at once: no two blocks' usable ranges
 * overlap, and each keeps the pattern written over its whole usable size.
 */
ATF_TC_WITHOUT_HEAD(live_blocks_do_not_overlap);
ATF_TC_BODY(live_blocks_do_not_overlap, tc)
{
	enum { NBLOCKS = 4 * 1024 };
	static void *blocks[NBLOCKS], *sorted[NBLOCKS];
	size_t i, usize;

	for (i = 0; i < NBLOCKS; i++) {
		blocks[i] = malloc(i + 1);
		ATF_REQUIRE(blocks[i] != NULL);
		pattern_fill(blocks[i], usable_size(blocks[i]),
		    (unsigned)i);
	}
	for (i = 0; i < NBLOCKS; i++) {
		usize = usable_size(blocks[i]);
		ATF_REQUIRE_EQ_MSG(pattern_check(blocks[i], usize,
		    (unsigned)i), usize,
		    "block %zu (%p) was overwritten", i, blocks[i]);
	}
	memcpy(sorted, blocks, sizeof(blocks));
	qsort(sorted, NBLOCKS, sizeof(sorted[0]), ptr_compare);
	for (i = 0; i + 1 < NBLOCKS; i++) {
		ATF_REQUIRE_MSG((uintptr_t)sorted[i] +
		    usable_size(sorted[i]) <= (uintptr_t)sorted[i + 1],
		    "block %p (usable %zu) overlaps block %p", sorted[i],
		    usable_size(sorted[i]), sorted[i + 1]);
	}
	for (i = 0; i < NBLOCKS; i++)
		free(blocks[i]);
}

/*
 * A sized free of the right class (free_sized, free_aligned_sized,
 * sdallocx) gives the block back like free(): the next allocation of the
 * class gets it again (the thread cache is LIFO), and thread.deallocated
 * grows by the usable size, not the claimed one.
 */
ATF_TC_WITHOUT_HEAD(sized_frees_recycle_like_free);
ATF_TC_BODY(sized_frees_recycle_like_free, tc)
{
	static const size_t sizes[] = { 1, 16, 17, 100, 1000, 1024, 5000,
	    14000, 20000, 32768 };
	uint64_t before, after;
	size_t i, n, claim, sz = sizeof(before);
	void *p, *q;
	int how;

	for (how = 0; how < 3; how++)
		for (i = 0; i < nitems(sizes); i++) {
			n = nallocx(sizes[i], 0);
			p = malloc(n);
			ATF_REQUIRE(p != NULL);
			/* The smallest size of the class claims it. */
			for (claim = n; claim > 1 && nallocx(claim - 1, 0) == n;
			    claim--)
				;
			ATF_REQUIRE(mallctl("thread.deallocated", &before, &sz,
			    NULL, 0) == 0);
			if (how == 0)
				free_sized(p, claim);
			else if (how == 1)
				free_aligned_sized(p, 16, claim);
			else
				sdallocx(p, claim, 0);
			ATF_REQUIRE(mallctl("thread.deallocated", &after, &sz,
			    NULL, 0) == 0);
			ATF_CHECK_EQ_MSG(after - before, n, "size %zu way %d: "
			    "deallocated %ju, usable %zu", claim, how,
			    (uintmax_t)(after - before), n);
			q = malloc(n);
			ATF_CHECK_MSG(q == p, "size %zu way %d: %p then %p",
			    claim, how, p, q);
			free(q);
		}
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, allocator_is_libmalloc);
	ATF_TP_ADD_TC(tp, libc_internal_allocations_use_libmalloc);
	ATF_TP_ADD_TC(tp, malloc_zero_returns_unique_freeable_pointer);
	ATF_TP_ADD_TC(tp, every_size_to_16k_is_aligned_and_writable);
	ATF_TP_ADD_TC(tp, powers_of_two_to_64m_are_aligned_and_writable);
	ATF_TP_ADD_TC(tp, usable_size_is_monotonic);
	ATF_TP_ADD_TC(tp, usable_size_follows_four_classes_per_doubling);
	ATF_TP_ADD_TC(tp, usable_size_matches_nallocx);
	ATF_TP_ADD_TC(tp, live_blocks_do_not_overlap);
	ATF_TP_ADD_TC(tp, sized_frees_recycle_like_free);
	return (atf_no_error());
}
