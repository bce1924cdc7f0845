// SPDX-License-Identifier: MIT
/* util/paths.c: see paths.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "paths.h"

/* snprintf's result: did it fit? */
static int fits(size_t n, int len)
{
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int mf_default_socket(char *buf, size_t n)
{
	const char *env = getenv("MEMFAIL_SOCKET");
	const char *run = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		return fits(n, snprintf(buf, n, "%s", env));
	if (geteuid() == 0)
		return fits(n, snprintf(buf, n, "/run/memfail/memfaild.sock"));
	if (run && *run)
		return fits(n, snprintf(buf, n, "%s/memfail/memfaild.sock", run));
	return fits(n, snprintf(buf, n, "/tmp/memfail-%u/memfaild.sock",
				    (unsigned)geteuid()));
}

int mf_default_state_dir(char *buf, size_t n)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (geteuid() == 0)
		return fits(n, snprintf(buf, n, "/var/lib/memfail"));
	if (state && *state)
		return fits(n, snprintf(buf, n, "%s/memfail", state));
	if (home && *home)
		return fits(n, snprintf(buf, n, "%s/.local/state/memfail", home));
	return fits(n, snprintf(buf, n, "/tmp/memfail-%u/state", (unsigned)geteuid()));
}
