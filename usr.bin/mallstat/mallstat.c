/*
 * mallstat: the allocator's statistics, for operators.
 *
 *	mallstat [-j] [-o file] command [arg ...]
 *		runs command on the allocator and prints its statistics
 *		when it exits (malloc_stats_print's text, or JSON)
 *	mallstat -p pid [-H] [-w wait] [-c count]
 *		reads the summary page a running process publishes, one
 *		line per interval; -H asks it for a heap profile
 *	mallstat -n name ...
 *		reads mallctl names in this process, as sysctl -n does
 *
 * mallstat runs on the allocator itself (libmalloc.a is linked in), so
 * -n describes the allocator and the options (MALLOC_CONF) it was given.
 * The published page's layout and protocol are in statpage.h.
 */
#define	_GNU_SOURCE		/* asprintf, mkostemp */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc_np.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "statpage.h"

/* Descriptors below this are left to the command's own use. */
#define	STATS_FD_MIN		64
/* How long -H waits for the process to answer. */
#define	REQUEST_TIMEOUT_MS	5000
/* vmstat's habit: the header again every so many lines. */
#define	HEADER_EVERY		20

static void	usage(void) __attribute__((noreturn));
static int	run_command(char **argv, bool json, const char *outfile);
static int	watch_process(const char *pidarg, double wait, long count,
		    bool heapdump);
static int	read_names(char **names);

int
main(int argc, char **argv)
{
	const char *outfile = NULL, *pidarg = NULL;
	double wait = 1;
	long count = -1;
	bool json = false, names = false, heapdump = false;
	bool waitset = false, countset = false;
	char *end;
	int ch;

	/* "+": options after the command name belong to the command. */
	while ((ch = getopt(argc, argv, "+c:Hjno:p:w:")) != -1) {
		switch (ch) {
		case 'c':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    count <= 0)
				errx(1, "invalid count: %s", optarg);
			countset = true;
			break;
		case 'H':
			heapdump = true;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			names = true;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'p':
			pidarg = optarg;
			break;
		case 'w':
			errno = 0;
			wait = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    !(wait > 0 && wait <= 86400))
				errx(1, "invalid wait: %s", optarg);
			waitset = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (pidarg != NULL) {
		if (names || json || outfile != NULL || argc != 0)
			usage();
		/* -w alone watches until interrupted; neither: one line. */
		if (!countset && !waitset)
			count = 1;
		return (watch_process(pidarg, wait, count, heapdump));
	}
	if (heapdump || waitset || countset)
		usage();
	if (names) {
		if (json || outfile != NULL || argc == 0)
			usage();
		return (read_names(argv));
	}
	if (argc == 0)
		usage();
	return (run_command(argv, json, outfile));
}

static void
usage(void)
{
	fprintf(stderr, "%s\n%s\n%s\n",
	    "usage: mallstat [-j] [-o file] command [arg ...]",
	    "       mallstat -p pid [-H] [-w wait] [-c count]",
	    "       mallstat -n name ...");
	exit(1);
}

/* Running a command ------------------------------------------------------ */

/*
 * libmalloc.so.1 beside this installation of mallstat (../lib from its
 * directory, as installworld lays them out), else the system's.
 */
static const char *
find_libmalloc(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(path, sizeof(path),
			    "%s/../lib/libmalloc.so.1", exe) < (int)sizeof(path)
			    && access(path, R_OK) == 0)
				return (path);
		}
	}
	if (access("/usr/lib/libmalloc.so.1", R_OK) == 0)
		return ("/usr/lib/libmalloc.so.1");
	return (NULL);
}

/* "old" SEP "add", or "add" alone; never returns NULL. */
static char *
join(const char *old, const char *sep, const char *add)
{
	char *s;

	if (old == NULL || *old == '\0')
		s = strdup(add);
	else if (asprintf(&s, "%s%s%s", old, sep, add) < 0)
		s = NULL;
	if (s == NULL)
		err(EX_OSERR, "malloc");
	return (s);
}

