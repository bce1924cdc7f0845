// SPDX-License-Identifier: MIT
/*
 * preload/vfs-files.c: what each emulated kernel file shows and takes.
 *
 * Shown values come from the daemon's status page (the sysctls, the
 * counters, HardwareCorrupted), so reading them costs no request; writes
 * are requests, checked by the daemon as the kernel checks them
 * (CAP_SYS_ADMIN for the injection files, the value's range for the
 * sysctls).  Parsing follows the kernel's: kstrtoull() with base 0 for
 * the debugfs and sysfs attributes, proc_dointvec_minmax() for sysctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../util/util.h"
#include "preload.h"
#include "vfs.h"

void vbuf_put(struct vbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void vbuf_printf(struct vbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		vbuf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static const struct mf_status_page *st(void)
{
	return ram_status();
}

/* A real file's content, appended. */
static int put_real(struct vbuf *b, const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = real.open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = real.read(fd, buf, sizeof(buf))) > 0)
		vbuf_put(b, buf, (size_t)n);
	real.close(fd);
	return n < 0 ? -EIO : 0;
}

/* ---- /proc/meminfo ---- */

static int show_meminfo(struct vbuf *b, const char *arg)
{
	struct vbuf real_b = { 0 };
	uint64_t kb = __atomic_load_n(&st()->hardware_corrupted_pages, __ATOMIC_ACQUIRE) * 4;
	const char *line, *end;
	bool done = false;
	int err;

	(void)arg;
	err = put_real(&real_b, "/proc/meminfo");
	if (err)
		return err;
	/* show_val_kb(): where the kernel prints it, after Percpu */
	for (line = real_b.p; line && *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		if (!strncmp(line, "HardwareCorrupted:", 18))
			continue;
		if (!done && !strncmp(line, "AnonHugePages:", 14)) {
			vbuf_printf(b, "HardwareCorrupted: %8llu kB\n", (unsigned long long)kb);
			done = true;
		}
		vbuf_put(b, line, (size_t)(end - line));
	}
	if (!done)
		vbuf_printf(b, "HardwareCorrupted: %8llu kB\n", (unsigned long long)kb);
	free(real_b.p);
	return b->oom ? -ENOMEM : 0;
}

/* ---- /proc/mounts: debugfs is where the hwpoison files are ---- */

static int show_mounts(struct vbuf *b, const char *arg)
{
	int err = put_real(b, "/proc/self/mounts");

	(void)arg;
	if (err)
		return err;
	if (!b->p || !strstr(b->p, " debugfs "))
		vbuf_printf(b, "debugfs /sys/kernel/debug debugfs rw,nosuid,nodev,noexec,relatime 0 0\n");
	return b->oom ? -ENOMEM : 0;
}

/* ---- sysctls ---- */

static int sysctl_key(const char *path)
{
	if (strstr(path, "memory_failure_early_kill"))
		return MF_CFG_EARLY_KILL;
	if (strstr(path, "memory_failure_recovery"))
		return MF_CFG_RECOVERY;
	return MF_CFG_ENABLE_SOFT_OFFLINE;
}

static int show_early_kill(struct vbuf *b, const char *arg)
{
	(void)arg;
	vbuf_printf(b, "%d\n", __atomic_load_n(&st()->early_kill, __ATOMIC_ACQUIRE));
	return 0;
}

static int show_recovery(struct vbuf *b, const char *arg)
{
	(void)arg;
	vbuf_printf(b, "%d\n", __atomic_load_n(&st()->recovery, __ATOMIC_ACQUIRE));
	return 0;
}

static int show_soft_offline(struct vbuf *b, const char *arg)
{
	(void)arg;
	vbuf_printf(b, "%d\n", __atomic_load_n(&st()->enable_soft_offline, __ATOMIC_ACQUIRE));
	return 0;
}

/* proc_dointvec_minmax(), one value: blanks, a number (base 0, a sign),
 * blanks; 0 or 1 */
