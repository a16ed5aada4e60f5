/*
 * rss-over-time: resident memory over time under a fragmenting workload.
 *
 * -b bursts, each allocating -n small long-lived objects (16..256 bytes)
 * interleaved with short-lived large ones (8 KiB..1 MiB, one per 8 small,
 * at most -l live, oldest freed first); at the end of a burst every large
 * one is freed and a random half of the burst's small ones, leaving holes
 * that pin pages.  -p ms of pause (no allocation) separate the bursts.
 * After the last burst the program sits idle for -i ms (sleeping, no
 * allocation at all), then "pokes" the allocator with 64 malloc/free pairs
 * of 1 MiB, which gives allocators that return memory only from inside
 * malloc or free their chance, and waits another 500 ms.
 *
 * A sampling thread that never allocates reads RSS every -s ms.  Printed:
 *   secs       time of the bursts alone (pauses excluded): throughput
 *   mops       allocations + frees per microsecond during the bursts
 *   peak_mib   highest RSS sample
 *   busy_mib   RSS right after the last burst
 *   idle_mib   RSS after -i ms idle: the settled RSS of an idle process
 *   poked_mib  RSS after the poke and 500 ms
 *   live_mib   bytes the program still holds (the floor for all of them)
 * -v prints the samples, one "t_ms rss_mib" per line, on stderr.
 */
#include <fcntl.h>

#include "bench.h"

#define	NLARGE_MAX	4096
#define	MAX_SAMPLES	100000

static long nbursts = 10, nsmall = 50000, nlarge_live = 256, idle_ms = 5000, pause_ms = 300;
static long sample_ms = 100;
static int verbose;

static double	t0;
static float	samples_t[MAX_SAMPLES], samples_mib[MAX_SAMPLES];
static volatile long nsamples;
static volatile int stop_sampling;

/* RSS in MiB from /proc/self/statm with open/read: stdio would allocate. */
static double
rss_mib(void)
{
	char buf[128], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/statm", O_RDONLY)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	strtoul(buf, &p, 10);
	return ((double)strtoul(p, NULL, 10) * sysconf(_SC_PAGESIZE) /
	    (1 << 20));
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
sample(void)
{
	long i = nsamples;

	if (i < MAX_SAMPLES) {
		samples_t[i] = (float)(bench_now() - t0);
		samples_mib[i] = (float)rss_mib();
		nsamples = i + 1;
	}
}

static void *
sampler(void *arg)
{
	(void)arg;
	while (!stop_sampling) {
		sample();
		sleep_ms(sample_ms);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	uint64_t rng = 42;
	char **small, *large[NLARGE_MAX];
	long b, i, base, nkept = 0, nlarge = 0, nops = 0;
	double secs = 0, start, peak = 0, busy, idle, poked, live = 0;
	size_t size, *small_size;
	pthread_t tid;
	int ch;

	while ((ch = getopt(argc, argv, "b:i:l:n:p:s:v")) != -1)
		switch (ch) {
		case 'b': nbursts = bench_arg(optarg); break;
		case 'i': idle_ms = bench_arg(optarg); break;
		case 'l': nlarge_live = bench_arg(optarg); break;
		case 'n': nsmall = bench_arg(optarg); break;
		case 'p': pause_ms = bench_arg(optarg); break;
		case 's': sample_ms = bench_arg(optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: rss-over-time [-v] [-b bursts] "
			    "[-i idle ms] [-l large live] [-n small per burst] "
			    "[-p pause ms] [-s sample ms]\n");
			exit(1);
		}
	small = malloc(nbursts * nsmall * sizeof(*small));
	small_size = malloc(nbursts * nsmall * sizeof(*small_size));
	if (small == NULL || small_size == NULL)
		err(1, "malloc");
	if (nlarge_live < 1 || nlarge_live > NLARGE_MAX)
		errx(1, "-l: 1..%d", NLARGE_MAX);
	memset(large, 0, sizeof(large));
	t0 = bench_now();
	if (pthread_create(&tid, NULL, sampler, NULL) != 0)
		errx(1, "pthread_create");
	for (b = 0; b < nbursts; b++) {
		start = bench_now();
		base = nkept;
		for (i = 0; i < nsmall; i++) {
			size = bench_rand_size(&rng, 16, 256);
			if ((small[base + i] = malloc(size)) == NULL)
				err(1, "malloc");
			small_size[base + i] = size;
			memset(small[base + i], 1, size);
			nops++;
			if (i % 8 != 0)
				continue;
			/* Large sizes spread evenly over 8 KiB..1 MiB. */
			size = (size_t)8192 << bench_rand(&rng) % 8;
			size += bench_rand(&rng) % size;
			if (size > (1 << 20))
				size = 1 << 20;
			if (large[nlarge % nlarge_live] != NULL) {
				free(large[nlarge % nlarge_live]);
				nops++;
			}
			if ((large[nlarge % nlarge_live] = malloc(size)) ==
			    NULL)
				err(1, "malloc");
			memset(large[nlarge % nlarge_live], 2, size);
			nlarge++;
			nops++;
		}
		for (i = 0; i < nlarge_live; i++)
			if (large[i] != NULL) {
				free(large[i]);
				large[i] = NULL;
				nops++;
			}
		/* Keep a random half: survivors stay scattered. */
		for (i = 0; i < nsmall; i++)
			if (bench_rand(&rng) & 1) {
				free(small[base + i]);
				nops++;
			} else {
				small_size[nkept] = small_size[base + i];
				small[nkept++] = small[base + i];
			}
		secs += bench_now() - start;
		if (b + 1 < nbursts)
			sleep_ms(pause_ms);
	}
	sample();
	busy = rss_mib();
	sleep_ms(idle_ms);
	idle = rss_mib();
	for (i = 0; i < 64; i++) {
		char *p = malloc(1 << 20);

		BENCH_KEEP(p);
		free(p);
	}
	sleep_ms(500);
	poked = rss_mib();
	stop_sampling = 1;
	pthread_join(tid, NULL);
	for (i = 0; i < nsamples; i++) {
		if (samples_mib[i] > peak)
			peak = samples_mib[i];
		if (verbose)
			fprintf(stderr, "%.0f %.1f\n", samples_t[i] * 1000.0,
			    samples_mib[i]);
	}
	for (i = 0; i < nkept; i++)
		live += small_size[i];
	printf("secs=%.4f mops=%.2f peak_mib=%.1f busy_mib=%.1f idle_mib=%.1f "
	    "poked_mib=%.1f live_mib=%.1f\n", secs, nops / secs / 1e6, peak,
	    busy, idle, poked, live / (1 << 20));
	for (i = 0; i < nkept; i++)
		free(small[i]);
	return (0);
}
