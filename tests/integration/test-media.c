// SPDX-License-Identifier: MIT
/*
 * Media errors from outside the program: inject-error, list
 * --media-errors, consumption of injected poison, driver reads and
 * writes, clear-errors restoring access.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct tdaemon d;
static struct actor a, b;

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (td_start(&d, ""))
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



static void zero_file(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		fputc(0, f);
	fclose(f);
}

static struct json_object *cli_json(const char *fmt, const char *arg)
{
	static char out[65536];
	struct json_object *o;

	assert_int_equal(td_cli(&d, out, sizeof(out), fmt, arg), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void injected_poison_is_latent_until_touched(void **state)
{
	struct json_object *o, *bb;
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "consumer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(actor_map(&b, &d, "bystander", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&b, "touch 0 0x102000"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&b, "prctl set early"), "ret", -1), 0);
	/* sector 2064 = byte 0x102000 */
	o = cli_json("inject-error %s --block 2064 --count 1", "dax0.0");
	assert_int_equal(json_object_get_int64(get(o, "badblock_count")), 1);
	bb = get(o, "badblocks");
	assert_int_equal(json_object_array_length(bb), 1);
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(bb, 0), "offset")), 2064);
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(bb, 0), "length")), 1);
	json_object_put(o);
	/* nothing happens to mappers yet */
	assert_string_equal(actor_cmd(&b, "wait-signal 300"), "timeout");
	assert_int_equal(td_log_count(&d, "Memory failure"), 0);
	/* the first touch is the consumption: AR to the toucher */
	r = actor_cmd(&a, "touch 0 0x102040");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(r, "addr_off", -1), 0);
	assert_int_equal(reply_int(r, "lsb", -1), 21);
	/* and memory_failure ran: the early bystander hears of it */
	r = actor_cmd(&b, "wait-signal 3000");
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(td_log_wait(&d, "recovery action for dax page: Recovered", 1, 2000), 1);
	assert_int_equal(td_log_count(&d, "Sending SIGBUS to consumer"), 1);
	/* a neighbour page of the same unit still works */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x103000"), "value", -1), 0x5a);
}

static void fenced_page_still_counts_as_mapped(void **state)
{
	const char *r;

	(void)state;
	/* a 4 KiB device: a mapper has exactly the pages it touched */
	assert_int_equal(td_cli(&d, NULL, 0, "create-namespace --size 8M --align 4K"), 0);
	assert_int_equal(actor_map(&b, &d, "bystander", "/dev/dax0.1", 0x400000, -1), 0);
	assert_int_equal(reply_int(actor_cmd(&b, "prctl set early"), "ret", -1), 0);
	assert_true(reply_has(actor_cmd(&b, "touch 0 0x102000"), "ok"));
	assert_int_equal(reply_int(actor_cmd(&b, "pagemap 0 0x103000"), "present", -1), 0);
	/*
	 * The media goes bad under the page it has mapped: on Linux its PTE
	 * stays until memory_failure() runs, so the consumer's touch sends
	 * it an AO.  memfail's fence must not make it look unmapped.
	 */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.1 --block 2064 --count 1"), 0);
	assert_int_equal(actor_map(&a, &d, "consumer", "/dev/dax0.1", 0x400000, -1), 0);
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x102000"), "sigbus"));
	r = actor_cmd(&b, "wait-signal 3000");
	assert_true(reply_has(r, "signal"));
	assert_int_equal(reply_int(r, "code", -1), 5);
	assert_int_equal(reply_int(r, "addr_off", -1), 0x102000);
	assert_int_equal(reply_int(r, "lsb", -1), 12);
	/* once memory_failure() has unmapped it, it is not mapped any more */
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x102000"), "sigbus"));
	assert_string_equal(actor_cmd(&b, "wait-signal 300"), "timeout");
}

static void consumer_with_default_disposition_dies(void **state)
{
	(void)state;
	assert_int_equal(actor_map(&a, &d, "consumer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(actor_map(&b, &d, "other", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_true(reply_has(actor_cmd(&a, "handler none"), "ok"));
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 8 --count 8"), 0);
	assert_null(actor_cmd(&a, "touch 0 0x1000"));
	assert_true(actor_killed_by(&a, SIGBUS));
	/* the other mapper, the daemon and the machine keep running */
	assert_int_equal(reply_int(actor_cmd(&b, "touch 0 0x3000"), "value", -1), 0x5a);
	assert_int_equal(td_cli(&d, NULL, 0, "list"), 0);
}

static void driver_read_fails_and_write_clears(void **state)
{
	char out[8192], path[256];
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --count 1"), 0);
	/* a read that touches the bad sector fails, one beside it works */
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 8192 --length 512"), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 8704 --length 16"), 0);
	assert_int_equal((unsigned char)out[0], 0x5a);
	/* the page is fenced in the mapper */
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x2000"), "sigbus"));
	/* a write over part of the bad sector fails and clears nothing */
	assert_int_not_equal(td_cli(&d, NULL, 0, "write dax0.0 --offset 8200 --input /etc/hostname"), 0);
	assert_int_not_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 8192 --length 512"), 0);
	/* a write covering the whole sector clears it and gives the page back */
	snprintf(path, sizeof(path), "%s/zeros", d.dir);
	zero_file(path, 512);
	assert_int_equal(td_cli(&d, NULL, 0, "write dax0.0 --offset 8192 --input %s", path), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 8192 --length 512"), 0);
	r = actor_cmd(&a, "touch 0 0x2000");
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2200"), "value", -1), 0x5a);
}

/*
 * A write from an offset that is not a multiple of 512 still clears a bad
 * sector it covers whole: its pieces end on the namespace's boundaries,
 * never inside the sector.
 */
static void unaligned_write_clears_covered_sector(void **state)
{
	char out[64], path[256];

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	/* sector 64 is bytes 32768..33279: inside the first 32 KiB from 100 */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 64 --count 1"), 0);
	snprintf(path, sizeof(path), "%s/zeros", d.dir);
	zero_file(path, 65536);
	assert_int_equal(td_cli(&d, NULL, 0, "write dax0.0 --offset 100 --input %s", path), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 32768 --length 16"), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x8000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 99"), "value", -1), 0x5a);
}

