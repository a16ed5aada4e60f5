/*
 * realloc: each of -t threads grows -b buffers side by side (so they get in
 * each other's way) by realloc in random steps of 1..-s bytes until each
 * holds -M bytes, writing every new byte, then frees them; -r rounds.
 */
#include "bench.h"

static long nrounds = 4, nbufs = 2;
static size_t max_size = 4 << 20, max_step = 64;

static void *
run(void *arg)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL * ((intptr_t)arg + 1);
	char *bufs[nbufs];
	size_t lens[nbufs];
	long b, r, grown;

	for (r = 0; r < nrounds; r++) {
		memset(lens, 0, sizeof(lens));
		for (b = 0; b < nbufs; b++)
			bufs[b] = NULL;
		do {
			grown = 0;
			for (b = 0; b < nbufs; b++) {
				size_t step = bench_rand_size(&rng, 1,
				    max_step);

				if (lens[b] >= max_size)
					continue;
				bufs[b] = realloc(bufs[b], lens[b] + step);
				if (bufs[b] == NULL)
					err(1, "realloc");
				memset(bufs[b] + lens[b], 'x', step);
				lens[b] += step;
				grown++;
			}
		} while (grown > 0);
		for (b = 0; b < nbufs; b++)
			free(bufs[b]);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	double secs;
	int ch, nthreads = 1;

	while ((ch = getopt(argc, argv, "b:M:r:s:t:")) != -1)
		switch (ch) {
		case 'b': nbufs = bench_arg(optarg); break;
		case 'M': max_size = bench_arg(optarg); break;
		case 'r': nrounds = bench_arg(optarg); break;
		case 's': max_step = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: realloc [-b buffers] [-M max] "
			    "[-r rounds] [-s max step] [-t threads]\n");
			exit(1);
		}
	if (nbufs < 1 || max_step < 1 || nthreads < 1)
		errx(1, "bad arguments");
	secs = bench_parallel(nthreads, run);
	printf("secs=%.4f\n", secs);
	return (0);
}