static int parse_intvec(const char *buf, size_t len, long *v)
{
	char tmp[64], *end;

	while (len && (*buf == ' ' || *buf == '\t' || *buf == '\n')) {
		buf++;
		len--;
	}
	if (!len || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	errno = 0;
	*v = strtol(tmp, &end, 0);
	if (end == tmp || errno)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	return *end ? -EINVAL : 0;
}

static int config_set(int key, long v)
{
	struct mf_config_reply r;
	struct mf_config_req m;
	ssize_t n;

	if (shim_activate())
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_CONFIG_SET;
	m.key = (uint32_t)key;
	m.value = v;
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n < (ssize_t)sizeof(struct mf_reply))
		return -EIO;
	return r.r.error;
}

static int store_sysctl(const char *buf, size_t len, const char *path)
{
	long v;
	int err = parse_intvec(buf, len, &v);

	if (err)
		return err;
	if (v < 0 || v > 1)
		return -EINVAL;		/* extra1/extra2: SYSCTL_ZERO, SYSCTL_ONE */
	err = config_set(sysctl_key(path), v);
	/* a root that is not the daemon's: the file said yes, the daemon no */
	return err == -EPERM ? -EACCES : err;
}

static bool has_soft_offline_sysctl(const char *arg)
{
	(void)arg;
	return shim_profile()->enable_soft_offline;
}

/* ---- node0's memory_failure counters (6.3+) ---- */

static bool has_node_counters(const char *arg)
{
	(void)arg;
	return shim_profile()->node_counters;
}

static int show_counter(struct vbuf *b, const char *path)
{
	const struct mf_counters *c = &st()->node;
	const char *name = strrchr(path, '/') + 1;
	const uint64_t *v = !strcmp(name, "total") ? &c->total :
			    !strcmp(name, "ignored") ? &c->ignored :
			    !strcmp(name, "failed") ? &c->failed :
			    !strcmp(name, "delayed") ? &c->delayed : &c->recovered;

	vbuf_printf(b, "%llu\n", (unsigned long long)__atomic_load_n(v, __ATOMIC_ACQUIRE));
	return 0;
}

/* ---- the injection files ---- */

/* kstrtoull(s, 0): an optional '+', 0x hex, 0 octal or decimal, and
 * nothing after but one newline */
static int parse_kstrtoull(const char *buf, size_t len, uint64_t *v)
{
	char tmp[64], *end;

	if (len && buf[len - 1] == '\n')
		len--;
	if (!len || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	if (tmp[0] == '-' || tmp[0] == ' ' || tmp[0] == '\t')
		return -EINVAL;
	errno = 0;
	*v = strtoull(tmp[0] == '+' ? tmp + 1 : tmp, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == tmp || *end || errno)
		return -EINVAL;
	return 0;
}

static int pfn_write(uint32_t op, uint64_t v)
{
	struct mf_pfn_write m;
	struct mf_reply r;
	char comm[16] = "";
	ssize_t n;

	if (shim_activate())
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_PFN_WRITE;
	m.op = op;
	m.tid = shim_gettid();
	m.value = v;
	real.prctl(PR_GET_NAME, comm, 0, 0, 0);
	memcpy(m.comm, comm, sizeof(m.comm));
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n < (ssize_t)sizeof(r))
		return -EIO;
	return r.error;
}

static int store_pfn(const char *buf, size_t len, const char *path)
{
	uint32_t op = strstr(path, "corrupt-pfn") ? MF_PFN_CORRUPT :
		      strstr(path, "unpoison-pfn") ? MF_PFN_UNPOISON :
		      strstr(path, "hard_offline_page") ? MF_PFN_HARD_OFFLINE : MF_PFN_SOFT_OFFLINE;
	uint64_t v;
	int err = parse_kstrtoull(buf, len, &v);

	if (err)
		return err;
	return pfn_write(op, v);
}

/* ---- device-dax and region files of memfail's namespaces ---- */

