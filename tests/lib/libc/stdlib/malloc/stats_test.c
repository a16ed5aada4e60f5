/*
 * malloc_stats_print: JSON that a real parser accepts under every
 * combination of the opts letters, the text layout, and stats_print:true
 * printing at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"

static void
write_to_file(void *opaque, const char *s)
{
	fputs(s, opaque);
}

/* Runs python3's json parser on opts' output; its exit status. */
static int
json_check(const char *opts)
{
	char path[] = "stats_json.XXXXXX", cmd[256];
	FILE *f;
	int fd, st;

	fd = mkstemp(path);
	ATF_REQUIRE(fd >= 0);
	f = fdopen(fd, "w");
	ATF_REQUIRE(f != NULL);
	malloc_stats_print(write_to_file, f, opts);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; "
	    "d=json.load(open(sys.argv[1])); assert \"stats\" in d[\"jemalloc\"]'"
	    " %s", path);
	st = system(cmd);
	unlink(path);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 255);
}

static void
require_python(void)
{
	if (system("python3 -c 'import json' >/dev/null 2>&1") != 0)
		atf_tc_skip("python3 is needed to parse the JSON");
}

ATF_TC_WITHOUT_HEAD(json_output_parses);
ATF_TC_BODY(json_output_parses, tc)
{
	void *p = malloc(12345), *q = malloc(1 << 20);

	require_python();
	ATF_CHECK_EQ(0, json_check("J"));
	free(p);
	free(q);
}

ATF_TC_WITHOUT_HEAD(json_output_parses_with_every_letter_combination);
ATF_TC_BODY(json_output_parses_with_every_letter_combination, tc)
{
	static const char letters[] = "gmdablxe";
	char opts[16];
	unsigned mask, i, n;
	void *p = malloc(100);

	require_python();
	for (mask = 0; mask < (1u << 8); mask++) {
		n = 0;
		opts[n++] = 'J';
		for (i = 0; i < 8; i++)
			if (mask & (1u << i))
				opts[n++] = letters[i];
		opts[n] = '\0';
		ATF_CHECK_EQ_MSG(0, json_check(opts), "opts \"%s\"", opts);
	}
	free(p);
}

struct capture {
	char	buf[1 << 20];
	size_t	len;
};

static void
capture(void *opaque, const char *s)
{
	struct capture *c = opaque;
	size_t n = strlen(s);

	if (c->len + n < sizeof(c->buf)) {
		memcpy(c->buf + c->len, s, n + 1);
		c->len += n;
	}
}

static struct capture cap;

ATF_TC_WITHOUT_HEAD(text_output_has_sections);
ATF_TC_BODY(text_output_has_sections, tc)
{
	cap.len = 0;
	malloc_stats_print(capture, &cap, NULL);
	ATF_CHECK(strstr(cap.buf, "___ Begin malloc statistics ___") != NULL);
	ATF_CHECK(strstr(cap.buf, "version:") != NULL);
	ATF_CHECK(strstr(cap.buf, "opt:") != NULL);
	ATF_CHECK(strstr(cap.buf, "merged:") != NULL);
	ATF_CHECK(strstr(cap.buf, "bins:") != NULL);
	ATF_CHECK(strstr(cap.buf, "___ End malloc statistics ___") != NULL);
}

ATF_TC_WITHOUT_HEAD(opts_letters_omit_sections);
ATF_TC_BODY(opts_letters_omit_sections, tc)
{
	cap.len = 0;
	malloc_stats_print(capture, &cap, "gblxe");
	ATF_CHECK(strstr(cap.buf, "version:") == NULL);
	ATF_CHECK(strstr(cap.buf, "opt:") == NULL);
	ATF_CHECK(strstr(cap.buf, "bins:") == NULL);
	ATF_CHECK(strstr(cap.buf, "lextents:") == NULL);
	ATF_CHECK(strstr(cap.buf, "mutexes:") == NULL);
	ATF_CHECK(strstr(cap.buf, "extents:") == NULL);
	ATF_CHECK(strstr(cap.buf, "allocated:") != NULL);
	cap.len = 0;
	malloc_stats_print(capture, &cap, "ma");
	ATF_CHECK(strstr(cap.buf, "merged:") == NULL);
	ATF_CHECK(strstr(cap.buf, "stats.arenas:") == NULL);
}

/* The program re-executed with stats_print:true prints at exit. */
ATF_TC_WITHOUT_HEAD(stats_print_true_prints_at_exit);
ATF_TC_BODY(stats_print_true_prints_at_exit, tc)
{
	int fds[2], st;
	static char buf[1 << 20];
	char sink[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ATF_REQUIRE(pipe(fds) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		setenv("MALLOC_CONF", "stats_print:true,stats_print_opts:J", 1);
		setenv("STATS_TEST_EXIT_HELPER", "1", 1);
		execl("/proc/self/exe", "stats_test", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* Keep draining past a full buffer: the child must not get EPIPE. */
	while ((n = read(fds[0], len + 1 < sizeof(buf) ? buf + len : sink,
	    len + 1 < sizeof(buf) ? sizeof(buf) - 1 - len : sizeof(sink))) > 0)
		if (len + 1 < sizeof(buf))
			len += (size_t)n;
	buf[len] = '\0';
	close(fds[0]);
	ATF_REQUIRE(waitpid(pid, &st, 0) == pid);
	ATF_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	ATF_CHECK_MSG(strstr(buf, "\"jemalloc\"") != NULL, "output: %.200s",
	    buf);
}

__attribute__((constructor)) static void
exit_helper(void)
{
	if (getenv("STATS_TEST_EXIT_HELPER") != NULL) {
		free(malloc(10));
		exit(0);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, json_output_parses);
	ATF_TP_ADD_TC(tp, json_output_parses_with_every_letter_combination);
	ATF_TP_ADD_TC(tp, text_output_has_sections);
	ATF_TP_ADD_TC(tp, opts_letters_omit_sections);
	ATF_TP_ADD_TC(tp, stats_print_true_prints_at_exit);
	return (atf_no_error());
}
