/* sha256.c — SHA-256 through libcrypto's EVP interface (see sha256.h). */
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcrypto fails a digest only when it cannot allocate or the build lacks SHA-256; both
 * mean the process cannot go on, like slm_xmalloc's exhaustion. */
static void evp_fail(const char *what)
{
    fprintf(stderr, "slmbench: sha-256: %s failed in libcrypto\n", what);
    abort();
}

void slm_sha256_init(slm_sha256 *c)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    if (!x || EVP_DigestInit_ex(x, EVP_sha256(), NULL) != 1)
        evp_fail("init");
    c->evp = x;
}

void slm_sha256_update(slm_sha256 *c, const void *data, size_t n)
{
    if (n && EVP_DigestUpdate(c->evp, data, n) != 1)
        evp_fail("update");
}

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char dig[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = dig[d[i] >> 4];
        hex[2 * i + 1] = dig[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void slm_sha256_final_hex(slm_sha256 *c, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->evp, d, &n) != 1 || n != 32)
        evp_fail("final");
    EVP_MD_CTX_free(c->evp);
    c->evp = NULL;
    to_hex(d, 32, hex);
}

void slm_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data, n, d, &len, EVP_sha256(), NULL) != 1 || len != 32)
        evp_fail("digest");
    to_hex(d, 32, hex);
}

int slm_sha256_file(const char *path, char hex[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    slm_sha256 c;
    slm_sha256_init(&c);
    /* 1 MiB reads: few system calls on a model of gigabytes; on the heap, not the stack
     * of a worker thread */
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = slm_xmalloc(CHUNK);
    size_t n;
    while ((n = fread(buf, 1, CHUNK, f)) > 0)
        slm_sha256_update(&c, buf, n);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    slm_sha256_final_hex(&c, hex);
    if (bad)
        return slm_err(err, errlen, "cannot read '%s'", path);
    return 0;
}