/* A file for the statistics: -o's, or an unlinked temporary one. */
static int
open_stats_file(const char *outfile)
{
	char tmpl[PATH_MAX];
	const char *tmpdir;
	int fd;

	if (outfile != NULL) {
		fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0666);
		if (fd < 0)
			err(EX_CANTCREAT, "%s", outfile);
		return (fd);
	}
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if (snprintf(tmpl, sizeof(tmpl), "%s/mallstat.XXXXXX", tmpdir) >=
	    (int)sizeof(tmpl))
		errx(EX_CANTCREAT, "TMPDIR too long");
	if ((fd = mkostemp(tmpl, O_CLOEXEC)) < 0)
		err(EX_CANTCREAT, "%s", tmpl);
	(void)unlink(tmpl);
	return (fd);
}

/* Copies the statistics the command left in fd to standard output. */
static off_t
copy_stats(int fd, bool to_stdout)
{
	char buf[8192];
	ssize_t n;
	off_t total;

	if ((total = lseek(fd, 0, SEEK_END)) < 0)
		err(EX_IOERR, "statistics file");
	if (!to_stdout || total == 0)
		return (total);
	if (lseek(fd, 0, SEEK_SET) < 0)
		err(EX_IOERR, "statistics file");
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			err(EX_IOERR, "stdout");
	if (n < 0)
		err(EX_IOERR, "statistics file");
	if (fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	return (total);
}

/*
 * The command inherits the statistics file as descriptor statsfd (at or
 * above STATS_FD_MIN, out of the way of its own) and MALLOC_CONF asking
 * the allocator to print there at exit; the user's MALLOC_CONF comes
 * first, so only the printing options are overridden.  Like time(1),
 * mallstat ignores SIGINT and SIGQUIT while the command runs and exits
 * with the command's status.
 */
static int
run_command(char **argv, bool json, const char *outfile)
{
	char add[128], *conf, *preload;
	const char *lib;
	pid_t pid;
	int fd, statsfd, status, saved_errno;
	struct sigaction ign, oint, oquit;

	if ((lib = find_libmalloc()) == NULL)
		errx(EX_UNAVAILABLE, "libmalloc.so.1 not found (looked in "
		    "../lib beside mallstat and in /usr/lib)");
	fd = open_stats_file(outfile);
	if ((statsfd = fcntl(fd, F_DUPFD, STATS_FD_MIN)) < 0)
		err(EX_OSERR, "fcntl");
	(void)snprintf(add, sizeof(add), "stats_print:true,stats_print_fd:%d%s",
	    statsfd, json ? ",stats_print_opts:J" : "");
	conf = join(getenv("MALLOC_CONF"), ",", add);
	preload = join(getenv("LD_PRELOAD"), ":", lib);

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	(void)sigaction(SIGINT, &ign, &oint);
	(void)sigaction(SIGQUIT, &ign, &oquit);
	fflush(stdout);
	switch (pid = fork()) {
	case -1:
		err(EX_OSERR, "fork");
	case 0:
		(void)sigaction(SIGINT, &oint, NULL);
		(void)sigaction(SIGQUIT, &oquit, NULL);
		if (setenv("MALLOC_CONF", conf, 1) != 0 ||
		    setenv("LD_PRELOAD", preload, 1) != 0)
			err(EX_OSERR, "setenv");
		execvp(argv[0], argv);
		saved_errno = errno;
		warn("%s", argv[0]);
		_exit(saved_errno == ENOENT ? 127 : 126);
	}
	close(statsfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	(void)sigaction(SIGINT, &oint, NULL);
	(void)sigaction(SIGQUIT, &oquit, NULL);
	free(conf);
	free(preload);

	if (WIFEXITED(status) && WEXITSTATUS(status) >= 126 &&
	    copy_stats(fd, false) == 0)
		return (WEXITSTATUS(status));	/* not run: execvp said why */
	if (copy_stats(fd, outfile == NULL) == 0)
		warnx("%s printed no statistics (it never allocated, does "
		    "not run on the allocator (statically linked, set-id), or "
		    "was killed before its exit handlers ran)", argv[0]);
	close(fd);
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (WEXITSTATUS(status));
}

/* Watching a running process ------------------------------------------- */

struct target {
	pid_t		pid;
	int		memfd;		/* /proc/PID/mem */
	off_t		page;		/* the page's address */
};

/* Finds the published page in /proc/PID/maps; exits when there is none. */
static void
target_open(struct target *t, const char *pidarg, bool writable)
{
	char path[64], *line = NULL, *end;
	unsigned long long start;
	size_t cap = 0;
	long pid;
	FILE *maps;
	bool found = false;

	errno = 0;
	pid = strtol(pidarg, &end, 10);
	if (errno != 0 || *end != '\0' || end == pidarg || pid <= 0 ||
	    pid > INT_MAX)
		errx(1, "invalid pid: %s", pidarg);
	t->pid = (pid_t)pid;
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	if ((maps = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			errx(EX_NOINPUT, "%ld: no such process", pid);
		err(EX_NOPERM, "%ld: cannot read its memory map (only its "
		    "owner and root can)", pid);
	}
	while (getline(&line, &cap, maps) > 0) {
		if (strstr(line, "/memfd:" STATPAGE_NAME) == NULL)
			continue;
		if (sscanf(line, "%llx-", &start) == 1) {
			t->page = (off_t)start;
			found = true;
		}
		break;
	}
	free(line);
	fclose(maps);
	if (!found)
		errx(EX_UNAVAILABLE, "%ld: publishes no allocator statistics "
		    "(not running on this allocator, run with "
		    "stats_publish:false, or has not allocated enough yet)",
		    pid);
	snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
	if ((t->memfd = open(path, (writable ? O_RDWR : O_RDONLY) |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ESRCH)
			errx(EX_NOINPUT, "%ld: no such process", pid);
		err(EX_NOPERM, "%ld: cannot read its memory (only its owner, "
		    "with ptrace access, and root can)", pid);
	}
}

static void
target_gone(const struct target *t)
{
	errx(EX_NOINPUT, "%ld: process exited", (long)t->pid);
}

/* A consistent copy of the page, by the seqlock. */
static void
target_read(const struct target *t, struct statpage *sp)
{
	uint64_t seq;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (pread(t->memfd, sp, sizeof(*sp), t->page) !=
		    (ssize_t)sizeof(*sp))
			target_gone(t);
		if (sp->magic != STATPAGE_MAGIC ||
		    sp->version != STATPAGE_VERSION ||
		    sp->size != sizeof(*sp))
			errx(EX_DATAERR, "%ld: statistics page of another "
			    "version (%u, size %u; mallstat reads %u)",
			    (long)t->pid, sp->version, sp->size,
			    STATPAGE_VERSION);
		if (pread(t->memfd, &seq, sizeof(seq), t->page +
		    (off_t)offsetof(struct statpage, seq)) != sizeof(seq))
			target_gone(t);
		if ((sp->seq & 1) == 0 && seq == sp->seq)
			return;
		usleep(100);
	}
	errx(EX_TEMPFAIL, "%ld: statistics page kept changing", (long)t->pid);
}

static void
print_header(void)
{
	printf("%10s %10s %10s %10s %10s %10s %10s %9s %9s %10s\n",
	    "allocated", "active", "resident", "mapped", "retained", "dirty",
	    "muzzy", "malloc/s", "free/s", "purged/s");
}

/* Memory columns are in KiB, as vmstat's; purged/s is KiB purged a second. */
static void
print_line(const struct statpage *cur, const struct statpage *prev)
{
	const struct statpage_totals *c = &cur->totals, *p;
	double dt;

	printf("%10ju %10ju %10ju %10ju %10ju %10ju %10ju",
	    (uintmax_t)(c->allocated >> 10), (uintmax_t)(c->active >> 10),
	    (uintmax_t)(c->resident >> 10), (uintmax_t)(c->mapped >> 10),
	    (uintmax_t)(c->retained >> 10), (uintmax_t)(c->dirty >> 10),
	    (uintmax_t)(c->muzzy >> 10));
	if (prev == NULL || cur->time_ns <= prev->time_ns) {
		/* No interval yet, or the process has not refreshed. */
		printf(" %9s %9s %10s\n", prev == NULL ? "-" : "0",
		    prev == NULL ? "-" : "0", prev == NULL ? "-" : "0");
		return;
	}
	p = &prev->totals;
	dt = (double)(cur->time_ns - prev->time_ns) / 1e9;
	printf(" %9.0f %9.0f %10.0f\n",
	    (double)(c->nmalloc - p->nmalloc) / dt,
	    (double)(c->ndalloc - p->ndalloc) / dt,
	    (double)((c->npurged - p->npurged) * (getpagesize() >> 10)) / dt);
}

/* Asks for a heap profile through the request word; prints the answer. */
static int
request_heap_dump(const struct target *t)
{
	struct statpage sp;
	uint64_t req, resp;
	uint32_t tag;
	int ms;

	tag = (uint32_t)getpid() ^ (uint32_t)time(NULL) << 16;
	if (tag == 0)
		tag = 1;
	req = (uint64_t)tag << 32 | STATPAGE_REQ_PROF_DUMP;
	if (pwrite(t->memfd, &req, sizeof(req), t->page +
	    (off_t)offsetof(struct statpage, request)) != sizeof(req))
		err(EX_NOPERM, "%ld: cannot write the request", (long)t->pid);
	for (ms = 0; ms < REQUEST_TIMEOUT_MS; ms += 10) {
		if (pread(t->memfd, &resp, sizeof(resp), t->page +
		    (off_t)offsetof(struct statpage, response)) != sizeof(resp))
			target_gone(t);
		if (STATPAGE_REQ_TAG(resp) == tag)
			break;
		usleep(10000);
	}
	if (ms >= REQUEST_TIMEOUT_MS)
		errx(EX_TEMPFAIL, "%ld: no answer within %d s (a process "
		    "answers from its allocation slow paths: an idle one "
		    "answers when it next allocates)", (long)t->pid,
		    REQUEST_TIMEOUT_MS / 1000);
	if (pread(t->memfd, &sp, sizeof(sp), t->page) != sizeof(sp))
		target_gone(t);
	sp.response_text[sizeof(sp.response_text) - 1] = '\0';
	if (STATPAGE_REQ_CODE(resp) == STATPAGE_RESP_DONE) {
		printf("%s\n", sp.response_text);
		return (0);
	}
	if (STATPAGE_REQ_CODE(resp) == STATPAGE_RESP_NOPROF)
		errx(EX_UNAVAILABLE, "%ld: %s", (long)t->pid,
		    sp.response_text);
	errx(EX_SOFTWARE, "%ld: %s", (long)t->pid, sp.response_text);
}

static int
watch_process(const char *pidarg, double wait, long count, bool heapdump)
{
	struct target t;
	struct statpage cur, prev;
	struct timespec ts;
	long line;

	target_open(&t, pidarg, heapdump);
	if (heapdump)
		return (request_heap_dump(&t));
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	for (line = 0; count < 0 || line < count; line++) {
		if (line > 0)
			nanosleep(&ts, NULL);
		target_read(&t, &cur);
		if (line % HEADER_EVERY == 0)
			print_header();
		print_line(&cur, line > 0 ? &prev : NULL);
		if (fflush(stdout) != 0)
			err(EX_IOERR, "stdout");
		prev = cur;
	}
	close(t.memfd);
	return (0);
}

/* Reading mallctl names -------------------------------------------------- */

enum ctl_type { T_PROBE, T_STRING, T_SSIZE, T_POINTER, T_ACTION };

/*
 * mallctl does not say a node's type, and a const char * or a pointer
 * has the size of a size_t: those, the signed ones and the nodes whose
 * reading acts (creates, purges, flushes) are listed here by pattern,
 * "#" matching an index.  Every other node is probed by size: 8 bytes is
 * a 64-bit unsigned number, 4 an unsigned, 1 a bool.
 */
static const struct {
	const char	*pattern;
	enum ctl_type	 type;
} ctl_types[] = {
	{ "version", T_STRING },
	{ "config.malloc_conf", T_STRING },
	{ "opt.dss", T_STRING },
	{ "opt.junk", T_STRING },
	{ "opt.metadata_thp", T_STRING },
	{ "opt.percpu_arena", T_STRING },
	{ "opt.prof_prefix", T_STRING },
	{ "opt.prof_unwind", T_STRING },
	{ "opt.stats_interval_opts", T_STRING },
	{ "opt.stats_print_opts", T_STRING },
	{ "opt.thp", T_STRING },
	{ "opt.zero_realloc", T_STRING },
	{ "arena.#.dss", T_STRING },
	{ "stats.arenas.#.dss", T_STRING },
	{ "thread.prof.name", T_STRING },
	{ "prof.unwind", T_STRING },
	{ "opt.dirty_decay_ms", T_SSIZE },
	{ "opt.muzzy_decay_ms", T_SSIZE },
	{ "opt.lg_prof_interval", T_SSIZE },
	{ "opt.stats_interval", T_SSIZE },
	{ "arena.#.dirty_decay_ms", T_SSIZE },
	{ "arena.#.muzzy_decay_ms", T_SSIZE },
	{ "arenas.dirty_decay_ms", T_SSIZE },
	{ "arenas.muzzy_decay_ms", T_SSIZE },
	{ "stats.arenas.#.dirty_decay_ms", T_SSIZE },
	{ "stats.arenas.#.muzzy_decay_ms", T_SSIZE },
	{ "thread.allocatedp", T_POINTER },
	{ "thread.deallocatedp", T_POINTER },
	{ "arena.#.extent_hooks", T_POINTER },
	{ "arena.#.decay", T_ACTION },
	{ "arena.#.purge", T_ACTION },
	{ "arena.#.reset", T_ACTION },
	{ "arena.#.destroy", T_ACTION },
	{ "arenas.create", T_ACTION },
	{ "arenas.lookup", T_ACTION },
	{ "tcache.create", T_ACTION },
	{ "tcache.flush", T_ACTION },
	{ "tcache.destroy", T_ACTION },
	{ "thread.tcache.flush", T_ACTION },
	{ "thread.idle", T_ACTION },
	{ "thread.peak.reset", T_ACTION },
	{ "stats.mutexes.reset", T_ACTION },
	{ "prof.dump", T_ACTION },
	{ "prof.reset", T_ACTION },
	{ "prof.prefix", T_ACTION },
};

/* Does name match pattern, "#" standing for a decimal index? */
static bool
ctl_match(const char *pattern, const char *name)
{
	while (*pattern != '\0') {
		if (*pattern == '#') {
			if (*name < '0' || *name > '9')
				return (false);
			while (*name >= '0' && *name <= '9')
				name++;
			pattern++;
		} else if (*pattern++ != *name++)
			return (false);
	}
	return (*name == '\0');
}

static enum ctl_type
ctl_type_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_types) / sizeof(ctl_types[0]); i++)
		if (ctl_match(ctl_types[i].pattern, name))
			return (ctl_types[i].type);
	return (T_PROBE);
}

