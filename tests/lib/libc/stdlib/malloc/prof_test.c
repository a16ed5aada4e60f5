/*
 * The heap profiler.  Each case runs this same program again as a child
 * with its own MALLOC_CONF (options are read once per process): the child
 * runs its scenario from a constructor (so backtraces taken before main
 * are exercised too), writes files into the case's work directory and
 * exits; the parent checks the files, with jeprof itself where the format
 * matters.
 *
 * This file is built with frame pointers and prof_nofp.c without (see the
 * Makefile), so that every stack walker of opt.prof_unwind meets both.
 */
#include <sys/wait.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"

#define	MiB	(1024 * 1024)

static void	*keep[1 << 16];

void	hold_nofp(void **slots, size_t n, size_t size);	/* prof_nofp.c */

/* jeprof must see these names, not gcc's hold_known.constprop.0. */
#ifdef __clang__
#define	NOINLINE_TEST	__attribute__((noinline))
#else
#define	NOINLINE_TEST	__attribute__((noinline, noclone))
#endif

/* Child scenarios ---------------------------------------------------------- */

static NOINLINE_TEST void
hold_known(size_t n, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		keep[i] = malloc(size);
	__asm__ volatile("" ::: "memory");
}

static NOINLINE_TEST void
hold_other(size_t n, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		keep[32768 + i] = malloc(size);
	__asm__ volatile("" ::: "memory");
}

static void
churn(size_t bytes)
{
	size_t done;
	void *p;

	for (done = 0; done < bytes; done += 4096) {
		p = malloc(4096);
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

static void
dump(const char *name)
{
	if (mallctl("prof.dump", NULL, NULL, &name, sizeof(name)) != 0)
		_exit(10);
}

static void *
named_thread(void *arg)
{
	const char *name = arg;

	if (mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name)) != 0)
		return ((void *)1);
	hold_other(256, 4096);
	return (NULL);
}

static volatile sig_atomic_t	nsignals;

static void
on_signal(int sig)
{
	void *p = malloc(8192);

	(void)sig;
	free(p);
	nsignals++;
}

/* Prints opt.prof_unwind and the walker in use, e.g. "unwind auto/fp". */
static void
print_unwind(void)
{
	const char *opt_s, *now_s;
	size_t sz = sizeof(opt_s);

	if (mallctl("opt.prof_unwind", &opt_s, &sz, NULL, 0) != 0 ||
	    mallctl("prof.unwind", &now_s, &sz, NULL, 0) != 0)
		_exit(27);
	printf("unwind %s/%s\n", opt_s, now_s);
}

static char	recent_json[1 << 16];

static void
recent_write(void *opaque, const char *s)
{
	(void)opaque;
	strncat(recent_json, s, sizeof(recent_json) - strlen(recent_json) - 1);
}

static void *
allocating_thread(void *arg)
{
	(void)arg;
	for (;;)
		churn(MiB);
	return (NULL);
}

