/*
 * Options read from MALLOC_CONF at start-up: junk:true (new memory filled
 * with 0xa5), zero:true (new memory zeroed), xmalloc:true (out of memory
 * aborts with a message), harden:true (quarantine, write-after-free
 * check, guard pages, random slab order), and the warning for an unknown
 * option.
 *
 * The allocator reads MALLOC_CONF once, before main, so each case runs
 * this program again with MALLOC_CONF and MALLOC_TEST_HELPER set: a
 * constructor sees the helper's name, runs it and exits before ATF
 * starts.  A helper exits 0 when the expectation holds, or reports what
 * it found and exits 1.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)


#define	JUNK_ALLOC	0xa5
#define	JUNK_FREE	0x5a

static const size_t sizes[] = { 1, 24, 100, 1000, 14000, 20 * KiB,
    100 * KiB, 3 * MiB, 9 * MiB };
#define	NSIZES	(sizeof(sizes) / sizeof(sizes[0]))

/* In a helper: report the first byte of p[0..n) that is not c and fail. */
static void
helper_require_bytes(const char *what, size_t n, const void *p,
    unsigned char c)
{
	const unsigned char *b = p;
	char msg[256];
	size_t i;

	if (p == NULL) {
		snprintf(msg, sizeof(msg), "%s of %zu bytes failed\n", what, n);
		child_report(msg);
		_exit(1);
	}
	for (i = 0; i < n; i++) {
		if (b[i] != c) {
			snprintf(msg, sizeof(msg), "%s(%zu) = %p: byte %zu is "
			    "%#x, not %#x\n", what, n, p, i, b[i], c);
			child_report(msg);
			_exit(1);
		}
	}
}

/*
 * Dirty and free a block of each size (so that the next one may reuse
 * dirty memory), then allocate it again with alloc and require every byte
 * to be c.
 */
static void
helper_check_fresh_blocks(const char *what, void *(*alloc)(size_t),
    unsigned char c)
{
	size_t i;
	int round;
	void *p;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < NSIZES; i++) {
			p = malloc(sizes[i]);
			if (p != NULL) {
				memset(p, 0x17, sizes[i]);
				free(p);
			}
			p = alloc(sizes[i]);
			helper_require_bytes(what, sizes[i], p, c);
			free(p);
		}
	}
}

static void *
calloc_one(size_t n)
{

	return (calloc(1, n));
}

static int
helper_junk_alloc(void)
{

	helper_check_fresh_blocks("malloc", malloc, JUNK_ALLOC);
	return (0);
}

static int
helper_junk_calloc(void)
{

	helper_check_fresh_blocks("calloc", calloc_one, 0);
	return (0);
}

static int
helper_zero_malloc(void)
{

	helper_check_fresh_blocks("malloc", malloc, 0);
	return (0);
}

/* Grow dirty blocks with realloc: the new tail must be zero. */
static int
helper_zero_realloc(void)
{
	size_t i;
	char *p, *q;

	for (i = 0; i + 1 < NSIZES; i++) {
		p = malloc(sizes[i]);
		if (p == NULL)
			return (1);
		memset(p, 0x17, sizes[i]);
		q = realloc(p, sizes[i + 1]);
		helper_require_bytes("realloc's new tail",
		    sizes[i + 1] - sizes[i], q == NULL ? NULL : q + sizes[i],
		    0);
		free(q);
	}
	return (0);
}

static int
helper_xmalloc(void)
{
	void *p;

	p = malloc(size_launder(SIZE_MAX));
	child_report_ptr("survived: malloc(SIZE_MAX) returned", p);
	return (1);
}

static int
helper_allocate(void)
{
	void *p;

	p = malloc(100);
	if (p == NULL)
		return (1);
	free(p);
	child_report("allocated\n");
	return (0);
}


/*
 * harden:true: a byte written into a freed block (here its first, which
 * no bookkeeping word covers) is found when the block leaves the
 * quarantine and is handed out again.
 */
static int
helper_write_after_free(void)
{
	volatile unsigned char *p;
	void *q;
	int i;

	p = malloc(64);
	child_report_ptr("addr", (void *)p);
	free((void *)p);
	p[0] = 1;
	/* 1,024 quarantine slots: p leaves them, then comes back. */
	for (i = 0; i < 4096; i++) {
		q = malloc(64);
		free(q);
	}
	child_report("survived\n");
	return (1);
}

