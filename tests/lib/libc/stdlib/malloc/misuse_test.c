/*
 * Misuse the allocator catches by default (issue 9): double frees, frees of
 * pointers it never handed out or that point inside a block, and sized
 * frees with the wrong size.  Each case commits the misuse in a child and
 * requires that the child dies of SIGABRT at that very call, after writing
 * one line to fd 2 that names the call and the address as %p prints it:
 *
 *	<malloc>: free(): double free of 0x...
 *	<malloc>: free(): invalid pointer 0x... (not allocated by malloc)
 *	<malloc>: free(): invalid pointer 0x... (inside a block)
 *	<malloc>: sdallocx(): size 100 does not match block 0x... of size 48
 *
 * The child reports the address before the misuse and "survived" after
 * it, so a child that carries on (and might hand a block out twice) fails
 * the case even if it aborts later.
 *
 * A double free that free()'s fast path does not see (the block is not on
 * top of its thread-cache bin: free(a); free(b); free(a), or a freed again
 * after it went back to its slab) is caught by the allocation or the
 * flush that meets the second entry, before the block has two owners:
 *
 *	<malloc>: malloc(): double free of 0x... (freed twice or written
 *	after free, before this call)
 *
 * Those cases commit the misuse, then allocate (or free) until the block
 * would come back twice, and say "survived" only after that.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"
#include "malloc_test_util.h"
/* Internal: the corruption cases overwrite a slab's descriptor. */
#include "extent.h"
#include "pmap.h"
#include "sizeclass.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

/*
 * Run commit() in a child and require the abort and the message: fmt is
 * the expected line with one %s where the address reported by the child
 * goes.
 */
static void
expect_abort_line(void (*commit)(void *), void *arg, const char *fmt,
    bool whole)
{
	static struct child_result res;
	char addr[64], expected[256], status[128];
	const char *a, *end;

	child_run(commit, arg, &res);
	ATF_REQUIRE_MSG(strstr(res.report, "survived") == NULL,
	    "the process went on after the misuse (report: %s; stderr: %s)",
	    res.report_line, res.err_line);
	ATF_REQUIRE_MSG(WIFSIGNALED(res.status) &&
	    WTERMSIG(res.status) == SIGABRT,
	    "child %s, not killed by SIGABRT (stderr: %s)",
	    child_status_str(&res, status, sizeof(status)), res.err_line);
	a = strstr(res.report, "addr ");
	ATF_REQUIRE_MSG(a != NULL, "child reported no address: %s",
	    res.report_line);
	a += strlen("addr ");
	end = strchr(a, '\n');
	ATF_REQUIRE(end != NULL && (size_t)(end - a) < sizeof(addr));
	memcpy(addr, a, (size_t)(end - a));
	addr[end - a] = '\0';
	snprintf(expected, sizeof(expected), fmt, addr);
	ATF_REQUIRE_MSG(whole ? text_has_line(res.err, expected) :
	    strncmp(res.err, expected, strlen(expected)) == 0,
	    "stderr lacks the line \"%s\"%s; it was: \"%s\"", expected,
	    whole ? "" : " (as a prefix)", res.err_line);
}

static void
expect_abort(void (*commit)(void *), void *arg, const char *fmt)
{
	expect_abort_line(commit, arg, fmt, true);
}

/* The same, for a message whose first line starts as fmt does. */
static void
expect_abort_prefix(void (*commit)(void *), void *arg, const char *fmt)
{
	expect_abort_line(commit, arg, fmt, false);
}

/* The line of a double free found by a later call fn. */
#define	FOUND_LATER(fn)	"<malloc>: " fn "(): double free of %s (freed twice " \
			"or written after free, before this call)"
/* Keeps an allocation the compiler could otherwise drop. */
#define	KEEP(p)		((void)ptr_launder(p))

/* Commit the misuse, then say so if the process is still alive. */
#define	SURVIVED()	child_report("survived\n")

/*
 * For the size queries: using the result keeps the call, which the
 * compiler may otherwise drop (sallocx is declared pure).
 */
static void
report_survived_size(size_t n)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "survived, size %zu\n", n);
	child_report(buf);
}

static void
double_free_small(void *arg)
{
	void *a, *again;

	(void)arg;
	a = malloc(32);
	child_report_ptr("addr", a);
	/* The compiler must not see that again is a: it rejects the misuse. */
	again = ptr_launder(a);
	free(a);
	free(again);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_of_small_block_aborts);
