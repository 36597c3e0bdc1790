/*
 * fuzz_target.h — what the libFuzzer targets (tests/fuzz/fuzz_*.c) share.
 *
 * Each target defines LLVMFuzzerTestOneInput(data, size). It is linked either with
 * libFuzzer (`make fuzz`: clang -fsanitize=fuzzer,address,undefined) or with
 * replay_main.c (`make check`: the normal CC, every file of the target's corpus and crash
 * folders run once). A broken promise of the parser — a return value other than 0 or -1,
 * a failure without a message — is reported by FUZZ_CHECK, which aborts: libFuzzer keeps
 * the input as a crash, the replay fails the test.
 */
#ifndef SLM_FUZZ_TARGET_H
#define SLM_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                 \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, (what));         \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* The promise of every parser here: 0, or -1 with a non-empty NUL-terminated message. */
static inline void fuzz_check_rc(int rc, const char *err, size_t errlen, const char *api)
{
    FUZZ_CHECK(rc == 0 || rc == -1, api);
    if (rc == -1)
        FUZZ_CHECK(memchr(err, '\0', errlen) && err[0], api);
}

/* Fills an error buffer with non-NUL bytes, so a message never written shows. */
static inline void fuzz_poison(char *err, size_t n)
{
    memset(err, 'x', n);
}

#endif
