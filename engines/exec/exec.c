/*
 * exec.c — the exec engine: runs a local program and talks to it in JSON lines over its
 * stdin and stdout, so any model that a script can drive (Python, a Rust binary, a wrapper
 * around a server) can be evaluated without writing a plugin. The full protocol is in
 * engines/exec/PROTOCOL.md; in short, one JSON object per line:
 *
 *   hello     (optional, the program's first line)
 *             {"slmbench": 1, "caps": ["generate","score"], "name": "...", "version": "..."}
 *             without it the program can only generate
 *   request   {"id": "te01", "op": "generate", "prompt": "...", "max_tokens": 32, "stop": [...]}
 *             {"id": "te01", "op": "score", "prompt": "...", "choices": ["a", "b"]}
 *   response  {"id": "te01", "text": "...", "tokens": 1, "logprobs": [-0.1]}
 *             {"id": "te01", "logprobs": [-0.1, -3.2], "tokens": [1, 1]}
 *             {"id": "te01", "error": "..."}
 *
 * Options of open():
 *   command     required: a JSON array of argv strings (["python3", "m.py", "--x"]) or a
 *               plain string split on spaces and tabs; never given to a shell. argv[0] is
 *               looked up in slmbench's PATH; a relative path is taken from `cwd`
 *   timeout_ms  per request, default 30000
 *   restarts    how many times a program that died or hung is started again, default 3;
 *               after that every request fails with "program 'x' keeps dying: ..."
 *   hello_ms    how long open() waits for the hello line, default 1000
 *   cwd         working directory of the program
 *   env         extra environment, "KEY=VALUE;KEY=VALUE" (replaces inherited values)
 *
 * The program runs as a plain child of slmbench (posix_spawnp, never double-forked, so
 * the harness's inherited counters see it) in its own process group, with stdin, stdout
 * and stderr on pipes. Every wait is a poll() bounded by timeout_ms, with the request
 * written, the answer read and stderr drained in the same loop, so neither side can block
 * the other whatever the sizes. The last lines of stderr go into error messages. With the
 * harness's stop flag (set_stop, ABI 1.4) the loop also wakes every 100 ms: at Ctrl-C a
 * request in flight is abandoned at once, the program SIGKILLed, nothing retried.
 *
 * A request that hits a death or a timeout fails with its cause; the process group is
 * SIGKILLed and reaped, and a new program is started before the next request. A malformed
 * line or an {"error": ...} fails only that request; an answer for another id fails it
 * and restarts the program, whose stream can no longer be trusted. close() closes stdin,
 * sends SIGTERM to the group, SIGKILL after 1 s, and reaps: no zombies.
 *
 * Phases: the program is a black box, so score() marks one prefill phase over the whole
 * round trip (the harness's inherited counters then cover the program's work for that
 * request) and generate() marks none, since a time to first token cannot be seen from
 * outside; end-to-end latency is measured by the harness either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slm_engine.h"
#include "slm_plugin.h"
#include "plugin_json.h"
#include "../../harness/common/slm_limits.h" /* every size limit, in one place */

extern char **environ;

#define ENGINE_VERSION "0.1.0"
#define ENGINE_CAPS (SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_TOKEN_LOGPROBS)
#define PROTOCOL_VERSION 1

/* Defaults of the options, in one place. */
static const struct {
    long timeout_ms, restarts, hello_ms, max_tokens, term_grace_ms, eof_grace_ms;
} DEFAULTS = {30000, 3, 1000, 32, 1000, 100};

#define TAIL_BYTES 2048 /* stderr kept for messages */
#define TAIL_LINES 3    /* of which this many last lines are quoted */

/* What reading an answer sets its `bad` to when a result cannot be allocated. */
static const char BAD_OOM[] = SLM_PLUGIN_OOM_MSG;

/* Capability names a hello line may declare. */
static const struct {
    const char *name;
    uint32_t flag;
} CAP_NAMES[] = {
    {"chat_template", SLM_CAP_CHAT_TEMPLATE},
    {"constrain", SLM_CAP_CONSTRAIN},
    {"generate", SLM_CAP_GENERATE},
    {"score", SLM_CAP_SCORE},
    {"token_logprobs", SLM_CAP_TOKEN_LOGPROBS},
};

struct slm_engine {
    char **argv;   /* NULL-terminated */
    char **envp;   /* NULL-terminated; strings owned */
    char *prog;    /* base name of argv[0], for messages */
    char *cmdline; /* argv joined by spaces, for info() */
    char *cwd;
    long timeout_ms, restarts, hello_ms;

    pid_t pid;     /* 0: no program running */
    int in_fd, out_fd, err_fd;
    slm_plugin_buf out; /* bytes read from stdout, not yet consumed */
    size_t out_nonl;    /* the first out_nonl bytes of out hold no '\n' (0 after a change) */
    int out_eof;
    char tail[TAIL_BYTES]; /* last bytes of stderr (a ring flattened on each append) */
    size_t tail_len;

    uint32_t caps;
    int hello_seen;
    char name[128], version[96];

    long n_restarts;
    int gave_up;         /* restarts used up: every request fails */
    const volatile sig_atomic_t *stop; /* the harness's Ctrl-C flag (set_stop), or NULL */
    char last_fail[512]; /* why the program last died, for "keeps dying" */
};

/* Monotonic clock in nanoseconds. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- small helpers --------------------------------------------------------------------- */

static const char *opt(const slm_options *o, const char *key)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (o->items[i].key && !strcmp(o->items[i].key, key))
            return o->items[i].value;
    return NULL;
}

/* Reads an integer option >= min; *out keeps its default when the option is absent. */
static int opt_long(const slm_options *o, const char *key, long min, long *out, char *err,
                    size_t errlen)
{
    const char *v = opt(o, key);
    long n;
    if (!v)
        return 0;
    if (slm_plugin_parse_long(v, &n) || n < min)
        return slm_plugin_err(err, errlen, "exec: option '%s' must be an integer >= %ld, not '%s'",
                              key, min, v);
    *out = n;
    return 0;
}

