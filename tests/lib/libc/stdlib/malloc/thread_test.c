/*
 * The allocator under threads: blocks handed from thread to thread and
 * freed where they did not come from, local churn in many threads at once,
 * thousands of short-lived threads whose caches must go back to the arenas
 * when they exit, and blocks that outlive the thread that allocated them.
 */
#include <sys/types.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "malloc_test_util.h"

#define	KiB	((size_t)1 << 10)
#define	MiB	((size_t)1 << 20)

/* A leak of what the loops below allocate would be far above this. */
#define	RSS_GROWTH_MAX	(64 * MiB)

/* A cheap per-thread random number generator (xorshift32). */
static unsigned
rand_next(unsigned *state)
{
	unsigned x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return (x);
}

/* Mostly small sizes, some large, a few huge: the mix real programs make. */
static size_t
rand_size(unsigned *state)
{
	unsigned r = rand_next(state) % 1000;

	if (r < 900)
		return (rand_next(state) % 2048 + 1);
	if (r < 995)
		return (rand_next(state) % (64 * KiB) + 1);
	return (rand_next(state) % (2 * MiB) + 1);
}

/* The pattern is checked in full for small blocks, sampled for big ones. */
#define	CHECK_FULL_MAX	(64 * KiB)

static void
fill_block(void *p, size_t n, unsigned seed)
{

	/* gcc 12 warns about the n > CHECK_FULL_MAX branch where n is small. */
	p = ptr_launder(p);
	pattern_fill(p, n < CHECK_FULL_MAX ? n : CHECK_FULL_MAX, seed);
	if (n > CHECK_FULL_MAX)
		((unsigned char *)p)[n - 1] = (unsigned char)seed;
}

static bool
block_intact(const void *p, size_t n, unsigned seed)
{
	size_t checked = n < CHECK_FULL_MAX ? n : CHECK_FULL_MAX;

	if (pattern_check(p, checked, seed) != checked)
		return (false);
	return (n <= CHECK_FULL_MAX ||
	    ((const unsigned char *)p)[n - 1] == (unsigned char)seed);
}

/*
 * A bounded queue of blocks from producers to consumers, so that almost
 * every block is freed by a thread other than the one that allocated it.
 */
struct item {
	void	*p;
	size_t	 size;
	unsigned seed;
};

#define	QUEUE_LEN	256

struct queue {
	pthread_mutex_t	lock;
	pthread_cond_t	not_empty;
	pthread_cond_t	not_full;
	struct item	items[QUEUE_LEN];
	unsigned	head;		/* next to take */
	unsigned	count;
	unsigned	producers_left;
	unsigned	corrupt;	/* blocks consumers found changed */
	unsigned	consumed;
};

static struct queue queue = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
};

#define	NPRODUCERS	4
#define	NCONSUMERS	4
#define	ITEMS_PER_PRODUCER 20000

static void *
producer(void *arg)
{
	struct item it;
	unsigned state = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	int i;

	for (i = 0; i < ITEMS_PER_PRODUCER; i++) {
		it.size = rand_size(&state);
		it.seed = rand_next(&state);
		it.p = malloc(it.size);
		if (it.p == NULL)
			abort();
		fill_block(it.p, it.size, it.seed);
		pthread_mutex_lock(&queue.lock);
		while (queue.count == QUEUE_LEN)
			pthread_cond_wait(&queue.not_full, &queue.lock);
		queue.items[(queue.head + queue.count) % QUEUE_LEN] = it;
		queue.count++;
		pthread_cond_signal(&queue.not_empty);
		pthread_mutex_unlock(&queue.lock);
	}
	pthread_mutex_lock(&queue.lock);
	queue.producers_left--;
	pthread_cond_broadcast(&queue.not_empty);
	pthread_mutex_unlock(&queue.lock);
	return (NULL);
}

static void *
consumer(void *arg)
{
	struct item it;
	void *local;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&queue.lock);
		while (queue.count == 0 && queue.producers_left > 0)
			pthread_cond_wait(&queue.not_empty, &queue.lock);
		if (queue.count == 0) {
			pthread_mutex_unlock(&queue.lock);
			return (NULL);
		}
		it = queue.items[queue.head];
		queue.head = (queue.head + 1) % QUEUE_LEN;
		queue.count--;
		queue.consumed++;
		pthread_cond_signal(&queue.not_full);
		pthread_mutex_unlock(&queue.lock);
		if (!block_intact(it.p, it.size, it.seed)) {
			pthread_mutex_lock(&queue.lock);
			queue.corrupt++;
			pthread_mutex_unlock(&queue.lock);
		}
		free(it.p);
		/* Consumers allocate too, so remote frees meet local use. */
		local = malloc(it.size % 512 + 1);
		if (local == NULL)
			abort();
		memset(local, 0x42, it.size % 512 + 1);
		free(local);
	}
}

