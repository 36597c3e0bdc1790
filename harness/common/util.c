/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int slm_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void oom(void)
{
    fputs("slmbench: fatal: out of memory\n", stderr);
    abort();
}

void *slm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *slm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *slm_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *slm_xstrdup(const char *s)
{
    return slm_xstrndup(s, strlen(s));
}

char *slm_xstrndup(const char *s, size_t n)
{
    char *p = slm_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *slm_xasprintf(const char *fmt, ...)
{
    slm_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    slm_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return slm_buf_take(&b);
}

static void buf_reserve(slm_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = slm_xrealloc(b->data, cap);
    b->cap = cap;
}

void slm_buf_append(slm_buf *b, const void *data, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void slm_buf_puts(slm_buf *b, const char *s)
{
    slm_buf_append(b, s, strlen(s));
}

void slm_buf_putc(slm_buf *b, char c)
{
    slm_buf_append(b, &c, 1);
}

void slm_buf_vprintf(slm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void slm_buf_printf(slm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    slm_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *slm_buf_take(slm_buf *b)
{
    char *p = b->data;
    if (!p)
        p = slm_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void slm_buf_free(slm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void slm_base64(slm_buf *b, const void *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i = 0;
    char q[4];
    for (; i + 2 < n; i += 3) {
        q[0] = tab[p[i] >> 2];
        q[1] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        q[3] = tab[p[i + 2] & 63];
        slm_buf_append(b, q, 4);
    }
    if (i < n) {
        q[0] = tab[p[i] >> 2];
        if (i + 1 < n) {
            q[1] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
            q[2] = tab[(p[i + 1] & 15) << 2];
        } else {
            q[1] = tab[(p[i] & 3) << 4];
            q[2] = '=';
        }
        q[3] = '=';
        slm_buf_append(b, q, 4);
    }
}

int slm_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    slm_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        slm_buf_append(&b, chunk, n);
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        slm_buf_free(&b);
        return slm_err(err, errlen, "cannot read '%s': %s", path, strerror(e));
    }
    fclose(f);
    *len = b.len;
    *out = slm_buf_take(&b);
    return 0;
}

int slm_write_file_atomic(const char *path, const void *data, size_t len, char *err,
                          size_t errlen)
{
    char *tmp = slm_xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        slm_err(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            slm_err(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        slm_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int slm_mkdir_p(const char *path, char *err, size_t errlen)
{
    char *p = slm_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            slm_err(err, errlen, "cannot create directory '%s': %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        slm_err(err, errlen, "cannot create directory '%s': %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    return 0;
}

long slm_utf8_invalid_at(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return (long)i;
        }
        if (i + need >= n)
            return (long)i;
        unsigned cp = c;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += need + 1;
    }
    return -1;
}

char *slm_trim(char *s)
{
    char *b = s;
    while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n' || *b == '\f' || *b == '\v')
        b++;
    size_t n = strlen(b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r' || b[n - 1] == '\n' ||
                 b[n - 1] == '\f' || b[n - 1] == '\v'))
        n--;
    memmove(s, b, n);
    s[n] = '\0';
    return s;
}

uint64_t slm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double slm_now_ms(void)
{
    return (double)slm_now_ns() / 1e6;
}

void slm_utc_iso8601(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void slm_fmt_double(char *buf, size_t n, double v, int precision)
{
    /* The C locale is forced once in main (LC_NUMERIC=C); uselocale keeps library callers
     * that changed it safe as well. */
    static locale_t cloc;
    if (!cloc)
        cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = cloc ? uselocale(cloc) : (locale_t)0;
    snprintf(buf, n, "%.*g", precision, v);
    if (cloc)
        uselocale(old);
}

const char *slm_exe_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
        dir[0] = '\0';
        return dir;
    }
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return dir;
}

int slm_parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int slm_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}