static int64_t now_ms(void)
{
    return (int64_t)(now_ns() / 1000000u);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* ---- options: command and environment -------------------------------------------------- */

/* Appends a copy of s to the NULL-terminated *v of *n strings; -1 (v unchanged) when out
 * of memory. */
static int strv_push(char ***v, size_t *n, const char *s)
{
    char *d = slm_plugin_strdup(s);
    char **nv = d ? slm_plugin_realloc(*v, (*n + 2) * sizeof **v) : NULL;
    if (!nv) {
        free(d);
        return -1;
    }
    nv[(*n)++] = d;
    nv[*n] = NULL;
    *v = nv;
    return 0;
}

/* Splits s into words separated by spaces and tabs, into a new NULL-terminated *out (left
 * NULL when there is none); -1 when out of memory (nothing left allocated). */
static int split_words(const char *s, char ***out, size_t *n)
{
    char *copy = slm_plugin_strdup(s), *save = NULL;
    char **v = NULL;
    *n = 0;
    if (!copy)
        return -1;
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
        if (strv_push(&v, n, t)) {
            free(copy);
            free_strv(v);
            return -1;
        }
    free(copy);
    *out = v;
    return 0;
}

/* Splits the command option into a NULL-terminated argv: a JSON array of strings, or
 * words separated by spaces and tabs (no quoting: nothing here is a shell). */
static int parse_command(const char *s, char ***out, char *err, size_t errlen)
{
    *out = NULL;
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    char **v = NULL;
    size_t n = 0;
    if (*p == '[') {
        json_error_t je;
        json_t *a = plugin_json_load(p, strlen(p), &je);
        if (plugin_json_oom()) {
            json_decref(a);
            return slm_plugin_oom(err, errlen);
        }
        if (!a || !json_is_array(a)) {
            json_decref(a);
            return slm_plugin_err(err, errlen,
                                  "exec: option 'command' is not a json array of strings: %s",
                                  a ? "not an array" : je.text);
        }
        v = slm_plugin_calloc(json_array_size(a) + 1, sizeof *v);
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
        {
            if (!v)
                break;
            if (!json_is_string(x) || memchr(json_string_value(x), 0, json_string_length(x))) {
                json_decref(a);
                free_strv(v);
                return slm_plugin_err(err, errlen,
                                      "exec: option 'command': element %zu is not a string", i + 1);
            }
            if (!(v[n++] = slm_plugin_strdup(json_string_value(x)))) {
                free_strv(v); /* NULL-terminated at the failed one */
                v = NULL;
            }
        }
        json_decref(a);
        if (!v)
            return slm_plugin_oom(err, errlen);
    } else if (split_words(p, &v, &n)) {
        return slm_plugin_oom(err, errlen);
    }
    if (n == 0 || !*v[0]) {
        free_strv(v);
        return slm_plugin_err(err, errlen, "exec: option 'command' names no program");
    }
    *out = v;
    return 0;
}

/* slmbench's environment with "KEY=VALUE;KEY=VALUE" laid over it. */
static int build_env(const char *extra, char ***out, char *err, size_t errlen)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **v = slm_plugin_calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = slm_plugin_strdup(environ[i]))) {
            free_strv(v); /* NULL-terminated at the failed one */
            v = NULL;
        }
    char *copy = v && extra ? slm_plugin_strdup(extra) : NULL;
    if (!v || (extra && !copy)) {
        free_strv(v);
        return slm_plugin_oom(err, errlen);
    }
    if (extra) {
        char *save = NULL;
        for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
            slm_plugin_trim(t);
            if (!*t)
                continue;
            char *eq = strchr(t, '=');
            if (!eq || eq == t) {
                slm_plugin_err(err, errlen, "exec: option 'env': '%s' is not KEY=VALUE", t);
                free(copy);
                free_strv(v);
                return -1;
            }
            size_t klen = (size_t)(eq - t) + 1, i;
            for (i = 0; i < n && strncmp(v[i], t, klen); i++)
                ;
            char *kv = i < n ? slm_plugin_strdup(t) : NULL;
            if (i < n ? !kv : strv_push(&v, &n, t)) {
                free(copy);
                free_strv(v);
                return slm_plugin_oom(err, errlen);
            }
            if (kv) {
                free(v[i]);
                v[i] = kv;
            }
        }
        free(copy);
    }
    *out = v;
    return 0;
}

/* ---- the child: stderr tail, start, stop ----------------------------------------------- */

static void tail_add(slm_engine *e, const char *s, size_t n)
{
    if (n >= TAIL_BYTES) {
        s += n - (TAIL_BYTES - 1);
        n = TAIL_BYTES - 1;
    }
    if (e->tail_len + n >= TAIL_BYTES) {
        size_t drop = e->tail_len + n - (TAIL_BYTES - 1);
        memmove(e->tail, e->tail + drop, e->tail_len - drop);
        e->tail_len -= drop;
    }
    memcpy(e->tail + e->tail_len, s, n);
    e->tail_len += n;
    e->tail[e->tail_len] = '\0';
}

