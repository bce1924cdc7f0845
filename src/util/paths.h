/* SPDX-License-Identifier: MIT */
/*
 * util/paths.h: where the daemon keeps its state and listens, shared by
 * the daemon and its clients so that they agree without configuration.
 *
 *   root:     /var/lib/memfail                /run/memfail/memfaild.sock
 *   others:   $XDG_STATE_HOME/memfail         $XDG_RUNTIME_DIR/memfail/memfaild.sock
 *             (~/.local/state/memfail)        (/tmp/memfail-UID/memfaild.sock)
 *
 * MEMFAIL_SOCKET overrides the socket for everyone.
 */
#ifndef MF_UTIL_PATHS_H
#define MF_UTIL_PATHS_H

#include <stddef.h>

/* 0 or -ENAMETOOLONG. */
int mf_default_socket(char *buf, size_t n);
int mf_default_state_dir(char *buf, size_t n);

#endif
