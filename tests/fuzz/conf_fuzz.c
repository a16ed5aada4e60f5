/*
 * conf_fuzz: libFuzzer harness for the option parser.  Any byte string (a
 * NUL-terminated copy of the input) goes through conf_parse(), as
 * MALLOC_CONF would: it must not crash or hang.
 *
 * The options are the allocator's, in use by this very process (libmalloc
 * is linked statically), so each input's effect is undone by restoring
 * the opt structure saved at start-up, before anything acts on it: no
 * input may leave libFuzzer running with zero, junk, xmalloc or abort
 * settings, and abort/abort_conf never abort here because only conf_boot
 * acts on them.
 *
 * Rejected pairs are reported on fd 2, one line each: run with
 * -close_fd_mask=2 to keep them out of libFuzzer's output.  Start-up checks
 * that a rejected pair is reported and an accepted one is not.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct malloc_opts	opt_saved;

static __attribute__((noreturn)) void
selftest_fail(const char *why, const char *out)
{
	fprintf(stderr, "conf_fuzz: start-up check failed: %s\n"
	    "conf_fuzz: fd 2 got: \"%s\"\n", why, out);
	__builtin_trap();
}

/* What conf_parse(s) writes to fd 2, NUL-terminated, in buf. */
static void
parse_capturing_fd2(const char *s, char *buf, size_t bufsize)
{
	int fds[2], saved;
	ssize_t n;

	if (pipe(fds) != 0 || (saved = dup(2)) < 0 || dup2(fds[1], 2) < 0)
		selftest_fail("cannot capture fd 2", "");
	conf_parse(s, "fuzz");
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	n = read(fds[0], buf, bufsize - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char out[512];

	(void)argc;
	(void)argv;
	opt_saved = opt;

	parse_capturing_fd2("fuzz_no_such_option:true", out, sizeof(out));
	if (strstr(out, "<malloc>: ") == NULL ||
	    strstr(out, "\"fuzz_no_such_option:true\"") == NULL ||
	    strstr(out, " in fuzz") == NULL)
		selftest_fail("an unknown option was not reported", out);
	parse_capturing_fd2("tcache_max:-1", out, sizeof(out));
	if (strstr(out, "\"tcache_max:-1\"") == NULL)
		selftest_fail("a value out of range was not reported", out);
	parse_capturing_fd2("junk:free,dirty_decay_ms:5", out, sizeof(out));
	if (out[0] != '\0')
		selftest_fail("valid pairs were reported", out);
	if (strcmp(opt.junk, "free") != 0 || opt.dirty_decay_ms != 5)
		selftest_fail("valid pairs were not applied", out);
	opt = opt_saved;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		__builtin_trap();
	memcpy(s, data, size);
	s[size] = '\0';
	conf_parse(s, "fuzz");
	opt = opt_saved;
	free(s);
	return (0);
}
