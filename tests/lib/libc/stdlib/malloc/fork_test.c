/*
 * fork(2) from a process whose threads are allocating at that moment: the
 * allocator must take all its locks before the fork and release them (or
 * reinitialise them) in both processes, so that the child can allocate at
 * once.  A child that deadlocks is killed by its alarm and reported.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

#define	NBUSY	3
#define	NFORKS	100

static atomic_bool busy_stop;

/*
 * Allocate and free in a loop, small mostly, sometimes large or huge, so
 * that at any moment of a fork some allocator lock is likely held.
 */
static void *
busy_thread(void *arg)
{
	enum { NSLOTS = 64 };
	void *slots[NSLOTS] = { NULL };
	size_t sizes[NSLOTS] = { 0 };
	unsigned state = (unsigned)(uintptr_t)arg * 2246822519u + 3;
	uintptr_t bad = 0;
	unsigned i, r;

	while (!atomic_load_explicit(&busy_stop, memory_order_relaxed)) {
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		i = state % NSLOTS;
		if (slots[i] != NULL) {
			if (pattern_check(slots[i], sizes[i], i) != sizes[i])
				bad++;
			free(slots[i]);
		}
		r = (state >> 8) % 100;
		sizes[i] = r < 90 ? (state >> 12) % 1024 + 1 :
		    (r < 99 ? (state >> 12) % (256 * KiB) + 1 : 4 * MiB);
		slots[i] = malloc(sizes[i]);
		if (slots[i] == NULL)
			abort();
		pattern_fill(slots[i], sizes[i] < 4096 ? sizes[i] : 4096, i);
		sizes[i] = sizes[i] < 4096 ? sizes[i] : 4096;
	}
	for (i = 0; i < NSLOTS; i++)
		free(slots[i]);
	return ((void *)bad);
}

static pthread_t busy[NBUSY];

static void
busy_start(void)
{
	uintptr_t i;

	atomic_store(&busy_stop, false);
	for (i = 0; i < NBUSY; i++)
		ATF_REQUIRE(pthread_create(&busy[i], NULL, busy_thread,
		    (void *)i) == 0);
}

/* Stop the busy threads and require that none saw a block change. */
static void
busy_stop_and_check(void)
{
	void *bad;
	int i;

	atomic_store(&busy_stop, true);
	for (i = 0; i < NBUSY; i++) {
		ATF_REQUIRE(pthread_join(busy[i], &bad) == 0);
		ATF_REQUIRE_EQ_MSG((uintptr_t)bad, 0,
		    "busy thread %d found %zu blocks changed", i,
		    (size_t)(uintptr_t)bad);
	}
}

/* In a child: allocate across all size ranges, or exit 1 saying why. */
static void
child_allocate_everything(void)
{
	static const size_t sizes[] = { 1, 16, 100, 1000, 4000, 20 * KiB,
	    100 * KiB, 1 * MiB, 4 * MiB };
	size_t i;
	void *p, *q;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = malloc(sizes[i]);
		if (p == NULL) {
			child_report("child: malloc failed\n");
			_exit(1);
		}
		memset(p, 0x21, sizes[i]);
		q = realloc(p, sizes[i] * 2);
		if (q == NULL) {
			child_report("child: realloc failed\n");
			_exit(1);
		}
		free(q);
		p = calloc(1, sizes[i]);
		if (p == NULL) {
			child_report("child: calloc failed\n");
			_exit(1);
		}
		free(p);
	}
}

/* Fail with what the child said unless it exited 0. */
static void
require_child_ok(const struct child_result *res, int n)
{
	char status[128];

	ATF_REQUIRE_MSG(child_exited_ok(res),
	    "child %d %s%s (report: %s; stderr: %s)", n,
	    child_status_str(res, status, sizeof(status)),
	    WIFSIGNALED(res->status) && WTERMSIG(res->status) == SIGALRM ?
	    ": deadlocked" : "", res->report_line, res->err_line);
}

static void
child_allocates(void *arg)
{

	(void)arg;
	child_allocate_everything();
}

ATF_TC_WITHOUT_HEAD(child_of_busy_threads_can_allocate);
ATF_TC_BODY(child_of_busy_threads_can_allocate, tc)
{
	static struct child_result res;
	int n;

	busy_start();
	for (n = 0; n < NFORKS; n++) {
		child_run(child_allocates, NULL, &res);
		require_child_ok(&res, n);
	}
	busy_stop_and_check();
}

