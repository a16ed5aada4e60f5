/*
 * Requests too big to satisfy, or whose size computation overflows: each
 * returns NULL (or ENOMEM) with errno ENOMEM, never a small block, and a
 * failed realloc leaves the old block intact.
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

/* Sizes near SIZE_MAX where internal rounding to a class could wrap. */
static const size_t huge_sizes[] = {
	SIZE_MAX,
	SIZE_MAX - 1,
	SIZE_MAX - 15,
	SIZE_MAX - 16,
	SIZE_MAX - 4095,
	SIZE_MAX - 4096,
	SIZE_MAX - ((size_t)2 << 20),
	SIZE_MAX / 2 + 1,
	(size_t)PTRDIFF_MAX + 1,
	(size_t)PTRDIFF_MAX,
};
#define	NHUGE	(sizeof(huge_sizes) / sizeof(huge_sizes[0]))

#define	REQUIRE_ENOMEM(call, p, desc) do {				\
	errno = 0;							\
	(p) = (call);							\
	ATF_REQUIRE_MSG((p) == NULL, "%s returned %p", (desc), (p));	\
	ATF_REQUIRE_EQ_MSG(errno, ENOMEM,				\
	    "%s set errno %d, not ENOMEM", (desc), errno);		\
} while (0)

ATF_TC_WITHOUT_HEAD(malloc_size_max_fails_with_enomem);
ATF_TC_BODY(malloc_size_max_fails_with_enomem, tc)
{
	void *p;

	REQUIRE_ENOMEM(malloc(size_launder(SIZE_MAX)), p, "malloc(SIZE_MAX)");
}

/* No object may be larger than PTRDIFF_MAX: pointer differences overflow. */
ATF_TC_WITHOUT_HEAD(malloc_above_ptrdiff_max_fails_with_enomem);
ATF_TC_BODY(malloc_above_ptrdiff_max_fails_with_enomem, tc)
{
	void *p;

	REQUIRE_ENOMEM(malloc(size_launder((size_t)PTRDIFF_MAX + 1)), p,
	    "malloc(PTRDIFF_MAX + 1)");
}

ATF_TC_WITHOUT_HEAD(malloc_near_size_max_fails_with_enomem);
ATF_TC_BODY(malloc_near_size_max_fails_with_enomem, tc)
{
	char desc[64];
	size_t i;
	void *p;

	for (i = 0; i < NHUGE; i++) {
		snprintf(desc, sizeof(desc), "malloc(%#zx)", huge_sizes[i]);
		REQUIRE_ENOMEM(malloc(size_launder(huge_sizes[i])), p, desc);
	}
}

ATF_TC_WITHOUT_HEAD(calloc_overflowing_product_fails_with_enomem);
ATF_TC_BODY(calloc_overflowing_product_fails_with_enomem, tc)
{
	void *p;

	REQUIRE_ENOMEM(calloc(size_launder(SIZE_MAX / 2 + 1), 2), p,
	    "calloc(SIZE_MAX / 2 + 1, 2)");
	REQUIRE_ENOMEM(calloc(2, size_launder(SIZE_MAX / 2 + 1)), p,
	    "calloc(2, SIZE_MAX / 2 + 1)");
	/* 2^32 * 2^32 wraps to 0 on 64 bits: a zero-size block is wrong. */
	REQUIRE_ENOMEM(calloc(size_launder((size_t)1 << (sizeof(size_t) * 4)),
	    size_launder((size_t)1 << (sizeof(size_t) * 4))), p,
	    "calloc(2^32, 2^32)");
	REQUIRE_ENOMEM(calloc(size_launder(SIZE_MAX), size_launder(SIZE_MAX)),
	    p, "calloc(SIZE_MAX, SIZE_MAX)");
	/* 2^32 + 1 times 2^32 - 1 is SIZE_MAX: no overflow, but too big. */
	REQUIRE_ENOMEM(calloc(size_launder(((size_t)1 << 32) + 1),
	    size_launder(((size_t)1 << 32) - 1)), p,
	    "calloc(2^32 + 1, 2^32 - 1)");
}

ATF_TC_WITHOUT_HEAD(reallocarray_overflow_fails_and_keeps_block);
ATF_TC_BODY(reallocarray_overflow_fails_and_keeps_block, tc)
{
	void *p, *q;

	p = malloc(100);
	ATF_REQUIRE(p != NULL);
	pattern_fill(p, 100, 1);
	REQUIRE_ENOMEM(reallocarray(p, size_launder(SIZE_MAX / 2 + 1), 2), q,
	    "reallocarray(p, SIZE_MAX / 2 + 1, 2)");
	REQUIRE_ENOMEM(reallocarray(p, size_launder((size_t)1 << 32),
	    size_launder((size_t)1 << 32)), q, "reallocarray(p, 2^32, 2^32)");
	ATF_REQUIRE_EQ_MSG(pattern_check(p, 100, 1), 100,
	    "failed reallocarray changed the block");
	ATF_REQUIRE(usable_size(p) >= 100);
	free(p);
}

