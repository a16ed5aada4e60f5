/*
 * The allocator at the edges of a process's life: first called from a
 * constructor that runs before any other (so before any initialisation of
 * its own that a later constructor might do), from a thread started there,
 * from C library internals (stdio, dlopen, qsort), from thread-specific
 * data destructors while a thread exits, and from atexit handlers and
 * destructors while the process exits.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

/*
 * What the earliest constructor saw.  It cannot use ATF (there is no test
 * case yet), so it records and the test cases check.
 */
static struct {
	bool	 ran;
	void	*small, *large, *huge, *zeroed, *grown, *aligned;
	char	*dup;
	int	 memalign_ret;
	bool	 zeroed_ok, grown_ok;
	bool	 thread_ran;
	void	*thread_block;
} early;

static void *
early_thread(void *arg)
{

	(void)arg;
	early.thread_block = malloc(1000);
	if (early.thread_block != NULL)
		memset(early.thread_block, 0x44, 1000);
	early.thread_ran = true;
	return (NULL);
}

/* 101 is the first priority open to programs: nothing of ours runs earlier. */
__attribute__((constructor(101)))
static void
early_constructor(void)
{
	pthread_t th;
	size_t i;

	early.ran = true;
	early.small = malloc(24);
	early.large = malloc(100 * KiB);
	early.huge = malloc(4 * MiB);
	if (early.small != NULL)
		memset(early.small, 0x11, 24);
	if (early.large != NULL)
		memset(early.large, 0x22, 100 * KiB);
	if (early.huge != NULL)
		memset(early.huge, 0x33, 4 * MiB);
	early.zeroed = calloc(1000, 8);
	early.zeroed_ok = early.zeroed != NULL;
	for (i = 0; early.zeroed_ok && i < 8000; i++)
		early.zeroed_ok = ((unsigned char *)early.zeroed)[i] == 0;
	early.grown = malloc(10);
	if (early.grown != NULL) {
		memcpy(early.grown, "0123456789", 10);
		early.grown = realloc(early.grown, 50000);
		early.grown_ok = early.grown != NULL &&
		    memcmp(early.grown, "0123456789", 10) == 0;
	}
	early.memalign_ret = posix_memalign(&early.aligned, 4096, 5000);
	early.dup = strdup("constructed");
	if (pthread_create(&th, NULL, early_thread, NULL) == 0)
		pthread_join(th, NULL);
}

ATF_TC_WITHOUT_HEAD(malloc_works_in_first_constructor);
ATF_TC_BODY(malloc_works_in_first_constructor, tc)
{
	size_t i;

	ATF_REQUIRE(early.ran);
	ATF_REQUIRE(early.small != NULL);
	ATF_REQUIRE(early.large != NULL);
	ATF_REQUIRE(early.huge != NULL);
	for (i = 0; i < 24; i++)
		ATF_REQUIRE(((unsigned char *)early.small)[i] == 0x11);
	ATF_REQUIRE(((unsigned char *)early.large)[100 * KiB - 1] == 0x22);
	ATF_REQUIRE(((unsigned char *)early.huge)[4 * MiB - 1] == 0x33);
	ATF_REQUIRE_MSG(early.zeroed_ok, "calloc in a constructor failed or "
	    "returned non-zero memory");
	ATF_REQUIRE_MSG(early.grown_ok, "realloc in a constructor failed or "
	    "lost the contents");
	ATF_REQUIRE_EQ(early.memalign_ret, 0);
	ATF_REQUIRE((uintptr_t)early.aligned % 4096 == 0);
	ATF_REQUIRE(early.dup != NULL);
	ATF_REQUIRE_STREQ(early.dup, "constructed");
	/* Blocks from before main are ordinary blocks: free them here. */
	free(early.small);
	free(early.large);
	free(early.huge);
	free(early.zeroed);
	free(early.grown);
	free(early.aligned);
	free(early.dup);
}

