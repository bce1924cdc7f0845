// SPDX-License-Identifier: MIT
/* util/util.c: see util.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <unistd.h>

#include "util.h"

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -EINVAL;
	}
	/* Accept "2MiB" and "2MB" spellings as well as "2M". */
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

const char *format_size_human(uint64_t v, char *buf, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	unsigned i = 0;

	while (d >= 1024.0 && i + 1 < ARRAY_SIZE(unit)) {
		d /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else
		snprintf(buf, n, "%.2f %s", d, unit[i]);
	return buf;
}

int size_shift(uint64_t v)
{
	if (!v || (v & (v - 1)))
		return -1;
	return __builtin_ctzll(v);
}

static bool durable = true;

void mf_set_durable(bool on)
{
	durable = on;
}

bool mf_durable(void)
{
	return durable;
}

int mf_fsync(int fd)
{
	return durable ? fsync(fd) : 0;
}

int mf_fdatasync(int fd)
{
	return durable ? fdatasync(fd) : 0;
}

uint64_t now_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

size_t strlcpy_mf(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n) {
		size_t c = len < n - 1 ? len : n - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return len;
}

int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (strlcpy_mf(buf, path, sizeof(buf)) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int fill_sockaddr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int unix_listen_seqpacket(const char *path, mode_t mode)
{
	struct sockaddr_un sun;
	int fd, one = 1, err;

	err = fill_sockaddr(&sun, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		goto fail;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
		goto fail;
	if (chmod(path, mode))
		goto fail;
	if (listen(fd, 128))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int unix_connect_seqpacket(const char *path)
{
	struct sockaddr_un sun;
	int fd, err;

	err = fill_sockaddr(&sun, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

ssize_t sock_send(int fd, const void *buf, size_t len, int pass_fd,
		  bool creds, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	size_t ctl_len = 0;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&msg);
	if (pass_fd >= 0) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		ctl_len += CMSG_SPACE(sizeof(int));
		c = CMSG_NXTHDR(&msg, c);
	}
	if (creds) {
		struct ucred uc = {
			.pid = (pid_t)syscall(SYS_getpid), .uid = (uid_t)syscall(SYS_geteuid),
			.gid = (gid_t)syscall(SYS_getegid),
		};

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(c), &uc, sizeof(uc));
		ctl_len += CMSG_SPACE(sizeof(uc));
	}
	msg.msg_controllen = ctl_len;
	if (!ctl_len)
		msg.msg_control = NULL;
	/* raw system calls: safe in a signal handler, and nothing that
	 * interposes libc (a sanitizer, another preload) gets in the way */
	do {
		n = syscall(SYS_sendmsg, fd, &msg, flags | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t sock_recv(int fd, void *buf, size_t len, int *fd_out,
		  struct mf_cred *cred_out, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	if (fd_out)
		*fd_out = -1;
	if (cred_out)
		cred_out->valid = false;
	do {
		n = syscall(SYS_recvmsg, fd, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			int nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[4], i;

			memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
			/* Keep the first, close any extra a peer pushed on us. */
			for (i = 0; i < nfds; i++) {
				if (i == 0 && fd_out)
					*fd_out = fds[i];
				else
					syscall(SYS_close, fds[i]);
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS && cred_out) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			cred_out->pid = uc.pid;
			cred_out->uid = uc.uid;
			cred_out->gid = uc.gid;
			cred_out->valid = true;
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fd_out && *fd_out >= 0) {
			syscall(SYS_close, *fd_out);
			*fd_out = -1;
		}
		return -EMSGSIZE;
	}
	return n;
}

uint64_t mf_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}
