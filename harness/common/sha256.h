/*
 * sha256.h — SHA-256 (FIPS 180-4), used to fingerprint eval sets, prompts and model files.
 *
 * Computed through OpenSSL's libcrypto (EVP), which uses the CPU's SHA extensions or
 * vector code: models are hashed on every run, and libcrypto is several times faster
 * than a portable C loop on a multi-gigabyte GGUF.
 */
#ifndef SLM_SHA256_H
#define SLM_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* A running digest. Opaque inside: libcrypto's context. */
typedef struct slm_sha256 {
    void *evp; /* EVP_MD_CTX *, freed by slm_sha256_final_hex() */
} slm_sha256;

/* Starts a digest. Aborts only where the process is out of memory (as slm_xmalloc). */
void slm_sha256_init(slm_sha256 *c);
void slm_sha256_update(slm_sha256 *c, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits and a NUL into hex[65] and frees the
 * context; c may be initialised again afterwards. */
void slm_sha256_final_hex(slm_sha256 *c, char hex[65]);

/* One-shot digest of a buffer. */
void slm_sha256_hex(const void *data, size_t n, char hex[65]);

/* Digest of a file's bytes; 0 on success, -1 with err filled. */
int slm_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif
