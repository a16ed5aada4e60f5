/*
 * frag: fragmentation over time.  Each of -b bursts allocates -n small
 * long-lived objects (16..256 bytes) interleaved with short-lived large ones
 * (4 KiB..256 KiB, one per 128 small), frees the large ones at the end of the
 * burst and half of that burst's small ones at random, leaving holes that
 * pin pages.  Prints the peak RSS (VmHWM) and the RSS after -i ms of idling
 * and a few malloc/free pairs (settled), when an allocator that decays or
 * purges has had time and allocation ticks to give pages back.
 */
#include "bench.h"

static long nbursts = 20, nsmall = 50000, idle_ms = 1000;

int
main(int argc, char **argv)
{
	uint64_t rng = 42;
	char **small, **large;
	long b, base, i, nlarge, nkept = 0;
	double secs;
	int ch;

	while ((ch = getopt(argc, argv, "b:i:n:")) != -1)
		switch (ch) {
		case 'b': nbursts = bench_arg(optarg); break;
		case 'i': idle_ms = bench_arg(optarg); break;
		case 'n': nsmall = bench_arg(optarg); break;
		default:
			fprintf(stderr, "usage: frag [-b bursts] [-i idle ms] "
			    "[-n small per burst]\n");
			exit(1);
		}
	small = malloc(nbursts * nsmall * sizeof(*small));
	large = malloc((nsmall / 128 + 1) * sizeof(*large));
	if (small == NULL || large == NULL)
		err(1, "malloc");
	secs = bench_now();
	for (b = 0; b < nbursts; b++) {
		base = nkept;
		for (i = 0, nlarge = 0; i < nsmall; i++) {
			size_t size = bench_rand_size(&rng, 16, 256);

			if ((small[base + i] = malloc(size)) == NULL)
				err(1, "malloc");
			memset(small[base + i], 1, size);
			if (i % 128 == 0) {
				size = bench_rand_size(&rng, 4096, 256 << 10);
				if ((large[nlarge] = malloc(size)) == NULL)
					err(1, "malloc");
				memset(large[nlarge++], 2, size);
			}
		}
		while (nlarge > 0)
			free(large[--nlarge]);
		/* Keep a random half: survivors stay scattered. */
		for (i = 0; i < nsmall; i++)
			if (bench_rand(&rng) & 1)
				free(small[base + i]);
			else
				small[nkept++] = small[base + i];
	}
	secs = bench_now() - secs;
	printf("secs=%.4f peak_kb=%ld", secs, bench_status_kb("VmHWM"));
	usleep(idle_ms * 1000);
	/* Allocators that purge on allocation ticks (jemalloc) get ticks. */
	for (i = 0; i < 10000; i++) {
		void *p = malloc(64);

		BENCH_KEEP(p);
		free(p);
	}
	printf(" settled_kb=%ld\n", bench_status_kb("VmRSS"));
	return (0);
}