static NOINLINE_TEST void
child(const char *mode)
{
	pthread_t t1, t2;
	bool b;
	size_t sz;
	int status;

	if (strcmp(mode, "hold") == 0) {
		hold_known(2048, 4096);		/* 8 MiB */
		hold_other(512, 4096);		/* 2 MiB */
		dump("hold.heap");
		print_unwind();
	} else if (strcmp(mode, "nofp") == 0) {
		hold_nofp(keep, 2048, 4096);	/* 8 MiB */
		hold_other(512, 4096);		/* 2 MiB */
		dump("nofp.heap");
		print_unwind();
	} else if (strcmp(mode, "sigaltstack") == 0) {
		stack_t ss = { .ss_size = 1 << 16 };
		struct sigaction sa = { .sa_handler = on_signal,
		    .sa_flags = SA_ONSTACK };
		int i;

		if ((ss.ss_sp = malloc(ss.ss_size)) == NULL ||
		    sigaltstack(&ss, NULL) != 0 ||
		    sigaction(SIGUSR1, &sa, NULL) != 0)
			_exit(25);
		for (i = 0; i < 2000; i++)
			kill(getpid(), SIGUSR1);
		if (nsignals != 2000)
			_exit(26);
		dump("sigaltstack.heap");
	} else if (strcmp(mode, "auto") == 0) {
		const char *name = NULL;

		if (mallctl("prof.dump", NULL, NULL, &name, sizeof(name)) != 0)
			_exit(11);
		name = "manual";
		if (mallctl("prof.prefix", NULL, NULL, &name,
		    sizeof(name)) != 0)
			_exit(12);
		name = NULL;
		if (mallctl("prof.dump", NULL, NULL, &name, sizeof(name)) != 0)
			_exit(13);
	} else if (strcmp(mode, "interval") == 0 ||
	    strcmp(mode, "gdump") == 0) {
		hold_known(4096, 4096);		/* 16 MiB */
	} else if (strcmp(mode, "leak") == 0) {
		hold_known(1000, 4096);		/* leaked */
	} else if (strcmp(mode, "active") == 0) {
		hold_other(2048, 4096);
		dump("off.heap");
		b = true;
		if (mallctl("prof.active", NULL, NULL, &b, sizeof(b)) != 0)
			_exit(14);
		sz = sizeof(b);
		if (mallctl("prof.active", &b, &sz, NULL, 0) != 0 || !b)
			_exit(15);
		hold_known(2048, 4096);
		dump("on.heap");
	} else if (strcmp(mode, "threads") == 0) {
		if (pthread_create(&t1, NULL, named_thread, "worker-one") ||
		    pthread_create(&t2, NULL, named_thread, "worker-two"))
			_exit(16);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		dump("threads.heap");
	} else if (strcmp(mode, "fork") == 0) {
		int i;

		hold_other(64, 4096);
		if (pthread_create(&t1, NULL, allocating_thread, NULL))
			_exit(17);
		for (i = 0; i < 50; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				hold_known(64, 4096);
				dump("child.heap");
				_exit(0);
			}
			if (pid < 0 || waitpid(pid, &status, 0) != pid ||
			    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
				_exit(18);
		}
		dump("parent.heap");
	} else if (strcmp(mode, "signal") == 0) {
		int i;

		signal(SIGUSR1, on_signal);
		for (i = 0; i < 20000; i++) {
			void *p = malloc(4096);

			if (i % 7 == 0)
				kill(getpid(), SIGUSR1);
			free(p);
		}
		if (nsignals == 0)
			_exit(19);
		dump("signal.heap");
	} else if (strcmp(mode, "recent") == 0) {
		ssize_t max = 8;
		struct {
			void	(*cb)(void *, const char *);
			void	*opaque;
		} packet = { recent_write, NULL };

		if (mallctl("experimental.prof_recent.alloc_max", NULL, NULL,
		    &max, sizeof(max)) != 0)
			_exit(20);
		hold_known(20, 4096);
		free(keep[19]);
		if (mallctl("experimental.prof_recent.alloc_dump", NULL, NULL,
		    &packet, sizeof(packet)) != 0)
			_exit(21);
		fputs(recent_json, stdout);
	} else if (strcmp(mode, "recycle") == 0) {
		/*
		 * Every block is sampled: small ones get extents of their
		 * own, which freed samples hand on to the next ones.
		 */
		unsigned char *q[16];
		size_t i, j, n, before, after, cur_before, cur_after;
		uint64_t epoch = 1, nmalloc_before, nmalloc_after;
		char name[64];
		unsigned ind;

		sz = sizeof(ind);
		if (mallctl("thread.arena", &ind, &sz, NULL, 0) != 0)
			_exit(35);
		sz = sizeof(before);
		mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch));
		if (mallctl("stats.allocated", &before, &sz, NULL, 0) != 0)
			_exit(30);
		/* The extents' moves through the arena's slots count too. */
		snprintf(name, sizeof(name), "stats.arenas.%u.large.nmalloc",
		    ind);
		sz = sizeof(nmalloc_before);
		if (mallctl(name, &nmalloc_before, &sz, NULL, 0) != 0)
			_exit(36);
		snprintf(name, sizeof(name),
		    "stats.arenas.%u.lextents.0.curlextents", ind);
		sz = sizeof(cur_before);
		if (mallctl(name, &cur_before, &sz, NULL, 0) != 0)
			_exit(37);
		for (i = 0; i < 1000; i++) {
			q[0] = malloc(100);
			if (q[0] == NULL ||
			    (n = malloc_usable_size(q[0])) != 112)
				_exit(31);
			/* Hidden from the compiler: it knows malloc(100). */
			__asm__ volatile("" : "+r"(n));
			memset(q[0], 0xff, n);
			free(q[0]);
			q[0] = calloc(1, 100);
			for (j = 0; j < malloc_usable_size(q[0]); j++)
				if (q[0][j] != 0)
					_exit(32);
			free(q[0]);
		}
		for (i = 0; i < 16; i++) {
			q[i] = malloc(16 * (i + 1));
			memset(q[i], (int)i, 16 * (i + 1));
		}
		for (i = 0; i < 16; i++)
			for (j = 0; j < 16 * (i + 1); j++)
				if (q[i][j] != (unsigned char)i)
					_exit(33);
		for (i = 0; i < 16; i++)
			free(q[i]);
		mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch));
		sz = sizeof(after);
		if (mallctl("stats.allocated", &after, &sz, NULL, 0) != 0 ||
		    after != before)
			_exit(34);
		sz = sizeof(cur_after);
		if (mallctl(name, &cur_after, &sz, NULL, 0) != 0 ||
		    cur_after != cur_before)
			_exit(38);
		snprintf(name, sizeof(name), "stats.arenas.%u.large.nmalloc",
		    ind);
		sz = sizeof(nmalloc_after);
		if (mallctl(name, &nmalloc_after, &sz, NULL, 0) != 0 ||
		    nmalloc_after - nmalloc_before < 2016)
			_exit(39);
	} else if (strcmp(mode, "sample_double_free") == 0) {
		void *a = malloc(100), *again = a;

		__asm__ volatile("" : "+r"(again));
		free(a);
		free(again);
	} else if (strcmp(mode, "sample_realloc_after_free") == 0) {
		/* Same class: realloc's own fast path would answer it. */
		void *a = malloc(100), *again = a;

		__asm__ volatile("" : "+r"(again));
		free(a);
		again = realloc(again, 110);
		__asm__ volatile("" : "+r"(again));
	} else if (strcmp(mode, "reset") == 0) {
		size_t lg = 14, got = 0;

		hold_known(100, 4096);
		if (mallctl("prof.reset", NULL, NULL, &lg, sizeof(lg)) != 0)
			_exit(22);
		sz = sizeof(got);
		if (mallctl("prof.lg_sample", &got, &sz, NULL, 0) != 0 ||
		    got != 14)
			_exit(23);
		for (sz = 0; sz < 100; sz++)
			free(keep[sz]);
		dump("reset.heap");
	} else if (strcmp(mode, "noprof") == 0) {
		const char *name = "x.heap";

		if (mallctl("prof.dump", NULL, NULL, &name, sizeof(name)) == 0)
			_exit(24);
	} else
		_exit(99);
	fflush(stdout);
	/* exit, not _exit: prof_final and prof_leak run from atexit. */
	exit(0);
}

