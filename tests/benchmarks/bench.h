/*
 * Helpers shared by the benchmark workloads: a clock, a per-thread random
 * generator, a barrier that keeps the compiler from eliding malloc/free
 * pairs, and /proc/self/status readers.  Each workload is one small program
 * that prints exactly one line of key=value pairs; run-bench reads `secs`
 * (lower is better) and shows the other keys beside it.
 */
#ifndef BENCH_H
#define BENCH_H

#include <err.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* GCC may delete a malloc whose result is only freed; make it escape. */
#define BENCH_KEEP(p)	__asm__ volatile("" : : "r"(p) : "memory")

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec * 1e-9);
}

/* xorshift64*: cheap enough not to dominate the allocator's cost. */
static inline uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (x * 0x2545F4914F6CDD1DULL);
}

/* A size in [min_size, max_size]. */
static inline size_t
bench_rand_size(uint64_t *state, size_t min_size, size_t max_size)
{
	return (min_size + bench_rand(state) % (max_size - min_size + 1));
}

static inline long
bench_arg(const char *s)
{
	char *end;
	long v;

	v = strtol(s, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end != '\0' || v < 0)
		errx(1, "bad number: %s", s);
	return (v);
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1. */
static inline long
bench_status_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return (kb);
}

/*
 * Run fn(thread index) on nthreads threads; return the wall time from the
 * first creation to the last join.
 */
static inline double
bench_parallel(int nthreads, void *(*fn)(void *))
{
	pthread_t tids[nthreads];
	double start;
	int i;

	start = bench_now();
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, fn, (void *)(intptr_t)i) != 0)
			errx(1, "pthread_create");
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	return (bench_now() - start);
}

#endif /* !BENCH_H */
