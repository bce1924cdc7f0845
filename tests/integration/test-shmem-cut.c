// SPDX-License-Identifier: MIT
/*
 * A poisoned shmem page truncated or punched out of its file goes with
 * it (truncate_inode_pages()): every mapping loses the hwpoison entry,
 * the file reads zeros there once it grows back, HardwareCorrupted keeps
 * the page (the oracle's m22).  Only a process that really cut the file
 * can say so: memfaild checks its descriptor and the file's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/lib/client.h"
#include "../../src/uapi/mf_proto.h"
#include "harness.h"

static struct tdaemon d;
static struct actor a;

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	return td_start(&d, "");
}

static int teardown(void **state)
{
	(void)state;
	actor_kill(&a);
	td_destroy(&d);
	return 0;
}

static long hc(void)
{
	return (long)reply_int(actor_cmd(&a, "hc"), "kb", -1);
}

/* a 64 KiB memfd (mapping 0) and a second mapping of it (mapping 1),
 * page 0x2000 poisoned */
static void poison_a_memfd_page(const char *name)
{
	assert_int_equal(actor_start(&a, &d, name), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem memfd 0x10000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "mapsame 0 1"), "mapped", -1), 1);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 1);
}

static void truncation_takes_the_page(void **state)
{
	long hc0;

	(void)state;
	poison_a_memfd_page("truncator");
	hc0 = hc();
	assert_int_equal(reply_int(actor_cmd(&a, "ftruncate 0 0x1000"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "ftruncate 0 0x10000"), "ret", -1), 0);
	/* a new page of zeros, in every mapping */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x3000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "pread 0 0x2000 4096"), "ret", -1), 4096);
	assert_int_equal(reply_int(actor_cmd(&a, "pm 0 0x2000"), "swap", -1), 0);
	/* the page itself stays poisoned */
	assert_int_equal(hc(), hc0);
	assert_int_equal(td_log_count(&d, "MCE: Killing"), 1);
}

static void punched_hole_takes_the_page(void **state)
{
	(void)state;
	poison_a_memfd_page("puncher");
	/* a hole that does not cover the whole page leaves it */
	assert_int_equal(reply_int(actor_cmd(&a, "punch 0 0x2000 0x800"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "punch 0 0x1800 0x1800"), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 0);
	/* the pages beside it keep what they had */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x4000"), "value", -1), 0xce);
	assert_int_equal(reply_int(actor_cmd(&a, "pread 0 0x2000 4096"), "ret", -1), 4096);
}

/* a tmpfs file truncated by its path */
static void truncate_by_path(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/mf-cut.%d", (int)getpid());
	assert_int_equal(actor_start(&a, &d, "pathcut"), 0);
	assert_true(reply_has(actor_cmd(&a, "mapmem file 0x10000 %s", path), "ok"));
	assert_true(reply_has(actor_cmd(&a, "fill 0 0xce"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&a, "madvise 0 0x2000 4096 hwpoison"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "truncate %s 0x1000", path), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "truncate %s 0x10000", path), "ret", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0);
	unlink(path);
}

/* someone else's word that the file was cut changes nothing */
static void a_forged_cut_is_refused(void **state)
{
	struct mf_ram_truncate m;
	struct mf_client ctl, req;
	struct stat st;
	char path[64];
	long long fd;
	int ro, rw;

	(void)state;
	poison_a_memfd_page("victim");
	fd = reply_int(actor_cmd(&a, "mapfd 0"), "fd", -1);
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "/proc/%d/fd/%lld", (int)a.pid, fd);
	ro = open(path, O_RDONLY);
	rw = open(path, O_RDWR);
	assert_true(ro >= 0 && rw >= 0);
	assert_int_equal(fstat(ro, &st), 0);
	assert_int_equal(mf_client_connect(&ctl, d.sock, MF_ROLE_CONTROL, "forger"), 0);
	assert_int_equal(mf_client_connect(&req, d.sock, MF_ROLE_REQUEST, "forger"), 0);
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_RAM_TRUNCATE;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	m.from = 0x1000;
	m.end = UINT64_MAX;
	m.fd = ro;
	assert_int_equal(mf_client_call_status(&req, &m, sizeof(m)), -EBADF);
	/* open for writing, but the file was not cut */
	m.fd = rw;
	assert_int_equal(mf_client_call_status(&req, &m, sizeof(m)), -EINVAL);
	/* another file's descriptor */
	m.fd = 0;
	assert_int_equal(mf_client_call_status(&req, &m, sizeof(m)), -EBADF);
	/* unaligned, empty */
	m.fd = rw;
	m.from = 0x1001;
	assert_int_equal(mf_client_call_status(&req, &m, sizeof(m)), -EINVAL);
	m.from = 0x3000;
	m.end = 0x2000;
	assert_int_equal(mf_client_call_status(&req, &m, sizeof(m)), -EINVAL);
	mf_client_close(&req);
	mf_client_close(&ctl);
	close(ro);
	close(rw);
	/* still poisoned, in both mappings */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "touchsame 0x2000"), "faulted", -1), 1);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(truncation_takes_the_page, setup, teardown),
		cmocka_unit_test_setup_teardown(punched_hole_takes_the_page, setup, teardown),
		cmocka_unit_test_setup_teardown(truncate_by_path, setup, teardown),
		cmocka_unit_test_setup_teardown(a_forged_cut_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