__attribute__((constructor)) static void
child_ctor(void)
{
	const char *mode = getenv("PROF_TEST_MODE");

	if (mode != NULL)
		child(mode);
}

/* Parent side -------------------------------------------------------------- */

static char	self[4096];

/*
 * Runs this program in mode under conf; returns its stdout+stderr and
 * stores its wait status.
 */
static char *
run_child_status(const char *mode, const char *conf, int *status)
{
	static char out[1 << 17];
	char cmd[8192];
	size_t n;
	FILE *f;

	ATF_REQUIRE(readlink("/proc/self/exe", self, sizeof(self) - 1) > 0);
	snprintf(cmd, sizeof(cmd), "PROF_TEST_MODE=%s MALLOC_CONF='%s' "
	    "timeout 120 '%s' 2>&1", mode, conf, self);
	f = popen(cmd, "r");
	ATF_REQUIRE(f != NULL);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	*status = pclose(f);
	return (out);
}

/* The same, failing the case unless the child exits 0. */
static char *
run_child(const char *mode, const char *conf)
{
	char *out;
	int st;

	out = run_child_status(mode, conf, &st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		atf_tc_fail("child %s (%s) exited with %#x: %s", mode, conf,
		    st, out);
	return (out);
}

static size_t
count_files(const char *pattern)
{
	glob_t g;
	size_t n;

	if (glob(pattern, 0, NULL, &g) != 0)
		return (0);
	n = g.gl_pathc;
	globfree(&g);
	return (n);
}

static char *
slurp(const char *path)
{
	static char buf[1 << 20];
	size_t n;
	FILE *f = fopen(path, "r");

	ATF_REQUIRE_MSG(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* The t* object count of a profile's header. */
static unsigned long long
total_objects(const char *path)
{
	unsigned long long objs = 0, bytes;

	ATF_REQUIRE(sscanf(slurp(path), "heap_v2/%*u\n  t*: %llu: %llu",
	    &objs, &bytes) == 2);
	return (objs);
}

static void
require_jeprof(void)
{
	if (access("/usr/bin/jeprof", X_OK) != 0)
		atf_tc_skip("jeprof (libjemalloc-dev) is not installed");
}

/*
 * A library built by clang, or for another machine than x86-64 and
 * aarch64, has no frame-pointer walk (lib/libc/stdlib/malloc/Makefile.inc);
 * the tests are built by the same compiler for the same machine.
 */
static void
require_fp_walk(void)
{
#if defined(__clang__) || !(defined(__x86_64__) || defined(__aarch64__))
	atf_tc_skip("this build of the allocator has no frame-pointer walk");
#endif
}

/* jeprof --text's flat MiB for func, or -1. */
static double
jeprof_flat(const char *profile, const char *func)
{
	char cmd[8192], line[1024], name[512];
	double flat, v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "jeprof --text '%s' '%s' 2>/dev/null",
	    self, profile);
	f = popen(cmd, "r");
	ATF_REQUIRE(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %lf %*f%% %*f%% %*f %*f%% %511s", &flat,
		    name) == 2 && strcmp(name, func) == 0)
			v = flat;
	pclose(f);
	return (v);
}

ATF_TC_WITHOUT_HEAD(jeprof_attributes_bytes_to_holders);
ATF_TC_BODY(jeprof_attributes_bytes_to_holders, tc)
{
	double known, other;

	require_jeprof();
	run_child("hold", "prof:true,lg_prof_sample:14");
	known = jeprof_flat("hold.heap", "hold_known");
	other = jeprof_flat("hold.heap", "hold_other");
	/*
	 * 8 and 2 MiB, sampled every 16 KiB on average (about 512 and 128
	 * samples: standard errors of 4.4% and 9%): within 25% and 35%,
	 * about four standard errors, so that the check does not flake.
	 */
	ATF_CHECK_MSG(known > 6 && known < 10, "hold_known: %.2f MiB", known);
	ATF_CHECK_MSG(other > 1.3 && other < 2.7, "hold_other: %.2f MiB",
	    other);
}

ATF_TC_WITHOUT_HEAD(jeprof_collapsed_names_the_stack);
ATF_TC_BODY(jeprof_collapsed_names_the_stack, tc)
{
	char cmd[8192];

	require_jeprof();
	run_child("hold", "prof:true,lg_prof_sample:14");
	/* Frames may carry an <address> suffix. */
	snprintf(cmd, sizeof(cmd), "jeprof --collapsed '%s' hold.heap "
	    "2>/dev/null | grep -Eq "
	    "';child(<[0-9a-f]+>)?;hold_known(<[0-9a-f]+>)? [0-9]'", self);
	ATF_CHECK_MSG(system(cmd) == 0, "no ';child;hold_known' stack");
}

/* Whether jeprof --collapsed shows the stack ...;child;func. */
static bool
collapsed_has(const char *profile, const char *func)
{
	char cmd[8192];

	/* Frames may carry an <address> suffix. */
	snprintf(cmd, sizeof(cmd), "jeprof --collapsed '%s' '%s' 2>/dev/null "
	    "| grep -Eq ';child(<[0-9a-f]+>)?;%s(<[0-9a-f]+>)? [0-9]'", self,
	    profile, func);
	return (system(cmd) == 0);
}

/* A hold child's profile under conf, and the walker it reported. */
static void
check_hold(const char *conf, const char *unwind)
{
	double known, other;
	const char *out;

	require_jeprof();
	out = run_child("hold", conf);
	ATF_CHECK_MSG(strstr(out, unwind) != NULL, "want %s: %s", unwind,
	    out);
	known = jeprof_flat("hold.heap", "hold_known");
	other = jeprof_flat("hold.heap", "hold_other");
	ATF_CHECK_MSG(known > 6 && known < 10, "hold_known: %.2f MiB", known);
	ATF_CHECK_MSG(other > 1.3 && other < 2.7, "hold_other: %.2f MiB",
	    other);
	ATF_CHECK_MSG(collapsed_has("hold.heap", "hold_known"),
	    "no ';child;hold_known' stack");
}

ATF_TC_WITHOUT_HEAD(fp_walk_attributes_bytes_to_holders);
ATF_TC_BODY(fp_walk_attributes_bytes_to_holders, tc)
{
	require_fp_walk();
	check_hold("prof:true,lg_prof_sample:14,prof_unwind:fp",
	    "unwind fp/fp\n");
}

ATF_TC_WITHOUT_HEAD(libgcc_walk_attributes_bytes_to_holders);
ATF_TC_BODY(libgcc_walk_attributes_bytes_to_holders, tc)
{
	check_hold("prof:true,lg_prof_sample:14,prof_unwind:libgcc",
	    "unwind libgcc/libgcc\n");
}

ATF_TC_WITHOUT_HEAD(auto_walk_keeps_frame_pointers_when_they_agree);
ATF_TC_BODY(auto_walk_keeps_frame_pointers_when_they_agree, tc)
{
	require_fp_walk();
	/* Every sample is taken in code with frame pointers. */
	check_hold("prof:true,lg_prof_sample:14", "unwind auto/fp\n");
}

ATF_TC_WITHOUT_HEAD(auto_walk_turns_to_libgcc_without_frame_pointers);
ATF_TC_BODY(auto_walk_turns_to_libgcc_without_frame_pointers, tc)
{
	const char *out;
	double nofp, other;

	require_jeprof();
	out = run_child("nofp", "prof:true,lg_prof_sample:14");
	ATF_CHECK_MSG(strstr(out, "unwind auto/libgcc\n") != NULL, "%s", out);
	nofp = jeprof_flat("nofp.heap", "hold_nofp");
	other = jeprof_flat("nofp.heap", "hold_other");
	ATF_CHECK_MSG(nofp > 6 && nofp < 10, "hold_nofp: %.2f MiB", nofp);
	ATF_CHECK_MSG(other > 1.3 && other < 2.7, "hold_other: %.2f MiB",
	    other);
	/* The caller of the function without a frame pointer is seen. */
	ATF_CHECK_MSG(collapsed_has("nofp.heap", "hold_nofp"),
	    "no ';child;hold_nofp' stack");
}

ATF_TC_WITHOUT_HEAD(fp_walk_without_frame_pointers_keeps_the_allocator);
ATF_TC_BODY(fp_walk_without_frame_pointers_keeps_the_allocator, tc)
{
	const char *out;
	double nofp;

	require_fp_walk();
	/*
	 * prof_unwind:fp is not checked: the stacks above hold_nofp may be
	 * short or skip frames, but the function that called malloc is
	 * always right, and the walk never faults.
	 */
	require_jeprof();
	out = run_child("nofp", "prof:true,lg_prof_sample:14,prof_unwind:fp");
	ATF_CHECK_MSG(strstr(out, "unwind fp/fp\n") != NULL, "%s", out);
	nofp = jeprof_flat("nofp.heap", "hold_nofp");
	ATF_CHECK_MSG(nofp > 6 && nofp < 10, "hold_nofp: %.2f MiB", nofp);
}

ATF_TC_WITHOUT_HEAD(fp_walk_in_signal_handlers_does_not_crash);
ATF_TC_BODY(fp_walk_in_signal_handlers_does_not_crash, tc)
{
	/* Every allocation sampled, in handlers too. */
	run_child("signal", "prof:true,lg_prof_sample:0,prof_unwind:fp");
	ATF_CHECK_EQ(count_files("signal.heap"), 1);
}

ATF_TC_WITHOUT_HEAD(fp_walk_on_alternate_signal_stack_does_not_crash);
ATF_TC_BODY(fp_walk_on_alternate_signal_stack_does_not_crash, tc)
{
	/* Outside the thread's stack the walk hands over to libgcc. */
	run_child("sigaltstack", "prof:true,lg_prof_sample:0,prof_unwind:fp");
	ATF_CHECK(total_objects("sigaltstack.heap") > 0);
}

/* The "threads" child under conf names both workers in its dump. */
static void
check_thread_names(const char *conf)
{
	const char *s;

	run_child("threads", conf);
	s = slurp("threads.heap");
	ATF_CHECK_MSG(strstr(s, "] worker-one\n") != NULL, "%.400s", s);
	ATF_CHECK_MSG(strstr(s, "] worker-two\n") != NULL, "%.400s", s);
}

ATF_TC_WITHOUT_HEAD(fp_walk_in_threads_does_not_crash);
ATF_TC_BODY(fp_walk_in_threads_does_not_crash, tc)
{
	check_thread_names("prof:true,lg_prof_sample:10,prof_unwind:fp");
}

ATF_TC_WITHOUT_HEAD(prof_unwind_rejects_unknown_walkers);
ATF_TC_BODY(prof_unwind_rejects_unknown_walkers, tc)
{
	const char *out;

	out = run_child("hold", "prof:true,lg_prof_sample:14,"
	    "prof_unwind:dwarf");
	ATF_CHECK_MSG(strstr(out, "Invalid value in conf pair "
	    "\"prof_unwind:dwarf\"") != NULL, "%s", out);
	ATF_CHECK_MSG(strstr(out, "unwind auto/") != NULL, "%s", out);
}

ATF_TC_WITHOUT_HEAD(dump_by_mallctl_uses_prefix_names);
ATF_TC_BODY(dump_by_mallctl_uses_prefix_names, tc)
{
	run_child("auto", "prof:true,prof_prefix:pfx");
	ATF_CHECK_EQ(count_files("pfx.*.0.m0.heap"), 1);
	ATF_CHECK_EQ(count_files("manual.*.1.m1.heap"), 1);
}

ATF_TC_WITHOUT_HEAD(interval_dumps_appear);
ATF_TC_BODY(interval_dumps_appear, tc)
{
	size_t n;

	run_child("interval", "prof:true,lg_prof_sample:14,"
	    "lg_prof_interval:22,prof_prefix:ivl");
	/* 16 MiB allocated, a dump per 4 MiB. */
	n = count_files("ivl.*.*.i*.heap");
	ATF_CHECK_MSG(n >= 2 && n <= 6, "%zu interval dumps", n);
}

ATF_TC_WITHOUT_HEAD(gdump_dumps_on_new_high_water);
ATF_TC_BODY(gdump_dumps_on_new_high_water, tc)
{
	run_child("gdump", "prof:true,prof_gdump:true,lg_prof_sample:16,"
	    "prof_prefix:gd");
	ATF_CHECK(count_files("gd.*.*.u*.heap") >= 1);
	ATF_CHECK_EQ(count_files("gd.*.*.i*.heap"), 0);
}

ATF_TC_WITHOUT_HEAD(leak_report_counts_live_bytes);
ATF_TC_BODY(leak_report_counts_live_bytes, tc)
{
	unsigned long long bytes = 0, objs = 0;
	const char *out, *p;

	out = run_child("leak", "prof:true,prof_leak:true,prof_final:true,"
	    "lg_prof_sample:12,prof_prefix:lk");
	p = strstr(out, "Leak approximation summary: ~");
	ATF_REQUIRE_MSG(p != NULL, "no report in: %s", out);
	ATF_REQUIRE(sscanf(p, "Leak approximation summary: ~%llu bytes, "
	    "~%llu objects", &bytes, &objs) == 2);
	/* 1000 blocks of 4 KiB, plus whatever libc holds. */
	ATF_CHECK_MSG(bytes > 3000000 && bytes < 5500000, "%llu bytes", bytes);
	ATF_CHECK_MSG(objs > 700 && objs < 1400, "%llu objects", objs);
	ATF_CHECK_EQ(count_files("lk.*.f.heap"), 1);
}

ATF_TC_WITHOUT_HEAD(prof_active_toggles_at_run_time);
ATF_TC_BODY(prof_active_toggles_at_run_time, tc)
{
	run_child("active", "prof:true,prof_active:false,lg_prof_sample:12");
	ATF_CHECK_EQ(total_objects("off.heap"), 0);
	ATF_CHECK(total_objects("on.heap") > 1000);
}

ATF_TC_WITHOUT_HEAD(thread_names_appear_in_dumps);
ATF_TC_BODY(thread_names_appear_in_dumps, tc)
{
	check_thread_names("prof:true,lg_prof_sample:10");
}

ATF_TC_WITHOUT_HEAD(fork_while_profiling);
ATF_TC_BODY(fork_while_profiling, tc)
{
	run_child("fork", "prof:true,lg_prof_sample:8");
	ATF_CHECK(total_objects("child.heap") > 0);
	ATF_CHECK(total_objects("parent.heap") > 0);
}

ATF_TC_WITHOUT_HEAD(signal_handler_allocations_do_not_deadlock);
ATF_TC_BODY(signal_handler_allocations_do_not_deadlock, tc)
{
	/* Every allocation sampled: handlers land inside the profiler. */
	run_child("signal", "prof:true,lg_prof_sample:0");
	ATF_CHECK_EQ(count_files("signal.heap"), 1);
}

ATF_TC_WITHOUT_HEAD(constructor_backtraces_are_attributed);
ATF_TC_BODY(constructor_backtraces_are_attributed, tc)
{
	/* The child runs from a constructor, before main. */
	require_jeprof();
	run_child("hold", "prof:true,lg_prof_sample:0");
	ATF_CHECK(jeprof_flat("hold.heap", "hold_known") > 7.5);
}

ATF_TC_WITHOUT_HEAD(recent_ring_keeps_the_last_samples);
ATF_TC_BODY(recent_ring_keeps_the_last_samples, tc)
{
	const char *out, *p;
	int n = 0;

	out = run_child("recent", "prof:true,lg_prof_sample:0");
	ATF_REQUIRE_MSG(strstr(out, "\"recent_alloc_max\":8") != NULL, "%s",
	    out);
	for (p = out; (p = strstr(p, "\"alloc_trace\"")) != NULL; p++)
		n++;
	ATF_CHECK_EQ(n, 8);
	ATF_CHECK(strstr(out, "\"released\":true") != NULL);
	ATF_CHECK(strstr(out, "\"released\":false") != NULL);
}

/*
 * Sampled small blocks live on extents that freed samples pass on: the
 * blocks keep their class, zeroing and contents, the statistics come back
 * to where they were, and every sample counts as a large allocation.
 */
ATF_TC_WITHOUT_HEAD(sampled_small_blocks_recycle_their_extents);
ATF_TC_BODY(sampled_small_blocks_recycle_their_extents, tc)
{
	run_child("recycle", "prof:true,lg_prof_sample:0");
}

/* A child that must fail, reporting the double free of a sampled block. */
static void
require_sampled_double_free(const char *mode, const char *message)
{
	const char *out;
	int st;

	out = run_child_status(mode, "prof:true,lg_prof_sample:0", &st);
	ATF_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0, "%#x: %s", st,
	    out);
	ATF_CHECK_MSG(strstr(out, message) != NULL, "%s", out);
}

