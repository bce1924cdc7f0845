// SPDX-License-Identifier: MIT
/*
 * The daemon survives its clients: malformed and hostile requests get a
 * clear error and change nothing, a client that dies mid-request or
 * stops reading is dropped, a mapper that does not unmap in time is
 * killed; and its state survives it: a restart or a kill -9 keeps
 * namespaces, their data and their bad blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "../../src/lib/client.h"
#include "../../src/uapi/mf_proto.h"
#include "../../src/util/util.h"

static struct tdaemon d;
static struct actor a, b;

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (td_start(&d, "--unmap-timeout 500"))
		return -1;
	return td_cli(&d, NULL, 0, "create-namespace --size 64M --align 2M") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	actor_kill(&b);
	td_destroy(&d);
	return 0;
}


/* Send raw bytes on a fresh connection; return the reply's error. */
static int raw(const void *msg, size_t len, bool hello_first)
{
	struct mf_hello h = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_HELLO,
				       .len = sizeof(h), .seq = 1 },
			      .version = MF_PROTO_VERSION, .role = MF_ROLE_ADMIN };
	char buf[MF_MSG_MAX];
	struct mf_reply *r = (void *)buf;
	int fd = unix_connect_seqpacket(d.sock), err;
	ssize_t n;

	assert_true(fd >= 0);
	if (hello_first) {
		assert_int_equal(send(fd, &h, sizeof(h), 0), sizeof(h));
		assert_true(recv(fd, buf, sizeof(buf), 0) >= (ssize_t)sizeof(*r));
		assert_int_equal(r->error, 0);
	}
	assert_int_equal(send(fd, msg, len, 0), (ssize_t)len);
	n = recv(fd, buf, sizeof(buf), 0);
	err = n >= (ssize_t)sizeof(*r) ? r->error : -999;
	close(fd);
	return err;
}

static void daemon_alive(void)
{
	char out[4096];

	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_non_null(strstr(out, "namespace0.0"));
}

static void malformed_requests(void **state)
{
	struct mf_range_req inj = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_INJECT,
					     .len = sizeof(inj), .seq = 2 },
				    .name = "dax0.0", .sector = 8, .count = 1,
				    .flags = MF_INJECT_NOTIFY };
	struct mf_range_req bad = inj;
	char junk[300];
	char out[4096];

	(void)state;
	memset(junk, 0xa5, sizeof(junk));
	/* garbage, a wrong magic, a length that lies, an unknown type */
	assert_int_equal(raw(junk, sizeof(junk), false), -EBADMSG);
	bad.hdr.magic = 0x1234;
	assert_int_equal(raw(&bad, sizeof(bad), true), -EBADMSG);
	bad = inj;
	bad.hdr.len = sizeof(bad) + 8;
	assert_int_equal(raw(&bad, sizeof(bad), true), -EBADMSG);
	bad = inj;
	bad.hdr.type = 999;
	assert_int_equal(raw(&bad, sizeof(bad), true), -EOPNOTSUPP);
	/* a request before saying hello; a name with no terminator */
	assert_int_equal(raw(&inj, sizeof(inj), false), -ENOTCONN);
	bad = inj;
	memset(bad.name, 'x', sizeof(bad.name));
	assert_int_equal(raw(&bad, sizeof(bad), true), -ENODEV);
	/* a range that wraps around */
	bad = inj;
	bad.sector = UINT64_MAX - 1;
	bad.count = 4;
	assert_int_equal(raw(&bad, sizeof(bad), true), -ERANGE);
	/* a short message of a known type */
	assert_int_equal(raw(&inj, sizeof(inj) - 8, true), -EBADMSG);
	/* nothing was injected by any of it */
	assert_int_equal(td_cli(&d, out, sizeof(out), "list --media-errors"), 0);
	assert_null(strstr(out, "badblock_count"));
	/* and the well-formed one works */
	assert_int_equal(raw(&inj, sizeof(inj), true), 0);
	daemon_alive();
}

/*
 * A shared page of ordinary memory is named by its file: a process may
 * only name pages of files it maps, or it could reach (and poison) other
 * people's shared memory.
 */
