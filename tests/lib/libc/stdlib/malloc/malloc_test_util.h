/*
 * Helpers shared by the malloc test programs: running a misbehaving or
 * specially configured child and collecting what it said and how it died,
 * reading the resident set size, and hiding pointers and sizes from the
 * compiler so that deliberate misuse compiles warning-free.
 *
 * Everything here is static inline so that each test program includes only
 * what it uses and no build rule beyond one .c per program is needed.
 */
#ifndef MALLOC_TEST_UTIL_H
#define	MALLOC_TEST_UTIL_H

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

/* A child gets this long before SIGALRM turns a hang into a failure. */
#define	CHILD_TIMEOUT_S		30

/* Enough for any message the allocator prints plus our own reports. */
#define	CHILD_OUTPUT_MAX	8192

/*
 * What a child left behind: its wait status, everything it wrote to fd 2
 * (err) and everything it reported on the report pipe (report), each
 * NUL-terminated and truncated to CHILD_OUTPUT_MAX - 1 bytes.  The _line
 * copies have newlines shown as \n, for failure reasons, which must be
 * one line.
 */
struct child_result {
	int	status;
	char	err[CHILD_OUTPUT_MAX];
	size_t	errlen;
	char	report[CHILD_OUTPUT_MAX];
	size_t	reportlen;
	char	err_line[2 * CHILD_OUTPUT_MAX];
	char	report_line[2 * CHILD_OUTPUT_MAX];
};

/* Copy src to dst (of size >= 2 * strlen(src) + 1), newlines as \n. */
static inline void
text_to_line(char *dst, const char *src)
{

	for (; *src != '\0'; src++) {
		if (*src == '\n') {
			*dst++ = '\\';
			*dst++ = 'n';
		} else
			*dst++ = *src;
	}
	*dst = '\0';
}

/* The child's end of the report pipe; -1 outside a child. */
static int child_report_fd = -1;

/*
 * Launder a value through an empty asm so that the compiler can prove
 * nothing about it: gcc otherwise rejects free() of a stack address, a
 * double free or malloc(SIZE_MAX) at compile time, which is exactly the
 * misuse some tests commit on purpose.
 */
static inline void *
ptr_launder(void *p)
{

	__asm__ __volatile__("" : "+r" (p));
	return (p);
}

static inline size_t
size_launder(size_t n)
{

	__asm__ __volatile__("" : "+r" (n));
	return (n);
}

/*
 * malloc_usable_size() of a block, through ptr_launder: gcc 12 takes the
 * const void * parameter of <malloc_np.h>'s declaration for a read of the
 * block's (still uninitialised) contents and warns.  The including file
 * declares malloc_usable_size, through <malloc_np.h> or <malloc.h>.
 */
static inline size_t
usable_size(void *p)
{

	return (malloc_usable_size(ptr_launder(p)));
}

/*
 * Report from a child to the parent without allocating: the report pipe
 * survives the child's abort, unlike stdio buffers.
 */
static inline void
child_report(const char *s)
{
	size_t len;
	ssize_t n;

	len = strlen(s);
	while (len > 0) {
		n = write(child_report_fd, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Report "<tag> <pointer as %p prints it>\n" from a child. */
static inline void
child_report_ptr(const char *tag, void *p)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s %p\n", tag, p);
	child_report(buf);
}

/*
 * Read what is available on fd into buf at *len (NUL-terminated, excess
 * dropped).  Returns false at end of file.
 */
static inline bool
child_drain(int fd, char *buf, size_t bufsize, size_t *len)
{
	char discard[512];
	ssize_t n;

	if (*len < bufsize - 1)
		n = read(fd, buf + *len, bufsize - 1 - *len);
	else
		n = read(fd, discard, sizeof(discard));
	if (n == -1 && errno == EINTR)
		return (true);
	if (n <= 0)
		return (false);
	if (*len < bufsize - 1)
		*len += (size_t)n;
	buf[*len] = '\0';
	return (true);
}

/*
 * Fork a child that runs fn(arg) with fd 2 and the report pipe captured, no
 * core file and an alarm, then exits 0 if fn returns.  Wait for it and fill
 * in *res.  Both pipes are read concurrently so that neither can fill up
 * and block the child.
 */
static inline void
child_run(void (*fn)(void *), void *arg, struct child_result *res)
{
	struct pollfd pfd[2];
	struct rlimit nocore = { 0, 0 };
	char *bufs[2];
	size_t *lens[2];
	pid_t pid;
	int errpipe[2], reportpipe[2], i, open_fds;

	memset(res, 0, sizeof(*res));
	ATF_REQUIRE(pipe(errpipe) == 0);
	ATF_REQUIRE(pipe(reportpipe) == 0);
	/* Nothing buffered may be written twice, once by each process. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		(void)setrlimit(RLIMIT_CORE, &nocore);
		(void)dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		close(errpipe[1]);
		close(reportpipe[0]);
		child_report_fd = reportpipe[1];
		alarm(CHILD_TIMEOUT_S);
		fn(arg);
		_exit(0);
	}
	close(errpipe[1]);
	close(reportpipe[1]);
	pfd[0].fd = errpipe[0];
	pfd[1].fd = reportpipe[0];
	bufs[0] = res->err;
	bufs[1] = res->report;
	lens[0] = &res->errlen;
	lens[1] = &res->reportlen;
	for (open_fds = 2; open_fds > 0;) {
		for (i = 0; i < 2; i++)
			pfd[i].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			ATF_REQUIRE(errno == EINTR);
			continue;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (!child_drain(pfd[i].fd, bufs[i], CHILD_OUTPUT_MAX,
			    lens[i])) {
				close(pfd[i].fd);
				/* poll ignores negative descriptors. */
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	ATF_REQUIRE(waitpid(pid, &res->status, 0) == pid);
	text_to_line(res->err_line, res->err);
	text_to_line(res->report_line, res->report);
}

/* Did the child exit normally with status 0? */
static inline bool
child_exited_ok(const struct child_result *res)
{

	return (WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0);
}

/* A human-readable wait status for failure messages. */
static inline const char *
child_status_str(const struct child_result *res, char *buf, size_t size)
{

	if (WIFEXITED(res->status))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(res->status));
	else if (WIFSIGNALED(res->status))
		snprintf(buf, size, "killed by signal %d (%s)",
		    WTERMSIG(res->status), strsignal(WTERMSIG(res->status)));
	else
		snprintf(buf, size, "wait status 0x%x", res->status);
	return (buf);
}

/* Does text contain line as one whole line (newline-terminated)? */
static inline bool
text_has_line(const char *text, const char *line)
{
	const char *p;
	size_t len;

	len = strlen(line);
	for (p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return (true);
	}
	return (false);
}

/* The resident set size in bytes, from /proc/self/statm. */
static inline size_t
rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f;

	f = fopen("/proc/self/statm", "r");
	ATF_REQUIRE_MSG(f != NULL, "cannot open /proc/self/statm: %s",
	    strerror(errno));
	ATF_REQUIRE(fscanf(f, "%lu %lu", &size, &resident) == 2);
	fclose(f);
	return ((size_t)resident * (size_t)sysconf(_SC_PAGESIZE));
}

