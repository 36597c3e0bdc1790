/*
 * test_sha256.c — sha256.c against the known answers of FIPS 180-4's examples (NIST's
 * "SHA256.pdf" and the one-million-'a' message of FIPS 180-2 appendix B.3): the one-shot
 * digest, the same bytes fed in uneven pieces, and a file read through the file API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sha256.h"
#include "util.h"

static const struct {
    const char *msg;
    const char *hex;
} kat[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    /* the 448-bit message: two blocks once padded */
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};
#define MILLION_A_HEX "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static char *million_a(void)
{
    char *s = malloc(1000000);
    assert_non_null(s);
    memset(s, 'a', 1000000);
    return s;
}

static void one_shot_known_answers(void **state)
{
    char hex[65];
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        slm_sha256_hex(kat[i].msg, strlen(kat[i].msg), hex);
        assert_string_equal(hex, kat[i].hex);
    }
    char *a = million_a();
    slm_sha256_hex(a, 1000000, hex);
    assert_string_equal(hex, MILLION_A_HEX);
    free(a);
}

/* Pieces of 1, 63, 64, 65... bytes cross the 64-byte block edges every way. */
static void pieces_give_the_same_digest(void **state)
{
    char *a = million_a();
    slm_sha256 c;
    slm_sha256_init(&c);
    size_t off = 0, step = 1;
    while (off < 1000000) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;
        slm_sha256_update(&c, a + off, n);
        off += n;
        step = step * 7 % 131 + 1;
    }
    char hex[65];
    slm_sha256_final_hex(&c, hex);
    assert_string_equal(hex, MILLION_A_HEX);
    /* a context is reusable after final */
    slm_sha256_init(&c);
    slm_sha256_update(&c, "ab", 2);
    slm_sha256_update(&c, "c", 1);
    slm_sha256_final_hex(&c, hex);
    assert_string_equal(hex, kat[1].hex);
    free(a);
}

static void file_known_answers(void **state)
{
    char path[] = "/tmp/slm_sha256_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[SLM_ERRLEN], hex[65];
    char *a = million_a();
    /* more than one read of the file API */
    assert_int_equal(slm_write_file_atomic(path, a, 1000000, err, sizeof err), 0);
    assert_int_equal(slm_sha256_file(path, hex, err, sizeof err), 0);
    assert_string_equal(hex, MILLION_A_HEX);
    assert_int_equal(slm_write_file_atomic(path, "", 0, err, sizeof err), 0);
    assert_int_equal(slm_sha256_file(path, hex, err, sizeof err), 0);
    assert_string_equal(hex, kat[0].hex);
    unlink(path);
    assert_int_equal(slm_sha256_file(path, hex, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_shot_known_answers),
        cmocka_unit_test(pieces_give_the_same_digest),
        cmocka_unit_test(file_known_answers),
    };
    return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
