// SPDX-License-Identifier: MIT
/*
 * daemon/log.c: the daemon's log, in the kernel's shape: one line per
 * event, prefixed with the seconds since the daemon started, as dmesg
 * prints them.  Lines go to stderr (memfail run forwards it) and, if
 * asked, to a log file.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memfaild.h"

static int log_fd = -1;
/*
 * Lines are gathered and written once per loop iteration (mfd_log_flush):
 * memory_failure() with 64 mappers logs 66 lines, and 66 writes would
 * delay the signals they describe.
 */
static char pending[64 * 1024];
static size_t pending_len;

/*
 * The records /dev/kmsg shows: the last RING lines, numbered from 1, the
 * oldest overwritten as the kernel's ring buffer does.
 */
#define RING	2048
static struct mf_kmsg_rec ring[RING];
static uint64_t next_seq = 1;

static void ring_add(uint64_t ts_ns, unsigned prio, const char *text, size_t len)
{
	struct mf_kmsg_rec *r = &ring[(next_seq - 1) % RING];

	if (len >= sizeof(r->text))
		len = sizeof(r->text) - 1;
	r->seq = next_seq++;
	r->ts_usec = ts_ns / 1000;
	r->prio = prio;
	r->len = (uint32_t)len;
	memcpy(r->text, text, len);
	r->text[len] = '\0';
}

unsigned mfd_kmsg_read(uint64_t after, struct mf_kmsg_rec *out, unsigned max,
		       uint64_t *first, uint64_t *next)
{
	uint64_t s, oldest = next_seq > RING ? next_seq - RING : 1;
	unsigned n = 0;

	*first = oldest;
	*next = next_seq;
	for (s = after + 1 > oldest ? after + 1 : oldest; s < next_seq && n < max; s++)
		out[n++] = ring[(s - 1) % RING];
	return n;
}

void mfd_log_flush(void)
{
	if (!pending_len)
		return;
	if (write(STDERR_FILENO, pending, pending_len) < 0) {
		/* nowhere left to report it */
	}
	if (log_fd >= 0 && write(log_fd, pending, pending_len) < 0) {
		/* keep going: the log must not stop the daemon */
	}
	pending_len = 0;
}

void mfd_log_init(struct mfd *d, const char *log_file)
{
	d->boot_ns = now_monotonic_ns();
	if (log_file)
		log_fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

void mfd_log(struct mfd *d, int level, const char *fmt, ...)
{
	uint64_t t = now_monotonic_ns() - d->boot_ns;
	char line[640];
	va_list ap;
	int n;

	(void)level;
	n = snprintf(line, sizeof(line), "[%5llu.%06llu] ",
		     (unsigned long long)(t / 1000000000ULL),
		     (unsigned long long)(t % 1000000000ULL / 1000));
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* the kernel's ring buffer has the line without its time */
	{
		const char *text = strchr(line, ']');

		text = text ? text + 2 : line;
		ring_add(t, (unsigned)(level < 0 ? 6 : level), text, (size_t)(line + n - text));
	}
	line[n++] = '\n';
	if (pending_len + (size_t)n > sizeof(pending))
		mfd_log_flush();
	memcpy(pending + pending_len, line, (size_t)n);
	pending_len += (size_t)n;
}
