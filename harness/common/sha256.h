/*
 * sha256.h — SHA-256 (FIPS 180-4), used to fingerprint eval sets, prompts and model files.
 */
#ifndef SLM_SHA256_H
#define SLM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct slm_sha256 {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} slm_sha256;

void slm_sha256_init(slm_sha256 *c);
void slm_sha256_update(slm_sha256 *c, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits and a NUL into hex[65]. */
void slm_sha256_final_hex(slm_sha256 *c, char hex[65]);

/* One-shot digest of a buffer. */
void slm_sha256_hex(const void *data, size_t n, char hex[65]);

/* Digest of a file's bytes; 0 on success, -1 with err filled. */
int slm_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif
