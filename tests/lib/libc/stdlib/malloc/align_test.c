/*
 * The aligned allocation calls: posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc, for every power-of-two alignment from 1 byte to
 * 1 GiB, and the errors POSIX and C11 require for bad alignments.
 */
#include <sys/types.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	LG_ALIGN_MAX	30		/* 1 GiB */
#define	TOUCH_ALL_MAX	((size_t)1 << 20)

/* Sizes tried at each alignment: below, at and just past the alignment. */
static size_t
size_for(size_t align, int i)
{

	switch (i) {
	case 0:
		return (1);
	case 1:
		return (align > 1 ? align - 1 : 2);
	case 2:
		return (align);
	case 3:
		return (align + 1);
	default:
		return (3 * align + 7);
	}
}
#define	NSIZES	5

/*
 * Check a block that claims to be size bytes aligned to align: the pointer,
 * its usable size, and that the memory is ours to write (all of it when
 * small, its first, middle and last byte when not).
 */
static void
check_aligned_block(const char *fn, void *p, size_t align, size_t size)
{
	unsigned char *b = p;

	ATF_REQUIRE_MSG(p != NULL, "%s(%zu, %zu) failed: %s", fn, align, size,
	    strerror(errno));
	ATF_REQUIRE_MSG((uintptr_t)p % align == 0,
	    "%s(%zu, %zu) = %p is misaligned", fn, align, size, p);
	ATF_REQUIRE_MSG(usable_size(p) >= size,
	    "%s(%zu, %zu): usable size %zu", fn, align, size, usable_size(p));
	if (size <= TOUCH_ALL_MAX)
		memset(p, 0x5c, size);
	else {
		b[0] = 1;
		b[size / 2] = 2;
		b[size - 1] = 3;
	}
}

/* Large alignments with a tripled size would map gigabytes: cap the size. */
static bool
size_is_reasonable(size_t align, size_t size)
{

	return (align < ((size_t)1 << 26) || size <= align + 1);
}

ATF_TC_WITHOUT_HEAD(posix_memalign_aligns_to_every_power_of_two_to_1g);
ATF_TC_BODY(posix_memalign_aligns_to_every_power_of_two_to_1g, tc)
{
	size_t align, size;
	void *p;
	int i, lg, ret;

	for (lg = 0; lg <= LG_ALIGN_MAX; lg++) {
		align = (size_t)1 << lg;
		if (align < sizeof(void *))
			continue;
		for (i = 0; i < NSIZES; i++) {
			size = size_for(align, i);
			if (!size_is_reasonable(align, size))
				continue;
			p = NULL;
			ret = posix_memalign(&p, align, size);
			ATF_REQUIRE_EQ_MSG(ret, 0,
			    "posix_memalign(%zu, %zu) returned %d", align,
			    size, ret);
			check_aligned_block("posix_memalign", p, align, size);
			free(p);
		}
	}
}

ATF_TC_WITHOUT_HEAD(aligned_alloc_aligns_to_every_power_of_two_to_1g);
ATF_TC_BODY(aligned_alloc_aligns_to_every_power_of_two_to_1g, tc)
{
	size_t align, size;
	void *p;
	int i, lg;

	for (lg = 0; lg <= LG_ALIGN_MAX; lg++) {
		align = (size_t)1 << lg;
		for (i = 0; i < NSIZES; i++) {
			size = size_for(align, i);
			if (!size_is_reasonable(align, size))
				continue;
			p = aligned_alloc(align, size);
			check_aligned_block("aligned_alloc", p, align, size);
			free(p);
		}
	}
}

ATF_TC_WITHOUT_HEAD(memalign_aligns_to_every_power_of_two_to_1g);
ATF_TC_BODY(memalign_aligns_to_every_power_of_two_to_1g, tc)
{
	size_t align, size;
	void *p;
	int i, lg;

	for (lg = 0; lg <= LG_ALIGN_MAX; lg++) {
		align = (size_t)1 << lg;
		for (i = 0; i < NSIZES; i++) {
			size = size_for(align, i);
			if (!size_is_reasonable(align, size))
				continue;
			p = memalign(align, size);
			check_aligned_block("memalign", p, align, size);
			free(p);
		}
	}
}

