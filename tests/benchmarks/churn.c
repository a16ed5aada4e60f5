/*
 * churn: large and huge blocks.  Each of -t threads keeps -l live blocks of
 * random sizes in [-m, -M]; each of -n steps frees a random one, allocates a
 * replacement and writes one byte per page of it, so an allocator that gives
 * pages back to the kernel on free pays a fault per page on reuse.
 * Large: -m 64k -M 1m.  Huge: -m 5m -M 25m.
 */
#include "bench.h"

#define PAGE	4096

static long nops = 20000, nlive = 8;
static size_t min_size = 64 << 10, max_size = 1 << 20;

static void *
run(void *arg)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL * ((intptr_t)arg + 1);
	char *live[nlive];
	long i;

	memset(live, 0, sizeof(live));
	for (i = 0; i < nops; i++) {
		long slot = bench_rand(&rng) % nlive;
		size_t size = bench_rand_size(&rng, min_size, max_size);
		size_t off;

		free(live[slot]);
		if ((live[slot] = malloc(size)) == NULL)
			err(1, "malloc");
		for (off = 0; off < size; off += PAGE)
			live[slot][off] = 1;
	}
	for (i = 0; i < nlive; i++)
		free(live[i]);
	return (NULL);
}

int
main(int argc, char **argv)
{
	double secs;
	int ch, nthreads = 1;

	while ((ch = getopt(argc, argv, "l:M:m:n:t:")) != -1)
		switch (ch) {
		case 'l': nlive = bench_arg(optarg); break;
		case 'M': max_size = bench_arg(optarg); break;
		case 'm': min_size = bench_arg(optarg); break;
		case 'n': nops = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: churn [-l live] [-M max] "
			    "[-m min] [-n ops] [-t threads]\n");
			exit(1);
		}
	if (nlive < 1 || nthreads < 1 || min_size < 1 || max_size < min_size)
		errx(1, "bad arguments");
	secs = bench_parallel(nthreads, run);
	printf("secs=%.4f\n", secs);
	return (0);
}
