/*
 * pairs: N malloc+free pairs of one size, back to back or through a FIFO
 * window of live objects, and nothing else; for counting instructions under
 * callgrind (Ir at 2N minus Ir at N, over N, cancels start-up).
 * usage: pairs size n [window]
 */
#include "bench.h"

int
main(int argc, char **argv)
{
	size_t size;
	long i, n, slot, window;
	void **live;

	if (argc < 3)
		errx(1, "usage: pairs size n [window]");
	size = bench_arg(argv[1]);
	n = bench_arg(argv[2]);
	window = argc > 3 ? bench_arg(argv[3]) : 0;
	if (window == 0) {
		for (i = 0; i < n; i++) {
			void *p = malloc(size);

			BENCH_KEEP(p);
			free(p);
		}
		return (0);
	}
	if ((live = calloc(window, sizeof(*live))) == NULL)
		err(1, "calloc");
	for (i = 0; i < window; i++)
		live[i] = malloc(size);
	for (i = 0, slot = 0; i < n; i++) {
		free(live[slot]);
		live[slot] = malloc(size);
		BENCH_KEEP(live[slot]);
		if (++slot == window)
			slot = 0;
	}
	return (0);
}
