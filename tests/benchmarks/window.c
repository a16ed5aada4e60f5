/*
 * window: each of -t threads keeps a sliding (FIFO) window of -w live
 * objects of random sizes in [-m, -M] (default 16..4096); each step frees the
 * oldest, allocates a new one and writes its first and last byte.
 */
#include "bench.h"

static long nops = 5000000, window = 10000;
static size_t min_size = 16, max_size = 4096;

static void *
run(void *arg)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL * ((intptr_t)arg + 1);
	char **live;
	long i, slot;

	if ((live = calloc(window, sizeof(*live))) == NULL)
		err(1, "calloc");
	for (i = 0, slot = 0; i < nops; i++) {
		size_t size = bench_rand_size(&rng, min_size, max_size);

		free(live[slot]);
		if ((live[slot] = malloc(size)) == NULL)
			err(1, "malloc");
		live[slot][0] = live[slot][size - 1] = 1;
		if (++slot == window)
			slot = 0;
	}
	for (i = 0; i < window; i++)
		free(live[i]);
	free(live);
	return (NULL);
}

int
main(int argc, char **argv)
{
	double secs;
	int ch, nthreads = 1;

	while ((ch = getopt(argc, argv, "M:m:n:t:w:")) != -1)
		switch (ch) {
		case 'M': max_size = bench_arg(optarg); break;
		case 'm': min_size = bench_arg(optarg); break;
		case 'n': nops = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		case 'w': window = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: window [-M max] [-m min] "
			    "[-n ops] [-t threads] [-w window]\n");
			exit(1);
		}
	if (window < 1 || min_size < 1 || max_size < min_size)
		errx(1, "need window >= 1 and 1 <= min <= max");
	secs = bench_parallel(nthreads, run);
	printf("secs=%.4f ops_per_sec=%.0f\n", secs, nops * nthreads / secs);
	return (0);
}