static void shared_pages_only_of_mapped_files(void **state)
{
	struct {
		struct mf_ram_pfns m;
		struct mf_ram_page page[2];
	} q;
	struct mf_ram_madvise mad;
	char mine[] = "/tmp/mfrobust-mine.XXXXXX", theirs[] = "/tmp/mfrobust-theirs.XXXXXX";
	char buf[MF_MSG_MAX];
	struct mf_ram_pfns_reply *r = (void *)buf;
	struct mf_client ctl, req;
	struct stat st[2];
	int fd[2], i;
	void *map;

	(void)state;
	fd[0] = mkstemp(mine);
	fd[1] = mkstemp(theirs);
	assert_true(fd[0] >= 0 && fd[1] >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ftruncate(fd[i], 4096), 0);
		assert_int_equal(fstat(fd[i], &st[i]), 0);
	}
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd[0], 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mf_client_connect(&ctl, d.sock, MF_ROLE_CONTROL, "robust"), 0);
	assert_int_equal(mf_client_connect(&req, d.sock, MF_ROLE_REQUEST, "robust"), 0);

	memset(&q, 0, sizeof(q));
	q.m.hdr.type = MF_RAM_PFNS;
	q.m.count = 2;
	for (i = 0; i < 2; i++) {
		q.page[i].kind = MF_RAM_FILE_PAGE;
		q.page[i].shift = 12;
		q.page[i].shared = 1;
		q.page[i].dev = st[i].st_dev;
		q.page[i].ino = st[i].st_ino;
	}
	assert_true(mf_client_call(&req, &q, sizeof(q), buf, sizeof(buf), NULL) >=
		    (ssize_t)(sizeof(*r) + 2 * sizeof(r->pfn[0])));
	assert_int_equal(r->r.error, 0);
	assert_int_equal(r->count, 2);
	assert_true(r->pfn[0] != 0);	/* mapped here: it has a page */
	assert_int_equal(r->pfn[1], 0);	/* not mapped here: nothing named */

	memset(&mad, 0, sizeof(mad));
	mad.hdr.type = MF_RAM_MADVISE;
	mad.page = q.page[1];
	mad.advice = 100;	/* MADV_HWPOISON */
	assert_int_equal(mf_client_call_status(&req, &mad, sizeof(mad)), -EACCES);

	mf_client_close(&req);
	mf_client_close(&ctl);
	munmap(map, 4096);
	for (i = 0; i < 2; i++)
		close(fd[i]);
	unlink(mine);
	unlink(theirs);
	daemon_alive();
}

static int count_fds(pid_t pid)
{
	char cmd[128], out[32];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
	f = popen(cmd, "r");
	if (f && fgets(out, sizeof(out), f))
		n = atoi(out);
	if (f)
		pclose(f);
	return n;
}

static void passed_descriptors_do_not_leak(void **state)
{
	struct mf_hello h = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_HELLO,
				       .len = sizeof(h), .seq = 1 },
			      .version = MF_PROTO_VERSION, .role = MF_ROLE_ADMIN };
	char buf[256];
	int fd, nul, i, before;

	(void)state;
	before = count_fds(d.pid);
	nul = open("/dev/null", O_RDONLY);
	fd = unix_connect_seqpacket(d.sock);
	assert_true(fd >= 0 && nul >= 0);
	/* a descriptor with every message, requests that take none */
	for (i = 0; i < 200; i++) {
		assert_true(sock_send(fd, &h, sizeof(h), nul, false, 0) > 0);
		assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
	}
	close(fd);
	close(nul);
	usleep(100000);
	assert_true(count_fds(d.pid) <= before + 1);
	daemon_alive();
}

static void many_mappings_of_a_stopped_peer(void **state)
{
	const char *r;

	(void)state;
	/* more mappings of one page than one shootdown message holds */
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 4M --align 4K"), 0);
	assert_int_equal(actor_map(&a, &d, "hoarder", "/dev/dax0.1", 0x1000, -1), 0);
	r = actor_cmd(&a, "mapmany 600 0x1000 0");
	assert_int_equal(reply_int(r, "mapped", -1), 600);
	kill(a.pid, SIGSTOP);
	/* it cannot take its fences: it is killed, and the daemon lives */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.1 --block 0 --count 1"), 0);
	assert_int_not_equal(actor_wait(&a, 5000), -1);
	assert_true(actor_killed_by(&a, SIGKILL));
	daemon_alive();
}