ATF_TC_WITHOUT_HEAD(cross_thread_frees_keep_contents);
ATF_TC_BODY(cross_thread_frees_keep_contents, tc)
{
	pthread_t prod[NPRODUCERS], cons[NCONSUMERS];
	uintptr_t i;

	queue.producers_left = NPRODUCERS;
	for (i = 0; i < NCONSUMERS; i++)
		ATF_REQUIRE(pthread_create(&cons[i], NULL, consumer,
		    NULL) == 0);
	for (i = 0; i < NPRODUCERS; i++)
		ATF_REQUIRE(pthread_create(&prod[i], NULL, producer,
		    (void *)i) == 0);
	for (i = 0; i < NPRODUCERS; i++)
		ATF_REQUIRE(pthread_join(prod[i], NULL) == 0);
	for (i = 0; i < NCONSUMERS; i++)
		ATF_REQUIRE(pthread_join(cons[i], NULL) == 0);
	ATF_REQUIRE_EQ(queue.consumed, NPRODUCERS * ITEMS_PER_PRODUCER);
	ATF_REQUIRE_EQ_MSG(queue.corrupt, 0,
	    "%u blocks changed between producer and consumer", queue.corrupt);
}

/* Each thread churns its own set of blocks; contents are checked. */
#define	NCHURNERS	8
#define	CHURN_BLOCKS	1000
#define	CHURN_ROUNDS	30

static void *
churner(void *arg)
{
	struct item *items;
	unsigned state = (unsigned)(uintptr_t)arg * 40503u + 7;
	uintptr_t bad = 0;
	int i, r;

	items = calloc(CHURN_BLOCKS, sizeof(*items));
	if (items == NULL)
		abort();
	for (r = 0; r < CHURN_ROUNDS; r++) {
		for (i = 0; i < CHURN_BLOCKS; i++) {
			/* Replace about half of the blocks each round. */
			if (items[i].p != NULL && rand_next(&state) % 2 == 0)
				continue;
			if (items[i].p != NULL) {
				if (!block_intact(items[i].p, items[i].size,
				    items[i].seed))
					bad++;
				free(items[i].p);
			}
			items[i].size = rand_size(&state);
			items[i].seed = rand_next(&state);
			items[i].p = malloc(items[i].size);
			if (items[i].p == NULL)
				abort();
			fill_block(items[i].p, items[i].size, items[i].seed);
		}
	}
	for (i = 0; i < CHURN_BLOCKS; i++) {
		if (!block_intact(items[i].p, items[i].size, items[i].seed))
			bad++;
		free(items[i].p);
	}
	free(items);
	return ((void *)bad);
}

ATF_TC_WITHOUT_HEAD(concurrent_threads_keep_contents);
ATF_TC_BODY(concurrent_threads_keep_contents, tc)
{
	pthread_t th[NCHURNERS];
	uintptr_t i;
	void *bad;

	for (i = 0; i < NCHURNERS; i++)
		ATF_REQUIRE(pthread_create(&th[i], NULL, churner,
		    (void *)i) == 0);
	for (i = 0; i < NCHURNERS; i++) {
		ATF_REQUIRE(pthread_join(th[i], &bad) == 0);
		ATF_REQUIRE_EQ_MSG((uintptr_t)bad, 0,
		    "thread %zu found %zu of its blocks changed", (size_t)i,
		    (size_t)(uintptr_t)bad);
	}
}

/*
 * A short-lived thread: allocates a few hundred touched blocks of mixed
 * sizes, frees them, and exits with its thread cache full.
 */