/* realloc(p, SIZE_MAX) fails with ENOMEM and p stays valid and unchanged. */
ATF_TC_WITHOUT_HEAD(realloc_size_max_fails_and_keeps_block);
ATF_TC_BODY(realloc_size_max_fails_and_keeps_block, tc)
{
	static const size_t sizes[] = { 100, 100 * 1024, 8 << 20 };
	char desc[64];
	size_t i, j, usize;
	void *p, *q;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = malloc(sizes[i]);
		ATF_REQUIRE(p != NULL);
		pattern_fill(p, sizes[i], (unsigned)i);
		usize = usable_size(p);
		for (j = 0; j < NHUGE; j++) {
			snprintf(desc, sizeof(desc),
			    "realloc(malloc(%zu), %#zx)", sizes[i],
			    huge_sizes[j]);
			REQUIRE_ENOMEM(realloc(p, size_launder(huge_sizes[j])),
			    q, desc);
		}
		ATF_REQUIRE_EQ_MSG(pattern_check(p, sizes[i], (unsigned)i),
		    sizes[i], "failed realloc changed the %zu-byte block",
		    sizes[i]);
		ATF_REQUIRE_EQ(usable_size(p), usize);
		free(p);
	}
}

ATF_TC_WITHOUT_HEAD(posix_memalign_huge_fails_with_enomem);
ATF_TC_BODY(posix_memalign_huge_fails_with_enomem, tc)
{
	static const size_t aligns[] = { 16, 4096, (size_t)2 << 20,
	    (size_t)1 << 30 };
	size_t i, j;
	void *p;
	int ret;

	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		for (j = 0; j < NHUGE; j++) {
			p = NULL;
			ret = posix_memalign(&p, aligns[i],
			    size_launder(huge_sizes[j]));
			ATF_REQUIRE_EQ_MSG(ret, ENOMEM,
			    "posix_memalign(%zu, %#zx) returned %d (%p)",
			    aligns[i], huge_sizes[j], ret, p);
		}
	}
	/* An alignment no address space can honour. */
	p = NULL;
	ret = posix_memalign(&p, size_launder((size_t)1 << 62), 1);
	ATF_REQUIRE_EQ_MSG(ret, ENOMEM,
	    "posix_memalign(2^62, 1) returned %d (%p)", ret, p);
}

ATF_TC_WITHOUT_HEAD(aligned_alloc_huge_fails_with_enomem);
ATF_TC_BODY(aligned_alloc_huge_fails_with_enomem, tc)
{
	char desc[64];
	size_t j;
	void *p;

	for (j = 0; j < NHUGE; j++) {
		snprintf(desc, sizeof(desc), "aligned_alloc(4096, %#zx)",
		    huge_sizes[j]);
		REQUIRE_ENOMEM(aligned_alloc(4096, size_launder(huge_sizes[j])),
		    p, desc);
		snprintf(desc, sizeof(desc), "memalign(4096, %#zx)",
		    huge_sizes[j]);
		REQUIRE_ENOMEM(memalign(4096, size_launder(huge_sizes[j])), p,
		    desc);
	}
}

ATF_TC_WITHOUT_HEAD(valloc_and_pvalloc_huge_fail_with_enomem);
ATF_TC_BODY(valloc_and_pvalloc_huge_fail_with_enomem, tc)
{
	char desc[64];
	size_t j;
	void *p;

	for (j = 0; j < NHUGE; j++) {
		snprintf(desc, sizeof(desc), "valloc(%#zx)", huge_sizes[j]);
		REQUIRE_ENOMEM(valloc(size_launder(huge_sizes[j])), p, desc);
		/* Rounding SIZE_MAX - 1 up to a page wraps to 0. */
		snprintf(desc, sizeof(desc), "pvalloc(%#zx)", huge_sizes[j]);
		REQUIRE_ENOMEM(pvalloc(size_launder(huge_sizes[j])), p, desc);
	}
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, malloc_size_max_fails_with_enomem);
	ATF_TP_ADD_TC(tp, malloc_above_ptrdiff_max_fails_with_enomem);
	ATF_TP_ADD_TC(tp, malloc_near_size_max_fails_with_enomem);
	ATF_TP_ADD_TC(tp, calloc_overflowing_product_fails_with_enomem);
	ATF_TP_ADD_TC(tp, reallocarray_overflow_fails_and_keeps_block);
	ATF_TP_ADD_TC(tp, realloc_size_max_fails_and_keeps_block);
	ATF_TP_ADD_TC(tp, posix_memalign_huge_fails_with_enomem);
	ATF_TP_ADD_TC(tp, aligned_alloc_huge_fails_with_enomem);
	ATF_TP_ADD_TC(tp, valloc_and_pvalloc_huge_fail_with_enomem);
	return (atf_no_error());
}