/* Blocks the parent allocated before the fork: in the child, intact. */
#define	NINHERITED	64

struct inherited {
	void	*p[NINHERITED];
	size_t	 size[NINHERITED];
};

static size_t
inherited_size(int i)
{

	return (i % 16 == 15 ? 3 * MiB : (i % 4 == 3 ? 70 * KiB :
	    (size_t)i * 40 + 1));
}

static void
child_frees_inherited(void *arg)
{
	struct inherited *in = arg;
	int i;

	for (i = 0; i < NINHERITED; i++) {
		if (pattern_check(in->p[i], in->size[i], (unsigned)i) !=
		    in->size[i]) {
			child_report("child: inherited block changed\n");
			_exit(1);
		}
		free(in->p[i]);
	}
	child_allocate_everything();
}

ATF_TC_WITHOUT_HEAD(child_frees_blocks_allocated_before_fork);
ATF_TC_BODY(child_frees_blocks_allocated_before_fork, tc)
{
	static struct child_result res;
	static struct inherited in;
	int i, n;

	for (i = 0; i < NINHERITED; i++) {
		in.size[i] = inherited_size(i);
		in.p[i] = malloc(in.size[i]);
		ATF_REQUIRE(in.p[i] != NULL);
		pattern_fill(in.p[i], in.size[i], (unsigned)i);
	}
	busy_start();
	for (n = 0; n < NFORKS / 4; n++) {
		child_run(child_frees_inherited, &in, &res);
		require_child_ok(&res, n);
	}
	busy_stop_and_check();
	/* The parent's copies are untouched by what the children freed. */
	for (i = 0; i < NINHERITED; i++) {
		ATF_REQUIRE_EQ_MSG(pattern_check(in.p[i], in.size[i],
		    (unsigned)i), in.size[i], "parent block %d changed", i);
		free(in.p[i]);
	}
}

static void *
child_thread(void *arg)
{

	(void)arg;
	child_allocate_everything();
	return (NULL);
}

/* The child of a busy parent starts threads of its own that allocate. */
static void
child_starts_threads(void *arg)
{
	pthread_t th[4];
	int i;

	(void)arg;
	for (i = 0; i < 4; i++) {
		if (pthread_create(&th[i], NULL, child_thread, NULL) != 0) {
			child_report("child: pthread_create failed\n");
			_exit(1);
		}
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	child_allocate_everything();
}

ATF_TC_WITHOUT_HEAD(child_of_busy_threads_can_start_allocating_threads);
ATF_TC_BODY(child_of_busy_threads_can_start_allocating_threads, tc)
{
	static struct child_result res;
	int n;

	busy_start();
	for (n = 0; n < NFORKS / 4; n++) {
		child_run(child_starts_threads, NULL, &res);
		require_child_ok(&res, n);
	}
	busy_stop_and_check();
}

/* The child starts busy threads of its own and forks again. */
static void
child_forks_again(void *arg)
{
	pid_t pid;
	int status;

	(void)arg;
	busy_start();
	pid = fork();
	if (pid == -1) {
		child_report("child: fork failed\n");
		_exit(1);
	}
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_S);
		child_allocate_everything();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		child_report("child: grandchild failed or deadlocked\n");
		_exit(1);
	}
	atomic_store(&busy_stop, true);
	child_allocate_everything();
	/* The busy threads need not be joined: _exit ends them. */
}

ATF_TC_WITHOUT_HEAD(grandchild_of_busy_threads_can_allocate);
ATF_TC_BODY(grandchild_of_busy_threads_can_allocate, tc)
{
	static struct child_result res;
	int n;

	busy_start();
	for (n = 0; n < NFORKS / 4; n++) {
		child_run(child_forks_again, NULL, &res);
		require_child_ok(&res, n);
	}
	busy_stop_and_check();
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, child_of_busy_threads_can_allocate);
	ATF_TP_ADD_TC(tp, child_frees_blocks_allocated_before_fork);
	ATF_TP_ADD_TC(tp, child_of_busy_threads_can_start_allocating_threads);
	ATF_TP_ADD_TC(tp, grandchild_of_busy_threads_can_allocate);
	return (atf_no_error());
}