/* A freed block is not the next one handed out (1 without harden). */
static int
helper_reuse_delayed(void)
{
	void *p = malloc(48), *q;
	char msg[128];

	free(p);
	q = malloc(48);
	snprintf(msg, sizeof(msg), "freed %p, next %p\n", p, q);
	child_report(msg);
	return (q == p);
}

/*
 * Whether regions come out of slabs in address order (1: most blocks are
 * a neighbour of the one before, up or down, as a cache refill hands them
 * out) or not (0).
 */
static int
helper_slab_order(void)
{
	enum { N = 64 };
	uintptr_t a[N];
	char msg[64];
	int i, neighbours = 0;

	for (i = 0; i < N; i++)
		a[i] = (uintptr_t)malloc(32);
	for (i = 1; i < N; i++)
		if (a[i] == a[i - 1] + 32 || a[i] + 32 == a[i - 1])
			neighbours++;
	snprintf(msg, sizeof(msg), "%d of %d neighbours\n", neighbours, N - 1);
	child_report(msg);
	return (neighbours >= N / 2);
}

/* Writing the byte just past a large block faults under harden:true. */
static int
helper_guard_page(void)
{
	volatile unsigned char *p = malloc(64 * KiB);

	if (p == NULL)
		return (2);
	p[malloc_usable_size((void *)p)] = 1;
	child_report("survived\n");
	return (1);
}

static const struct test_helper helpers[] = {
	{ "junk_alloc",		helper_junk_alloc },
	{ "junk_calloc",	helper_junk_calloc },
	{ "zero_malloc",	helper_zero_malloc },
	{ "zero_realloc",	helper_zero_realloc },
	{ "xmalloc",		helper_xmalloc },
	{ "allocate",		helper_allocate },
	{ "write_after_free",	helper_write_after_free },
	{ "reuse_delayed",	helper_reuse_delayed },
	{ "slab_order",		helper_slab_order },
	{ "guard_page",		helper_guard_page },
};

/* In the re-executed program: run the helper named in the environment. */
__attribute__((constructor))
static void
helper_dispatch(void)
{
	helper_dispatch_from(helpers, sizeof(helpers) / sizeof(helpers[0]));
}

ATF_TC_WITHOUT_HEAD(junk_true_fills_new_memory_with_a5);
ATF_TC_BODY(junk_true_fills_new_memory_with_a5, tc)
{

	require_helper_ok("junk:true", "junk_alloc");
}

ATF_TC_WITHOUT_HEAD(junk_alloc_fills_new_memory_with_a5);
ATF_TC_BODY(junk_alloc_fills_new_memory_with_a5, tc)
{

	require_helper_ok("junk:alloc", "junk_alloc");
}

/* Junk is for uninitialised memory: calloc still returns zeroes. */
ATF_TC_WITHOUT_HEAD(junk_true_leaves_calloc_zeroed);
ATF_TC_BODY(junk_true_leaves_calloc_zeroed, tc)
{

	require_helper_ok("junk:true", "junk_calloc");
}

ATF_TC_WITHOUT_HEAD(zero_true_zeroes_malloc_memory);
ATF_TC_BODY(zero_true_zeroes_malloc_memory, tc)
{

	require_helper_ok("zero:true", "zero_malloc");
}

ATF_TC_WITHOUT_HEAD(zero_true_zeroes_realloc_growth);
ATF_TC_BODY(zero_true_zeroes_realloc_growth, tc)
{

	require_helper_ok("zero:true", "zero_realloc");
}

/* Runs a helper that must die of signal sig; res says what it wrote. */
static void
require_helper_killed(const char *conf, const char *helper, int sig,
    struct child_result *res)
{
	char status[128];

	run_helper(conf, helper, res);
	ATF_REQUIRE_MSG(WIFSIGNALED(res->status) &&
	    WTERMSIG(res->status) == sig,
	    "with MALLOC_CONF=%s, helper %s: child %s, not killed by signal "
	    "%d: %s (stderr: %s)", conf, helper,
	    child_status_str(res, status, sizeof(status)), sig,
	    res->report_line, res->err_line);
}