/* Prints one node's value; false (after a warning) when it cannot. */
static bool
print_name(const char *name)
{
	union {
		uint64_t	u64;
		unsigned	u;
		bool		b;
		ssize_t		ss;
		const char	*s;
		void		*p;
	} v;
	static const size_t probe_sizes[] = { 8, 4, 1 };
	size_t len, i;
	int error = EINVAL;

	switch (ctl_type_of(name)) {
	case T_ACTION:
		warnx("%s: an action, not a value: mallstat does not run it",
		    name);
		return (false);
	case T_STRING:
		len = sizeof(v.s);
		if ((error = mallctl(name, &v.s, &len, NULL, 0)) != 0)
			break;
		printf("%s\n", v.s != NULL ? v.s : "");
		return (true);
	case T_SSIZE:
		len = sizeof(v.ss);
		if ((error = mallctl(name, &v.ss, &len, NULL, 0)) != 0)
			break;
		printf("%zd\n", v.ss);
		return (true);
	case T_POINTER:
		len = sizeof(v.p);
		if ((error = mallctl(name, &v.p, &len, NULL, 0)) != 0)
			break;
		printf("%p\n", v.p);
		return (true);
	case T_PROBE:
		error = EINVAL;
		for (i = 0; i < sizeof(probe_sizes) / sizeof(probe_sizes[0]) &&
		    error == EINVAL; i++) {
			memset(&v, 0, sizeof(v));
			len = probe_sizes[i];
			error = mallctl(name, &v, &len, NULL, 0);
		}
		if (error != 0)
			break;
		if (len == 8)
			printf("%ju\n", (uintmax_t)v.u64);
		else if (len == 4)
			printf("%u\n", v.u);
		else
			printf("%s\n", v.b ? "true" : "false");
		return (true);
	}
	switch (error) {
	case ENOENT:
		warnx("%s: unknown name", name);
		break;
	case EPERM:
		warnx("%s: not readable", name);
		break;
	case EINVAL:
		warnx("%s: not a value mallstat can read (an inner node?)",
		    name);
		break;
	default:
		errno = error;
		warn("%s", name);
	}
	return (false);
}

static int
read_names(char **names)
{
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	bool ok = true;

	/* Statistics are snapshots: take a fresh one first. */
	(void)mallctl("epoch", &epoch, &len, &epoch, sizeof(epoch));
	for (; *names != NULL; names++)
		if (!print_name(*names))
			ok = false;
	if (fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	return (ok ? 0 : 1);
}
