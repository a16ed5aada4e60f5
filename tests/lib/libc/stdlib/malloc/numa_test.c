/*
 * numa:true on a fake topology: MALLOC_NUMA_SYSFS names a directory laid
 * out like /sys/devices/system/node, here two nodes of one CPU each, so a
 * one-node machine exercises two.  Each case re-executes this program with
 * the environment set (the allocator reads it once, at start-up); the
 * re-executed program runs a check in a constructor and exits with its
 * verdict.
 */
#define	_GNU_SOURCE		/* CPU_SET, sched_setaffinity */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"

#define	HELPER_ENV	"NUMA_TEST_HELPER"

/* The arena that owns a fresh allocation made on cpu; -1 on error. */
static int
arena_on_cpu(int cpu)
{
	cpu_set_t set;
	unsigned ind;
	size_t len = sizeof(ind);
	void *p, *q;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return (-1);
	sched_yield();
	p = malloc(100);
	q = p;
	if (p == NULL || mallctl("arenas.lookup", &ind, &len, &q,
	    sizeof(q)) != 0)
		return (-1);
	free(p);
	return ((int)ind);
}

struct probe {
	int	cpu;
	int	arena;
};

static void *
probe_thread(void *arg)
{
	struct probe *pr = arg;

	pr->arena = arena_on_cpu(pr->cpu);
	return (NULL);
}

/* A new thread started on each CPU gets an arena of that CPU's node. */
static int
helper_threads(void)
{
	struct probe pr[2] = { { 0, -1 }, { 1, -1 } };
	unsigned narenas, per_node;
	size_t len = sizeof(narenas);
	pthread_t t;
	int i;

	if (mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0)
		return (10);
	per_node = narenas / 2;
	for (i = 0; i < 2; i++) {
		if (pthread_create(&t, NULL, probe_thread, &pr[i]) != 0 ||
		    pthread_join(t, NULL) != 0)
			return (11);
		if (pr[i].arena < 0)
			return (12);
		if ((unsigned)pr[i].arena / per_node != (unsigned)i) {
			fprintf(stderr, "cpu %d got arena %d (%u per node)\n",
			    i, pr[i].arena, per_node);
			return (13);
		}
	}
	return (0);
}

/* The arena the calling thread is bound to; -1 on error. */
static int
thread_arena(void)
{
	unsigned ind;
	size_t len = sizeof(ind);

	if (mallctl("thread.arena", &ind, &len, NULL, 0) != 0)
		return (-1);
	return ((int)ind);
}

/*
 * A thread that moves to the other node's CPU is rebound to that node's
 * arenas (checked on the slow path's periodic tick, so it allocates).
 */
static int
helper_migrate(void)
{
	unsigned narenas, per_node;
	size_t len = sizeof(narenas);
	int a, i;
	void *p;

	if (mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0)
		return (10);
	per_node = narenas / 2;
	if (arena_on_cpu(0) < 0 || (a = thread_arena()) < 0 ||
	    (unsigned)a / per_node != 0)
		return (11);
	if (arena_on_cpu(1) < 0)
		return (12);
	for (i = 0; i < 64 && (unsigned)thread_arena() / per_node != 1; i++) {
		p = malloc(1 << 20);
		if (p == NULL)
			return (13);
		free(p);
	}
	a = thread_arena();
	if (a < 0 || (unsigned)a / per_node != 1) {
		fprintf(stderr, "on cpu 1 still bound to arena %d\n", a);
		return (14);
	}
	return (0);
}

static int
helper_plain(void)
{
	bool numa;
	size_t len = sizeof(numa);
	void *p = malloc(64);

	if (p == NULL || mallctl("opt.numa", &numa, &len, NULL, 0) != 0 ||
	    !numa)
		return (1);
	free(p);
	return (0);
}

__attribute__((constructor))
static void
helper_dispatch(void)
{
	const char *name = getenv(HELPER_ENV);

	if (name == NULL)
		return;
	if (strcmp(name, "threads") == 0)
		_exit(helper_threads());
	if (strcmp(name, "migrate") == 0)
		_exit(helper_migrate());
	if (strcmp(name, "plain") == 0)
		_exit(helper_plain());
	_exit(127);
}