/* A byte pattern that depends on the offset and a seed, for content checks. */
static inline unsigned char
pattern_byte(size_t i, unsigned seed)
{

	return ((unsigned char)((i * 131u + seed * 7u + (i >> 8)) & 0xff));
}

static inline void
pattern_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = pattern_byte(i, seed);
}

/* The first offset below n whose byte differs from the pattern, or n. */
static inline size_t
pattern_check(const void *p, size_t n, unsigned seed)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != pattern_byte(i, seed))
			return (i);
	}
	return (n);
}

/*
 * Options are read once, at start-up, so a case that needs MALLOC_CONF runs
 * the test program again with it set: the re-executed program runs the
 * helper the environment names, from a constructor (before ATF), and exits
 * with its verdict.
 */
#define	HELPER_ENV	"MALLOC_TEST_HELPER"
#define	REPORT_FD_ENV	"MALLOC_TEST_REPORT_FD"

struct test_helper {
	const char	*name;
	int		(*fn)(void);
};

/* For a constructor: runs and exits with the named helper, if any. */
static inline void
helper_dispatch_from(const struct test_helper *helpers, size_t n)
{
	const char *name, *fd;
	size_t i;

	name = getenv(HELPER_ENV);
	if (name == NULL)
		return;
	fd = getenv(REPORT_FD_ENV);
	child_report_fd = fd != NULL ? atoi(fd) : -1;
	for (i = 0; i < n; i++) {
		if (strcmp(name, helpers[i].name) == 0)
			_exit(helpers[i].fn());
	}
	child_report("no such helper\n");
	_exit(127);
}

struct reexec {
	const char	*conf;		/* MALLOC_CONF */
	const char	*helper;
};

/* In the forked child: become this program again, running a helper. */
static inline void
reexec_helper(void *arg)
{
	const struct reexec *re = arg;
	char conf[256], helper[128], fd[64];
	char *argv[] = { (char *)"malloc_test_helper", NULL };
	char *envp[] = { conf, helper, fd, NULL };

	snprintf(conf, sizeof(conf), "MALLOC_CONF=%s", re->conf);
	snprintf(helper, sizeof(helper), "%s=%s", HELPER_ENV, re->helper);
	snprintf(fd, sizeof(fd), "%s=%d", REPORT_FD_ENV, child_report_fd);
	execve("/proc/self/exe", argv, envp);
	child_report("execve of /proc/self/exe failed\n");
	_exit(126);
}

/* Runs helper in this program re-executed under MALLOC_CONF=conf. */
static inline void
run_helper(const char *conf, const char *helper, struct child_result *res)
{
	struct reexec re = { conf, helper };

	child_run(reexec_helper, &re, res);
}

/* Runs a helper that must exit 0, and fails with what it reported if not. */
static inline void
require_helper_ok(const char *conf, const char *helper)
{
	static struct child_result res;
	char status[128];

	run_helper(conf, helper, &res);
	ATF_REQUIRE_MSG(child_exited_ok(&res),
	    "with MALLOC_CONF=%s, helper %s %s: %s (stderr: %s)", conf, helper,
	    child_status_str(&res, status, sizeof(status)), res.report_line,
	    res.err_line);
}

/*
 * A new arena's index (arenas.create), for files that include
 * "malloc_np.h" before this one.
 */
#ifdef MALLOCX_ARENA
static inline unsigned
arena_new(void)
{
	unsigned ind;
	size_t sz = sizeof(ind);

	ATF_REQUIRE_EQ(mallctl("arenas.create", &ind, &sz, NULL, 0), 0);
	return (ind);
}
#endif

#endif /* !MALLOC_TEST_UTIL_H */