ATF_TC_WITHOUT_HEAD(xmalloc_true_aborts_on_out_of_memory);
ATF_TC_BODY(xmalloc_true_aborts_on_out_of_memory, tc)
{
	static struct child_result res;

	require_helper_killed("xmalloc:true", "xmalloc", SIGABRT, &res);
	ATF_REQUIRE_MSG(strstr(res.err, "<malloc>: ") != NULL &&
	    strchr(res.err, '\n') != NULL,
	    "no \"<malloc>: \" message line before the abort: \"%s\"",
	    res.err_line);
}

/* An option the allocator does not know: a warning, then business. */
ATF_TC_WITHOUT_HEAD(unknown_option_warns_and_continues);
ATF_TC_BODY(unknown_option_warns_and_continues, tc)
{
	static struct child_result res;
	char status[128];

	run_helper("no_such_option:true", "allocate", &res);
	ATF_REQUIRE_MSG(child_exited_ok(&res),
	    "child %s: %s (stderr: %s)",
	    child_status_str(&res, status, sizeof(status)), res.report_line,
	    res.err_line);
	ATF_REQUIRE(text_has_line(res.report, "allocated"));
	ATF_REQUIRE_MSG(strstr(res.err, "<malloc>: ") != NULL &&
	    strstr(res.err, "no_such_option") != NULL,
	    "no warning naming the option: \"%s\"", res.err_line);
}


ATF_TC_WITHOUT_HEAD(harden_reports_write_after_free);
ATF_TC_BODY(harden_reports_write_after_free, tc)
{
	static struct child_result res;
	char expected[160];
	const char *a;

	require_helper_killed("harden:true", "write_after_free", SIGABRT,
	    &res);
	ATF_REQUIRE_MSG(strstr(res.report, "survived") == NULL,
	    "went on after the write: %s", res.report_line);
	a = strstr(res.report, "addr ");
	ATF_REQUIRE(a != NULL);
	snprintf(expected, sizeof(expected), "<malloc>: write after free of "
	    "%.*s at offset 0 (block of 64 bytes)",
	    (int)strcspn(a + 5, "\n"), a + 5);
	ATF_REQUIRE_MSG(text_has_line(res.err, expected),
	    "stderr lacks \"%s\": \"%s\"", expected, res.err_line);
}

/*
 * A helper that exits 1 in the default mode (the control: the test can
 * fail) must exit 0 under harden:true.
 */
static void
require_harden_changes(const char *helper, const char *control)
{
	static struct child_result res;

	run_helper("harden:false", helper, &res);
	ATF_REQUIRE_MSG(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 1,
	    "control: without harden, %s: %s", control, res.report_line);
	require_helper_ok("harden:true", helper);
}

ATF_TC_WITHOUT_HEAD(harden_delays_reuse);
ATF_TC_BODY(harden_delays_reuse, tc)
{

	require_harden_changes("reuse_delayed",
	    "the freed block should come straight back");
}

ATF_TC_WITHOUT_HEAD(harden_randomises_slab_order);
ATF_TC_BODY(harden_randomises_slab_order, tc)
{

	require_harden_changes("slab_order",
	    "a cache refill should hand out neighbours");
}

ATF_TC_WITHOUT_HEAD(harden_guards_large_blocks);
ATF_TC_BODY(harden_guards_large_blocks, tc)
{
	static struct child_result res;

	require_helper_killed("harden:true", "guard_page", SIGSEGV, &res);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, junk_true_fills_new_memory_with_a5);
	ATF_TP_ADD_TC(tp, junk_alloc_fills_new_memory_with_a5);
	ATF_TP_ADD_TC(tp, junk_true_leaves_calloc_zeroed);
	ATF_TP_ADD_TC(tp, zero_true_zeroes_malloc_memory);
	ATF_TP_ADD_TC(tp, zero_true_zeroes_realloc_growth);
	ATF_TP_ADD_TC(tp, xmalloc_true_aborts_on_out_of_memory);
	ATF_TP_ADD_TC(tp, harden_reports_write_after_free);
	ATF_TP_ADD_TC(tp, harden_delays_reuse);
	ATF_TP_ADD_TC(tp, harden_randomises_slab_order);
	ATF_TP_ADD_TC(tp, harden_guards_large_blocks);
	ATF_TP_ADD_TC(tp, unknown_option_warns_and_continues);
	return (atf_no_error());
}
