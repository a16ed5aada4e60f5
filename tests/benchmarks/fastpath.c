/*
 * fastpath: malloc/free pairs of one size, back to back (-w 0) or through a
 * FIFO window of live objects (-w 1000), on each of -t threads.
 */
#include "bench.h"

static long npairs = 50000000;
static size_t size = 64;
static long window;

static void *
run(void *arg)
{
	void **live;
	long i, slot;

	(void)arg;
	if (window == 0) {
		for (i = 0; i < npairs; i++) {
			void *p = malloc(size);

			BENCH_KEEP(p);
			free(p);
		}
		return (NULL);
	}
	if ((live = calloc(window, sizeof(*live))) == NULL)
		err(1, "calloc");
	for (i = 0; i < window; i++)
		live[i] = malloc(size);
	for (i = 0, slot = 0; i < npairs; i++) {
		free(live[slot]);
		live[slot] = malloc(size);
		BENCH_KEEP(live[slot]);
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

	while ((ch = getopt(argc, argv, "n:s:t:w:")) != -1)
		switch (ch) {
		case 'n': npairs = bench_arg(optarg); break;
		case 's': size = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		case 'w': window = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: fastpath [-n pairs] [-s size] "
			    "[-t threads] [-w window]\n");
			exit(1);
		}
	secs = bench_parallel(nthreads, run);
	printf("secs=%.4f pairs_per_sec=%.0f\n", secs,
	    npairs * nthreads / secs);
	return (0);
}