ATF_TC_BODY(double_free_of_small_block_aborts, tc)
{

	expect_abort(double_free_small, NULL,
	    "<malloc>: free(): double free of %s");
}

/*
 * a is no longer on top of the thread cache when it is freed again: the
 * third malloc meets a's second entry.
 */
static void
double_free_after_other_free(void *arg)
{
	void *a, *again, *b;

	(void)arg;
	a = malloc(32);
	b = malloc(32);
	child_report_ptr("addr", a);
	/* The compiler must not see that again is a: it rejects the misuse. */
	again = ptr_launder(a);
	free(a);
	free(b);
	free(again);
	KEEP(malloc(32));
	KEEP(malloc(32));
	KEEP(malloc(32));
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_after_other_frees_aborts);
ATF_TC_BODY(double_free_after_other_frees_aborts, tc)
{

	expect_abort(double_free_after_other_free, NULL, FOUND_LATER("malloc"));
}

/*
 * Enough frees between the two that a has left the thread cache for its
 * slab: the second free writes the key over the slab's mark, and the
 * cached entry is handed out.  The slab's entry is then found without its
 * mark when a refill takes it, before a can be handed out again.
 */
static void
double_free_after_flush(void *arg)
{
	enum { NOTHERS = 4096 };
	static void *others[NOTHERS];
	void *a, *again;
	int i;

	(void)arg;
	a = malloc(32);
	for (i = 0; i < NOTHERS; i++)
		others[i] = malloc(32);
	child_report_ptr("addr", a);
	/* The compiler must not see that again is a: it rejects the misuse. */
	again = ptr_launder(a);
	free(a);
	for (i = 0; i < NOTHERS; i++)
		free(others[i]);
	free(again);
	for (i = 0; i < NOTHERS + 1; i++)
		KEEP(malloc(32));
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_after_cache_flush_aborts);
ATF_TC_BODY(double_free_after_cache_flush_aborts, tc)
{

	expect_abort(double_free_after_flush, NULL, FOUND_LATER("malloc"));
}

/*
 * As above, but the slab's entry is never taken: the program frees the
 * slab's other blocks, and the slab, all of whose regions read as free,
 * would go back to the arena while a is still in use.  Its destruction
 * (here by a purge, as the bin's spare) finds a without the mark.
 */
