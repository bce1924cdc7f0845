// SPDX-License-Identifier: MIT
/* cli/cmd-io.c: memfail read and write: a namespace through the driver. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char read_usage[] =
"usage: memfail read NAME --offset O --length L [--output FILE]\n"
"\n"
"Read bytes of a namespace as its driver would: a read that touches a bad\n"
"sector fails with EIO (exit status 1) and prints nothing.\n"
"\n"
"  -o, --offset O       byte offset\n"
"  -l, --length L       bytes (e.g. 4096, 2M; at most 1G)\n"
"  -O, --output FILE    write them here instead of stdout\n"
"  -h, --help\n";

static const char write_usage[] =
"usage: memfail write NAME --offset O [--input FILE]\n"
"\n"
"Write bytes into a namespace as its driver would: the data is durable\n"
"first, then every bad sector it covers is cleared, and the pages left\n"
"without bad sectors are given back to every process that maps them.  A\n"
"write that covers only part of a bad sector fails with EIO and writes\n"
"nothing (poison is cleared a whole sector at a time).\n"
"\n"
"  -o, --offset O       byte offset\n"
"  -i, --input FILE     the bytes (default stdin; at most 1G)\n"
"  -h, --help\n";

static int io_args(int argc, char **argv, const char *usage, bool is_read,
		   const char **name, uint64_t *off, uint64_t *len, const char **file)
{
	/* each command its own options: read has no input, write no length */
	static const struct option read_opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option write_opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_off = false;
	int c;

	while ((c = getopt_long(argc, argv, is_read ? "o:l:O:h" : "o:i:h",
				is_read ? read_opts : write_opts, NULL)) != -1) {
		switch (c) {
		case 'o': cli_parse_size("--offset", optarg, off); have_off = true; break;
		case 'l': cli_parse_size("--length", optarg, len); break;
		case 'O': case 'i': *file = optarg; break;
		case 'h': return cli_usage(usage, false) - 1;
		default: return cli_usage(usage, true);
		}
	}
	if (optind + 1 != argc || !have_off || (is_read && !*len)) {
		cli_error(is_read ? "a namespace, --offset and --length are required"
				  : "a namespace and --offset are required");
		return cli_usage(usage, true);
	}
	*name = argv[optind];
	return 0;
}

int cmd_read(int argc, char **argv)
{
	const char *name, *file = NULL;
	uint64_t off = 0, len = 0;
	struct memfail_ctx *ctx;
	char *buf;
	int err, fd = STDOUT_FILENO, ret;

	ret = io_args(argc, argv, read_usage, true, &name, &off, &len, &file);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (len > (1ULL << 30)) {
		cli_error("--length: at most 1G at a time");
		return EXIT_USAGE;
	}
	buf = malloc(len);
	if (!buf) {
		cli_error("out of memory");
		return 1;
	}
	ctx = cli_connect();
	if (!ctx) {
		free(buf);
		return 1;
	}
	err = memfail_read(ctx, name, off, buf, len);
	memfail_disconnect(ctx);
	if (err) {
		cli_error("%s: %s", name, err == -EIO ? "Input/output error (a bad block in the range)"
						   : cli_strerror(err));
		free(buf);
		return 1;
	}
	if (file) {
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			cli_error("%s: %s", file, strerror(errno));
			free(buf);
			return 1;
		}
	}
	for (uint64_t done = 0; done < len; ) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w <= 0) {
			cli_error("write: %s", strerror(errno));
			ret = 1;
			break;
		}
		done += (uint64_t)w;
	}
	if (file)
		close(fd);
	free(buf);
	return ret;
}

int cmd_write(int argc, char **argv)
{
	const char *name, *file = NULL;
	uint64_t off = 0, len = 0, cap = 1 << 20;
	struct memfail_ctx *ctx;
	char *buf = NULL;
	int err, fd = STDIN_FILENO, ret;

	ret = io_args(argc, argv, write_usage, false, &name, &off, &len, &file);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (file) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("%s: %s", file, strerror(errno));
			return 1;
		}
	}
	/* the whole input first: a short read never writes half */
	for (;;) {
		ssize_t r;

		if (len > (1ULL << 30)) {
			cli_error("input too large (at most 1G at a time)");
			free(buf);
			return 1;
		}
		if (!buf || len == cap) {
			char *nb = realloc(buf, buf ? (cap *= 2) : cap);

			if (!nb || cap > (1ULL << 31)) {
				/* the buffer doubles: above 1G it would pass 2G */
				cli_error("input too large (at most 1G at a time)");
				free(nb ? nb : buf);
				return 1;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			cli_error("read: %s", strerror(errno));
			free(buf);
			return 1;
		}
		if (!r)
			break;
		len += (uint64_t)r;
	}
	if (file)
		close(fd);
	if (!len) {
		cli_error("nothing to write");
		free(buf);
		return 1;
	}
	ctx = cli_connect();
	if (!ctx) {
		free(buf);
		return 1;
	}
	err = memfail_write(ctx, name, off, buf, len);
	memfail_disconnect(ctx);
	free(buf);
	if (err) {
		cli_error("%s: %s", name, cli_strerror(err));
		return 1;
	}
	return 0;
}
