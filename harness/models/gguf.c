/*
 * gguf.c — GGUF v3 writer and validating reader. See gguf.h.
 *
 * Layout written and expected (all little-endian): "GGUF", u32 version, u64 n_tensors,
 * u64 n_kv, the key/value pairs, the tensor infos (name, u32 n_dims, u64 ne[n_dims],
 * u32 type, u64 offset relative to the data section), padding to the alignment, data.
 */
#include "gguf.h"

#include "nearest.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC "GGUF"

/* ---- type tables ------------------------------------------------------------------ */

typedef struct type_layout {
    const char *name;
    uint32_t blck;
    uint32_t size;
} type_layout;

/* Indexed by ggml type number; holes are types that were removed from the format. */
static const type_layout TYPES[] = {
    [0] = {"f32", 1, 4},        [1] = {"f16", 1, 2},        [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},     [6] = {"q5_0", 32, 22},     [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},     [9] = {"q8_1", 32, 36},     [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},  [12] = {"q4_K", 256, 144},  [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},  [15] = {"q8_K", 256, 292},  [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74}, [18] = {"iq3_xxs", 256, 98}, [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},  [21] = {"iq3_s", 256, 110}, [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136}, [24] = {"i8", 1, 1},       [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},       [27] = {"i64", 1, 8},       [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},  [30] = {"bf16", 1, 2},      [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},  [39] = {"mxfp4", 32, 17},   [40] = {"nvfp4", 64, 36},
    [41] = {"q1_0", 128, 18},   [42] = {"q2_0", 64, 18},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

const char *slm_gguf_type_name(uint32_t type)
{
    return type < N_TYPES ? TYPES[type].name : NULL;
}

void slm_gguf_type_layout(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes)
{
    const type_layout *t = type < N_TYPES && TYPES[type].name ? &TYPES[type] : NULL;
    if (block_elems)
        *block_elems = t ? t->blck : 0;
    if (block_bytes)
        *block_bytes = t ? t->size : 0;
}

/* llama_ftype numbers (llama.h) to the names llama-quantize uses. */
static const char *const FTYPES[] = {
    [0] = "F32",      [1] = "F16",      [2] = "Q4_0",     [3] = "Q4_1",     [7] = "Q8_0",
    [8] = "Q5_0",     [9] = "Q5_1",     [10] = "Q2_K",    [11] = "Q3_K_S",  [12] = "Q3_K_M",
    [13] = "Q3_K_L",  [14] = "Q4_K_S",  [15] = "Q4_K_M",  [16] = "Q5_K_S",  [17] = "Q5_K_M",
    [18] = "Q6_K",    [19] = "IQ2_XXS", [20] = "IQ2_XS",  [21] = "Q2_K_S",  [22] = "IQ3_XS",
    [23] = "IQ3_XXS", [24] = "IQ1_S",   [25] = "IQ4_NL",  [26] = "IQ3_S",   [27] = "IQ3_M",
    [28] = "IQ2_S",   [29] = "IQ2_M",   [30] = "IQ4_XS",  [31] = "IQ1_M",   [32] = "BF16",
    [36] = "TQ1_0",   [37] = "TQ2_0",   [38] = "MXFP4_MOE", [39] = "NVFP4", [40] = "Q1_0",
    [41] = "Q2_0",
};

const char *slm_gguf_ftype_name(int ftype)
{
    if (ftype < 0 || (size_t)ftype >= sizeof FTYPES / sizeof FTYPES[0])
        return NULL;
    return FTYPES[ftype];
}

/* ---- F16 conversion ---------------------------------------------------------------- */

/* IEEE binary32 to binary16, round to nearest even; overflow gives infinity. */
static uint16_t f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, which is still correct */
    return (uint16_t)(sign | h);
}

/* ---- writer ----------------------------------------------------------------------- */

typedef struct wtensor {
    char *name;
    uint32_t type;
    int n_dims;
    uint64_t ne[SLM_GGUF_MAX_DIMS];
    uint64_t n_elems;
    float *data;
    slm_gguf_row_fn gen;  /* or rows made while writing */
    void *gen_ud;
} wtensor;

struct slm_gguf_writer {
    slm_buf kv;        /* serialized key/value pairs */
    uint64_t n_kv;
    wtensor *tensors;
    size_t n_tensors;
    size_t cap;
};

static void put_u32(slm_buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    slm_buf_append(b, c, 4);
}