/* Appends "; stderr: a | b | c" with the last non-blank stderr lines to buf, if any. */
static void tail_quote(const slm_engine *e, char *buf, size_t n)
{
    const char *lines[TAIL_LINES];
    size_t lens[TAIL_LINES], k = 0;
    const char *end = e->tail + e->tail_len;
    while (k < TAIL_LINES && end > e->tail) {
        const char *b = end;
        while (b > e->tail && b[-1] != '\n')
            b--;
        const char *s = b, *t = end;
        while (s < t && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
            s++;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r' || t[-1] == '\n'))
            t--;
        if (t > s) {
            lines[k] = s;
            lens[k++] = (size_t)(t - s);
        }
        end = b > e->tail ? b - 1 : b;
    }
    if (!k)
        return;
    size_t used = strlen(buf);
    snprintf(buf + used, n - used, "; stderr: ");
    while (k-- > 0) {
        used = strlen(buf);
        snprintf(buf + used, n - used, "%.*s%s", (int)(lens[k] > 200 ? 200 : lens[k]), lines[k],
                 k ? " | " : "");
    }
}

static void drain_stderr(slm_engine *e)
{
    char buf[4096];
    for (;;) {
        ssize_t r = read(e->err_fd, buf, sizeof buf);
        if (r > 0) {
            tail_add(e, buf, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) { /* stderr closed: nothing more will come */
            close(e->err_fd);
            e->err_fd = -1;
        }
        return;
    }
}

/* Describes a wait status as "program 'x' exited with status 3<when>" (+ stderr tail). */
static void describe_status(const slm_engine *e, int status, const char *when, char *buf,
                            size_t n)
{
    if (WIFEXITED(status))
        snprintf(buf, n, "program '%s' exited with status %d%s", e->prog, WEXITSTATUS(status),
                 when);
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "program '%s' was killed by signal %d (%s)%s", e->prog,
                 WTERMSIG(status), strsignal(WTERMSIG(status)), when);
    else
        snprintf(buf, n, "program '%s' stopped%s", e->prog, when);
    tail_quote(e, buf, n);
}

/* Nonzero once the program has exited (left a zombie, not reaped yet). */
static int child_exited(const slm_engine *e)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)e->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

/*
 * Stops the program and reaps it; returns its wait status. With grace, stdin is closed
 * first (a well-behaved program exits on EOF), then the group gets SIGTERM and, 1 s later,
 * SIGKILL; without, SIGKILL at once. The group is signalled while the leader is still
 * unreaped, so its id cannot have been reused; helpers the program started die with it.
 */
