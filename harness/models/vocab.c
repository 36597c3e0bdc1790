/* vocab.c — see vocab.h. */
#include "vocab.h"

#include "engine.h"
#include "hftokenizer.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slm_vocab {
    slm_plugins *ps;
    const slm_engine_vtable *vt;
    slm_engine *e;
    int (*tokenize)(slm_engine *, const char *, size_t, uint32_t, slm_token_result **, char *,
                    size_t);
};

void slm_vocab_close(slm_vocab *v)
{
    if (!v)
        return;
    if (v->e)
        v->vt->close(v->e);
    slm_plugins_free(v->ps);
    free(v);
}

int slm_vocab_open(const char *path, slm_vocab **out, char *err, size_t errlen)
{
    *out = NULL;
    slm_vocab *v = slm_xcalloc(1, sizeof *v);
    v->ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(v->ps, "llamacpp");
    int rc = 0; /* slm_err() is -1: the engine's own troubles are -2 */
    if (!p)
        rc = slm_err(err, errlen, "the llamacpp engine plugin was not found") - 1;
    else if (!p->enabled)
        rc = slm_err(err, errlen, "the llamacpp engine is disabled: %s", p->reason) - 1;
    else if (!(v->tokenize = SLM_SLOT(p->vt, tokenize)) || !p->vt->result_free)
        rc = slm_err(err, errlen, "the llamacpp engine cannot tokenize (engine ABI before 1.3)") - 1;
    if (rc == 0) {
        v->vt = p->vt;
        slm_option items[] = {{"model", path}, {"vocab_only", "1"}};
        slm_options opts = {items, 2};
        rc = v->vt->open(&opts, &v->e, err, errlen);
    }
    if (rc) {
        slm_vocab_close(v);
        return rc;
    }
    *out = v;
    return 0;
}

void slm_vocab_pieces_free(char **pieces, size_t n)
{
    for (size_t i = 0; pieces && i < n; i++)
        free(pieces[i]);
    free(pieces);
}

int slm_vocab_tokenize(slm_vocab *v, const char *text, size_t len, uint32_t flags,
                       int32_t **ids, char ***pieces, size_t *n, char *err, size_t errlen)
{
    slm_token_result *r = NULL;
    *ids = NULL;
    *n = 0;
    if (pieces)
        *pieces = NULL;
    if (v->tokenize(v->e, text, len, flags, &r, err, errlen))
        return -1;
    *ids = slm_xmalloc((r->n + 1) * sizeof **ids);
    memcpy(*ids, r->ids, r->n * sizeof **ids);
    if (pieces) {
        *pieces = slm_xcalloc(r->n + 1, sizeof **pieces);
        for (size_t i = 0; i < r->n; i++)
            (*pieces)[i] = slm_xstrdup(r->pieces && r->pieces[i] ? r->pieces[i] : "");
    }
    *n = r->n;
    v->vt->result_free(r);
    return 0;
}

int slm_vocab_tokenize_plain(void *ud, const char *text, int32_t **ids, size_t *n, char *err,
                             size_t errlen)
{
    return slm_vocab_tokenize(ud, text, strlen(text), 0, ids, NULL, n, err, errlen);
}

static int is_gguf_name(const char *spec)
{
    size_t n = strlen(spec);
    return n > 5 && strcmp(spec + n - 5, ".gguf") == 0;
}

int slm_tokenizer_gguf(const char *spec, char **path, char *err, size_t errlen)
{
    *path = NULL;
    if (is_gguf_name(spec)) {
        *path = slm_xstrdup(spec);
        return 0;
    }
    slm_hf_vocab *hv;
    if (slm_hf_vocab_load(spec, &hv, err, errlen))
        return -1;
    const char *tmpdir = getenv("TMPDIR");
    char *tmp = slm_xasprintf("%s/slmbench-vocab-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(tmp);
    int rc = 0;
    if (fd < 0) {
        rc = slm_err(err, errlen, "cannot create a temporary file in '%s': %s",
                     tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
    } else {
        close(fd);
        rc = slm_hf_vocab_write_gguf(hv, tmp, err, errlen);
        if (rc)
            unlink(tmp);
    }
    slm_hf_vocab_free(hv);
    if (rc) {
        free(tmp);
        return -1;
    }
    *path = tmp;
    return 0;
}

void slm_tokenizer_gguf_free(const char *spec, char *path)
{
    if (path && spec && !is_gguf_name(spec))
        unlink(path);
    free(path);
}