ATF_TC_WITHOUT_HEAD(malloc_works_in_thread_started_by_constructor);
ATF_TC_BODY(malloc_works_in_thread_started_by_constructor, tc)
{

	ATF_REQUIRE_MSG(early.thread_ran,
	    "the constructor could not start a thread");
	ATF_REQUIRE(early.thread_block != NULL);
	ATF_REQUIRE(((unsigned char *)early.thread_block)[999] == 0x44);
	free(early.thread_block);
}

static int
int_compare(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y ? -1 : x > y);
}

/*
 * C library calls that allocate internally (stdio buffers, dlopen's link
 * map, qsort's scratch array, open_memstream, getline) run on our malloc
 * without recursing into it or deadlocking, and what they hand back frees.
 */
ATF_TC_WITHOUT_HEAD(libc_internals_allocate_without_recursion);
ATF_TC_BODY(libc_internals_allocate_without_recursion, tc)
{
	static int numbers[200000];
	double (*cosine)(double);
	char *line, *s;
	size_t cap, i;
	void *handle;
	FILE *f;

	f = tmpfile();
	ATF_REQUIRE(f != NULL);
	for (i = 0; i < 10000; i++)
		ATF_REQUIRE(fprintf(f, "line %zu\n", i) > 0);
	rewind(f);
	line = NULL;
	cap = 0;
	for (i = 0; getline(&line, &cap, f) != -1; i++)
		;
	ATF_REQUIRE_EQ(i, 10000);
	free(line);
	fclose(f);

	f = open_memstream(&s, &cap);
	ATF_REQUIRE(f != NULL);
	for (i = 0; i < 1000; i++)
		ATF_REQUIRE(fprintf(f, "%zu,", i) > 0);
	ATF_REQUIRE_EQ(fclose(f), 0);
	ATF_REQUIRE(strncmp(s, "0,1,2,", 6) == 0);
	ATF_REQUIRE_EQ(strlen(s), cap);
	free(s);

	/* qsort takes a malloc'ed scratch buffer for large arrays. */
	for (i = 0; i < 200000; i++)
		numbers[i] = (int)((i * 7919) % 200000);
	qsort(numbers, 200000, sizeof(numbers[0]), int_compare);
	for (i = 1; i < 200000; i++)
		ATF_REQUIRE(numbers[i - 1] <= numbers[i]);

	handle = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	ATF_REQUIRE_MSG(handle != NULL, "dlopen: %s", dlerror());
	*(void **)&cosine = dlsym(handle, "cos");
	ATF_REQUIRE(cosine != NULL);
	ATF_REQUIRE(cosine(0.0) == 1.0);
	ATF_REQUIRE(dlsym(handle, "no_such_symbol_here") == NULL);
	ATF_REQUIRE(dlerror() != NULL);
	ATF_REQUIRE_EQ(dlclose(handle), 0);
}

/*
 * Thread-specific data destructors run while the thread exits, possibly
 * after the allocator's own per-thread teardown: freeing and allocating
 * there must work, in the first destructor round and in a second round
 * that the first one triggers by setting the key again.
 */
static pthread_key_t tsd_key;

static struct {
	int	 rounds;
	bool	 first_intact;
	void	*small[2], *large[2];
} tsd;

static void
tsd_destructor(void *value)
{
	int r = tsd.rounds++;

	if (r >= 2)
		return;
	if (r == 0)
		tsd.first_intact = pattern_check(value, 300, 9) == 300;
	free(value);
	tsd.small[r] = malloc(100);
	tsd.large[r] = malloc(200 * KiB);
	if (tsd.small[r] != NULL)
		memset(tsd.small[r], 0x55, 100);
	if (tsd.large[r] != NULL)
		memset(tsd.large[r], 0x66, 200 * KiB);
	if (r == 0) {
		value = malloc(300);
		if (value != NULL)
			pthread_setspecific(tsd_key, value);
	}
}