static void put_u64(slm_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(slm_buf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

static void put_str(slm_buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u64(b, n);
    slm_buf_append(b, s, n);
}

static void put_key(slm_gguf_writer *w, const char *key, uint32_t type)
{
    put_str(&w->kv, key);
    put_u32(&w->kv, type);
    w->n_kv++;
}

slm_gguf_writer *slm_gguf_writer_new(void)
{
    return slm_xcalloc(1, sizeof(slm_gguf_writer));
}

void slm_gguf_writer_free(slm_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    slm_buf_free(&w->kv);
    free(w);
}

void slm_gguf_set_str(slm_gguf_writer *w, const char *key, const char *val)
{
    put_key(w, key, SLM_GGUF_KV_STRING);
    put_str(&w->kv, val);
}

void slm_gguf_set_u32(slm_gguf_writer *w, const char *key, uint32_t val)
{
    put_key(w, key, SLM_GGUF_KV_U32);
    put_u32(&w->kv, val);
}

void slm_gguf_set_i32(slm_gguf_writer *w, const char *key, int32_t val)
{
    put_key(w, key, SLM_GGUF_KV_I32);
    put_u32(&w->kv, (uint32_t)val);
}

void slm_gguf_set_u64(slm_gguf_writer *w, const char *key, uint64_t val)
{
    put_key(w, key, SLM_GGUF_KV_U64);
    put_u64(&w->kv, val);
}

void slm_gguf_set_f32(slm_gguf_writer *w, const char *key, float val)
{
    put_key(w, key, SLM_GGUF_KV_F32);
    put_f32(&w->kv, val);
}

void slm_gguf_set_bool(slm_gguf_writer *w, const char *key, int val)
{
    put_key(w, key, SLM_GGUF_KV_BOOL);
    slm_buf_putc(&w->kv, val ? 1 : 0);
}

void slm_gguf_set_arr_str(slm_gguf_writer *w, const char *key, const char *const *vals,
                          size_t n)
{
    put_key(w, key, SLM_GGUF_KV_ARRAY);
    put_u32(&w->kv, SLM_GGUF_KV_STRING);
    put_u64(&w->kv, n);
    for (size_t i = 0; i < n; i++)
        put_str(&w->kv, vals[i]);
}

void slm_gguf_set_arr_f32(slm_gguf_writer *w, const char *key, const float *vals, size_t n)
{
    put_key(w, key, SLM_GGUF_KV_ARRAY);
    put_u32(&w->kv, SLM_GGUF_KV_F32);
    put_u64(&w->kv, n);
    for (size_t i = 0; i < n; i++)
        put_f32(&w->kv, vals[i]);
}

void slm_gguf_set_arr_i32(slm_gguf_writer *w, const char *key, const int32_t *vals, size_t n)
{
    put_key(w, key, SLM_GGUF_KV_ARRAY);
    put_u32(&w->kv, SLM_GGUF_KV_I32);
    put_u64(&w->kv, n);
    for (size_t i = 0; i < n; i++)
        put_u32(&w->kv, (uint32_t)vals[i]);
}

static int add_tensor(slm_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                      const uint64_t *ne, float *data, slm_gguf_row_fn gen, void *ud,
                      char *err, size_t errlen)
{
    if (type != SLM_GGUF_TYPE_F32 && type != SLM_GGUF_TYPE_F16) {
        free(data);
        return slm_err(err, errlen, "tensor '%s': the writer stores only f32 and f16, not type %u",
                       name, type);
    }
    if (n_dims < 1 || n_dims > SLM_GGUF_MAX_DIMS) {
        free(data);
        return slm_err(err, errlen, "tensor '%s': %d dimensions (1 to %d allowed)", name, n_dims,
                       SLM_GGUF_MAX_DIMS);
    }
    uint64_t n = 1;
    for (int i = 0; i < n_dims; i++) {
        if (ne[i] == 0 || ne[i] > (UINT64_C(1) << 40) / n) {
            free(data);
            return slm_err(err, errlen, "tensor '%s': bad dimension %d", name, i);
        }
        n *= ne[i];
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            free(data);
            return slm_err(err, errlen, "tensor '%s' added twice", name);
        }
    }
    if (w->n_tensors == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->tensors = slm_xrealloc(w->tensors, w->cap * sizeof *w->tensors);
    }
    wtensor *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = slm_xstrdup(name);
    t->type = type;
    t->n_dims = n_dims;
    for (int i = 0; i < n_dims; i++)
        t->ne[i] = ne[i];
    t->n_elems = n;
    t->data = data;
    t->gen = gen;
    t->gen_ud = ud;
    return 0;
}

int slm_gguf_add_tensor(slm_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                        const uint64_t *ne, float *data, char *err, size_t errlen)
{
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL, err, errlen);
}

int slm_gguf_add_tensor_gen(slm_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                            const uint64_t *ne, slm_gguf_row_fn gen, void *ud, char *err,
                            size_t errlen)
{
    if (!gen)
        return slm_err(err, errlen, "tensor '%s': no row generator", name);
    return add_tensor(w, name, type, n_dims, ne, NULL, gen, ud, err, errlen);
}

static uint64_t tensor_bytes(const wtensor *t)
{
    return t->n_elems * (t->type == SLM_GGUF_TYPE_F16 ? 2 : 4);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/* Writes n floats, as they are or converted to f16. */
static int write_floats(FILE *f, const float *x, size_t n, uint32_t type)
{
    if (type == SLM_GGUF_TYPE_F32) /* host order; GGUF is little-endian, as are our hosts */
        return write_all(f, x, n * 4);
    unsigned char chunk[8192];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = f32_to_f16(x[i]);
        chunk[used++] = (unsigned char)h;
        chunk[used++] = (unsigned char)(h >> 8);
        if (used == sizeof chunk) {
            if (write_all(f, chunk, used))
                return -1;
            used = 0;
        }
    }
    return used ? write_all(f, chunk, used) : 0;
}

/* Writes one tensor's data: its buffer, or its rows as the generator makes them. */
static int write_tensor_data(FILE *f, const wtensor *t)
{
    if (!t->gen)
        return write_floats(f, t->data, (size_t)t->n_elems, t->type);
    uint64_t rows = t->n_elems / t->ne[0];
    float *buf = slm_xmalloc(sizeof *buf * (size_t)t->ne[0]);
    int bad = 0;
    for (uint64_t r = 0; r < rows && !bad; r++) {
        t->gen(t->gen_ud, r, buf);
        bad = write_floats(f, buf, (size_t)t->ne[0], t->type);
    }
    free(buf);
    return bad;
}