/* A freed sample waiting for reuse is still caught if freed again. */
ATF_TC_WITHOUT_HEAD(double_free_of_sampled_block_aborts);
ATF_TC_BODY(double_free_of_sampled_block_aborts, tc)
{

	require_sampled_double_free("sample_double_free",
	    "free(): double free of 0x");
}

/* The same for realloc, whose fast path reads the extent's record. */
ATF_TC_WITHOUT_HEAD(realloc_of_freed_sampled_block_aborts);
ATF_TC_BODY(realloc_of_freed_sampled_block_aborts, tc)
{

	require_sampled_double_free("sample_realloc_after_free",
	    "realloc(): double free of 0x");
}

ATF_TC_WITHOUT_HEAD(reset_forgets_counts_and_sets_rate);
ATF_TC_BODY(reset_forgets_counts_and_sets_rate, tc)
{
	run_child("reset", "prof:true,lg_prof_sample:10");
	ATF_CHECK(strncmp(slurp("reset.heap"), "heap_v2/16384\n", 14) == 0);
}

ATF_TC_WITHOUT_HEAD(dump_without_prof_fails);
ATF_TC_BODY(dump_without_prof_fails, tc)
{
	run_child("noprof", "prof:false");
	ATF_CHECK_EQ(count_files("x.heap"), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, jeprof_attributes_bytes_to_holders);
	ATF_TP_ADD_TC(tp, jeprof_collapsed_names_the_stack);
	ATF_TP_ADD_TC(tp, fp_walk_attributes_bytes_to_holders);
	ATF_TP_ADD_TC(tp, libgcc_walk_attributes_bytes_to_holders);
	ATF_TP_ADD_TC(tp, auto_walk_keeps_frame_pointers_when_they_agree);
	ATF_TP_ADD_TC(tp, auto_walk_turns_to_libgcc_without_frame_pointers);
	ATF_TP_ADD_TC(tp, fp_walk_without_frame_pointers_keeps_the_allocator);
	ATF_TP_ADD_TC(tp, fp_walk_in_signal_handlers_does_not_crash);
	ATF_TP_ADD_TC(tp, fp_walk_on_alternate_signal_stack_does_not_crash);
	ATF_TP_ADD_TC(tp, fp_walk_in_threads_does_not_crash);
	ATF_TP_ADD_TC(tp, prof_unwind_rejects_unknown_walkers);
	ATF_TP_ADD_TC(tp, dump_by_mallctl_uses_prefix_names);
	ATF_TP_ADD_TC(tp, interval_dumps_appear);
	ATF_TP_ADD_TC(tp, gdump_dumps_on_new_high_water);
	ATF_TP_ADD_TC(tp, leak_report_counts_live_bytes);
	ATF_TP_ADD_TC(tp, prof_active_toggles_at_run_time);
	ATF_TP_ADD_TC(tp, thread_names_appear_in_dumps);
	ATF_TP_ADD_TC(tp, fork_while_profiling);
	ATF_TP_ADD_TC(tp, signal_handler_allocations_do_not_deadlock);
	ATF_TP_ADD_TC(tp, constructor_backtraces_are_attributed);
	ATF_TP_ADD_TC(tp, recent_ring_keeps_the_last_samples);
	ATF_TP_ADD_TC(tp, sampled_small_blocks_recycle_their_extents);
	ATF_TP_ADD_TC(tp, double_free_of_sampled_block_aborts);
	ATF_TP_ADD_TC(tp, realloc_of_freed_sampled_block_aborts);
	ATF_TP_ADD_TC(tp, reset_forgets_counts_and_sets_rate);
	ATF_TP_ADD_TC(tp, dump_without_prof_fails);
	return (atf_no_error());
}