static void hostile_process_requests(void **state)
{
	struct mf_hello h = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_HELLO,
				       .len = sizeof(h), .seq = 1 },
			      .version = MF_PROTO_VERSION, .role = MF_ROLE_REQUEST };
	struct mf_consume c = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_CONSUME,
					 .len = sizeof(c), .seq = 1 }, .map_id = 77 };
	char buf[4096];
	struct mf_reply *r = (void *)buf;
	int fd;

	(void)state;
	/* a request connection with no registered process behind it */
	fd = unix_connect_seqpacket(d.sock);
	assert_int_equal(send(fd, &h, sizeof(h), 0), sizeof(h));
	assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
	assert_int_equal(r->error, -ENOENT);
	close(fd);
	/* a fault report from a process that maps nothing */
	assert_int_equal(raw(&c, sizeof(c), false), -ENOENT);
	daemon_alive();
}

static void client_dies_mid_request(void **state)
{
	struct mf_ns_list m = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_NS_LIST,
					 .len = sizeof(m), .seq = 2 } };
	struct mf_hello h = { .hdr = { .magic = MF_PROTO_MAGIC, .type = MF_HELLO,
				       .len = sizeof(h), .seq = 1 },
			      .version = MF_PROTO_VERSION, .role = MF_ROLE_ADMIN };
	int i, fd;

	(void)state;
	/* ask and vanish before the answer, many times */
	for (i = 0; i < 50; i++) {
		fd = unix_connect_seqpacket(d.sock);
		assert_true(fd >= 0);
		send(fd, &h, sizeof(h), 0);
		send(fd, &m, sizeof(m), 0);
		close(fd);
	}
	/* one that never reads its replies: it is dropped, not waited for */
	fd = unix_connect_seqpacket(d.sock);
	send(fd, &h, sizeof(h), MSG_DONTWAIT);
	for (i = 0; i < 5000; i++)
		if (send(fd, &m, sizeof(m), MSG_DONTWAIT) < 0)
			break;
	daemon_alive();
	close(fd);
	/* a mapper killed in the middle of its work */
	assert_int_equal(actor_map(&a, &d, "victim", "/dev/dax0.0", 0x400000, 0x5a), 0);
	actor_kill(&a);
	daemon_alive();
	assert_int_equal(td_cli(&d, NULL, 0, "destroy-namespace dax0.0"), 0);
}

static void unresponsive_peer_is_killed(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "poisoner", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(actor_map(&b, &d, "frozen", "/dev/dax0.0", 0x400000, 0x5a), 0);
	/* a mapper that cannot answer the unmap: stopped */
	kill(b.pid, SIGSTOP);
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_not_equal(actor_wait(&b, 3000), -1);
	assert_true(actor_killed_by(&b, SIGKILL));
	assert_int_equal(td_log_count(&d, "forcibly killing frozen:"), 1);
	/* everyone else goes on */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x300000"), "value", -1), 0x5a);
	daemon_alive();
}