static int stop_child(slm_engine *e, int grace)
{
    int status = 0;
    if (e->in_fd >= 0)
        close(e->in_fd);
    e->in_fd = -1;
    if (e->pid > 0) {
        if (grace) {
            int64_t t = now_ms();
            while (!child_exited(e) && now_ms() - t < DEFAULTS.eof_grace_ms)
                sleep_ms(5);
            if (!child_exited(e)) {
                kill(-e->pid, SIGTERM);
                t = now_ms();
                while (!child_exited(e) && now_ms() - t < DEFAULTS.term_grace_ms)
                    sleep_ms(5);
            }
        }
        kill(-e->pid, SIGKILL);
        while (waitpid(e->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    e->pid = 0;
    if (e->err_fd >= 0) {
        drain_stderr(e); /* what it said before dying, for the message */
        if (e->err_fd >= 0)
            close(e->err_fd);
    }
    if (e->out_fd >= 0)
        close(e->out_fd);
    e->out_fd = e->err_fd = -1;
    e->out.len = 0;
    e->out_nonl = 0;
    if (e->out.data)
        e->out.data[0] = '\0';
    e->out_eof = 0;
    return status;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Starts the program with its three standard streams on pipes, in a new process group,
 * signal mask and dispositions reset. Does not wait for anything. */
static int start_child(slm_engine *e, char *err, size_t errlen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, ep[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
        int en = errno;
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
            if (ep[i] >= 0)
                close(ep[i]);
        }
        return slm_plugin_err(err, errlen, "exec: cannot make pipes: %s", strerror(en));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    /* slmbench's other descriptors (the database, counters) are none of its business */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    if (e->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, e->cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawnp(&pid, e->argv[0], &fa, &at, e->argv, e->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    close(ep[1]);
    if (rc) {
        close(in[1]);
        close(out[0]);
        close(ep[0]);
        return slm_plugin_err(err, errlen, "exec: cannot start program '%s'%s%s: %s", e->argv[0],
                              e->cwd ? " in " : "", e->cwd ? e->cwd : "", strerror(rc));
    }
    e->pid = pid;
    e->in_fd = in[1];
    e->out_fd = out[0];
    e->err_fd = ep[0];
    e->tail_len = 0;
    e->tail[0] = '\0';
    set_nonblock(e->in_fd);
    set_nonblock(e->out_fd);
    set_nonblock(e->err_fd);
    return 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */

enum { IO_OK = 0, IO_TIMEOUT = 1, IO_EOF = 2, IO_OOM = 3, IO_STOP = 4 };

/* Reads what stdout holds straight into e->out, room made first: when memory runs out,
 * nothing is read, so the stream stays whole for the next request. Bytes read (> 0), 0 at
 * end of file, -1 on an error (errno), -2 when out of memory. */
static ssize_t read_out(slm_engine *e)
{
    if (slm_plugin_buf_reserve(&e->out, 65536))
        return -2;
    ssize_t k = read(e->out_fd, e->out.data + e->out.len, e->out.cap - e->out.len - 1);
    if (k > 0) {
        e->out.len += (size_t)k;
        e->out.data[e->out.len] = '\0';
    }
    return k;
}

/* Writes without letting a closed pipe raise SIGPIPE in slmbench: the signal is blocked
 * for this thread during the write and a SIGPIPE it caused is taken off the queue. */
static ssize_t write_nosigpipe(int fd, const void *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = write(fd, p, n);
    int en = errno;
    if (r < 0 && en == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = en;
    return r;
}

/* Index of the end of the first complete line in e->out, or -1. */
static long line_end(slm_engine *e)
{
    /* the bytes already searched are not searched again: a 64 MiB line read 64 KiB at a
     * time would otherwise cost a thousand scans of up to 64 MiB */
    size_t from = e->out_nonl <= e->out.len ? e->out_nonl : 0;
    const char *nl = e->out.len ? memchr(e->out.data + from, '\n', e->out.len - from) : NULL;
    if (!nl)
        e->out_nonl = e->out.len;
    return nl ? (long)(nl - e->out.data) : -1;
}

/*
 * The one I/O loop: writes w[0..wn) to the program's stdin, reads its stdout into e->out
 * and drains its stderr, until the write is done and (if want_line) a whole line is
 * buffered. IO_TIMEOUT at the deadline (ms, monotonic), IO_EOF if the program closed
 * stdout or stdin (it died, or is about to), IO_OOM when e->out cannot grow, IO_STOP when
 * the harness's stop flag is set (Ctrl-C: read at least every 100 ms).
 */
static int pump(slm_engine *e, const char *w, size_t wn, int want_line, int64_t deadline)
{
    size_t woff = 0;
    for (;;) {
        long le = want_line ? line_end(e) : -1; /* a line longer than the limit is not one */
        if (woff == wn && (!want_line || (le >= 0 && le <= (long)SLM_EXEC_MAX_LINE_BYTES)))
            return IO_OK;
        if (e->out_eof || le > (long)SLM_EXEC_MAX_LINE_BYTES ||
            (le < 0 && e->out.len > SLM_EXEC_MAX_LINE_BYTES))
            return IO_EOF;
        if (e->stop && *e->stop)
            return IO_STOP;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return IO_TIMEOUT;
        struct pollfd fds[3];
        int nf = 0, iw = -1, io, ie = -1;
        io = nf;
        fds[nf++] = (struct pollfd){e->out_fd, POLLIN, 0};
        if (e->err_fd >= 0) {
            ie = nf;
            fds[nf++] = (struct pollfd){e->err_fd, POLLIN, 0};
        }
        if (woff < wn) {
            iw = nf;
            fds[nf++] = (struct pollfd){e->in_fd, POLLOUT, 0};
        }
        int64_t cap = e->stop ? 100 : 1000000; /* the stop flag is read between polls */
        int r = poll(fds, (nfds_t)nf, left > cap ? (int)cap : (int)left);
        if (r < 0) {
            if (errno == EINTR) /* a signal for the harness (SIGINT): keep waiting */
                continue;
            return IO_EOF;
        }
        if (ie >= 0 && fds[ie].revents)
            drain_stderr(e);
        if (iw >= 0 && fds[iw].revents) {
            ssize_t k = write_nosigpipe(e->in_fd, w + woff, wn - woff);
            if (k > 0)
                woff += (size_t)k;
            else if (k < 0 && errno != EAGAIN && errno != EINTR)
                return IO_EOF; /* EPIPE: the program closed its stdin */
        }
        if (fds[io].revents) {
            ssize_t k = read_out(e);
            if (k == -2)
                return IO_OOM;
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                e->out_eof = 1;
        }
    }
}

/* Takes the first line (without '\n', '\r') out of e->out; caller frees. NULL when out of
 * memory, the line left where it was. */
static char *take_line(slm_engine *e)
{
    long end = line_end(e);
    size_t n = (size_t)end, rest = e->out.len - n - 1;
    while (n > 0 && e->out.data[n - 1] == '\r')
        n--;
    char *line = slm_plugin_strndup(e->out.data, n);
    if (!line)
        return NULL;
    memmove(e->out.data, e->out.data + end + 1, rest);
    e->out.len = rest;
    e->out_nonl = 0;
    e->out.data[rest] = '\0';
    return line;
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return !*s;
}

/* If line is a hello object, takes the capabilities and names from it and returns 1; -1
 * when memory ran out while reading it. */
static int take_hello(slm_engine *e, const char *line)
{
    if (!strstr(line, "\"slmbench\""))
        return 0;
    json_t *o = plugin_json_load(line, strlen(line), NULL);
    if (plugin_json_oom()) {
        json_decref(o);
        return -1;
    }
    if (!json_is_object(o) || !json_object_get(o, "slmbench")) {
        json_decref(o);
        return 0;
    }
    json_t *caps = json_object_get(o, "caps");
    if (json_is_array(caps)) {
        uint32_t c = 0;
        size_t i;
        json_t *x;
        json_array_foreach(caps, i, x)
        {
            for (size_t k = 0; json_is_string(x) && k < sizeof CAP_NAMES / sizeof *CAP_NAMES; k++)
                if (!strcmp(json_string_value(x), CAP_NAMES[k].name))
                    c |= CAP_NAMES[k].flag;
        }
        e->caps = c;
    }
    const char *s;
    if ((s = json_string_value(json_object_get(o, "name"))))
        snprintf(e->name, sizeof e->name, "%s", s);
    if ((s = json_string_value(json_object_get(o, "version"))))
        snprintf(e->version, sizeof e->version, "%s", s);
    e->hello_seen = 1;
    json_decref(o);
    return 1;
}

/* Reads whatever stdout and stderr hold right now, without waiting; -1 when out of
 * memory (what was not read stays in the pipe). */
static int read_ready(slm_engine *e)
{
    int rc = 0;
    for (;;) {
        ssize_t k = read_out(e);
        if (k > 0)
            continue;
        if (k == -1 && errno == EINTR)
            continue;
        if (k == 0)
            e->out_eof = 1;
        rc = k == -2 ? -1 : 0;
        break;
    }
    if (e->err_fd >= 0)
        drain_stderr(e);
    return rc;
}

/* Drops whatever the program printed between requests (taking a late hello line):
 * leftovers of an earlier answer must not be read as the next one. -1 when out of
 * memory: the rest is dropped all the same. */
static int discard_stale(slm_engine *e)
{
    int rc = read_ready(e);
    while (!rc && line_end(e) >= 0) {
        char *line = take_line(e);
        if (!line || take_hello(e, line) < 0)
            rc = -1;
        free(line);
    }
    e->out.len = 0;
    e->out_nonl = 0;
    if (e->out.data)
        e->out.data[0] = '\0';
    return rc;
}

/* Waits up to hello_ms for the first line; a hello sets the capabilities, anything else is
 * left for discard_stale(). Fails if the program dies meanwhile. */
static int await_hello(slm_engine *e, char *err, size_t errlen)
{
    int64_t deadline = now_ms() + e->hello_ms;
    int rc = pump(e, NULL, 0, 1, deadline);
    if (rc == IO_OOM)
        return slm_plugin_oom(err, errlen);
    if (rc == IO_OK) {
        long end = line_end(e);
        char *line = slm_plugin_strndup(e->out.data, (size_t)end);
        int hello = line ? take_hello(e, line) : -1;
        free(line);
        if (hello > 0) /* drop it; when that fails, discard_stale() will */
            free(take_line(e));
        return hello < 0 ? slm_plugin_oom(err, errlen) : 0;
    }
    if (rc == IO_EOF || child_exited(e)) {
        char why[512];
        describe_status(e, stop_child(e, 0), " on start", why, sizeof why);
        return slm_plugin_err(err, errlen, "exec: %s", why);
    }
    return 0; /* no hello within hello_ms: a program that only generates */
}

/* ---- requests ---------------------------------------------------------------------------- */

/* After a failure that killed the program: starts it again if restarts are left. */
static void restart(slm_engine *e, const char *why)
{
    if (why != e->last_fail)
        snprintf(e->last_fail, sizeof e->last_fail, "%s", why);
    if (e->pid > 0)
        stop_child(e, 0);
    if (e->n_restarts >= e->restarts) {
        e->gave_up = 1;
        return;
    }
    e->n_restarts++;
    char msg[SLM_PLUGIN_ERRLEN];
    if (start_child(e, msg, sizeof msg))
        snprintf(e->last_fail, sizeof e->last_fail, "%.500s", msg); /* tried again next request */
}

static int fail_kept(slm_engine *e, char *err, size_t errlen)
{
    return slm_plugin_err(err, errlen, "program '%s' keeps dying: restarted %ld times; last: %s",
                          e->prog, e->n_restarts, e->last_fail);
}

/* Writes the request line text[0..n) and reads the answer's line into *line (caller
 * frees), skipping blank lines and late hellos: IO_OK, or IO_TIMEOUT, IO_EOF, IO_OOM. */
static int exchange(slm_engine *e, const char *text, size_t n, char **line)
{
    int64_t deadline = now_ms() + e->timeout_ms;
    *line = NULL;
    for (;;) {
        int rc = pump(e, text, n, 1, deadline);
        text = NULL;
        n = 0;
        if (rc != IO_OK)
            return rc;
        char *l = take_line(e);
        int hello = l && !blank(l) ? take_hello(e, l) : 0;
        if (!l || hello < 0) {
            free(l);
            return IO_OOM;
        }
        if (!blank(l) && !hello) {
            *line = l;
            return IO_OK;
        }
        free(l);
    }
}

/*
 * Sends one request (a JSON object with "id") and reads the answer for that id into *out.
 * A death or a timeout kills and restarts the program; a malformed line, an "error" or a
 * missing field fail only this request.
 */
static int round_trip(slm_engine *e, json_t *req, const char *id, json_t **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (e->gave_up)
        return fail_kept(e, err, errlen);
    if (e->pid > 0 && child_exited(e)) { /* died while idle: not this request's fault */
        char why[512];
        describe_status(e, stop_child(e, 0), "", why, sizeof why);
        restart(e, why);
    } else if (e->pid == 0) {
        restart(e, e->last_fail[0] ? e->last_fail : "not running");
    }
    if (e->gave_up || e->pid == 0)
        return e->gave_up ? fail_kept(e, err, errlen)
                          : slm_plugin_err(err, errlen, "%s", e->last_fail);
    if (discard_stale(e))
        return slm_plugin_oom(err, errlen);

    plugin_json_clear();
    char *text = json_dumps(req, JSON_COMPACT), *line = NULL;
    if (text && plugin_json_oom()) {
        free(text);
        text = NULL;
    }
    if (!text)
        return plugin_json_oom() ? slm_plugin_oom(err, errlen)
                                 : slm_plugin_err(err, errlen,
                                                  "exec: cannot encode the request for '%s' "
                                                  "(invalid utf-8?)",
                                                  id);
    size_t n = strlen(text);
    char *nl = slm_plugin_realloc(text, n + 2);
    if (!nl) {
        free(text);
        return slm_plugin_oom(err, errlen);
    }
    text = nl;
    text[n++] = '\n';
    text[n] = '\0';
    int rc = exchange(e, text, n, &line);
    free(text);
    if (rc == IO_OOM) { /* an answer may be half read: the stream cannot be trusted */
        stop_child(e, 0);
        restart(e, SLM_PLUGIN_OOM_MSG);
        return slm_plugin_oom(err, errlen);
    }
    if (rc == IO_STOP) { /* Ctrl-C: the request is abandoned, the program stopped, no retry */
        stop_child(e, 0);
        return slm_plugin_err(err, errlen, "exec: interrupted (the request '%s' to program "
                              "'%s' was abandoned)", id, e->prog);
    }
    if (rc == IO_TIMEOUT) {
        char why[512];
        snprintf(why, sizeof why, "program '%s' timed out after %ld ms", e->prog, e->timeout_ms);
        stop_child(e, 0);
        tail_quote(e, why, sizeof why);
        restart(e, why);
        return slm_plugin_err(err, errlen, "%s", why);
    }
    if (rc == IO_EOF) {
        /* stdout or stdin closed: the program is dying; give it a moment to finish */
        int64_t t = now_ms();
        while (!child_exited(e) && now_ms() - t < 200)
            sleep_ms(2);
        char why[512];
        if (line_end(e) > (long)SLM_EXEC_MAX_LINE_BYTES ||
            (line_end(e) < 0 && e->out.len > SLM_EXEC_MAX_LINE_BYTES))
            snprintf(why, sizeof why, "program '%s' sent a line longer than %u bytes", e->prog,
                     SLM_EXEC_MAX_LINE_BYTES);
        else
            describe_status(e, stop_child(e, 0), "", why, sizeof why);
        restart(e, why);
        return slm_plugin_err(err, errlen, "%s", why);
    }

    json_error_t je;
    json_t *o = plugin_json_load(line, strlen(line), &je);
    if (plugin_json_oom()) {
        json_decref(o);
        free(line);
        return slm_plugin_oom(err, errlen);
    }
    if (!json_is_object(o)) {
        int r = slm_plugin_err(err, errlen, "program '%s' answered '%s' with %s%s%s: '%.80s'",
                               e->prog, id, o ? "json that is not an object" : "malformed json",
                               o ? "" : " - ", o ? "" : je.text, line);
        json_decref(o);
        free(line);
        return r;
    }
    free(line);
    json_t *jid = json_object_get(o, "id");
    if (!json_is_string(jid) || strcmp(json_string_value(jid), id)) {
        char why[512];
        char *got = jid ? json_dumps(jid, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        snprintf(why, sizeof why, "program '%s' answered request '%s' with id %s", e->prog, id,
                 got ? got : "(none)");
        free(got);
        json_decref(o);
        restart(e, why); /* out of step: what it says next cannot be trusted */
        return slm_plugin_err(err, errlen, "%s", why);
    }
    json_t *je2 = json_object_get(o, "error");
    if (je2 && !json_is_null(je2)) {
        int r = json_is_string(je2)
                        ? slm_plugin_err(err, errlen, "program '%s': %s", e->prog,
                                         json_string_value(je2))
                        : slm_plugin_err(err, errlen, "program '%s' failed on '%s'", e->prog, id);
        json_decref(o);
        return r;
    }
    *out = o;
    return 0;
}

/* Optional integer field; def when absent; -1 (with err) when not an integer. */
static int get_int(json_t *o, const char *key, long def, long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v))
        return -1;
    *out = (long)json_integer_value(v);
    return 0;
}

/* ---- the vtable ------------------------------------------------------------------------ */

static void engine_close(slm_engine *e)
{
    if (!e)
        return;
    if (e->pid > 0)
        stop_child(e, 1);
    slm_plugin_buf_free(&e->out);
    free_strv(e->argv);
    free_strv(e->envp);
    free(e->prog);
    free(e->cmdline);
    free(e->cwd);
    free(e);
}

/* Starts the program named by the option command and waits up to hello_ms for its hello.
 * Fails on bad options, a program that cannot be started, or one that dies at once. */
static int engine_open(const slm_options *opts, slm_engine **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *cmd = opt(opts, "command");
    if (!cmd || !*cmd)
        return slm_plugin_err(err, errlen,
                              "exec: missing option 'command' (the program to run, e.g. "
                              "[\"python3\", \"model.py\"])");
    plugin_json_init();
    slm_engine *e = slm_plugin_calloc(1, sizeof *e);
    if (!e)
        return slm_plugin_oom(err, errlen);
    e->pid = 0;
    e->in_fd = e->out_fd = e->err_fd = -1;
    e->timeout_ms = DEFAULTS.timeout_ms;
    e->restarts = DEFAULTS.restarts;
    e->hello_ms = DEFAULTS.hello_ms;
    e->caps = SLM_CAP_GENERATE;
    if (parse_command(cmd, &e->argv, err, errlen) ||
        build_env(opt(opts, "env"), &e->envp, err, errlen) ||
        opt_long(opts, "timeout_ms", 1, &e->timeout_ms, err, errlen) ||
        opt_long(opts, "restarts", 0, &e->restarts, err, errlen) ||
        opt_long(opts, "hello_ms", 0, &e->hello_ms, err, errlen)) {
        engine_close(e);
        return -1;
    }
    const char *cwd = opt(opts, "cwd");
    const char *base = strrchr(e->argv[0], '/');
    e->prog = slm_plugin_strdup(base ? base + 1 : e->argv[0]);
    slm_plugin_buf cl = {0};
    for (size_t i = 0; e->argv[i]; i++)
        slm_plugin_buf_printf(&cl, "%s%s", i ? " " : "", e->argv[i]);
    e->cmdline = slm_plugin_buf_take(&cl); /* NULL if a printf failed */
    if ((cwd && *cwd && !(e->cwd = slm_plugin_strdup(cwd))) || !e->prog || !e->cmdline) {
        engine_close(e);
        return slm_plugin_oom(err, errlen);
    }
    if (start_child(e, err, errlen) || await_hello(e, err, errlen)) {
        engine_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

static int engine_info(slm_engine *e, slm_model_info *info, char *err, size_t errlen)
{
    if (!e || !info)
        return slm_plugin_err(err, errlen, "exec: no engine or no info to fill");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.caps = e->caps;
    snprintf(m.arch, sizeof m.arch, "exec");
    snprintf(m.name, sizeof m.name, "%s", e->name[0] ? e->name : e->prog);
    snprintf(m.engine_version, sizeof m.engine_version, "exec " ENGINE_VERSION "%s%.80s%s",
             e->version[0] ? " (" : "", e->version, e->version[0] ? ")" : "");
    snprintf(m.desc, sizeof m.desc, "%s", e->cmdline);
    size_t n = info->struct_size < sizeof m ? info->struct_size : sizeof m;
    size_t skip = sizeof m.struct_size;
    if (n > skip)
        memcpy((char *)info + skip, (char *)&m + skip, n - skip);
    return 0;
}

/* The fields every request carries. NULL (err set) if the prompt cannot be encoded or
 * memory ran out. */
static json_t *new_request(const slm_request *req, const char *op, char *err, size_t errlen)
{
    plugin_json_clear();
    json_t *prompt = json_stringn(req->prompt, req->prompt_len);
    if (!prompt) {
        if (plugin_json_oom())
            slm_plugin_oom(err, errlen);
        else
            slm_plugin_err(err, errlen, "exec: the prompt of '%s' is not valid utf-8", req->id);
        return NULL;
    }
    /* a set_new() on a NULL object or of a NULL value fails (the value is released) */
    json_t *o = json_object();
    int bad = !o;
    bad |= json_object_set_new(o, "id", json_string(req->id));
    bad |= json_object_set_new(o, "op", json_string(op));
    bad |= json_object_set_new(o, "prompt", prompt);
    if (req->chat_template)
        bad |= json_object_set_new(o, "chat_template", json_true());
    if (bad || plugin_json_oom()) { /* id and op are valid utf-8 (checked): memory ran out */
        json_decref(o);
        slm_plugin_oom(err, errlen);
        return NULL;
    }
    return o;
}

static int check_request(slm_engine *e, const slm_request *req, uint32_t cap, const char *op,
                         char *err, size_t errlen)
{
    if (!req || !req->id || !req->prompt)
        return slm_plugin_err(err, errlen, "exec: request without id or prompt");
    plugin_json_clear();
    json_t *valid = json_string(req->id); /* jansson refuses invalid utf-8 */
    if (!valid)
        return plugin_json_oom() ? slm_plugin_oom(err, errlen)
                                 : slm_plugin_err(err, errlen,
                                                  "exec: example id is not valid utf-8");
    json_decref(valid);
    if (!(e->caps & cap))
        return slm_plugin_err(
                err, errlen,
                "program '%s' does not declare the '%s' capability (its first line may "
                "be {\"slmbench\": 1, \"caps\": [\"generate\", \"score\"]})",
                e->prog, op);
    return 0;
}

static void probe_begin(const slm_probe *p, slm_phase ph)
{
    if (p && p->phase_begin)
        p->phase_begin(p->ud, ph);
}

static void probe_end(const slm_probe *p, slm_phase ph, int n)
{
    if (p && p->phase_end)
        p->phase_end(p->ud, ph, n);
}

static int engine_score(slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, slm_score_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (check_request(e, req, SLM_CAP_SCORE, "score", err, errlen))
        return -1;
    json_t *rq = new_request(req, "score", err, errlen);
    if (!rq)
        return -1;
    plugin_json_clear();
    json_t *ch = json_array();
    int bad_json = !ch;
    for (size_t i = 0; i < n && !bad_json; i++) {
        json_t *s = json_string(choices[i]);
        if (!s && !plugin_json_oom()) {
            json_decref(ch);
            json_decref(rq);
            return slm_plugin_err(err, errlen, "exec: choice %zu is not valid utf-8", i + 1);
        }
        bad_json |= json_array_append_new(ch, s);
    }
    if ((bad_json | json_object_set_new(rq, "choices", ch)) || plugin_json_oom()) {
        json_decref(rq);
        return slm_plugin_oom(err, errlen);
    }
    json_t *o;
    probe_begin(req->probe, SLM_PHASE_PREFILL);
    int rc = round_trip(e, rq, req->id, &o, err, errlen);
    json_decref(rq);
    if (rc) {
        probe_end(req->probe, SLM_PHASE_PREFILL, 0);
        return -1;
    }
    json_t *lp = json_object_get(o, "logprobs"), *nt = json_object_get(o, "tokens");
    long pt = -1;
    const char *bad = NULL;
    if (!json_is_array(lp) || json_array_size(lp) != n)
        bad = "'logprobs' must be an array with one number per choice";
    else if (nt && !json_is_null(nt) && (!json_is_array(nt) || json_array_size(nt) != n))
        bad = "'tokens' must be an array with one integer per choice";
    else if (get_int(o, "prompt_tokens", -1, &pt))
        bad = "'prompt_tokens' is not an integer";
    slm_score_result *res = NULL;
    if (!bad) {
        res = slm_plugin_calloc(1, sizeof *res);
        if (res) {
            res->logprob = slm_plugin_calloc(n ? n : 1, sizeof *res->logprob);
            res->n_tokens = slm_plugin_calloc(n ? n : 1, sizeof *res->n_tokens);
        }
        if (!res || !res->logprob || !res->n_tokens)
            bad = BAD_OOM;
    }
    if (!bad) {
        res->kind = SLM_RESULT_SCORE;
        res->n = n;
        res->n_prompt_tokens = (int32_t)pt;
        res->timings = (slm_timings){-1, -1, -1, -1};
        for (size_t i = 0; i < n && !bad; i++) {
            json_t *x = json_array_get(lp, i), *t = json_array_get(nt, i);
            if (!json_is_number(x))
                bad = "'logprobs' must be an array with one number per choice";
            else if (t && !json_is_integer(t))
                bad = "'tokens' must be an array with one integer per choice";
            else {
                res->logprob[i] = json_number_value(x);
                res->n_tokens[i] = t ? (int32_t)json_integer_value(t) : 1;
            }
        }
    }
    json_decref(o);
    probe_end(req->probe, SLM_PHASE_PREFILL, pt > 0 ? (int)pt : 0);
    if (bad) {
        if (res) {
            free(res->logprob);
            free(res->n_tokens);
            free(res);
        }
        if (bad == BAD_OOM)
            return slm_plugin_oom(err, errlen);
        return slm_plugin_err(err, errlen, "program '%s' answered '%s' badly: %s", e->prog, req->id,
                              bad);
    }
    *out = res;
    return 0;
}

/* Cuts text at the first stop string, in case the program did not. */
static void apply_stops(char *text, size_t *len, const slm_gen_params *p)
{
    for (size_t i = 0; p && p->stop && i < p->n_stop; i++) {
        if (!p->stop[i] || !*p->stop[i])
            continue;
        char *hit = strstr(text, p->stop[i]);
        if (hit) {
            *hit = '\0';
            *len = (size_t)(hit - text);
        }
    }
}

/* Adds generate()'s parameters to the request rq; -1 when memory ran out. A stop string,
 * grammar or schema that is not valid utf-8 is left out, as it always was. */
static int add_gen_params(json_t *rq, const slm_gen_params *params, long max_tokens)
{
    plugin_json_clear();
    int bad = json_object_set_new(rq, "max_tokens", json_integer(max_tokens));
    json_t *stop = json_array();
    for (size_t i = 0; stop && params && params->stop && i < params->n_stop; i++)
        if (params->stop[i])
            json_array_append_new(stop, json_string(params->stop[i]));
    bad |= json_object_set_new(rq, "stop", stop);
    if (params && params->grammar)
        json_object_set_new(rq, "grammar", json_string(params->grammar));
    if (params && params->json_schema)
        json_object_set_new(rq, "json_schema", json_string(params->json_schema));
    if (params && params->temperature > 0) {
        bad |= json_object_set_new(rq, "temperature", json_real(params->temperature));
        bad |= json_object_set_new(rq, "seed", json_integer(params->seed));
    }
    return bad || plugin_json_oom() ? -1 : 0;
}

static int engine_generate(slm_engine *e, const slm_request *req, const slm_gen_params *params,
                           slm_gen_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (check_request(e, req, SLM_CAP_GENERATE, "generate", err, errlen))
        return -1;
    json_t *rq = new_request(req, "generate", err, errlen);
    if (!rq)
        return -1;
    long max_tokens = params && params->max_tokens > 0 ? params->max_tokens
                                                       : DEFAULTS.max_tokens;
    if (add_gen_params(rq, params, max_tokens)) {
        json_decref(rq);
        return slm_plugin_oom(err, errlen);
    }
    json_t *o;
    if (round_trip(e, rq, req->id, &o, err, errlen)) {
        json_decref(rq);
        return -1;
    }
    json_decref(rq);
    json_t *text = json_object_get(o, "text"), *lp = json_object_get(o, "logprobs");
    const char *fin = json_string_value(json_object_get(o, "finish"));
    long nt = -1, pt = -1;
    const char *bad = NULL;
    if (!json_is_string(text))
        bad = "'text' must be a string";
    else if (get_int(o, "tokens", -1, &nt))
        bad = "'tokens' is not an integer";
    else if (get_int(o, "prompt_tokens", -1, &pt))
        bad = "'prompt_tokens' is not an integer";
    else if (lp && !json_is_null(lp) && !json_is_array(lp))
        bad = "'logprobs' must be an array of numbers, one per token";
    else if (json_is_array(lp) && nt >= 0 && json_array_size(lp) != (size_t)nt)
        bad = "'logprobs' must have one number per token ('tokens')";
    slm_gen_result *res = NULL;
    if (!bad) {
        res = slm_plugin_calloc(1, sizeof *res);
        if (res)
            res->text = slm_plugin_strndup(json_string_value(text), json_string_length(text));
        size_t k = json_is_array(lp) ? json_array_size(lp) : 0;
        if (res && res->text && k)
            res->token_logprobs = slm_plugin_calloc(k, sizeof *res->token_logprobs);
        if (!res || !res->text || (k && !res->token_logprobs))
            bad = BAD_OOM;
    }
    if (!bad) {
        res->kind = SLM_RESULT_GENERATE;
        res->text_len = strlen(res->text); /* an embedded NUL ends the answer */
        apply_stops(res->text, &res->text_len, params);
        res->n_prompt_tokens = (int32_t)pt;
        if (res->token_logprobs) {
            size_t k = json_array_size(lp);
            for (size_t i = 0; i < k && !bad; i++) {
                json_t *x = json_array_get(lp, i);
                if (!json_is_number(x))
                    bad = "'logprobs' must be an array of numbers, one per token";
                else
                    res->token_logprobs[i] = json_number_value(x);
            }
            if (nt < 0)
                nt = (long)k;
        }
        res->n_output_tokens = (int32_t)nt;
        res->finish = fin && !strcmp(fin, "length") ? SLM_FINISH_LENGTH : SLM_FINISH_STOP;
        res->timings = (slm_timings){-1, -1, -1, -1};
    }
    json_decref(o);
    if (bad) {
        if (res) {
            free(res->text);
            free(res->token_logprobs);
            free(res);
        }
        if (bad == BAD_OOM)
            return slm_plugin_oom(err, errlen);
        return slm_plugin_err(err, errlen, "program '%s' answered '%s' badly: %s", e->prog, req->id,
                              bad);
    }
    *out = res;
    return 0;
}


/* The harness's Ctrl-C flag: a request in flight ends within 100 ms of it (ABI 1.4). */
static void engine_set_stop(slm_engine *e, const volatile sig_atomic_t *stop)
{
    if (e)
        e->stop = stop;
}

/* Checks the option keys and the integer options as engine_open() reads them, without
 * starting anything (1.5). */
static int engine_check_options(const slm_options *opts, char *err, size_t errlen)
{
    static const char *const known[] = {"command",  "env",      "cwd", "timeout_ms",
                                        "restarts", "hello_ms", NULL};
    long dummy;
    if (slm_plugin_check_keys(opts, known, "exec", err, errlen) ||
        opt_long(opts, "timeout_ms", 1, &dummy, err, errlen) ||
        opt_long(opts, "restarts", 0, &dummy, err, errlen) ||
        opt_long(opts, "hello_ms", 0, &dummy, err, errlen))
        return -1;
    return 0;
}

static const slm_engine_vtable vtable = {
    .abi_version = SLM_ENGINE_ABI_VERSION,
    .struct_size = sizeof(slm_engine_vtable),
    .name = "exec",
    .version = ENGINE_VERSION,
    .description = "runs a local program (argv, no shell) and talks json lines over its "
                   "stdin/stdout; see engines/exec/PROTOCOL.md",
    .caps = ENGINE_CAPS,
    .init = NULL,                       /* nothing library-wide */
    .open = engine_open,                /* starts the program, reads its optional hello */
    .info = engine_info,                /* arch "exec", caps and name from the hello */
    .score = engine_score,              /* if the hello declared "score" */
    .generate = engine_generate,        /* unless a hello left "generate" out */
    .result_free = slm_result_free_plain,  /* either kind of result */
    .close = engine_close,              /* EOF, SIGTERM, SIGKILL after 1 s, reaped; NULL-safe */
    .quantize = NULL,                   /* nothing to quantize */
    .shutdown = NULL,                   /* nothing library-wide */
    .score_batch = NULL,                /* one request at a time */
    .set_stop = engine_set_stop,        /* Ctrl-C ends a request in flight (1.4) */
    .check_options = engine_check_options, /* keys and numbers, nothing started (1.5) */
};

/* The plugin's only export: the table above, static and constant. */
const slm_engine_vtable *slm_engine_entry(void)
{
    return &vtable;
}