uint64_t slm_gguf_writer_data_bytes(const slm_gguf_writer *w)
{
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++)
        off = align_up(off + tensor_bytes(&w->tensors[i]), SLM_GGUF_ALIGNMENT);
    return off;
}

int slm_gguf_writer_write(const slm_gguf_writer *w, const char *path, char *err,
                          size_t errlen)
{
    slm_buf head = {0};
    slm_buf_append(&head, GGUF_MAGIC, 4);
    put_u32(&head, 3);
    put_u64(&head, w->n_tensors);
    put_u64(&head, w->n_kv);
    if (w->kv.len)
        slm_buf_append(&head, w->kv.data, w->kv.len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        put_str(&head, t->name);
        put_u32(&head, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            put_u64(&head, t->ne[d]);
        put_u32(&head, t->type);
        put_u64(&head, off);
        off = align_up(off + tensor_bytes(t), SLM_GGUF_ALIGNMENT);
    }
    static const char zeros[SLM_GGUF_ALIGNMENT];
    size_t pad = (size_t)(align_up(head.len, SLM_GGUF_ALIGNMENT) - head.len);
    if (pad)
        slm_buf_append(&head, zeros, pad);

    char *tmp = slm_xasprintf("%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        slm_buf_free(&head);
        slm_err(err, errlen, "cannot create a temporary file for '%s': %s", path, strerror(e));
        free(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        slm_buf_free(&head);
        return slm_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    }
    int bad = write_all(f, head.data, head.len);
    uint64_t pos = 0;
    for (size_t i = 0; i < w->n_tensors && !bad; i++) {
        const wtensor *t = &w->tensors[i];
        bad = write_tensor_data(f, t);
        pos += tensor_bytes(t);
        uint64_t next = align_up(pos, SLM_GGUF_ALIGNMENT);
        if (!bad && i + 1 < w->n_tensors && next > pos)
            bad = write_all(f, zeros, (size_t)(next - pos));
        pos = next;
    }
    slm_buf_free(&head);
    int e = bad ? errno : 0;
    if (!bad && fflush(f) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad && fsync(fileno(f)) != 0) {
        bad = 1;
        e = errno;
    }
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && chmod(tmp, 0644) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        free(tmp);
        return slm_err(err, errlen, "cannot write '%s': %s", path, strerror(e ? e : EIO));
    }
    free(tmp);
    return 0;
}

/* ---- reader ----------------------------------------------------------------------- */

/* A bounded cursor over the file: every read is checked against the file's size. */
typedef struct rd {
    FILE *f;
    const char *path;
    uint64_t pos;
    uint64_t size;
    char *err;
    size_t errlen;
} rd;

static int rd_fail_eof(rd *r, const char *what)
{
    return slm_err(r->err, r->errlen, "%s: truncated: %s at byte %llu runs past the end of the file (%llu bytes)",
                   r->path, what, (unsigned long long)r->pos, (unsigned long long)r->size);
}

static int rd_bytes(rd *r, void *p, uint64_t n, const char *what)
{
    if (n > r->size - r->pos)
        return rd_fail_eof(r, what);
    if (n && fread(p, 1, (size_t)n, r->f) != n)
        return slm_err(r->err, r->errlen, "%s: read error", r->path);
    r->pos += n;
    return 0;
}

static int rd_skip(rd *r, uint64_t n, const char *what)
{
    if (n > r->size - r->pos)
        return rd_fail_eof(r, what);
    if (fseeko(r->f, (off_t)(r->pos + n), SEEK_SET) != 0)
        return slm_err(r->err, r->errlen, "%s: seek error", r->path);
    r->pos += n;
    return 0;
}

static int rd_u32(rd *r, uint32_t *v, const char *what)
{
    unsigned char c[4];
    if (rd_bytes(r, c, 4, what))
        return -1;
    *v = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
    return 0;
}

static int rd_u64(rd *r, uint64_t *v, const char *what)
{
    uint32_t lo, hi;
    if (rd_u32(r, &lo, what) || rd_u32(r, &hi, what))
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* Reads a string's length and checks it against what is left of the file. */
static int rd_strlen(rd *r, uint64_t *n, const char *what)
{
    if (rd_u64(r, n, what))
        return -1;
    if (*n > r->size - r->pos)
        return slm_err(r->err, r->errlen, "%s: truncated: %s of %llu bytes at byte %llu runs past the end of the file",
                       r->path, what, (unsigned long long)*n, (unsigned long long)(r->pos - 8));
    return 0;
}

/* Reads a string into a new buffer (caller frees); the length is bounded by the file. */
static int rd_str(rd *r, char **out, const char *what)
{
    uint64_t n;
    if (rd_strlen(r, &n, what))
        return -1;
    char *s = slm_xmalloc((size_t)n + 1);
    if (rd_bytes(r, s, n, what)) {
        free(s);
        return -1;
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

static int kv_scalar_size(uint32_t type)
{
    switch (type) {
    case SLM_GGUF_KV_U8: case SLM_GGUF_KV_I8: case SLM_GGUF_KV_BOOL: return 1;
    case SLM_GGUF_KV_U16: case SLM_GGUF_KV_I16: return 2;
    case SLM_GGUF_KV_U32: case SLM_GGUF_KV_I32: case SLM_GGUF_KV_F32: return 4;
    case SLM_GGUF_KV_U64: case SLM_GGUF_KV_I64: case SLM_GGUF_KV_F64: return 8;
    default: return 0;
    }
}

/* Reads an integer scalar of any integer type as an unsigned value (negative gives 0). */
static int rd_int_value(rd *r, uint32_t type, uint64_t *v, const char *what)
{
    unsigned char c[8] = {0};
    int n = kv_scalar_size(type);
    if (rd_bytes(r, c, (uint64_t)n, what))
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x |= (uint64_t)c[i] << (8 * i);
    int is_signed = type == SLM_GGUF_KV_I8 || type == SLM_GGUF_KV_I16 ||
                    type == SLM_GGUF_KV_I32 || type == SLM_GGUF_KV_I64;
    if (is_signed && n < 8 && (x >> (8 * n - 1)) & 1)
        x = 0;
    else if (is_signed && n == 8 && (x >> 63))
        x = 0;
    *v = x;
    return 0;
}

static int is_int_type(uint32_t t)
{
    return t <= SLM_GGUF_KV_I32 || t == SLM_GGUF_KV_U64 || t == SLM_GGUF_KV_I64;
}

/* Integer key/values kept until the architecture is known. */
typedef struct ikv {
    char *key;
    uint64_t val;
} ikv;

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Reads one key/value; fills info fields it knows. */
static int rd_kv(rd *r, slm_gguf_info *info, ikv *ints, size_t *n_ints)
{
    char *key = NULL;
    uint32_t type;
    if (rd_str(r, &key, "metadata key"))
        return -1;
    if (rd_u32(r, &type, "metadata value type"))
        goto fail;
    if (type == SLM_GGUF_KV_STRING) {
        char *dst = NULL;
        size_t cap = 0;
        if (strcmp(key, "general.architecture") == 0)
            dst = info->architecture, cap = sizeof info->architecture;
        else if (strcmp(key, "general.name") == 0)
            dst = info->name, cap = sizeof info->name;
        else if (strcmp(key, "tokenizer.ggml.model") == 0)
            dst = info->tokenizer_model, cap = sizeof info->tokenizer_model;
        else if (strcmp(key, "tokenizer.ggml.pre") == 0)
            dst = info->tokenizer_pre, cap = sizeof info->tokenizer_pre;
        if (dst) {
            char *s;
            if (rd_str(r, &s, "metadata string"))
                goto fail;
            copy_trunc(dst, cap, s);
            free(s);
        } else {
            uint64_t n;
            if (rd_strlen(r, &n, "metadata string") || rd_skip(r, n, "metadata string"))
                goto fail;
            if (strcmp(key, "tokenizer.chat_template") == 0)
                info->has_chat_template = n > 0;
        }
    } else if (type == SLM_GGUF_KV_ARRAY) {
        uint32_t et;
        uint64_t n;
        if (rd_u32(r, &et, "array type") || rd_u64(r, &n, "array length"))
            goto fail;
        if (et == SLM_GGUF_KV_STRING) {
            /* Each string takes at least its 8-byte length. */
            if (n > (r->size - r->pos) / 8) {
                slm_err(r->err, r->errlen, "%s: truncated or corrupt: array '%s' claims %llu strings, more than the "
                        "remaining %llu bytes of the file can hold",
                        r->path, key, (unsigned long long)n, (unsigned long long)(r->size - r->pos));
                goto fail;
            }
            for (uint64_t i = 0; i < n; i++) {
                uint64_t len;
                if (rd_strlen(r, &len, "array string") || rd_skip(r, len, "array string"))
                    goto fail;
            }
        } else {
            int sz = kv_scalar_size(et);
            if (!sz) {
                slm_err(r->err, r->errlen, "%s: array '%s' has bad element type %u", r->path, key, et);
                goto fail;
            }
            if (n > (r->size - r->pos) / (uint64_t)sz) {
                slm_err(r->err, r->errlen, "%s: truncated or corrupt: array '%s' claims %llu elements, more than the "
                        "remaining %llu bytes of the file can hold",
                        r->path, key, (unsigned long long)n, (unsigned long long)(r->size - r->pos));
                goto fail;
            }
            if (rd_skip(r, n * (uint64_t)sz, "array data"))
                goto fail;
        }
        if (strcmp(key, "tokenizer.ggml.tokens") == 0)
            info->n_vocab = n;
    } else {
        if (!kv_scalar_size(type)) {
            slm_err(r->err, r->errlen, "%s: metadata '%s' has bad value type %u", r->path, key, type);
            goto fail;
        }
        if (is_int_type(type)) {
            uint64_t v;
            if (rd_int_value(r, type, &v, "metadata value"))
                goto fail;
            ints[*n_ints].key = key;
            ints[*n_ints].val = v;
            (*n_ints)++;
            return 0; /* key now owned by ints */
        }
        if (rd_skip(r, (uint64_t)kv_scalar_size(type), "metadata value"))
            goto fail;
    }
    free(key);
    return 0;
fail:
    free(key);
    return -1;
}

static const ikv *find_int(const ikv *ints, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ints[i].key, key) == 0)
            return &ints[i];
    return NULL;
}

static uint64_t arch_int(const ikv *ints, size_t n, const char *arch, const char *suffix)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const ikv *kv = find_int(ints, n, key);
    return kv ? kv->val : 0;
}

/* A quantization name guessed from the most common type among 2-D tensors. */
static const char *guess_quant(const uint64_t *type_counts)
{
    size_t best = 0;
    for (size_t t = 1; t < N_TYPES; t++)
        if (type_counts[t] > type_counts[best])
            best = t;
    if (!type_counts[best])
        return "unknown";
    switch (best) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 8: return "Q8_0";
    case 30: return "BF16";
    default: return "unknown";
    }
}

