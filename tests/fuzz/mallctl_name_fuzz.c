/*
 * mallctl_name_fuzz: libFuzzer harness for the mallctl name parser.  The
 * input is one option byte and a name (a NUL-terminated copy of the rest):
 * mallctlnametomib() with a MIB buffer of a chosen length, then a read of
 * the name with mallctl() and of the MIB with mallctlbymib(), with newp
 * NULL and old buffers of various sizes.  Nothing may crash, and every
 * result must be one of the documented errors.
 *
 * Reads with side effects that would pull memory from under libFuzzer
 * (arena reset and destroy free every block of the arena) or write files
 * (prof.dump) are resolved to MIBs but never called.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "malloc_np.h"

/* Deeper than any name, so that a too-short buffer is also tried. */
#define	MIB_MAX		16

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Old-buffer sizes: none, too small, and each type's size. */
static const size_t	oldlens[] = { 0, 1, 2, 4, 8, 16, 3, 7, 64 };

static bool
allowed(int rc)
{
	return (rc == 0 || rc == ENOENT || rc == EINVAL || rc == EPERM ||
	    rc == EFAULT || rc == EAGAIN);
}

static void
check(int rc, const char *fn, const char *name)
{
	if (!allowed(rc)) {
		fprintf(stderr, "mallctl_name_fuzz: %s(\"%s\") returned %d\n",
		    fn, name, rc);
		__builtin_trap();
	}
}

/* Whether reading name may act on more than the caller's buffer. */
static bool
dangerous(const char *name)
{
	return (strstr(name, "reset") != NULL ||
	    strstr(name, "destroy") != NULL || strstr(name, "dump") != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union { uint64_t u64; char bytes[64]; } old;
	size_t mib[MIB_MAX], miblen, oldlen;
	uint8_t how;
	char *name;
	int rc;

	if (size == 0)
		return (0);
	how = data[0];
	if ((name = malloc(size)) == NULL)
		__builtin_trap();
	memcpy(name, data + 1, size - 1);
	name[size - 1] = '\0';

	miblen = how % (MIB_MAX + 1);
	rc = mallctlnametomib(name, mib, &miblen);
	check(rc, "mallctlnametomib", name);
	if (rc == 0 && miblen > (size_t)(how % (MIB_MAX + 1))) {
		fprintf(stderr, "mallctl_name_fuzz: mallctlnametomib(\"%s\") "
		    "grew miblen to %zu\n", name, miblen);
		__builtin_trap();
	}
	if (dangerous(name))
		goto out;

	oldlen = oldlens[(how >> 4) % (sizeof(oldlens) / sizeof(oldlens[0]))];
	memset(&old, 0, sizeof(old));
	if (how & 0x8)	/* asks for the length only */
		rc = mallctl(name, NULL, &oldlen, NULL, 0);
	else
		rc = mallctl(name, &old, &oldlen, NULL, 0);
	check(rc, "mallctl", name);
	if (rc == 0 && oldlen > sizeof(old) && !(how & 0x8)) {
		fprintf(stderr, "mallctl_name_fuzz: mallctl(\"%s\") wrote "
		    "%zu bytes into a %zu-byte buffer\n", name, oldlen,
		    sizeof(old));
		__builtin_trap();
	}

	miblen = MIB_MAX;
	if (mallctlnametomib(name, mib, &miblen) == 0) {
		oldlen = oldlens[how % (sizeof(oldlens) / sizeof(oldlens[0]))];
		rc = mallctlbymib(mib, miblen, &old, &oldlen, NULL, 0);
		check(rc, "mallctlbymib", name);
		/* A shorter MIB names an inner node: never readable. */
		if (miblen > 1) {
			rc = mallctlbymib(mib, miblen - 1, &old, &oldlen, NULL,
			    0);
			check(rc, "mallctlbymib (parent)", name);
		}
	}
out:
	free(name);
	return (0);
}