static void
make_topology(const char *dir)
{
	char path[256];
	int node, fd;

	ATF_REQUIRE(mkdir(dir, 0755) == 0 || errno == EEXIST);
	for (node = 0; node < 2; node++) {
		snprintf(path, sizeof(path), "%s/node%d", dir, node);
		ATF_REQUIRE(mkdir(path, 0755) == 0 || errno == EEXIST);
		snprintf(path, sizeof(path), "%s/node%d/cpulist", dir, node);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ATF_REQUIRE(fd >= 0);
		ATF_REQUIRE(dprintf(fd, "%d\n", node) > 0);
		close(fd);
	}
}

/* Runs this program with env; returns its exit status, stderr in err. */
static int
run_helper(const char *helper, const char *conf, const char *sysfs,
    char *err, size_t errsize)
{
	char e_helper[64], e_conf[128], e_sysfs[300];
	char *argv[] = { (char *)"numa_test", NULL };
	char *envp[] = { e_helper, e_conf, e_sysfs, NULL };
	int pipefd[2], status;
	ssize_t n;
	size_t off = 0;
	pid_t pid;

	snprintf(e_helper, sizeof(e_helper), "%s=%s", HELPER_ENV, helper);
	snprintf(e_conf, sizeof(e_conf), "MALLOC_CONF=%s", conf);
	snprintf(e_sysfs, sizeof(e_sysfs), "MALLOC_NUMA_SYSFS=%s", sysfs);
	ATF_REQUIRE(pipe(pipefd) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		alarm(60);
		execve("/proc/self/exe", argv, envp);
		_exit(126);
	}
	close(pipefd[1]);
	while (off + 1 < errsize &&
	    (n = read(pipefd[0], err + off, errsize - off - 1)) > 0)
		off += (size_t)n;
	err[off] = '\0';
	close(pipefd[0]);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE_MSG(WIFEXITED(status), "helper %s died (stderr: %s)",
	    helper, err);
	return (WEXITSTATUS(status));
}

static void
require_two_cpus(void)
{
	cpu_set_t set;

	ATF_REQUIRE(sched_getaffinity(0, sizeof(set), &set) == 0);
	if (!CPU_ISSET(0, &set) || !CPU_ISSET(1, &set))
		atf_tc_skip("needs CPUs 0 and 1 available");
}

ATF_TC_WITHOUT_HEAD(threads_get_arenas_of_their_node);
ATF_TC_BODY(threads_get_arenas_of_their_node, tc)
{
	char err[1024];
	int st;

	require_two_cpus();
	make_topology("nodes");
	st = run_helper("threads", "numa:true,narenas:8", "nodes", err,
	    sizeof(err));
	ATF_REQUIRE_MSG(st == 0, "exit %d: %s", st, err);
	st = run_helper("threads", "numa:true,narenas:1", "nodes", err,
	    sizeof(err));
	ATF_REQUIRE_MSG(st == 0, "one arena per node: exit %d: %s", st, err);
}

ATF_TC_WITHOUT_HEAD(migrating_thread_follows_its_node);
ATF_TC_BODY(migrating_thread_follows_its_node, tc)
{
	char err[1024];
	int st;

	require_two_cpus();
	make_topology("nodes");
	st = run_helper("migrate", "numa:true,narenas:4", "nodes", err,
	    sizeof(err));
	ATF_REQUIRE_MSG(st == 0, "exit %d: %s", st, err);
}

ATF_TC_WITHOUT_HEAD(missing_topology_warns_and_runs);
ATF_TC_BODY(missing_topology_warns_and_runs, tc)
{
	char err[1024];
	int st;

	st = run_helper("plain", "numa:true", "/nonexistent", err,
	    sizeof(err));
	ATF_REQUIRE_MSG(st == 0, "exit %d: %s", st, err);
	ATF_REQUIRE_MSG(strstr(err, "<malloc>: numa:true, but no NUMA "
	    "topology found") != NULL, "stderr: %s", err);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, threads_get_arenas_of_their_node);
	ATF_TP_ADD_TC(tp, migrating_thread_follows_its_node);
	ATF_TP_ADD_TC(tp, missing_topology_warns_and_runs);
	return (atf_no_error());
}