static void *
tsd_thread(void *arg)
{
	void *p, *blocks[100];
	int i;

	(void)arg;
	/* Fill this thread's cache so that its teardown has work to do. */
	for (i = 0; i < 100; i++)
		blocks[i] = malloc((size_t)i * 30 + 1);
	for (i = 0; i < 100; i++)
		free(blocks[i]);
	p = malloc(300);
	if (p == NULL)
		abort();
	pattern_fill(p, 300, 9);
	pthread_setspecific(tsd_key, p);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(malloc_works_in_thread_key_destructor);
ATF_TC_BODY(malloc_works_in_thread_key_destructor, tc)
{
	pthread_t th;
	int r;

	ATF_REQUIRE(pthread_key_create(&tsd_key, tsd_destructor) == 0);
	ATF_REQUIRE(pthread_create(&th, NULL, tsd_thread, NULL) == 0);
	ATF_REQUIRE(pthread_join(th, NULL) == 0);
	ATF_REQUIRE_EQ_MSG(tsd.rounds, 2, "destructor ran %d times",
	    tsd.rounds);
	ATF_REQUIRE(tsd.first_intact);
	for (r = 0; r < 2; r++) {
		ATF_REQUIRE_MSG(tsd.small[r] != NULL && tsd.large[r] != NULL,
		    "malloc in destructor round %d failed", r + 1);
		ATF_REQUIRE(((unsigned char *)tsd.small[r])[99] == 0x55);
		ATF_REQUIRE(((unsigned char *)tsd.large[r])[200 * KiB - 1] ==
		    0x66);
		free(tsd.small[r]);
		free(tsd.large[r]);
	}
}

/* Set in a child that is about to exit: the handlers below then report. */
static bool exiting_child;

static void
allocate_at_exit(const char *who)
{
	char msg[64];
	void *p, *q;

	p = malloc(64);
	q = malloc(300 * KiB);
	if (p == NULL || q == NULL)
		_exit(3);
	memset(p, 1, 64);
	memset(q, 2, 300 * KiB);
	free(q);
	free(p);
	snprintf(msg, sizeof(msg), "%s ok\n", who);
	child_report(msg);
}

static void
atexit_handler(void)
{

	if (exiting_child)
		allocate_at_exit("atexit");
}

__attribute__((destructor))
static void
exit_destructor(void)
{

	if (exiting_child)
		allocate_at_exit("destructor");
}

static void
child_exits(void *arg)
{
	char *p;

	(void)arg;
	exiting_child = true;
	atexit(atexit_handler);
	/* Leave some blocks live and the cache full at exit. */
	p = malloc(1000);
	if (p == NULL)
		_exit(2);
	memset(p, 0, 1000);
	p = malloc(10);
	free(p);
	exit(0);
}

ATF_TC_WITHOUT_HEAD(malloc_works_in_atexit_handler_and_destructor);
ATF_TC_BODY(malloc_works_in_atexit_handler_and_destructor, tc)
{
	static struct child_result res;
	char status[128];

	child_run(child_exits, NULL, &res);
	ATF_REQUIRE_MSG(child_exited_ok(&res), "exiting child %s: %s",
	    child_status_str(&res, status, sizeof(status)), res.err_line);
	ATF_REQUIRE_MSG(text_has_line(res.report, "atexit ok"),
	    "the atexit handler did not finish: %s", res.report_line);
	ATF_REQUIRE_MSG(text_has_line(res.report, "destructor ok"),
	    "the destructor did not finish: %s", res.report_line);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, malloc_works_in_first_constructor);
	ATF_TP_ADD_TC(tp, malloc_works_in_thread_started_by_constructor);
	ATF_TP_ADD_TC(tp, libc_internals_allocate_without_recursion);
	ATF_TP_ADD_TC(tp, malloc_works_in_thread_key_destructor);
	ATF_TP_ADD_TC(tp, malloc_works_in_atexit_handler_and_destructor);
	return (atf_no_error());
}