static int ns_get(const char *name, struct mf_ns_info *out)
{
	struct mf_ns_reply r;
	struct mf_ns_name m;
	ssize_t n;

	if (!name || strlen(name) >= sizeof(m.name) || shim_activate())
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_NS_GET;
	strlcpy_mf(m.name, name, sizeof(m.name));
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n != (ssize_t)sizeof(r) || r.r.error)
		return -ENOENT;
	*out = r.ns;
	return 0;
}

static bool is_dax_dev(const char *arg)
{
	struct mf_ns_info ns;

	return !ns_get(arg, &ns) && ns.mode == MF_MODE_DEVDAX;
}

static int show_dax_size(struct vbuf *b, const char *arg)
{
	struct mf_ns_info ns;

	if (ns_get(arg, &ns))
		return -ENOENT;
	vbuf_printf(b, "%llu\n", (unsigned long long)ns.size);
	return 0;
}

static int show_dax_align(struct vbuf *b, const char *arg)
{
	struct mf_ns_info ns;

	if (ns_get(arg, &ns))
		return -ENOENT;
	vbuf_printf(b, "%llu\n", (unsigned long long)ns.align);
	return 0;
}

/* badblocks_show(): "<first sector> <count>" per range, namespace-relative.
 * The reply buffer is ours: other threads may be showing it too. */
static int show_badblocks(struct vbuf *b, const char *arg)
{
	struct mf_badblocks_reply *r;
	struct mf_badblocks_req m;
	struct mf_ns_info ns;
	uint32_t i;
	int err = 0;

	if (ns_get(arg, &ns))
		return -ENOENT;
	r = malloc(MF_MSG_MAX);
	if (!r)
		return -ENOMEM;
	memset(&m, 0, sizeof(m));
	strlcpy_mf(m.name, ns.name, sizeof(m.name));
	m.which = MF_BB_KNOWN;
	for (;;) {
		ssize_t n;

		m.hdr.type = MF_BADBLOCKS;
		n = shim_call(&m, sizeof(m), r, MF_MSG_MAX, NULL);
		if (n < (ssize_t)sizeof(*r) || r->r.error ||
		    (size_t)n != sizeof(*r) + r->count * sizeof(r->range[0])) {
			err = -EIO;
			goto out;
		}
		for (i = 0; i < r->count; i++)
			vbuf_printf(b, "%llu %llu\n", (unsigned long long)r->range[i].sector,
				    (unsigned long long)r->range[i].count);
		if (!r->more)
			goto out;
		m.cursor = r->next;
	}
out:
	free(r);
	return err;
}

/*
 * badblocks_store(): "SECTOR COUNT" (a newline may follow) adds a range
 * to the driver's list, as `memfail inject-error` does; the namespace's
 * admin (root) only, as the file's 0644 says.  A range past the end of
 * the namespace is refused (EINVAL): memfail keeps no list apart from its
 * media.
 */