static void
double_free_found_when_slab_goes(void *arg)
{
	enum { NBLOCKS = 32 };	/* 8 KiB blocks: 8 to a 64 KiB slab */
	void *b[NBLOCKS], *again, *held;
	int i;

	(void)arg;
	for (i = 0; i < NBLOCKS; i++)
		b[i] = malloc(8 * KiB);
	child_report_ptr("addr", b[0]);
	again = ptr_launder(b[0]);
	free(b[0]);
	ATF_REQUIRE(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
	free(again);
	held = malloc(8 * KiB);		/* the cached entry: b[0] */
	ATF_REQUIRE(held == b[0]);
	/* The last block keeps the current slab; every other slab empties. */
	for (i = 1; i < NBLOCKS - 1; i++)
		free(b[i]);
	ATF_REQUIRE(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
	ATF_REQUIRE(mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0);
	KEEP(held);
	KEEP(b[NBLOCKS - 1]);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_found_when_slab_goes_aborts);
ATF_TC_BODY(double_free_found_when_slab_goes_aborts, tc)
{

	expect_abort(double_free_found_when_slab_goes, NULL,
	    FOUND_LATER("free"));
}

/*
 * Both entries leave the cache for the slab before any malloc meets them
 * (frees of other blocks push them down): the flush finds the second.
 */
static void
double_free_found_by_flush(void *arg)
{
	enum { NOTHERS = 4096 };
	static void *others[NOTHERS];
	void *a, *again, *b;
	int i;

	(void)arg;
	a = malloc(32);
	b = malloc(32);
	for (i = 0; i < NOTHERS; i++)
		others[i] = malloc(32);
	child_report_ptr("addr", a);
	again = ptr_launder(a);
	free(a);
	free(b);
	free(again);
	for (i = 0; i < NOTHERS; i++)
		free(others[i]);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_found_by_cache_flush_aborts);
ATF_TC_BODY(double_free_found_by_cache_flush_aborts, tc)
{

	expect_abort(double_free_found_by_flush, NULL, FOUND_LATER("free"));
}

/*
 * The entries of a thread that exits are flushed: a double free it left
 * in its cache is found then, even if it never allocates again.
 */
static void *
double_free_then_exit_thread(void *arg)
{
	void *a = malloc(32), *b = malloc(32), *again = ptr_launder(a);

	(void)arg;
	child_report_ptr("addr", a);
	free(a);
	free(b);
	free(again);
	return (NULL);
}

static void
double_free_then_thread_exit(void *arg)
{
	pthread_t t;

	(void)arg;
	if (pthread_create(&t, NULL, double_free_then_exit_thread, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		child_report("no thread\n");
	SURVIVED();
}

/* The same for the thread that calls exit(): its cache is checked then. */
static void
double_free_then_exit(void *arg)
{
	(void)double_free_then_exit_thread(arg);
	exit(0);
}

ATF_TC_WITHOUT_HEAD(double_free_found_at_exit_aborts);
ATF_TC_BODY(double_free_found_at_exit_aborts, tc)
{

	expect_abort(double_free_then_exit, NULL, FOUND_LATER("exit"));
}

ATF_TC_WITHOUT_HEAD(double_free_found_at_thread_exit_aborts);
ATF_TC_BODY(double_free_found_at_thread_exit_aborts, tc)
{

	expect_abort(double_free_then_thread_exit, NULL, FOUND_LATER("free"));
}

static void
double_free_sized(void *arg)
{
	size_t n = *(size_t *)arg;
	void *a, *again;

	a = malloc(n);
	memset(a, 1, n);
	child_report_ptr("addr", a);
	/* The compiler must not see that again is a: it rejects the misuse. */
	again = ptr_launder(a);
	free(a);
	free(again);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_of_large_block_aborts);
ATF_TC_BODY(double_free_of_large_block_aborts, tc)
{
	size_t n = 100 * KiB;

	expect_abort(double_free_sized, &n,
	    "<malloc>: free(): double free of %s");
}

ATF_TC_WITHOUT_HEAD(double_free_of_huge_block_aborts);
ATF_TC_BODY(double_free_of_huge_block_aborts, tc)
{
	size_t n = 8 * MiB;

	expect_abort(double_free_sized, &n,
	    "<malloc>: free(): double free of %s");
}

/*
 * free(a); free(b); free(a) followed by mallocs of the same size: two of
 * them could return the same block.  The process must die in the malloc
 * that meets a's second entry, before any caller holds a twice.
 */
static void
double_free_then_malloc(void *arg)
{
	void *a, *again, *b, *x, *y, *z;

	(void)arg;
	a = malloc(48);
	b = malloc(48);
	child_report_ptr("addr", a);
	/* The compiler must not see that again is a: it rejects the misuse. */
	again = ptr_launder(a);
	free(a);
	free(b);
	free(again);
	x = malloc(48);
	y = malloc(48);
	z = malloc(48);
	if (x == y || x == z || y == z)
		child_report("handed out twice\n");
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(double_free_never_hands_block_out_twice);
ATF_TC_BODY(double_free_never_hands_block_out_twice, tc)
{

	expect_abort(double_free_then_malloc, NULL, FOUND_LATER("malloc"));
}

static void
free_stack(void *arg)
{
	char buf[64];
	void *p;

	(void)arg;
	memset(buf, 0, sizeof(buf));
	p = ptr_launder(buf);
	child_report_ptr("addr", p);
	free(p);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(free_of_stack_address_aborts);
ATF_TC_BODY(free_of_stack_address_aborts, tc)
{

	expect_abort(free_stack, NULL,
	    "<malloc>: free(): invalid pointer %s (not allocated by malloc)");
}

static char static_buf[256];

static void
free_static(void *arg)
{
	void *p;

	(void)arg;
	p = ptr_launder(static_buf + 64);
	child_report_ptr("addr", p);
	free(p);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(free_of_static_address_aborts);
ATF_TC_BODY(free_of_static_address_aborts, tc)
{

	expect_abort(free_static, NULL,
	    "<malloc>: free(): invalid pointer %s (not allocated by malloc)");
}

/* Memory from another allocator: a mapping of our own. */
static void
free_mmap(void *arg)
{
	void *p;

	(void)arg;
	/* Allocate first so the allocator's own mappings exist. */
	free(malloc(100));
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		child_report("mmap failed\n");
		_exit(1);
	}
	child_report_ptr("addr", p);
	free(p);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(free_of_mmap_pointer_aborts);
ATF_TC_BODY(free_of_mmap_pointer_aborts, tc)
{

	expect_abort(free_mmap, NULL,
	    "<malloc>: free(): invalid pointer %s (not allocated by malloc)");
}

static void
free_interior(void *arg)
{
	const size_t *sz = arg;	/* { block size, offset } */
	char *p;

	p = malloc(sz[0]);
	memset(p, 0, sz[0]);
	child_report_ptr("addr", p + sz[1]);
	free(ptr_launder(p + sz[1]));
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(free_inside_small_block_aborts);
ATF_TC_BODY(free_inside_small_block_aborts, tc)
{
	size_t sz[2] = { 64, 16 };

	expect_abort(free_interior, sz,
	    "<malloc>: free(): invalid pointer %s (inside a block)");
}

ATF_TC_WITHOUT_HEAD(free_inside_large_block_aborts);
ATF_TC_BODY(free_inside_large_block_aborts, tc)
{
	size_t sz[2] = { 100 * KiB, 4096 };

	expect_abort(free_interior, sz,
	    "<malloc>: free(): invalid pointer %s (inside a block)");
}

static void
realloc_stack(void *arg)
{
	char buf[64];
	void *p;

	(void)arg;
	memset(buf, 0, sizeof(buf));
	p = ptr_launder(buf);
	child_report_ptr("addr", p);
	p = realloc(p, 1000);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(realloc_of_invalid_pointer_aborts);
ATF_TC_BODY(realloc_of_invalid_pointer_aborts, tc)
{

	expect_abort(realloc_stack, NULL,
	    "<malloc>: realloc(): invalid pointer %s "
	    "(not allocated by malloc)");
}

static void
realloc_interior(void *arg)
{
	char *p, *q;

	(void)arg;
	p = malloc(64);
	memset(p, 0, 64);
	child_report_ptr("addr", p + 16);
	q = realloc(ptr_launder(p + 16), 1000);
	(void)q;
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(realloc_inside_block_aborts);
ATF_TC_BODY(realloc_inside_block_aborts, tc)
{

	expect_abort(realloc_interior, NULL,
	    "<malloc>: realloc(): invalid pointer %s (inside a block)");
}

/*
 * The same within the block's class, which realloc's fast path answers
 * (small: the region check; large: the first page's entry).
 */
static void
realloc_interior_same_class(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p, *q;

	p = malloc(n);
	memset(p, 0, n);
	child_report_ptr("addr", p + (n > 4096 ? 4096 : 16));
	q = realloc(ptr_launder(p + (n > 4096 ? 4096 : 16)), n);
	(void)q;
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(realloc_inside_block_same_class_aborts);
ATF_TC_BODY(realloc_inside_block_same_class_aborts, tc)
{
	size_t small = 64, large = 100 * KiB;

	expect_abort(realloc_interior_same_class, &small,
	    "<malloc>: realloc(): invalid pointer %s (inside a block)");
	expect_abort(realloc_interior_same_class, &large,
	    "<malloc>: realloc(): invalid pointer %s (inside a block)");
}

/*
 * A freed block resized within its class: caught, not handed back; also
 * once the block is back in its slab (flush: the cache flushed first),
 * where realloc's fast path refuses the slab's mark as it refuses the key.
 * Resized to another small class (to), where realloc moves live blocks
 * with the fast paths: caught too, not copied and freed a second time.
 */
struct realloc_freed_case {
	size_t	n;
	bool	flush;
	size_t	to;		/* 0: n */
};

static void
realloc_freed(void *arg)
{
	const struct realloc_freed_case *c = arg;
	void *p, *q;

	p = malloc(c->n);
	memset(p, 1, c->n);
	child_report_ptr("addr", p);
	q = ptr_launder(p);
	free(p);
	if (c->flush &&
	    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
		_exit(3);
	q = realloc(q, c->to != 0 ? c->to : c->n);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(realloc_of_freed_block_aborts);
ATF_TC_BODY(realloc_of_freed_block_aborts, tc)
{
	struct realloc_freed_case small = { 100, false, 0 },
	    large = { 100 * KiB, false, 0 }, flushed = { 100, true, 0 },
	    moved = { 100, false, 300 }, moved_flushed = { 100, true, 20 };

	expect_abort(realloc_freed, &small,
	    "<malloc>: realloc(): double free of %s");
	expect_abort(realloc_freed, &large,
	    "<malloc>: realloc(): double free of %s");
	expect_abort(realloc_freed, &flushed,
	    "<malloc>: realloc(): double free of %s");
	expect_abort(realloc_freed, &moved,
	    "<malloc>: realloc(): double free of %s");
	expect_abort(realloc_freed, &moved_flushed,
	    "<malloc>: realloc(): double free of %s");
}

/*
 * A 48-byte block freed as if it were 100 bytes (class 112).  Blocks of
 * both classes are freed afterwards, so an allocator that only checks
 * when a cache flushes still meets the bad block before "survived".
 */
static void
sized_free_wrong_size(void *arg)
{
	enum { NOTHERS = 4096 };
	static void *others[NOTHERS];
	bool use_free_sized = *(bool *)arg;
	void *p;
	int i;

	for (i = 0; i < NOTHERS; i++)
		others[i] = malloc(i % 2 ? 48 : 100);
	p = malloc(48);
	memset(p, 0, 48);
	child_report_ptr("addr", p);
	if (use_free_sized)
		free_sized(p, size_launder(100));
	else
		sdallocx(p, size_launder(100), 0);
	for (i = 0; i < NOTHERS; i++)
		free(others[i]);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(sdallocx_with_wrong_size_aborts);
ATF_TC_BODY(sdallocx_with_wrong_size_aborts, tc)
{
	bool use_free_sized = false;

	expect_abort(sized_free_wrong_size, &use_free_sized,
	    "<malloc>: sdallocx(): size 100 does not match block %s "
	    "of size 48");
}

ATF_TC_WITHOUT_HEAD(free_sized_with_wrong_size_aborts);
ATF_TC_BODY(free_sized_with_wrong_size_aborts, tc)
{
	bool use_free_sized = true;

	expect_abort(sized_free_wrong_size, &use_free_sized,
	    "<malloc>: free_sized(): size 100 does not match block %s "
	    "of size 48");
}

/* A size in the block's own class is right, whatever was requested. */
ATF_TC_WITHOUT_HEAD(sdallocx_with_size_in_same_class_succeeds);
ATF_TC_BODY(sdallocx_with_size_in_same_class_succeeds, tc)
{
	size_t n, usize;
	void *p;

	for (n = 1; n <= 20000; n += n < 512 ? 1 : 61) {
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		usize = usable_size(p);
		sdallocx(p, n, 0);
		p = malloc(n);
		ATF_REQUIRE(p != NULL);
		sdallocx(p, usize, 0);
	}
}

static void
usable_size_stack(void *arg)
{
	char buf[64];
	void *p;

	(void)arg;
	memset(buf, 0, sizeof(buf));
	p = ptr_launder(buf);
	child_report_ptr("addr", p);
	report_survived_size(malloc_usable_size(p));
}

ATF_TC_WITHOUT_HEAD(malloc_usable_size_of_invalid_pointer_aborts);
ATF_TC_BODY(malloc_usable_size_of_invalid_pointer_aborts, tc)
{

	expect_abort(usable_size_stack, NULL,
	    "<malloc>: malloc_usable_size(): invalid pointer %s "
	    "(not allocated by malloc)");
}

static void
sallocx_static(void *arg)
{
	void *p;

	(void)arg;
	p = ptr_launder(static_buf);
	child_report_ptr("addr", p);
	report_survived_size(sallocx(p, 0));
}

ATF_TC_WITHOUT_HEAD(sallocx_of_invalid_pointer_aborts);
ATF_TC_BODY(sallocx_of_invalid_pointer_aborts, tc)
{

	expect_abort(sallocx_static, NULL,
	    "<malloc>: sallocx(): invalid pointer %s "
	    "(not allocated by malloc)");
}


/*
 * Metadata corruption a check meets is reported, never followed.  These
 * cases overwrite a slab descriptor's free count (the test is linked
 * with libmalloc.a, so it can reach the descriptor through the pointer
 * map); the slab's address is reported and named in the message.
 */
static struct extent *
slab_of(void *p)
{
	return (pmap_entry_extent(pmap_lookup(p)));
}

/* The count says every region is free, and a flush frees one more. */
static void
corrupt_count_then_free(void *arg)
{
	struct extent *slab;
	void *p;

	(void)arg;
	p = malloc(64);
	slab = slab_of(p);
	child_report_ptr("addr", (void *)slab->addr);
	slab->nfree = bin_infos[slab->szind].nregs;
	free(p);
	ATF_REQUIRE(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(corrupt_slab_count_found_by_free_aborts);
ATF_TC_BODY(corrupt_slab_count_found_by_free_aborts, tc)
{
	unsigned nregs = bin_infos[sz_size2index(64)].nregs;
	static char fmt[160];

	snprintf(fmt, sizeof(fmt), "<malloc>: free(): metadata corruption: "
	    "slab %%s counts %u free regions of %u before a free", nregs,
	    nregs);
	expect_abort(corrupt_count_then_free, NULL, fmt);
}

/*
 * The count says five more regions are free than the bitmap holds: the
 * refill that empties the bitmap finds the difference.  How many the
 * bitmap held then depends on refill sizes: only the prefix is compared.
 * p comes from a refill (the cache emptied first), so that its slab is
 * the bin's current one, which the next refills take from; a block
 * cached earlier may be of a full slab that no refill visits again.
 */
static void
corrupt_count_then_allocate(void *arg)
{
	struct extent *slab;
	void *p;
	int i;

	(void)arg;
	if (mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
		child_report("no flush\n");
	p = malloc(64);
	slab = slab_of(p);
	child_report_ptr("addr", (void *)slab->addr);
	slab->nfree += 5;
	for (i = 0; i < 4096; i++)
		KEEP(malloc(64));
	KEEP(p);
	SURVIVED();
}

ATF_TC_WITHOUT_HEAD(corrupt_slab_count_found_by_malloc_aborts);
ATF_TC_BODY(corrupt_slab_count_found_by_malloc_aborts, tc)
{

	expect_abort_prefix(corrupt_count_then_allocate, NULL,
	    "<malloc>: malloc(): metadata corruption: slab %s: its free "
	    "count (");
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, double_free_of_small_block_aborts);
	ATF_TP_ADD_TC(tp, double_free_after_other_frees_aborts);
	ATF_TP_ADD_TC(tp, double_free_after_cache_flush_aborts);
	ATF_TP_ADD_TC(tp, double_free_found_by_cache_flush_aborts);
	ATF_TP_ADD_TC(tp, double_free_found_when_slab_goes_aborts);
	ATF_TP_ADD_TC(tp, corrupt_slab_count_found_by_free_aborts);
	ATF_TP_ADD_TC(tp, corrupt_slab_count_found_by_malloc_aborts);
	ATF_TP_ADD_TC(tp, double_free_found_at_thread_exit_aborts);
	ATF_TP_ADD_TC(tp, double_free_found_at_exit_aborts);
	ATF_TP_ADD_TC(tp, double_free_of_large_block_aborts);
	ATF_TP_ADD_TC(tp, double_free_of_huge_block_aborts);
	ATF_TP_ADD_TC(tp, double_free_never_hands_block_out_twice);
	ATF_TP_ADD_TC(tp, free_of_stack_address_aborts);
	ATF_TP_ADD_TC(tp, free_of_static_address_aborts);
	ATF_TP_ADD_TC(tp, free_of_mmap_pointer_aborts);
	ATF_TP_ADD_TC(tp, free_inside_small_block_aborts);
	ATF_TP_ADD_TC(tp, free_inside_large_block_aborts);
	ATF_TP_ADD_TC(tp, realloc_of_invalid_pointer_aborts);
	ATF_TP_ADD_TC(tp, realloc_inside_block_aborts);
	ATF_TP_ADD_TC(tp, realloc_inside_block_same_class_aborts);
	ATF_TP_ADD_TC(tp, realloc_of_freed_block_aborts);
	ATF_TP_ADD_TC(tp, sdallocx_with_wrong_size_aborts);
	ATF_TP_ADD_TC(tp, free_sized_with_wrong_size_aborts);
	ATF_TP_ADD_TC(tp, sdallocx_with_size_in_same_class_succeeds);
	ATF_TP_ADD_TC(tp, malloc_usable_size_of_invalid_pointer_aborts);
	ATF_TP_ADD_TC(tp, sallocx_of_invalid_pointer_aborts);
	return (atf_no_error());
}
