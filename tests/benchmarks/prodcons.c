/*
 * prodcons: -p producer/consumer pairs.  Each producer allocates -n objects
 * of random sizes in [-m, -M] and passes them through a lock-free
 * single-producer single-consumer ring to its consumer, which frees them:
 * every free is a free from another thread.
 */
#include <sched.h>
#include <stdatomic.h>

#include "bench.h"

#define RING_SLOTS	1024	/* power of two */

/* Producer writes tail and slots; consumer writes head; each on its line. */
struct ring {
	_Alignas(64) _Atomic size_t	head;
	_Alignas(64) _Atomic size_t	tail;
	_Alignas(64) char		*slots[RING_SLOTS];
};

static long nobjs = 2000000;
static size_t min_size = 16, max_size = 256;
static struct ring *rings;

/* Spin briefly, then give the core away: pairs may outnumber cores. */
static void
backoff(int *spins)
{
	if (++*spins > 100) {
		sched_yield();
		*spins = 0;
	}
}

/*
 * Each side re-reads the other's index only when its cached copy says the
 * ring is full (or empty), so the index lines do not bounce per object and
 * the allocator's cost is what shows.
 */
static void
produce(struct ring *r, uint64_t *rng)
{
	size_t head = 0, tail;
	long i;
	int spins = 0;

	for (i = 0, tail = 0; i < nobjs; i++, tail++) {
		size_t size = bench_rand_size(rng, min_size, max_size);
		char *p;

		if ((p = malloc(size)) == NULL)
			err(1, "malloc");
		p[0] = p[size - 1] = 1;
		while (tail - head == RING_SLOTS) {
			head = atomic_load_explicit(&r->head,
			    memory_order_acquire);
			if (tail - head == RING_SLOTS)
				backoff(&spins);
		}
		r->slots[tail % RING_SLOTS] = p;
		atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	}
}

static void
consume(struct ring *r)
{
	size_t head = 0, tail = 0;
	long n = 0;
	int spins = 0;

	while (n < nobjs) {
		tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (tail == head) {
			backoff(&spins);
			continue;
		}
		for (; head != tail; head++, n++)
			free(r->slots[head % RING_SLOTS]);
		atomic_store_explicit(&r->head, head, memory_order_release);
	}
}

static void *
run(void *arg)
{
	intptr_t idx = (intptr_t)arg;
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (idx + 1);

	if (idx % 2 == 0)
		produce(&rings[idx / 2], &rng);
	else
		consume(&rings[idx / 2]);
	return (NULL);
}

int
main(int argc, char **argv)
{
	double secs;
	int ch, npairs = 1;

	while ((ch = getopt(argc, argv, "M:m:n:p:")) != -1)
		switch (ch) {
		case 'M': max_size = bench_arg(optarg); break;
		case 'm': min_size = bench_arg(optarg); break;
		case 'n': nobjs = bench_arg(optarg); break;
		case 'p': npairs = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: prodcons [-M max] [-m min] "
			    "[-n objects] [-p pairs]\n");
			exit(1);
		}
	if (npairs < 1 || min_size < 1 || max_size < min_size)
		errx(1, "bad arguments");
	if ((rings = aligned_alloc(64, npairs * sizeof(*rings))) == NULL)
		err(1, "aligned_alloc");
	memset(rings, 0, npairs * sizeof(*rings));
	secs = bench_parallel(2 * npairs, run);
	printf("secs=%.4f objs_per_sec=%.0f\n", secs, nobjs * npairs / secs);
	return (0);
}
