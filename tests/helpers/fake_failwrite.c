/*
 * fake_failwrite.c — an LD_PRELOAD shim that makes the Nth write (or sync) on chosen files
 * fail, built as $(OUT)/tests/libfake_failwrite.so for tests/cli/test_store_faults.sh: the
 * store's fault injection in the spirit of SQLite's own I/O-error tests, from outside the
 * program, with the system's SQLite unchanged.
 *
 * It wraps write, pwrite, pwrite64, writev, pwritev (mode write) and fsync, fdatasync
 * (mode sync). A call counts when the file its descriptor names (readlink of
 * /proc/self/fd/N) contains SLM_FAIL_PATH, so only the database and its -wal, -shm and
 * -journal files count, never stdout or an engine's files. Configured by environment:
 *
 *   SLM_FAIL_PATH   substring of the paths whose calls count (required: unset, nothing
 *                   counts and nothing fails)
 *   SLM_FAIL_OP     write (default) or sync: which calls count
 *   SLM_FAIL_AT     N >= 1: the Nth counted call fails; unset or 0: none fails (counting
 *                   only)
 *   SLM_FAIL_MODE   sticky (default): every counted call from the Nth on fails, as on a
 *                   disk that stays full or a device that is gone; once: only the Nth
 *   SLM_FAIL_ERRNO  ENOSPC, EIO (default), EDQUOT, EROFS or a number: the errno of a failure
 *   SLM_FAIL_COUNT  file written at exit with "CALLS FAILED\n": the counted calls and how
 *                   many of them failed (a reference run learns its number of writes)
 *
 * A failed call does nothing and returns -1 with errno set, as the kernel does on a full
 * disk before any byte is written. Counting is atomic, so threads share one sequence.
 * Each wrapper finds the next definition with dlsym(RTLD_NEXT): under AddressSanitizer,
 * preload the ASan runtime first (LD_PRELOAD="libasan.so libfake_failwrite.so") and the
 * chain is interceptor -> shim -> libc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*sync_fn)(int);

static atomic_long g_calls, g_failed;

/* The configuration, read once from the environment at load. */
static struct {
    const char *path;
    int sync_op; /* counted calls: 0 writes, 1 syncs */
    long at;
    int sticky;
    int err;
} g_cfg;

static int parse_errno(const char *s)
{
    static const struct { const char *name; int value; } names[] = {
        {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}};
    if (!s || !*s)
        return EIO;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name))
            return names[i].value;
    int v = atoi(s);
    return v > 0 ? v : EIO;
}

__attribute__((constructor)) static void failwrite_init(void)
{
    const char *p = getenv("SLM_FAIL_PATH");
    g_cfg.path = p && *p ? p : NULL;
    const char *op = getenv("SLM_FAIL_OP");
    g_cfg.sync_op = op && !strcmp(op, "sync");
    const char *at = getenv("SLM_FAIL_AT");
    g_cfg.at = at ? atol(at) : 0;
    const char *mode = getenv("SLM_FAIL_MODE");
    g_cfg.sticky = !(mode && !strcmp(mode, "once"));
    g_cfg.err = parse_errno(getenv("SLM_FAIL_ERRNO"));
}

/* 1 when a call of kind sync_op on fd counts: the configured kind, on a matching path. */
static int counts(int fd, int sync_op)
{
    if (!g_cfg.path || sync_op != g_cfg.sync_op || fd < 0)
        return 0;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strstr(target, g_cfg.path) != NULL;
}

/* Counts a call on fd; 1 when it must fail (errno is then set). Keeps errno otherwise. */
static int must_fail(int fd, int sync_op)
{
    int saved = errno;
    if (!counts(fd, sync_op)) {
        errno = saved;
        return 0;
    }
    long k = atomic_fetch_add(&g_calls, 1) + 1;
    int fail = g_cfg.at > 0 && (g_cfg.sticky ? k >= g_cfg.at : k == g_cfg.at);
    if (fail) {
        atomic_fetch_add(&g_failed, 1);
        errno = g_cfg.err;
    } else {
        errno = saved;
    }
    return fail;
}

/* The next definition of name, or abort: a shim that cannot forward must not pretend. */
static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "fake_failwrite: cannot find the next definition\n";
        ssize_t (*w)(int, const void *, size_t) = (write_fn)dlsym(RTLD_NEXT, "write");
        if (w)
            (void)w(2, msg, sizeof msg - 1);
        abort();
    }
    return f;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static write_fn real;
    if (!real)
        real = (write_fn)next("write");
    return must_fail(fd, 0) ? -1 : real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static pwrite_fn real;
    if (!real)
        real = (pwrite_fn)next("pwrite");
    return must_fail(fd, 0) ? -1 : real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    static pwrite64_fn real;
    if (!real)
        real = (pwrite64_fn)next("pwrite64");
    return must_fail(fd, 0) ? -1 : real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    static writev_fn real;
    if (!real)
        real = (writev_fn)next("writev");
    return must_fail(fd, 0) ? -1 : real(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    static pwritev_fn real;
    if (!real)
        real = (pwritev_fn)next("pwritev");
    return must_fail(fd, 0) ? -1 : real(fd, iov, cnt, off);
}

int fsync(int fd)
{
    static sync_fn real;
    if (!real)
        real = (sync_fn)next("fsync");
    return must_fail(fd, 1) ? -1 : real(fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    if (!real)
        real = (sync_fn)next("fdatasync");
    return must_fail(fd, 1) ? -1 : real(fd);
}

/* Writes "CALLS FAILED" to SLM_FAIL_COUNT at exit (through the real write: the count
 * file is not one whose calls count unless SLM_FAIL_PATH names it, which it should not). */
__attribute__((destructor)) static void failwrite_report(void)
{
    const char *path = getenv("SLM_FAIL_COUNT");
    if (!path || !*path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[64];
    int n = snprintf(line, sizeof line, "%ld %ld\n", atomic_load(&g_calls),
                     atomic_load(&g_failed));
    write_fn real = (write_fn)next("write");
    if (n > 0)
        (void)real(fd, line, (size_t)n);
    close(fd);
}