/* ---- what a file that is not a model is, and what to do (for the error message) ---- */

static const char CONVERT_HINT[] =
    "convert it with llama.cpp's convert_hf_to_gguf.py (python convert_hf_to_gguf.py "
    "MODEL_DIR --outfile model.gguf), then quantize it with slmbench models quantize";
static const char GGUF_HINT[] =
    "give a .gguf file instead (llama.cpp's convert_hf_to_gguf.py makes one of a Hugging "
    "Face model)";

/* 1 when the n bytes of head, lower-cased, contain needle. */
static int head_has(const unsigned char *head, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && tolower(head[i + j]) == needle[j])
            j++;
        if (j == k)
            return 1;
    }
    return 0;
}

/* 1 when the n bytes of head are printable text (ASCII or UTF-8, with tabs and newlines). */
static int head_is_text(const unsigned char *head, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (head[i] < 0x20 && head[i] != '\n' && head[i] != '\r' && head[i] != '\t')
            return 0;
    return n > 0;
}

/* Why a file without GGUF's magic is not a model, from its first n bytes, and the fix. */
static int not_gguf(const char *path, const unsigned char *head, size_t n, uint64_t size,
                    char *err, size_t errlen)
{
    const char *pre = "not a GGUF file (bad magic)";
    if (size == 0)
        return slm_err(err, errlen, "%s: %s; it is empty (0 bytes): a download or copy that did "
                       "not finish; fetch the .gguf file again", path, pre);
    if (n >= 8 && head[7] == 0 && head[8] == '{')
        return slm_err(err, errlen, "%s: %s; it is a safetensors file (Hugging Face weights), "
                       "not GGUF: %s", path, pre, CONVERT_HINT);
    if (n >= 4 && !memcmp(head, "PK\3\4", 4))
        return slm_err(err, errlen, "%s: %s; it is a zip archive (a PyTorch checkpoint?), not "
                       "GGUF: %s", path, pre, CONVERT_HINT);
    if (head_has(head, n, "git-lfs"))
        return slm_err(err, errlen, "%s: %s; it is a Git LFS pointer, not the model: run 'git "
                       "lfs pull' in its repository, or download the file itself", path, pre);
    if (head_has(head, n, "<html") || head_has(head, n, "<!doctype"))
        return slm_err(err, errlen, "%s: %s; it is an HTML page (%llu bytes), not a model: a "
                       "failed download or a web page saved as the file; download the .gguf "
                       "again (on Hugging Face the .../resolve/main/FILE.gguf link, not .../blob/...)",
                       path, pre, (unsigned long long)size);
    size_t line = strcspn((const char *)head, "\r\n");
    if (head_is_text(head, n))
        return slm_err(err, errlen, "%s: %s; it is a text file (it begins '%.*s'), not a "
                       "model: %s", path, pre, (int)(line < 32 ? line : 32), head, GGUF_HINT);
    return slm_err(err, errlen, "%s: %s; it begins with the bytes %02x %02x %02x %02x, not "
                   "'GGUF': %s", path, pre,
                   n > 0 ? head[0] : 0, n > 1 ? head[1] : 0, n > 2 ? head[2] : 0,
                   n > 3 ? head[3] : 0, GGUF_HINT);
}