/* Many aligned blocks live at once keep their alignment and contents. */
ATF_TC_WITHOUT_HEAD(live_aligned_blocks_keep_contents);
ATF_TC_BODY(live_aligned_blocks_keep_contents, tc)
{
	enum { NBLOCKS = 256 };
	void *blocks[NBLOCKS];
	size_t align, size;
	int i;

	for (i = 0; i < NBLOCKS; i++) {
		align = (size_t)1 << (i % 16);
		size = (size_t)(i * 37 % 5000) + 1;
		ATF_REQUIRE_EQ(posix_memalign(&blocks[i],
		    align < sizeof(void *) ? sizeof(void *) : align, size), 0);
		pattern_fill(blocks[i], size, (unsigned)i);
	}
	for (i = 0; i < NBLOCKS; i++) {
		size = (size_t)(i * 37 % 5000) + 1;
		ATF_REQUIRE_EQ_MSG(pattern_check(blocks[i], size, (unsigned)i),
		    size, "aligned block %d (%p) was overwritten", i,
		    blocks[i]);
		free(blocks[i]);
	}
}

ATF_TC_WITHOUT_HEAD(posix_memalign_rejects_non_power_of_two);
ATF_TC_BODY(posix_memalign_rejects_non_power_of_two, tc)
{
	static const size_t bad[] = { 24, 40, 48, 100, 3 * 4096,
	    ((size_t)1 << 20) + 8, SIZE_MAX };
	size_t i;
	void *p;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = NULL;
		ATF_REQUIRE_EQ_MSG(posix_memalign(&p, bad[i], 64), EINVAL,
		    "posix_memalign(%zu, 64) did not return EINVAL", bad[i]);
	}
}

ATF_TC_WITHOUT_HEAD(posix_memalign_rejects_alignment_below_pointer_size);
ATF_TC_BODY(posix_memalign_rejects_alignment_below_pointer_size, tc)
{
	size_t align;
	void *p;

	for (align = 0; align < sizeof(void *); align++) {
		p = NULL;
		ATF_REQUIRE_EQ_MSG(posix_memalign(&p, align, 64), EINVAL,
		    "posix_memalign(%zu, 64) did not return EINVAL", align);
	}
}

/* C11 (and glibc since 2.38): a bad alignment gives NULL and EINVAL. */
ATF_TC_WITHOUT_HEAD(aligned_alloc_rejects_non_power_of_two);
ATF_TC_BODY(aligned_alloc_rejects_non_power_of_two, tc)
{
	static const size_t bad[] = { 0, 3, 24, 48, 100, 3 * 4096,
	    ((size_t)1 << 20) + 8, SIZE_MAX };
	size_t i;
	void *p;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		p = aligned_alloc(size_launder(bad[i]), 64);
		ATF_REQUIRE_MSG(p == NULL,
		    "aligned_alloc(%zu, 64) returned %p", bad[i], p);
		ATF_REQUIRE_EQ_MSG(errno, EINVAL,
		    "aligned_alloc(%zu, 64) set errno %d, not EINVAL", bad[i],
		    errno);
	}
}

ATF_TC_WITHOUT_HEAD(valloc_is_page_aligned);
ATF_TC_BODY(valloc_is_page_aligned, tc)
{
	static const size_t sizes[] = { 1, 16, 100, 4095, 4096, 4097, 10000,
	    100000, (size_t)3 << 20 };
	size_t i, page;
	void *p;

	page = (size_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = valloc(sizes[i]);
		check_aligned_block("valloc", p, page, sizes[i]);
		free(p);
	}
}

/* pvalloc rounds the size up to whole pages. */
ATF_TC_WITHOUT_HEAD(pvalloc_rounds_size_up_to_page);
ATF_TC_BODY(pvalloc_rounds_size_up_to_page, tc)
{
	static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 10000,
	    100000, (size_t)3 << 20 };
	size_t i, page, rounded;
	void *p;

	page = (size_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rounded = (sizes[i] + page - 1) / page * page;
		p = pvalloc(sizes[i]);
		/* The whole rounded size is the caller's to use. */
		check_aligned_block("pvalloc", p, page, rounded);
		free(p);
	}
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, posix_memalign_aligns_to_every_power_of_two_to_1g);
	ATF_TP_ADD_TC(tp, aligned_alloc_aligns_to_every_power_of_two_to_1g);
	ATF_TP_ADD_TC(tp, memalign_aligns_to_every_power_of_two_to_1g);
	ATF_TP_ADD_TC(tp, live_aligned_blocks_keep_contents);
	ATF_TP_ADD_TC(tp, posix_memalign_rejects_non_power_of_two);
	ATF_TP_ADD_TC(tp, posix_memalign_rejects_alignment_below_pointer_size);
	ATF_TP_ADD_TC(tp, aligned_alloc_rejects_non_power_of_two);
	ATF_TP_ADD_TC(tp, valloc_is_page_aligned);
	ATF_TP_ADD_TC(tp, pvalloc_rounds_size_up_to_page);
	return (atf_no_error());
}
