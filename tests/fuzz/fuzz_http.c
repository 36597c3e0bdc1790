/*
 * fuzz_http.c — libFuzzer target: an HTTP answer through the openai engine's response
 * parsing, as libcurl hands it over: header lines to on_header(), the body in chunks to
 * on_body() (which parses a Server-Sent Events stream as it arrives: sse_lines(),
 * absorb()), then attempt_finish() (a whole JSON body, the server's error message, a
 * stream's last line without its newline).
 *
 * Those functions are static in engines/openai/openai.c, so this file includes that
 * source: the target runs the very code the plugin runs, and openai.c needs no entry
 * point, no exported symbol and no header only for the fuzzer (the plugin's only export
 * stays slm_engine_entry). A renamed function breaks this build, loudly.
 *
 * Input: two bytes of settings, then the answer.
 *   byte 0  bit 0 chat endpoint (else completions); bit 1 streamed; bit 2 raw (score's
 *           echo requests); bit 3 max_response_bytes 1024 (else 1 MiB); bits 4-5 the
 *           body's chunk size (all at once, 1, 7 or 61 bytes); bits 6-7 how libcurl ended
 *           the transfer (OK twice, a dropped connection, a timeout)
 *   byte 1  the HTTP status when the answer has no header block: 200 unless it is one of
 *           1 (400), 2 (429), 3 (500)
 *   then    optionally header lines ending in an empty line (CRLF CRLF), then the body.
 * Checked: no crash, leak or hang; an answer judged OK keeps no more text than the body
 * holds and no more log-probabilities than its bytes allow; a failure says why.
 */
#include "fuzz_target.h"

#include "openai/openai.c"

/* Feeds the header block (up to and with the empty line) to on_header, line by line. */
static size_t feed_headers(attempt *a, const char *p, size_t n)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n && !end; i++)
        if (!memcmp(p + i, "\r\n\r\n", 4))
            end = p + i + 4;
    if (!end)
        return 0;
    const char *l = p;
    while (l < end) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t len = (size_t)(nl - l) + 1;
        char *line = malloc(len); /* exactly the line: on_header must stay within it */
        FUZZ_CHECK(line != NULL, "out of memory");
        memcpy(line, l, len);
        FUZZ_CHECK(on_header(line, 1, len, a) == len, "on_header refused a line");
        free(line);
        l += len;
    }
    return (size_t)(end - p);
}

/* Feeds the body in chunks; returns how libcurl would end the transfer. */
static CURLcode feed_body(attempt *a, const char *p, size_t n, size_t chunk)
{
    for (size_t off = 0; off < n;) {
        size_t k = chunk && chunk < n - off ? chunk : n - off;
        char *c = malloc(k);
        FUZZ_CHECK(c != NULL, "out of memory");
        memcpy(c, p + off, k);
        size_t took = on_body(c, 1, k, a);
        free(c);
        if (took != k)
            return CURLE_WRITE_ERROR; /* the callback stopped the transfer */
        off += k;
    }
    return CURLE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static CURL *curl; /* never performs: attempt_finish only asks it for the status */
    static const CURLcode ends[] = {CURLE_OK, CURLE_OK, CURLE_RECV_ERROR,
                                    CURLE_OPERATION_TIMEDOUT};
    static const long statuses[] = {200, 400, 429, 500};
    static const size_t chunks[] = {0, 1, 7, 61};
    if (size < 2)
        return 0;
    char err[SLM_PLUGIN_ERRLEN];
    if (!curl) {
        FUZZ_CHECK(engine_init(err, sizeof err) == 0, "libcurl set-up failed");
        curl = curl_easy_init();
        FUZZ_CHECK(curl != NULL, "curl_easy_init failed");
    }
    unsigned f = data[0];
    slm_engine e = {.base_url = "http://fuzz.invalid/v1", .url = "http://fuzz.invalid/v1/x",
                    .chat = f & 1, .stream = (f >> 1) & 1, .timeout_ms = 1000,
                    .max_resp = f & 8 ? 1024 : 1L << 20};
    phases ph = {0};
    attempt a = {.e = &e, .ph = &ph, .stream = e.stream, .raw = (f >> 2) & 1};
    attempt_reset(&a);
    a.status = data[1] < 4 ? statuses[data[1]] : 200;
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    size_t h = feed_headers(&a, p, n);
    CURLcode rc = feed_body(&a, p + h, n - h, chunks[(f >> 4) & 3]);
    if (rc == CURLE_OK)
        rc = ends[f >> 6];
    char why[SLM_PLUGIN_ERRLEN];
    long kind;
    fuzz_poison(why, sizeof why);
    enum outcome oc = attempt_finish(&e, &a, rc, curl, why, sizeof why, &kind);
    FUZZ_CHECK(oc == OK || oc == RETRY || oc == FAIL, "an unknown outcome");
    if (oc == OK) {
        FUZZ_CHECK(a.text.len <= n, "more text than the body held");
        FUZZ_CHECK(a.n_lps <= n, "more log-probabilities than the body's bytes");
    } else {
        FUZZ_CHECK(memchr(why, '\0', sizeof why) && why[0], "a failure without a reason");
    }
    FUZZ_CHECK(memchr(a.srvmsg, '\0', sizeof a.srvmsg) != NULL, "an unterminated message");
    FUZZ_CHECK(memchr(e.server, '\0', sizeof e.server) != NULL, "an unterminated Server");
    attempt_reset(&a);
    return 0;
}