/* Why a folder is not a model, and what to give instead: its .gguf files, or how to
 * convert a Hugging Face model folder. */
static int not_a_file(const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    slm_buf gg = {0};
    int n_gguf = 0, hf = 0;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".gguf") && n_gguf++ < 3)
            slm_buf_printf(&gg, "%s%s", gg.len ? ", " : "", e->d_name);
        hf |= !strcmp(e->d_name, "config.json") ||
              (l > 12 && !strcmp(e->d_name + l - 12, ".safetensors")) ||
              !strcmp(e->d_name, "pytorch_model.bin");
    }
    if (d)
        closedir(d);
    int rc;
    if (n_gguf)
        rc = slm_err(err, errlen, "%s: is a folder, not a model file; give one of its .gguf "
                     "files: %s%s", path, gg.data, n_gguf > 3 ? ", ..." : "");
    else if (hf)
        rc = slm_err(err, errlen, "%s: is a folder, not a model file; it looks like a Hugging "
                     "Face model (config.json, *.safetensors): %s", path, CONVERT_HINT);
    else
        rc = slm_err(err, errlen, "%s: is a folder, not a model file; give the path of a "
                     ".gguf file", path);
    slm_buf_free(&gg);
    return rc;
}

/* A model path that names nothing: the nearest .gguf file of its folder ("did you mean"),
 * else the folder's .gguf files, else that it has none or does not exist. */
