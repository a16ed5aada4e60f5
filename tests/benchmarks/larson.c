/*
 * larson: a server simulation after Larson and Krishnan.  Each thread owns a
 * batch of -w slots holding objects of random sizes in [-m, -M]; each step
 * replaces a random slot (so lifetimes are random).  After every -r steps a
 * thread swaps its batch with a random one in a shared pool, so objects
 * allocated by one thread are freed by another.  -n steps per thread.
 */
#include <stdatomic.h>

#include "bench.h"

struct batch {
	char	**slots;	/* nslots objects, each owned by the holder */
};

static long nops = 4000000, nslots = 1000, round_ops = 10000;
static size_t min_size = 16, max_size = 512;
static int nthreads = 1;
static _Atomic(struct batch *) *pool;	/* nthreads batches not held */

static struct batch *
batch_new(uint64_t *rng)
{
	struct batch *b;
	long i;

	if ((b = malloc(sizeof(*b))) == NULL ||
	    (b->slots = malloc(nslots * sizeof(*b->slots))) == NULL)
		err(1, "malloc");
	for (i = 0; i < nslots; i++)
		b->slots[i] = malloc(bench_rand_size(rng, min_size, max_size));
	return (b);
}

static void
batch_free(struct batch *b)
{
	long i;

	for (i = 0; i < nslots; i++)
		free(b->slots[i]);
	free(b->slots);
	free(b);
}

static void *
run(void *arg)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL * ((intptr_t)arg + 1);
	struct batch *b;
	long i;

	b = batch_new(&rng);
	for (i = 1; i <= nops; i++) {
		long slot = bench_rand(&rng) % nslots;
		size_t size = bench_rand_size(&rng, min_size, max_size);

		free(b->slots[slot]);
		if ((b->slots[slot] = malloc(size)) == NULL)
			err(1, "malloc");
		b->slots[slot][0] = b->slots[slot][size - 1] = 1;
		if (i % round_ops == 0)
			b = atomic_exchange(&pool[bench_rand(&rng) % nthreads],
			    b);
	}
	batch_free(b);
	return (NULL);
}

int
main(int argc, char **argv)
{
	uint64_t rng = 42;
	double secs;
	int ch, i;

	while ((ch = getopt(argc, argv, "M:m:n:r:t:w:")) != -1)
		switch (ch) {
		case 'M': max_size = bench_arg(optarg); break;
		case 'm': min_size = bench_arg(optarg); break;
		case 'n': nops = bench_arg(optarg); break;
		case 'r': round_ops = bench_arg(optarg); break;
		case 't': nthreads = bench_arg(optarg); break;
		case 'w': nslots = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: larson [-M max] [-m min] "
			    "[-n ops] [-r ops/round] [-t threads] [-w slots]\n");
			exit(1);
		}
	if (nthreads < 1 || nslots < 1 || round_ops < 1 || min_size < 1 ||
	    max_size < min_size)
		errx(1, "bad arguments");
	if ((pool = calloc(nthreads, sizeof(*pool))) == NULL)
		err(1, "calloc");
	for (i = 0; i < nthreads; i++)
		pool[i] = batch_new(&rng);
	secs = bench_parallel(nthreads, run);
	for (i = 0; i < nthreads; i++)
		batch_free(pool[i]);
	printf("secs=%.4f ops_per_sec=%.0f\n", secs, nops * nthreads / secs);
	return (0);
}