static void clear_errors_restores_access(void **state)
{
	struct json_object *o;
	const char *r;

	(void)state;
	assert_int_equal(actor_map(&a, &d, "consumer", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(actor_map(&b, &d, "bystander", "/dev/dax0.0", 0x400000, 0x5a), 0);
	r = actor_cmd(&a, "madvise 0 0x102000 4096 hwpoison");
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 4096 --count 16"), 0);
	assert_true(reply_has(actor_cmd(&b, "touch 0 0x102000"), "sigbus"));
	assert_true(reply_has(actor_cmd(&b, "touch 0 0x200000"), "sigbus"));
	o = cli_json("list --media-errors --namespace %s", "dax0.0");
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(o, 0), "badblock_count")), 24);
	json_object_put(o);
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors dax0.0"), 0);
	/* data there is lost (zeros), access is back for every mapper */
	r = actor_cmd(&b, "touch 0 0x102000");
	assert_true(reply_has(r, "ok"));
	assert_int_equal(reply_int(r, "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x201000"), "value", -1), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x202000"), "value", -1), 0x5a);
	assert_int_equal(reply_int(actor_cmd(&a, "scan 0"), "faulted", -1), 0);
	o = cli_json("list --media-errors --namespace %s", "dax0.0");
	assert_false(json_object_object_get_ex(json_object_array_get_idx(o, 0), "badblock_count", NULL));
	json_object_put(o);
}

static void clear_errors_range(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 0 --count 32"), 0);
	/* clear the middle: two ranges remain; pages fully cleared come back */
	assert_int_equal(td_cli(&d, NULL, 0, "clear-errors dax0.0 --block 8 --count 16"), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "inject-error dax0.0 --status"), 0);
	assert_non_null(strstr(out, "\"block\":0"));
	assert_non_null(strstr(out, "\"count\":8"));
	assert_non_null(strstr(out, "\"block\":24"));
	assert_true(reply_has(actor_cmd(&a, "touch 0 0"), "sigbus"));
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x1000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x2000"), "ok"));
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x3000"), "sigbus"));
}

static void uninject_keeps_the_data(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(actor_map(&a, &d, "mapper", "/dev/dax0.0", 0x400000, 0x5a), 0);
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 16 --count 8"), 0);
	assert_true(reply_has(actor_cmd(&a, "touch 0 0x2000"), "sigbus"));
	/* --uninject forgets the record and rewrites nothing */
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --uninject --block 16 --count 8"), 0);
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x2000"), "value", -1), 0x5a);
	assert_int_equal(td_cli(&d, out, sizeof(out), "read dax0.0 --offset 0x2000 --length 1"), 0);
	assert_int_equal((unsigned char)out[0], 0x5a);
	assert_int_equal(td_cli(&d, out, sizeof(out), "inject-error dax0.0 --status"), 0);
	assert_null(strstr(out, "block"));
}

static void new_mapping_is_fenced(void **state)
{
	const char *r;

	(void)state;
	assert_int_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 2064 --count 1"), 0);
	/* a mapping made after the error traps on it too */
	assert_int_equal(actor_map(&a, &d, "late-mapper", "/dev/dax0.0", 0x400000, -1), 0);
	r = actor_cmd(&a, "touch 0 0x102000");
	assert_true(reply_has(r, "sigbus"));
	assert_int_equal(reply_int(r, "code", -1), 4);
	assert_int_equal(reply_int(actor_cmd(&a, "scan 0"), "faulted", -1), 1);
	/* and only that page: its neighbours read back what is there */
	assert_int_equal(reply_int(actor_cmd(&a, "touch 0 0x101000"), "value", -1), 0);
}

static void bad_input_changes_nothing(void **state)
{
	char out[8192];

	(void)state;
	/* past the end, zero count, unknown device, garbage numbers */
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 131072 --count 1"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 131071 --count 2"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 0 --count 0"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.9 --block 0 --count 1"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block x1 --count 1"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "inject-error dax0.0 --block 18446744073709551615 --count 2"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "create-namespace --size 3M --align 2M"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "create-namespace --size 2M --align 8K"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "read dax0.0 --offset 64M --length 1"), 0);
	assert_int_not_equal(td_cli(&d, NULL, 0, "destroy-namespace dax0.5"), 0);
	assert_int_equal(td_cli(&d, out, sizeof(out), "list --media-errors"), 0);
	assert_null(strstr(out, "badblock_count"));
	assert_int_equal(td_cli(&d, out, sizeof(out), "list"), 0);
	assert_null(strstr(out, "namespace0.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(injected_poison_is_latent_until_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(fenced_page_still_counts_as_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(consumer_with_default_disposition_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(driver_read_fails_and_write_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(unaligned_write_clears_covered_sector, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_errors_restores_access, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_errors_range, setup, teardown),
		cmocka_unit_test_setup_teardown(uninject_keeps_the_data, setup, teardown),
		cmocka_unit_test_setup_teardown(new_mapping_is_fenced, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input_changes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
