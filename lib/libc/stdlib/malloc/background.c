/*
 * Background purging threads.  bg_lock protects the thread table and each
 * thread's sleep state; a thread never holds it while it purges (purging
 * takes arena locks, and background_wake is called with an arena's
 * extent_lock held, so the order is extent_lock -> bg_lock).
 *
 * The threads are created with every signal blocked, so they never run a
 * program's signal handlers, and they allocate nothing.  After fork the
 * child has none; they start again at its next slow-path tick.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "background.h"
#include "conf.h"
#include "lock.h"

#define	BG_THREADS_MAX	64
/* Never sleep less than this between sweeps, however close the deadline. */
#define	BG_MIN_SLEEP_NS	((uint64_t)10000000)

struct bg_thread {
	pthread_t	thread;
	pthread_cond_t	cond;
	bool		running;
	bool		sleeping_forever;
	uint64_t	nruns;
	uint64_t	slept_ns;	/* total requested sleep, for the mean */
};

/* Taken even with one thread: threads start under it, and wait on it. */
static struct mlock	bg_lock = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
			    RANK_BACKGROUND, true, false };
static struct bg_thread	bg_threads[BG_THREADS_MAX];
static unsigned		bg_nthreads;
bool			bg_enabled;

static unsigned
bg_count(void)
{
	unsigned n = opt.max_background_threads;

	if (n == 0 || n > narenas_auto)
		n = narenas_auto;
	return (n > BG_THREADS_MAX ? BG_THREADS_MAX : n);
}

/* One sweep over this thread's arenas; returns the next deadline. */
static uint64_t
bg_sweep(unsigned me, unsigned n)
{
	uint64_t next = UINT64_MAX, t;
	struct arena *arena;
	unsigned i, total = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);

	for (i = me; i < total; i += n) {
		arena = arena_get(i, false);
		if (arena == NULL)
			continue;
		arena_decay(arena, false);
		t = arena_decay_next_ns(arena);
		if (t < next)
			next = t;
	}
	return (next);
}

static void *
bg_main(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct bg_thread *bt = &bg_threads[me];
	struct timespec ts;
	uint64_t next, now;
	unsigned n;

	mlock_lock(&bg_lock);
	while (bt->running) {
		/* Read under the lock: stopping zeroes it before joining. */
		n = bg_nthreads;
		if (n == 0)
			break;
		mlock_unlock(&bg_lock);
		next = bg_sweep(me, n);
		now = arena_clock_ns();
		mlock_lock(&bg_lock);
		bt->nruns++;
		if (!bt->running)
			break;
		if (next == UINT64_MAX) {
			bt->sleeping_forever = true;
			pthread_cond_wait(&bt->cond, &bg_lock.mutex);
			bt->sleeping_forever = false;
			continue;
		}
		if (next < now + BG_MIN_SLEEP_NS)
			next = now + BG_MIN_SLEEP_NS;
		bt->slept_ns += next - now;
		/* The decay clock is monotonic; so is the condition's. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)((next - now) / 1000000000);
		ts.tv_nsec += (long)((next - now) % 1000000000);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&bt->cond, &bg_lock.mutex, &ts);
	}
	mlock_unlock(&bg_lock);
	return (NULL);
}

static bool
bg_start_locked(void)
{
	pthread_condattr_t ca;
	pthread_attr_t attr;
	sigset_t all, old;
	unsigned i, n = bg_count();
	bool failed = false;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		struct bg_thread *bt = &bg_threads[i];

		memset(bt, 0, sizeof(*bt));
		pthread_cond_init(&bt->cond, &ca);
		bt->running = true;
		if (pthread_create(&bt->thread, &attr, bg_main,
		    (void *)(uintptr_t)i) != 0) {
			bt->running = false;
			failed = true;
			break;
		}
		bg_nthreads = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	pthread_condattr_destroy(&ca);
	return (failed && bg_nthreads == 0);
}

static void
bg_stop_locked(void)
{
	pthread_t threads[BG_THREADS_MAX];
	unsigned i, n = bg_nthreads;

	for (i = 0; i < n; i++) {
		bg_threads[i].running = false;
		pthread_cond_signal(&bg_threads[i].cond);
		threads[i] = bg_threads[i].thread;
	}
	bg_nthreads = 0;
	mlock_unlock(&bg_lock);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	mlock_lock(&bg_lock);
}

bool
background_set(bool enable)
{
	bool failed = false;

	mlock_lock(&bg_lock);
	if (enable && bg_nthreads == 0)
		failed = bg_start_locked();
	else if (!enable && bg_nthreads != 0)
		bg_stop_locked();
	bg_enabled = enable && !failed;
	mlock_unlock(&bg_lock);
	return (failed);
}

bool
background_enabled(void)
{
	return (__atomic_load_n(&bg_enabled, __ATOMIC_RELAXED));
}

void
background_check_slow(void)
{
	if (__atomic_load_n(&bg_nthreads, __ATOMIC_RELAXED) == 0)
		background_set(true);
}

void
background_wake_slow(struct arena *arena)
{
	struct bg_thread *bt;
	unsigned n;

	mlock_lock(&bg_lock);
	n = bg_nthreads;
	if (n != 0) {
		bt = &bg_threads[arena->ind % n];
		if (bt->sleeping_forever)
			pthread_cond_signal(&bt->cond);
	}
	mlock_unlock(&bg_lock);
}

void
background_stats(size_t *nthreads, uint64_t *nruns, uint64_t *run_interval_ns)
{
	uint64_t runs = 0, slept = 0;
	unsigned i;

	mlock_lock(&bg_lock);
	*nthreads = bg_nthreads;
	for (i = 0; i < bg_nthreads; i++) {
		runs += bg_threads[i].nruns;
		slept += bg_threads[i].slept_ns;
	}
	mlock_unlock(&bg_lock);
	*nruns = runs;
	*run_interval_ns = runs == 0 ? 0 : slept / runs;
}

void
background_prefork(void)
{
	mlock_lock(&bg_lock);
}

void
background_postfork_parent(void)
{
	mlock_unlock(&bg_lock);
}

void
background_postfork_child(void)
{
	mlock_postfork_child(&bg_lock);
	/* The threads did not survive the fork; the next tick restarts them. */
	memset(bg_threads, 0, sizeof(bg_threads));
	bg_nthreads = 0;
}