static int no_such_model(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? slm_xstrndup(path, (size_t)(slash - path + 1)) : slm_xstrdup("./");
    DIR *d = opendir(dir);
    char *names[64];
    size_t n = 0;
    for (struct dirent *e = d ? readdir(d) : NULL; e && n < 64; e = readdir(d)) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".gguf"))
            names[n++] = slm_xstrdup(e->d_name);
    }
    if (d)
        closedir(d);
    const char *near = slm_nearest(slash ? slash + 1 : path, (const char *const *)names, n);
    const char *why = "cannot open: No such file or directory";
    int rc;
    if (!d)
        rc = slm_err(err, errlen, "%s: %s (nor is there a folder %s)", path, why, dir);
    else if (near)
        rc = slm_err(err, errlen, "%s: %s; did you mean '%s' (in %s)?", path, why, near, dir);
    else if (n)
        rc = slm_err(err, errlen, "%s: %s; the .gguf files of %s: %s%s%s%s", path, why, dir,
                     names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "", n > 2 ? ", ..." : "");
    else
        rc = slm_err(err, errlen, "%s: %s (no .gguf file in %s)", path, why, dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(dir);
    return rc;
}

/* The header: magic, version, and counts a file of its size can hold. */
static int inspect_header(rd *r, slm_gguf_info *out)
{
    const char *path = r->path;
    unsigned char head[64] = {0};
    size_t n = r->size < sizeof head - 1 ? (size_t)r->size : sizeof head - 1;
    if (n < 4 || rd_bytes(r, head, n, "magic") || memcmp(head, GGUF_MAGIC, 4) != 0)
        return not_gguf(path, head, n, r->size, r->err, r->errlen);
    if (fseeko(r->f, 4, SEEK_SET) != 0)
        return slm_err(r->err, r->errlen, "%s: seek error", path);
    r->pos = 4;
    if (rd_u32(r, &out->version, "version"))
        return -1;
    if (out->version < 2 || out->version > 3)
        return slm_err(r->err, r->errlen, "%s: unsupported GGUF version %u (2 and 3 are "
                       "supported)", path, out->version);
    if (rd_u64(r, &out->n_tensors, "tensor count") || rd_u64(r, &out->n_kv, "metadata count"))
        return -1;
    /* A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at
     * least 8 + 4 + 8 + 4 + 8. */
    if (out->n_kv > (r->size - r->pos) / 13)
        return slm_err(r->err, r->errlen, "%s: truncated or corrupt: metadata count %llu is more "
                       "than a file of %llu bytes can hold", path,
                       (unsigned long long)out->n_kv, (unsigned long long)r->size);
    if (out->n_tensors > (r->size - r->pos) / 32)
        return slm_err(r->err, r->errlen, "%s: truncated or corrupt: tensor count %llu is more "
                       "than a file of %llu bytes can hold", path,
                       (unsigned long long)out->n_tensors, (unsigned long long)r->size);
    return 0;
}

/* The metadata: every key/value, and what *out takes from the integer ones. */
static int inspect_metadata(rd *r, slm_gguf_info *out, ikv *ints, size_t *n_ints)
{
    const char *path = r->path;
    for (uint64_t i = 0; i < out->n_kv; i++)
        if (rd_kv(r, out, ints, n_ints))
            return -1;
    for (size_t i = 0; i < *n_ints; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(ints[i].key, ints[j].key) == 0)
                return slm_err(r->err, r->errlen, "%s: duplicate metadata key '%s'", path,
                               ints[i].key);
    static const char *const tok_keys[3] = {"tokenizer.ggml.bos_token_id",
                                            "tokenizer.ggml.eos_token_id",
                                            "tokenizer.ggml.eot_token_id"};
    int64_t *tok_ids[3] = {&out->bos_token_id, &out->eos_token_id, &out->eot_token_id};
    for (int k = 0; k < 3; k++) {
        const ikv *t = find_int(ints, *n_ints, tok_keys[k]);
        *tok_ids[k] = t && t->val < (uint64_t)INT32_MAX ? (int64_t)t->val : -1;
    }
    const ikv *ft = find_int(ints, *n_ints, "general.file_type");
    if (ft)
        out->file_type = ft->val > 100000 ? -1 : (int)ft->val;
    const ikv *al = find_int(ints, *n_ints, "general.alignment");
    out->alignment = al ? al->val : SLM_GGUF_ALIGNMENT;
    if (out->alignment == 0 || out->alignment > 65536 || (out->alignment & (out->alignment - 1)))
        return slm_err(r->err, r->errlen, "%s: bad alignment %llu", path,
                       (unsigned long long)out->alignment);
    if (out->architecture[0]) {
        out->context_length = arch_int(ints, *n_ints, out->architecture, "context_length");
        out->embedding_length = arch_int(ints, *n_ints, out->architecture, "embedding_length");
        out->block_count = arch_int(ints, *n_ints, out->architecture, "block_count");
    }
    return 0;
}

/* One tensor info after its name: shape, type, offset, each checked. Sets *n_el, *n_dims,
 * *type and *end (where its data ends, relative to the data offset). */
