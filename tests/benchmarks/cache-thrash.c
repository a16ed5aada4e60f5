/*
 * cache-thrash: active false sharing, after Hoard's benchmark.  Each thread
 * -n times allocates an object of -s bytes, writes it -w times and frees it.
 * An allocator that carves neighbouring small objects for different threads
 * from one cache line makes the threads' writes fight over it.
 */
#include "bench.h"

static long niters = 200000, nwrites = 100;
static size_t size = 8;

static void *
run(void *arg)
{
	long i, w;

	(void)arg;
	for (i = 0; i < niters; i++) {
		volatile char *p = malloc(size);

		if (p == NULL)
			err(1, "malloc");
		for (w = 0; w < nwrites; w++)
			p[w % size]++;
		free((void *)p);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	double secs;
	int ch, nthreads = 2;

	while ((ch = getopt(argc, argv, "n:s:t:w:")) != -1)
		switch (ch) {
		case 'n': niters = bench_arg(optarg); break;
		case 's': size = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		case 'w': nwrites = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: cache-thrash [-n iterations] "
			    "[-s size] [-t threads] [-w writes]\n");
			exit(1);
		}
	if (nthreads < 1 || size < 1)
		errx(1, "bad arguments");
	secs = bench_parallel(nthreads, run);
	printf("secs=%.4f\n", secs);
	return (0);
}
