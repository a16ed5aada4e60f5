/*
 * Option sources and their precedence: this program's malloc_conf symbol
 * ("narenas:2"), the MALLOC_CONF_LINK symbolic link, then MALLOC_CONF,
 * later overriding earlier; bad pairs reported and skipped; abort_conf.
 * Each case re-executes this program with a configuration; the child
 * prints opt.narenas and opt.tcache_max on stdout and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atf-c.h>

#include "malloc_np.h"

const char *malloc_conf = "narenas:2,tcache_max:1024";

struct run {
	int	status;
	char	out[4096];
	char	err[4096];
};

static void
slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

/* Runs the child with MALLOC_CONF (or none) and MALLOC_CONF_LINK. */
static void
run_child(const char *conf, const char *link, struct run *r)
{
	int out[2], err[2];
	pid_t pid;

	ATF_REQUIRE(pipe(out) == 0 && pipe(err) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (conf != NULL)
			setenv("MALLOC_CONF", conf, 1);
		else
			unsetenv("MALLOC_CONF");
		setenv("MALLOC_CONF_LINK", link != NULL ? link :
		    "/nonexistent/malloc.conf", 1);
		setenv("CONF_TEST_HELPER", "1", 1);
		execl("/proc/self/exe", "conf_test", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	slurp(out[0], r->out, sizeof(r->out));
	slurp(err[0], r->err, sizeof(r->err));
	ATF_REQUIRE(waitpid(pid, &r->status, 0) == pid);
}

__attribute__((constructor)) static void
conf_helper(void)
{
	unsigned narenas;
	size_t tcache_max, len;

	if (getenv("CONF_TEST_HELPER") == NULL)
		return;
	len = sizeof(narenas);
	if (mallctl("opt.narenas", &narenas, &len, NULL, 0) != 0)
		_exit(2);
	len = sizeof(tcache_max);
	if (mallctl("opt.tcache_max", &tcache_max, &len, NULL, 0) != 0)
		_exit(2);
	printf("narenas=%u tcache_max=%zu\n", narenas, tcache_max);
	exit(0);
}

static void
make_link(const char *target)
{
	unlink("malloc.conf");
	ATF_REQUIRE(symlink(target, "malloc.conf") == 0);
}

ATF_TC_WITHOUT_HEAD(malloc_conf_symbol_is_read);
ATF_TC_BODY(malloc_conf_symbol_is_read, tc)
{
	struct run r;
	const char *s;
	size_t len = sizeof(s);

	run_child(NULL, NULL, &r);
	ATF_CHECK_STREQ("narenas=2 tcache_max=1024\n", r.out);
	ATF_REQUIRE_EQ(0, mallctl("config.malloc_conf", &s, &len, NULL, 0));
	ATF_CHECK_STREQ(malloc_conf, s);
}

ATF_TC_WITHOUT_HEAD(link_overrides_malloc_conf_symbol);
ATF_TC_BODY(link_overrides_malloc_conf_symbol, tc)
{
	struct run r;

	make_link("narenas:5");
	run_child(NULL, "malloc.conf", &r);
	ATF_CHECK_STREQ("narenas=5 tcache_max=1024\n", r.out);
}

ATF_TC_WITHOUT_HEAD(environment_overrides_link_and_symbol);
ATF_TC_BODY(environment_overrides_link_and_symbol, tc)
{
	struct run r;

	make_link("narenas:5,tcache_max:4096");
	run_child("narenas:3", "malloc.conf", &r);
	ATF_CHECK_STREQ("narenas=3 tcache_max=4096\n", r.out);
}

ATF_TC_WITHOUT_HEAD(later_pair_in_one_source_overrides_earlier);
ATF_TC_BODY(later_pair_in_one_source_overrides_earlier, tc)
{
	struct run r;

	run_child("narenas:3,narenas:7", NULL, &r);
	ATF_CHECK_STREQ("narenas=7 tcache_max=1024\n", r.out);
}

ATF_TC_WITHOUT_HEAD(malformed_pair_is_reported_and_skipped);
ATF_TC_BODY(malformed_pair_is_reported_and_skipped, tc)
{
	struct run r;

	run_child("narenas:3,bogus,narenas:x,nosuch:1", NULL, &r);
	ATF_CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	ATF_CHECK_STREQ("narenas=3 tcache_max=1024\n", r.out);
	ATF_CHECK_MSG(strstr(r.err, "\"bogus\"") != NULL, "%s", r.err);
	ATF_CHECK_MSG(strstr(r.err, "\"narenas:x\"") != NULL, "%s", r.err);
	ATF_CHECK_MSG(strstr(r.err, "\"nosuch:1\"") != NULL, "%s", r.err);
	ATF_CHECK_MSG(strstr(r.err, "MALLOC_CONF") != NULL, "%s", r.err);
}

ATF_TC_WITHOUT_HEAD(malformed_link_pair_names_the_link);
ATF_TC_BODY(malformed_link_pair_names_the_link, tc)
{
	struct run r;

	make_link("narenas:zz");
	run_child(NULL, "malloc.conf", &r);
	ATF_CHECK_STREQ("narenas=2 tcache_max=1024\n", r.out);
	ATF_CHECK_MSG(strstr(r.err, "\"narenas:zz\"") != NULL, "%s", r.err);
	ATF_CHECK_MSG(strstr(r.err, "malloc.conf") != NULL, "%s", r.err);
}

ATF_TC_WITHOUT_HEAD(abort_conf_true_aborts_on_bad_pair);
ATF_TC_BODY(abort_conf_true_aborts_on_bad_pair, tc)
{
	struct run r;

	run_child("abort_conf:true,narenas:bad", NULL, &r);
	ATF_CHECK_MSG(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT,
	    "status %#x", r.status);
	ATF_CHECK_MSG(strstr(r.err, "\"narenas:bad\"") != NULL, "%s", r.err);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, malloc_conf_symbol_is_read);
	ATF_TP_ADD_TC(tp, link_overrides_malloc_conf_symbol);
	ATF_TP_ADD_TC(tp, environment_overrides_link_and_symbol);
	ATF_TP_ADD_TC(tp, later_pair_in_one_source_overrides_earlier);
	ATF_TP_ADD_TC(tp, malformed_pair_is_reported_and_skipped);
	ATF_TP_ADD_TC(tp, malformed_link_pair_names_the_link);
	ATF_TP_ADD_TC(tp, abort_conf_true_aborts_on_bad_pair);
	return (atf_no_error());
}