static void busy_namespace_stays(void **state)
{
	(void)state;
	assert_int_equal(actor_map(&a, &d, "user", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "destroy-namespace dax0.0"), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x1000"), "value", -1), 0x5a);
	assert_true(reply_has(actor_cmd(&a, "munmap 0 0 0x400000"), "ok"));
	/* once unmapped it may go */
	assert_int_equal(td_cli(&d, NULL, 0, "destroy-namespace dax0.0"), 0);
}

static void state_survives_restart_and_kill9(void **state)
{
	char out[8192];
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "writer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "store 0 0x3000 0x77"), "ok"));
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 40 --count 2"), 0);
	actor_kill(&a);

	td_stop(&d);
	assert_int_equal(td_restart(&d), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "inject-error dax0.0 --status"), 0);
	assert_non_null(strstr(out, "\"block\":40"));
	assert_non_null(strstr(out, "\"block\":2064"));

	td_kill9(&d);
	assert_int_equal(td_restart(&d), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list --media-errors"), 0);
	assert_non_null(strstr(out, "\"badblock_count\":10"));
	/* PageHWPoison is a page flag: gone with a restart, as with a reboot */
	assert_non_null(strstr(out, "\"hwpoison_pages\":0"));
}

static void data_survives_kill9(void **state)
{
	char out[64];
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "writer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "store 0 0x3000 0x77"), "ok"));
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 2064 --count 1"), 0);
	actor_kill(&a);
	td_kill9(&d);
	assert_int_equal(td_restart(&d), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 0x3000 --length 1"), 0);
	assert_int_equal((unsigned char)out[0], 0x77);
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 0x102000 --length 1"), 0);
	/* a new mapper after the restart is fenced from the poison */
	assert_int_equal(actor_start(&b, &d, "reader"), 0);
	assert_true(reply_has(actor_cmd(&b, "open /dev/dax0.0"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "mmap 0x400000 0"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&b, "touch 0 0x3000"), "value", -1), 0x77);
	r = actor_cmd(&b, "touch 0 0x102000");
	assert_true(reply_has(r, "sigbus"));
}

/* The data file of the namespace of `size` bytes, in the state directory. */
static void data_file_of(uint64_t size, char *path, size_t n)
{
	char dir[256];
	struct dirent *e;
	struct stat st;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/data", d.state);
	dp = opendir(dir);
	assert_non_null(dp);
	path[0] = '\0';
	while ((e = readdir(dp))) {
		snprintf(path, n, "%s/%s", dir, e->d_name);
		if (!stat(path, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
			break;
		path[0] = '\0';
	}
	closedir(dp);
	assert_true(path[0] != '\0');
}

static int count_in_file(const char *path, const char *needle)
{
	char line[1024];
	int count = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		count += strstr(line, needle) != NULL;
	fclose(f);
	return count;
}

/*
 * A data file removed or cut short while the daemon was down: the daemon
 * still starts, brings the namespace back at its size with its bad
 * blocks, keeps what data is left, and says so in its log file.
 */
static void data_file_mended_at_start(void **state)
{
	char out[64], lost[512], cut[512], logf[200];
	const char *r;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 4M --align 2M"), 0);
	assert_int_equal(actor_map(&a, &d, "writer", "/dev/dax0.1", 0x400000, 0x5a), 0);
	actor_kill(&a);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --count 1"), 0);
	data_file_of(64u << 20, lost, sizeof(lost));
	data_file_of(4u << 20, cut, sizeof(cut));

	td_stop(&d);
	assert_int_equal(unlink(lost), 0);
	assert_int_equal(truncate(cut, 1 << 20), 0);
	snprintf(logf, sizeof(logf), "%s/events.log", d.dir);
	snprintf(d.args + strlen(d.args), sizeof(d.args) - strlen(d.args), " --log-file %s", logf);
	assert_int_equal(td_restart(&d), 0);

	assert_int_equal(count_in_file(logf, "data file"), 2);
	assert_int_equal(count_in_file(logf, "was missing: its data is lost"), 1);
	assert_int_equal(count_in_file(logf, "had 1048576 bytes instead of 4194304: restored"), 1);
	/* the first MiB of dax0.1 is kept, the rest reads zeroed */
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.1 --offset 0x1000 --length 1"), 0);
	assert_int_equal((unsigned char)out[0], 0x5a);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.1 --offset 0x300000 --length 1"), 0);
	assert_int_equal(out[0], 0);
	/* dax0.0 is zeroed, and its bad block is still bad */
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 0x3000 --length 1"), 0);
	assert_int_equal(out[0], 0);
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 0x2000 --length 1"), 0);
	/* and maps again */
	assert_int_equal(actor_start(&b, &d, "reader"), 0);
	assert_true(reply_has(actor_cmd(&b, "open /dev/dax0.0"), "ok"));
	assert_true(reply_has(actor_cmd(&b, "mmap 0x400000 0"), "ok"));
	r = actor_cmd(&b, "touch 0 0x2000");
	assert_true(reply_has(r, "sigbus"));
}

/* The event history is a record, not the machine: without it, it serves. */
static void unusable_history_is_not_fatal(void **state)
{
	char path[256];

	(void)state;
	td_stop(&d);
	snprintf(path, sizeof(path), "%s/events.db", d.state);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);	/* not a database */
	assert_int_equal(td_restart(&d), 0);
	assert_int_equal(td_log_count(&d, "cannot open the event history"), 1);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 8"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "list -M"), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "history"), 1);
	rmdir(path);
}

static void panic_when_recovery_is_off(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(actor_map(&a, &d, "poisoner", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(actor_map(&b, &d, "bystander", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "config memory_failure_recovery=0"), 0);
	/* vm.memory_failure_recovery=0: the kernel panics */
	assert_null(actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison"));
	assert_true(actor_killed_by(&a, SIGKILL));
	assert_int_not_equal(actor_wait(&b, 3000), -1);
	assert_true(actor_killed_by(&b, SIGKILL));
	assert_int_equal(td_log_count(&d, "Kernel panic - not syncing: Memory failure on page 100102"), 1);
	/* and refuses service until restarted */
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "config"), 0);
	assert_non_null(strstr(out, "\"panicked\":true"));
	td_stop(&d);
	assert_int_equal(td_restart(&d), 0);
	daemon_alive();
}

static void full_disk_changes_nothing(void **state)
{
	struct tdaemon f;
	char out[8192], path[256];
	FILE *fill;
	int ok;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	/* a daemon whose state lives on a 16 MiB file system */
	assert_int_equal(td_prepare(&f, ""), 0);
	assert_int_equal(mkdir(f.state, 0700), 0);
	snprintf(path, sizeof(path), "mount -t tmpfs -o size=16m memfail-test '%s' 2>/dev/null", f.state);
	if (system(path)) {
		td_destroy(&f);
		skip();
		return;
	}
	assert_int_equal(td_restart(&f), 0);
	/* no room for the data: a clear error, and no namespace */
	assert_int_equal(td_cli(&f, NULL, 0, "create-namespace --size 64M"), 1);
	assert_int_equal(td_cli(&f, out, sizeof(out), "list"), 0);
	assert_null(strstr(out, "namespace0.0"));
	assert_int_equal(td_cli(&f, NULL, 0, "create-namespace --size 4M"), 0);
	/* fill the disk, then an injection cannot be recorded: refused whole */
	snprintf(path, sizeof(path), "%s/filler", f.state);
	fill = fopen(path, "w");
	assert_non_null(fill);
	for (ok = 0; ok < 64 * 1024 && fputc(0, fill) != EOF; )
		if (fwrite(out, 1, sizeof(out), fill) != sizeof(out))
			break;
	fclose(fill);
	assert_int_not_equal(td_cli(&f, NULL, 0, "inject-error dax0.0 --block 8 --count 1"), 0);
	assert_int_not_equal(td_cli(&f, NULL, 0, "inject-error dax0.0 --block 80 --no-notify"), 0);
	assert_int_not_equal(td_cli(&f, NULL, 0,
				    "inject-campaign dax0.0 --rate 1000 --duration 0.1 --seed 1"), 0);
	assert_int_equal(td_cli(&f, out, sizeof(out), "list --media-errors"), 0);
	assert_non_null(strstr(out, "namespace0.0"));
	assert_null(strstr(out, "badblock_count"));
	assert_int_equal(td_cli(&f, out, sizeof(out), "inject-error dax0.0 --status"), 0);
	assert_string_equal(out, "");
	/* a scrub still runs (it finds nothing to record) */
	assert_int_equal(td_cli(&f, NULL, 0, "start-scrub --wait --quiet"), 0);
	/* room again: it works, and the daemon never went away */
	unlink(path);
	assert_int_equal(td_cli(&f, NULL, 0, "inject-error dax0.0 --block 8 --count 1"), 0);
	assert_int_equal(td_cli(&f, NULL, 0, "inject-error dax0.0 --block 80 --no-notify"), 0);
	assert_int_equal(td_cli(&f, out, sizeof(out), "start-scrub --wait --quiet"), 0);
	assert_non_null(strstr(out, "\"latent_found\":1"));
	td_stop(&f);
	snprintf(path, sizeof(path), "umount '%s'", f.state);
	assert_int_equal(system(path), 0);
	td_destroy(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_process_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_pages_only_of_mapped_files, setup, teardown),
		cmocka_unit_test_setup_teardown(passed_descriptors_do_not_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(many_mappings_of_a_stopped_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(client_dies_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(unresponsive_peer_is_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(busy_namespace_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(state_survives_restart_and_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(data_survives_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(data_file_mended_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(unusable_history_is_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(panic_when_recovery_is_off, setup, teardown),
		cmocka_unit_test(full_disk_changes_nothing),
	};

	return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