static void *
short_lived(void *arg)
{
	enum { NBLOCKS = 200 };
	void *blocks[NBLOCKS];
	unsigned state = (unsigned)(uintptr_t)arg + 1;
	size_t n;
	int i;

	for (i = 0; i < NBLOCKS; i++) {
		n = i % 50 == 0 ? 64 * KiB : rand_next(&state) % 4096 + 1;
		blocks[i] = malloc(n);
		if (blocks[i] == NULL)
			abort();
		memset(blocks[i], 0x6b, n);
	}
	for (i = 0; i < NBLOCKS; i++)
		free(blocks[i]);
	return (NULL);
}

static void
run_short_lived_threads(unsigned first, unsigned count)
{
	enum { BATCH = 8 };
	pthread_t th[BATCH];
	unsigned i, j;

	for (i = 0; i < count; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			ATF_REQUIRE(pthread_create(&th[j], NULL, short_lived,
			    (void *)(uintptr_t)(first + i + j)) == 0);
		for (j = 0; j < BATCH; j++)
			ATF_REQUIRE(pthread_join(th[j], NULL) == 0);
	}
}

/*
 * 5000 threads that each leave a full cache behind at exit: if exit did
 * not return the cache to the arenas, the touched blocks (over 100 KiB a
 * thread) would add hundreds of MiB of resident memory.
 */
ATF_TC_WITHOUT_HEAD(short_lived_threads_do_not_leak);
ATF_TC_BODY(short_lived_threads_do_not_leak, tc)
{
	size_t before, after;

	/* Warm up: arenas, stacks glibc caches, and our own first pages. */
	run_short_lived_threads(0, 200);
	before = rss_bytes();
	run_short_lived_threads(200, 5000);
	after = rss_bytes();
	ATF_REQUIRE_MSG(after < before + RSS_GROWTH_MAX,
	    "RSS grew from %zu to %zu bytes over 5000 short-lived threads",
	    before, after);
}

/* Allocates blocks, hands them to whoever joins it, and exits. */
#define	ORPHAN_BLOCKS	4096

struct orphans {
	void	*p[ORPHAN_BLOCKS];
	size_t	 size[ORPHAN_BLOCKS];
	unsigned seed;
};

static void *
orphan_maker(void *arg)
{
	struct orphans *o = arg;
	unsigned state = o->seed;
	int i;

	for (i = 0; i < ORPHAN_BLOCKS; i++) {
		o->size[i] = i % 512 == 0 ? 40 * KiB : rand_next(&state) % 512 +
		    1;
		o->p[i] = malloc(o->size[i]);
		if (o->p[i] == NULL)
			abort();
		fill_block(o->p[i], o->size[i], o->seed + (unsigned)i);
	}
	return (o);
}

/*
 * A thread exits while holding blocks; another thread checks and frees
 * them afterwards.  Over 300 such threads (about 1 MiB each) the memory
 * must be reclaimed, not stranded with the dead thread.
 */
ATF_TC_WITHOUT_HEAD(exited_thread_blocks_freed_elsewhere_are_reclaimed);
ATF_TC_BODY(exited_thread_blocks_freed_elsewhere_are_reclaimed, tc)
{
	static struct orphans o;
	size_t before, after;
	pthread_t th;
	void *ret;
	int i, round;

	before = 0;
	for (round = 0; round < 320; round++) {
		/* The first rounds warm the heap up. */
		if (round == 20)
			before = rss_bytes();
		o.seed = (unsigned)round * 7919u;
		ATF_REQUIRE(pthread_create(&th, NULL, orphan_maker, &o) == 0);
		ATF_REQUIRE(pthread_join(th, &ret) == 0);
		ATF_REQUIRE(ret == &o);
		for (i = 0; i < ORPHAN_BLOCKS; i++) {
			ATF_REQUIRE_MSG(block_intact(o.p[i], o.size[i],
			    o.seed + (unsigned)i),
			    "round %d: block %d (%p) of the exited thread "
			    "changed", round, i, o.p[i]);
			free(o.p[i]);
		}
	}
	after = rss_bytes();
	ATF_REQUIRE_MSG(after < before + RSS_GROWTH_MAX,
	    "RSS grew from %zu to %zu bytes over 300 threads' orphans",
	    before, after);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, cross_thread_frees_keep_contents);
	ATF_TP_ADD_TC(tp, concurrent_threads_keep_contents);
	ATF_TP_ADD_TC(tp, short_lived_threads_do_not_leak);
	ATF_TP_ADD_TC(tp, exited_thread_blocks_freed_elsewhere_are_reclaimed);
	return (atf_no_error());
}