static int store_badblocks(const char *buf, size_t len, const char *arg)
{
	unsigned long long sector;
	struct mf_range_req m;
	struct mf_ns_info ns;
	struct mf_reply r;
	char tmp[64], nl;
	int length;
	ssize_t n;

	if (!len || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	switch (sscanf(tmp, "%llu %d%c", &sector, &length, &nl)) {
	case 3:
		if (nl != '\n')
			return -EINVAL;
		/* fall through */
	case 2:
		if (length <= 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (ns_get(arg, &ns))
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	m.hdr.type = MF_INJECT;
	strlcpy_mf(m.name, ns.name, sizeof(m.name));
	m.sector = sector;
	m.count = (uint64_t)length;
	m.flags = MF_INJECT_NOTIFY;
	n = shim_call(&m, sizeof(m), &r, sizeof(r), NULL);
	if (n < 0)
		return (int)n;
	if (n != (ssize_t)sizeof(r))
		return -EIO;
	/* a root that is not the daemon's: the file said yes, the daemon no */
	if (r.error == -EPERM)
		return -EACCES;
	return r.error == -ERANGE ? -EINVAL : r.error;
}

/* The block device's name: Linux has one for fsdax namespaces only;
 * memfail shows the bad blocks of every namespace under its pmemX.Y. */
static bool is_pmem_dev(const char *arg)
{
	struct mf_ns_info ns;

	return !strncmp(arg, "pmem", 4) && !ns_get(arg, &ns);
}

#define RW	(S_IFREG | 0644)
#define RO	(S_IFREG | 0444)
#define WO	(S_IFREG | 0200)
#define DIR_(m)	(S_IFDIR | (m))

const struct vfile vfs_files[] = {
	{ "/proc/meminfo", VF_TEXT, RO, NULL, show_meminfo, NULL },
	{ "/proc/mounts", VF_TEXT, RO, NULL, show_mounts, NULL },
	{ "/proc/self/mounts", VF_TEXT, RO, NULL, show_mounts, NULL },
	{ "/etc/mtab", VF_TEXT, RO, NULL, show_mounts, NULL },
	{ "/proc/self/pagemap", VF_PAGEMAP, S_IFREG | 0400, NULL, NULL, NULL },
	{ "/proc/kpageflags", VF_KPAGEFLAGS, S_IFREG | 0400, NULL, NULL, NULL },
	{ "/dev/kmsg", VF_KMSG, S_IFCHR | 0644, NULL, NULL, NULL },
	{ "/proc/sys/vm/memory_failure_early_kill", VF_TEXT, RW, NULL, show_early_kill, store_sysctl },
	{ "/proc/sys/vm/memory_failure_recovery", VF_TEXT, RW, NULL, show_recovery, store_sysctl },
	{ "/proc/sys/vm/enable_soft_offline", VF_TEXT, RW, has_soft_offline_sysctl,
	  show_soft_offline, store_sysctl },
	{ "/sys/devices/system/node/node0/memory_failure", VF_DIR, DIR_(0755), has_node_counters,
	  NULL, NULL },
	{ "/sys/devices/system/node/node0/memory_failure/total", VF_TEXT, RO, has_node_counters,
	  show_counter, NULL },
	{ "/sys/devices/system/node/node0/memory_failure/ignored", VF_TEXT, RO, has_node_counters,
	  show_counter, NULL },
	{ "/sys/devices/system/node/node0/memory_failure/failed", VF_TEXT, RO, has_node_counters,
	  show_counter, NULL },
	{ "/sys/devices/system/node/node0/memory_failure/delayed", VF_TEXT, RO, has_node_counters,
	  show_counter, NULL },
	{ "/sys/devices/system/node/node0/memory_failure/recovered", VF_TEXT, RO, has_node_counters,
	  show_counter, NULL },
	{ "/sys/kernel/debug", VF_DIR, DIR_(0700), NULL, NULL, NULL },
	{ "/sys/kernel/debug/hwpoison", VF_DIR, DIR_(0700), NULL, NULL, NULL },
	{ "/sys/kernel/debug/hwpoison/corrupt-pfn", VF_TEXT, WO, NULL, NULL, store_pfn },
	{ "/sys/kernel/debug/hwpoison/unpoison-pfn", VF_TEXT, WO, NULL, NULL, store_pfn },
	{ "/sys/devices/system/memory/hard_offline_page", VF_TEXT, WO, NULL, NULL, store_pfn },
	{ "/sys/devices/system/memory/soft_offline_page", VF_TEXT, WO, NULL, NULL, store_pfn },
	{ "/sys/bus/dax/devices/%s", VF_DIR, DIR_(0755), is_dax_dev, NULL, NULL },
	{ "/sys/bus/dax/devices/%s/size", VF_TEXT, RO, is_dax_dev, show_dax_size, NULL },
	{ "/sys/bus/dax/devices/%s/align", VF_TEXT, RO, is_dax_dev, show_dax_align, NULL },
	{ "/sys/block/%s", VF_DIR, DIR_(0755), is_pmem_dev, NULL, NULL },
	{ "/sys/block/%s/badblocks", VF_TEXT, RW, is_pmem_dev, show_badblocks, store_badblocks },
	{ NULL, 0, 0, NULL, NULL, NULL },
};