static int inspect_tensor(rd *r, const slm_gguf_info *out, const char *name, uint64_t *n_el,
                          uint32_t *n_dims, uint32_t *type, uint64_t *end)
{
    const char *path = r->path;
    uint64_t ne[SLM_GGUF_MAX_DIMS], offset;
    if (rd_u32(r, n_dims, "tensor dimension count"))
        return -1;
    if (*n_dims < 1 || *n_dims > SLM_GGUF_MAX_DIMS)
        return slm_err(r->err, r->errlen, "%s: tensor '%s' has %u dimensions", path, name,
                       *n_dims);
    *n_el = 1;
    for (uint32_t d = 0; d < *n_dims; d++) {
        if (rd_u64(r, &ne[d], "tensor shape"))
            return -1;
        if (ne[d] == 0 || ne[d] > (UINT64_C(1) << 62) / *n_el)
            return slm_err(r->err, r->errlen, "%s: tensor '%s' has an absurd shape", path, name);
        *n_el *= ne[d];
    }
    if (rd_u32(r, type, "tensor type") || rd_u64(r, &offset, "tensor offset"))
        return -1;
    uint32_t blck, tsz;
    slm_gguf_type_layout(*type, &blck, &tsz);
    if (!blck)
        return slm_err(r->err, r->errlen, "%s: tensor '%s' has unknown type %u", path, name,
                       *type);
    if (ne[0] % blck)
        return slm_err(r->err, r->errlen, "%s: tensor '%s' has rows of %llu elements, not a "
                       "multiple of the %s block size %u", path, name,
                       (unsigned long long)ne[0], TYPES[*type].name, blck);
    if (offset % out->alignment)
        return slm_err(r->err, r->errlen, "%s: tensor '%s' data offset %llu is not aligned to "
                       "%llu", path, name, (unsigned long long)offset,
                       (unsigned long long)out->alignment);
    uint64_t nbytes = *n_el / blck * tsz;
    if (offset > r->size || nbytes > r->size)
        return slm_err(r->err, r->errlen, "%s: truncated: tensor '%s' needs bytes up to %llu "
                       "but the file has %llu", path, name,
                       (unsigned long long)offset + nbytes, (unsigned long long)r->size);
    *end = offset + nbytes;
    return 0;
}

/* The tensor infos, then whether all their data lies inside the file. */
static int inspect_tensors(rd *r, slm_gguf_info *out, uint64_t *type_counts)
{
    uint64_t *ends = slm_xcalloc((size_t)out->n_tensors + 1, sizeof *ends);
    char **names = slm_xcalloc((size_t)out->n_tensors + 1, sizeof *names);
    uint64_t n_read = 0;
    int bad = 0;
    for (uint64_t i = 0; i < out->n_tensors && !bad; i++) {
        char *name;
        uint32_t n_dims = 0, type = 0;
        uint64_t n_el = 0;
        if (rd_str(r, &name, "tensor name")) {
            bad = -1;
            break;
        }
        names[n_read++] = name;
        if (inspect_tensor(r, out, name, &n_el, &n_dims, &type, &ends[i])) {
            bad = -1;
            break;
        }
        out->n_params += n_el;
        if (n_dims >= 2)
            type_counts[type]++;
        for (uint64_t j = 0; j < i && !bad; j++)
            if (strcmp(names[j], name) == 0)
                bad = slm_err(r->err, r->errlen, "%s: duplicate tensor '%s'", r->path, name);
    }
    if (!bad) {
        out->data_offset = (r->pos + out->alignment - 1) / out->alignment * out->alignment;
        for (uint64_t i = 0; i < out->n_tensors; i++) {
            uint64_t end = out->data_offset + ends[i];
            if (end > r->size) {
                bad = slm_err(r->err, r->errlen, "%s: truncated: tensor '%s' needs bytes up to "
                              "%llu but the file has %llu", r->path, names[i],
                              (unsigned long long)end, (unsigned long long)r->size);
                break;
            }
            if (ends[i] > out->data_size)
                out->data_size = ends[i];
        }
    }
    for (uint64_t i = 0; i < n_read; i++)
        free(names[i]);
    free(names);
    free(ends);
    return bad ? -1 : 0;
}

int slm_gguf_inspect(const char *path, slm_gguf_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->file_type = -1;
    out->bos_token_id = out->eos_token_id = out->eot_token_id = -1;
    FILE *f = fopen(path, "rb");
    if (!f && errno == ENOENT)
        return no_such_model(path, err, errlen);
    if (!f)
        return slm_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        if (S_ISDIR(st.st_mode))
            return not_a_file(path, err, errlen);
        return slm_err(err, errlen, "%s: not a regular file", path);
    }
    rd r = {f, path, 0, (uint64_t)st.st_size, err, errlen};
    out->file_size = r.size;
    ikv *ints = NULL;
    size_t n_ints = 0;
    uint64_t type_counts[N_TYPES] = {0};
    int rc = -1;
    if (inspect_header(&r, out))
        goto done;
    ints = slm_xcalloc((size_t)out->n_kv + 1, sizeof *ints);
    if (inspect_metadata(&r, out, ints, &n_ints) || inspect_tensors(&r, out, type_counts))
        goto done;
    out->quant = slm_gguf_ftype_name(out->file_type);
    if (!out->quant)
        out->quant = guess_quant(type_counts);
    rc = 0;
done:
    if (rc && strstr(err, ": truncated")) { /* every "truncated" message of the readers */
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, "; a download or copy that did not finish? fetch the "
                 "file again");
    }
    for (size_t i = 0; i < n_ints; i++)
        free(ints[i].key);
    free(ints);
    fclose(f);
    return rc;
}

