/*
 * replay_main.c — runs a libFuzzer target without libFuzzer: LLVMFuzzerTestOneInput on
 * every file of some folders, once each, in name order. `make check` links each target
 * (tests/fuzz/fuzz_<t>.c) with this file and the normal CC, as $(OUT)/tests/test_fuzz_<t>,
 * so the corpus and the crash reproducers kept in the repository are regression tests on
 * every machine (gcc, and under make SANITIZE=...).
 *
 *   test_fuzz_<t> [DIR|FILE ...]
 *
 * Without arguments: $SLM_ROOT/tests/fuzz/corpus/<t> and $SLM_ROOT/tests/fuzz/crashes/<t>
 * (SLM_ROOT defaults to the current folder; <t> is FUZZ_TARGET, set when compiled). Each
 * folder is one cmocka-style test ("[  PASSED  ] N test(s)." at the end, as
 * tests/run.sh counts); a folder missing or holding no input fails (an emptied corpus
 * would otherwise pass unnoticed), files whose names start with '.' or end in .md are
 * not inputs. A crash, a sanitizer report or a hang (CASE_TIMEOUT_S) names the file first.
 */
#include "fuzz_target.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#ifndef FUZZ_TARGET
#error "compile with -DFUZZ_TARGET='\"name\"'"
#endif

#define CASE_TIMEOUT_S 60 /* one input taking longer is a hang (sanitizer builds are slow) */

/* Set by the sanitizer runtimes; absent in a plain build. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static char g_current[4096]; /* the input being run, for the crash message */

static void say_current(void)
{
    static const char pre[] = "\nreplay: the input that failed: ";
    ssize_t r = write(2, pre, sizeof pre - 1);
    r = write(2, g_current, strlen(g_current));
    r = write(2, "\n", 1);
    (void)r;
}

static void on_signal(int sig)
{
    say_current();
    if (sig == SIGALRM) {
        static const char m[] = "replay: it ran longer than the limit (a hang)\n";
        ssize_t r = write(2, m, sizeof m - 1);
        (void)r;
        _exit(1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The whole file in a buffer of exactly its size (ASan sees any read past it). */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    uint8_t *exact = bad ? NULL : malloc(len ? len : 1);
    if (exact)
        memcpy(exact, buf, len);
    free(buf);
    *n = len;
    return exact;
}

static int run_file(const char *path)
{
    size_t n;
    uint8_t *data = slurp(path, &n);
    if (!data) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    snprintf(g_current, sizeof g_current, "%s", path);
    alarm(CASE_TIMEOUT_S);
    LLVMFuzzerTestOneInput(data, n);
    alarm(0);
    free(data);
    return 0;
}

static int is_input(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && !(n > 3 && !strcmp(name + n - 3, ".md"));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every input of dir (or dir itself, a file); the number run, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return run_file(dir) ? -1 : 1;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_input(de->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        FUZZ_CHECK(grown != NULL, "out of memory");
        names = grown;
        names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
        FUZZ_CHECK(names[n] != NULL, "out of memory");
        sprintf(names[n], "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    long ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (ran >= 0)
            ran = run_file(names[i]) ? -1 : ran + 1;
        free(names[i]);
    }
    free(names);
    return ran;
}

/* One cmocka-style test: the inputs of dir; 0 passed, 1 failed. */
static int replay(const char *dir, int must_hold_inputs)
{
    printf("[ RUN      ] %s\n", dir);
    fflush(stdout);
    long n = run_dir(dir);
    if (n < 0 || (must_hold_inputs && n == 0)) {
        printf("%s: %s\n", dir, n < 0 ? "cannot be read" : "holds no input");
        printf("[  FAILED  ] %s\n", dir);
        return 1;
    }
    printf("[       OK ] %s (%ld inputs)\n", dir, n);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGALRM, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    signal(SIGABRT, on_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_current);
    const char *root = getenv("SLM_ROOT") ? getenv("SLM_ROOT") : ".";
    char corpus[4096], crashes[4096];
    snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", root, FUZZ_TARGET);
    snprintf(crashes, sizeof crashes, "%s/tests/fuzz/crashes/%s", root, FUZZ_TARGET);
    int n = argc > 1 ? argc - 1 : 2, failed = 0;
    printf("[==========] Running %d test(s): the %s fuzz target's inputs.\n", n, FUZZ_TARGET);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            failed += replay(argv[i], 0);
    } else {
        failed += replay(corpus, 1);
        failed += replay(crashes, 0);
    }
    printf("[==========] %d test(s) run.\n", n);
    if (n - failed)
        printf("[  PASSED  ] %d test(s).\n", n - failed);
    if (failed)
        printf("[  FAILED  ] %d test(s).\n", failed);
    return failed ? 1 : 0;
}
