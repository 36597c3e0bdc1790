/*
 * util.h — small helpers shared by the core: error buffers, growable strings, files,
 * UTF-8 checks and time.
 *
 * Error convention of the whole core: a function that can fail returns 0 on success and
 * -1 on failure, and writes a one-line lowercase message (no trailing period) into a
 * caller-supplied buffer `char *err, size_t errlen`. slm_err() formats that message and
 * returns -1, so callers write `return slm_err(err, errlen, "...", ...)`.
 */
#ifndef SLM_UTIL_H
#define SLM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SLM_ERRLEN 1024

#if defined(__GNUC__)
#define SLM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SLM_PRINTF(a, b)
#endif

/* Writes the formatted message into err (if err and errlen) and returns -1. */
int slm_err(char *err, size_t errlen, const char *fmt, ...) SLM_PRINTF(3, 4);

/* Allocation that aborts the process on exhaustion (the only place that may do so). */
void *slm_xmalloc(size_t n);
void *slm_xcalloc(size_t n, size_t size);
void *slm_xrealloc(void *p, size_t n);
char *slm_xstrdup(const char *s);
char *slm_xstrndup(const char *s, size_t n);
char *slm_xasprintf(const char *fmt, ...) SLM_PRINTF(1, 2);

/* A growable, always NUL-terminated byte string. Zero-initialise it ({0}) before use. */
typedef struct slm_buf {
    char *data;
    size_t len;
    size_t cap;
} slm_buf;

void slm_buf_append(slm_buf *b, const void *data, size_t n);
void slm_buf_puts(slm_buf *b, const char *s);
void slm_buf_putc(slm_buf *b, char c);
void slm_buf_printf(slm_buf *b, const char *fmt, ...) SLM_PRINTF(2, 3);
void slm_buf_vprintf(slm_buf *b, const char *fmt, va_list ap);
/* Returns the content (caller frees) and leaves b empty. Never NULL. */
char *slm_buf_take(slm_buf *b);
void slm_buf_free(slm_buf *b);

/* Appends the base64 encoding (RFC 4648, padded) of data[0..n) to b. */
void slm_base64(slm_buf *b, const void *data, size_t n);

/* Reads a whole file. On success *out (caller frees, NUL-terminated) and *len are set. */
int slm_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen);

/* Writes a whole file atomically (temporary file in the same folder, then rename). */
int slm_write_file_atomic(const char *path, const void *data, size_t len, char *err,
                          size_t errlen);

/* Creates a directory and its parents (mkdir -p). */
int slm_mkdir_p(const char *path, char *err, size_t errlen);

/* Returns the offset of the first invalid UTF-8 byte in s[0..n), or -1 if all valid. */
long slm_utf8_invalid_at(const char *s, size_t n);

/* Trims ASCII whitespace at both ends, in place; returns s. */
char *slm_trim(char *s);

/* Monotonic clock in nanoseconds and milliseconds. */
uint64_t slm_now_ns(void);
double slm_now_ms(void);

/* Wall-clock time as "2026-11-21T09:00:00Z" into buf (at least 21 bytes). */
void slm_utc_iso8601(char *buf, size_t n);

/* Formats a double with '.' as the decimal separator whatever the locale (%.*g). */
void slm_fmt_double(char *buf, size_t n, double v, int precision);

/* Directory of the running executable (from /proc/self/exe), "" if unknown. */
const char *slm_exe_dir(void);

/* Parses a non-negative integer (or -1 if allowed) fully; 0 on success. */
int slm_parse_long(const char *s, long *out);
int slm_parse_double(const char *s, double *out);

#endif