/* Calls fn(ud, r, key, start, end) for each metadata key of a file that passed
 * slm_gguf_inspect(), with the key/value's byte range [start, end); fn may read the
 * range (through r) and must leave r at end. Stops at fn's first nonzero return, which
 * it returns (1: done early, -1: failed, err filled); 0 when all keys were seen. */
typedef int (*kv_fn)(void *ud, rd *r, const char *key, uint64_t start, uint64_t end);

static int walk_kvs(const char *path, const slm_gguf_info *info, kv_fn fn, void *ud,
                    char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    rd r = {f, path, 0, info->file_size, err, errlen};
    slm_gguf_info scratch;
    ikv *ints = slm_xcalloc((size_t)info->n_kv + 1, sizeof *ints);
    size_t n_ints = 0;
    int rc = rd_skip(&r, 4 + 4 + 8 + 8, "header");
    for (uint64_t i = 0; i < info->n_kv && rc == 0; i++) {
        uint64_t start = r.pos;
        char *key = NULL;
        if (rd_str(&r, &key, "metadata key") || fseeko(f, (off_t)start, SEEK_SET) != 0) {
            free(key);
            rc = -1;
            break;
        }
        r.pos = start;
        memset(&scratch, 0, sizeof scratch);
        rc = rd_kv(&r, &scratch, ints, &n_ints);
        if (rc == 0)
            rc = fn(ud, &r, key, start, r.pos);
        free(key);
    }
    for (size_t i = 0; i < n_ints; i++)
        free(ints[i].key);
    free(ints);
    fclose(f);
    return rc;
}

typedef struct copy_ctx {
    slm_gguf_writer *w;
    const char *prefix;
    const char *const *skip;
    long copied;
} copy_ctx;

static int copy_kv(void *ud, rd *r, const char *key, uint64_t start, uint64_t end)
{
    copy_ctx *c = ud;
    if (strncmp(key, c->prefix, strlen(c->prefix)) != 0)
        return 0;
    for (size_t k = 0; c->skip && c->skip[k]; k++)
        if (strcmp(key, c->skip[k]) == 0)
            return 0;
    uint64_t n = end - start;
    char *raw = slm_xmalloc((size_t)n);
    int bad = fseeko(r->f, (off_t)start, SEEK_SET) != 0 || fread(raw, 1, (size_t)n, r->f) != n;
    if (!bad) {
        slm_buf_append(&c->w->kv, raw, (size_t)n);
        c->w->n_kv++;
        c->copied++;
    }
    free(raw);
    return bad ? slm_err(r->err, r->errlen, "%s: read error", r->path) : 0;
}

long slm_gguf_copy_keys(slm_gguf_writer *w, const char *path, const char *prefix,
                        const char *const *skip, char *err, size_t errlen)
{
    slm_gguf_info info;
    if (slm_gguf_inspect(path, &info, err, errlen)) /* validates every key first */
        return -1;
    copy_ctx c = {w, prefix, skip, 0};
    if (walk_kvs(path, &info, copy_kv, &c, err, errlen) < 0)
        return -1;
    return c.copied;
}

typedef struct strings_ctx {
    const char *key;
    char **a;
    size_t n;
} strings_ctx;

static int read_strings_kv(void *ud, rd *r, const char *key, uint64_t start, uint64_t end)
{
    strings_ctx *c = ud;
    if (strcmp(key, c->key) != 0)
        return 0;
    uint64_t klen, cnt;
    uint32_t type, et;
    if (fseeko(r->f, (off_t)start, SEEK_SET) != 0)
        return slm_err(r->err, r->errlen, "%s: seek error", r->path);
    r->pos = start;
    if (rd_strlen(r, &klen, "metadata key") || rd_skip(r, klen, "metadata key") ||
        rd_u32(r, &type, "metadata value type"))
        return -1;
    if (type != SLM_GGUF_KV_ARRAY || rd_u32(r, &et, "array type") || et != SLM_GGUF_KV_STRING ||
        rd_u64(r, &cnt, "array length"))
        return slm_err(r->err, r->errlen, "%s: '%s' is not an array of strings", r->path, key);
    /* bounded by inspect: each string takes at least its 8-byte length */
    c->a = slm_xcalloc((size_t)cnt + 1, sizeof *c->a);
    for (uint64_t j = 0; j < cnt; j++)
        if (rd_str(r, &c->a[j], "array string"))
            return -1;
    c->n = (size_t)cnt;
    return r->pos == end ? 1 : slm_err(r->err, r->errlen, "%s: '%s' is corrupt", r->path, key);
}

int slm_gguf_read_strings(const char *path, const char *key, char ***out, size_t *n,
                          char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    slm_gguf_info info;
    if (slm_gguf_inspect(path, &info, err, errlen)) /* validates every key first */
        return -1;
    strings_ctx c = {key, NULL, 0};
    int rc = walk_kvs(path, &info, read_strings_kv, &c, err, errlen);
    if (rc == 1) {
        *out = c.a;
        *n = c.n;
        return 0;
    }
    for (size_t j = 0; c.a && c.a[j]; j++)
        free(c.a[j]);
    free(c.a);
    return rc < 0 ? -1 : slm_err(err, errlen, "%s: no string array '%s'", path, key);
}
