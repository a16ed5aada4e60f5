/*
 * calloc(3) returns zeroed memory even when it reuses a block that a
 * previous owner dirtied: small blocks from slabs, large page runs, huge
 * extents, runs freed by a shrinking realloc and free runs that coalesced.
 * The allocator may skip the memset for pages known to be zero; these cases
 * catch it when it believes so wrongly.
 */
#include <sys/types.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

/* The offset of the first non-zero byte in p[0..n), or n. */
static size_t
first_nonzero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != 0)
			return (i);
	}
	return (n);
}

/*
 * Dirty a block of size n with 0xff over its whole usable size, free it,
 * and calloc the same size: iterations times, both argument orders.
 */
static void
check_calloc_after_dirty_free(size_t n, int iterations)
{
	size_t off;
	void *p, *q;
	int i;

	for (i = 0; i < iterations; i++) {
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		memset(p, 0xff, usable_size(p));
		free(p);
		q = (i & 1) ? calloc(n, 1) : calloc(1, n);
		ATF_REQUIRE_MSG(q != NULL, "calloc of %zu bytes failed", n);
		off = first_nonzero(q, n);
		ATF_REQUIRE_MSG(off == n,
		    "calloc(%zu) = %p (iteration %d, %s reuse) has byte %zu = "
		    "%#x", n, q, i, p == q ? "same-block" : "other-block",
		    off, ((unsigned char *)q)[off]);
		free(q);
	}
}

ATF_TC_WITHOUT_HEAD(calloc_zeroes_reused_small_memory);
ATF_TC_BODY(calloc_zeroes_reused_small_memory, tc)
{
	static const size_t sizes[] = { 1, 8, 16, 24, 48, 100, 640, 1000,
	    4000, 8192, 14000 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_calloc_after_dirty_free(sizes[i], 200);
}

ATF_TC_WITHOUT_HEAD(calloc_zeroes_reused_large_memory);
ATF_TC_BODY(calloc_zeroes_reused_large_memory, tc)
{
	static const size_t sizes[] = { 16 * KiB + 1, 20 * KiB, 100 * KiB,
	    500 * KiB, 1 * MiB };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_calloc_after_dirty_free(sizes[i], 50);
}

ATF_TC_WITHOUT_HEAD(calloc_zeroes_reused_huge_memory);
ATF_TC_BODY(calloc_zeroes_reused_huge_memory, tc)
{
	static const size_t sizes[] = { 2 * MiB, 4 * MiB + 1, 8 * MiB,
	    32 * MiB };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_calloc_after_dirty_free(sizes[i], 10);
}

/*
 * Many dirty blocks of one class freed together (enough to overflow a
 * thread cache and go back to their slabs), then calloc'ed back.
 */
ATF_TC_WITHOUT_HEAD(calloc_zeroes_blocks_returned_in_bulk);
ATF_TC_BODY(calloc_zeroes_blocks_returned_in_bulk, tc)
{
	enum { NBLOCKS = 4096 };
	static void *blocks[NBLOCKS];
	static const size_t sizes[] = { 16, 64, 320, 2048 };
	size_t i, j, off;

	for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
		for (i = 0; i < NBLOCKS; i++) {
			blocks[i] = malloc(sizes[j]);
			ATF_REQUIRE(blocks[i] != NULL);
			memset(blocks[i], 0xff, usable_size(blocks[i]));
		}
		for (i = 0; i < NBLOCKS; i++)
			free(blocks[i]);
		for (i = 0; i < NBLOCKS; i++) {
			blocks[i] = calloc(1, sizes[j]);
			ATF_REQUIRE(blocks[i] != NULL);
			off = first_nonzero(blocks[i], sizes[j]);
			ATF_REQUIRE_MSG(off == sizes[j],
			    "calloc(1, %zu) block %zu has byte %zu non-zero",
			    sizes[j], i, off);
		}
		for (i = 0; i < NBLOCKS; i++)
			free(blocks[i]);
	}
}

/* A realloc that shrinks in place frees a dirty tail that calloc reuses. */
ATF_TC_WITHOUT_HEAD(calloc_zeroes_tail_freed_by_realloc_shrink);
ATF_TC_BODY(calloc_zeroes_tail_freed_by_realloc_shrink, tc)
{
	static const size_t sizes[] = { 1 * MiB, 8 * MiB };
	size_t i, k, n, off;
	void *p, *q[4];

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		memset(p, 0xff, n);
		p = realloc(p, n / 16);
		ATF_REQUIRE(p != NULL);
		for (k = 0; k < 4; k++) {
			q[k] = calloc(1, n / 4 - 4 * KiB);
			ATF_REQUIRE(q[k] != NULL);
			off = first_nonzero(q[k], n / 4 - 4 * KiB);
			ATF_REQUIRE_MSG(off == n / 4 - 4 * KiB,
			    "calloc(1, %zu) = %p after shrinking %p from %zu "
			    "has byte %zu non-zero", n / 4 - 4 * KiB, q[k], p,
			    n, off);
		}
		for (k = 0; k < 4; k++)
			free(q[k]);
		free(p);
	}
}

/* Adjacent dirty runs freed together coalesce; calloc of their sum. */
ATF_TC_WITHOUT_HEAD(calloc_zeroes_coalesced_free_runs);
ATF_TC_BODY(calloc_zeroes_coalesced_free_runs, tc)
{
	enum { NRUNS = 16 };
	void *runs[NRUNS], *q;
	size_t i, off, total;
	int round;

	for (round = 0; round < 10; round++) {
		for (i = 0; i < NRUNS; i++) {
			runs[i] = malloc(64 * KiB);
			ATF_REQUIRE(runs[i] != NULL);
			memset(runs[i], 0xff, 64 * KiB);
		}
		for (i = 0; i < NRUNS; i++)
			free(runs[i]);
		total = NRUNS * 64 * KiB - (size_t)round * 4 * KiB;
		q = calloc(total, 1);
		ATF_REQUIRE(q != NULL);
		off = first_nonzero(q, total);
		ATF_REQUIRE_MSG(off == total,
		    "calloc(%zu, 1) = %p has byte %zu non-zero", total, q, off);
		free(q);
	}
}

ATF_TC_WITHOUT_HEAD(calloc_zero_elements_returns_unique_pointer);
ATF_TC_BODY(calloc_zero_elements_returns_unique_pointer, tc)
{
	void *p, *q;

	p = calloc(0, 16);
	q = calloc(16, 0);
	ATF_REQUIRE(p != NULL);
	ATF_REQUIRE(q != NULL);
	ATF_REQUIRE(p != q);
	free(p);
	free(q);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, calloc_zeroes_reused_small_memory);
	ATF_TP_ADD_TC(tp, calloc_zeroes_reused_large_memory);
	ATF_TP_ADD_TC(tp, calloc_zeroes_reused_huge_memory);
	ATF_TP_ADD_TC(tp, calloc_zeroes_blocks_returned_in_bulk);
	ATF_TP_ADD_TC(tp, calloc_zeroes_tail_freed_by_realloc_shrink);
	ATF_TP_ADD_TC(tp, calloc_zeroes_coalesced_free_runs);
	ATF_TP_ADD_TC(tp, calloc_zero_elements_returns_unique_pointer);
	return (atf_no_error());
}
