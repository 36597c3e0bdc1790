/*
 * fuzz_gguf.c — libFuzzer target: a GGUF file through the reader (slm_gguf_inspect, then
 * slm_gguf_read_strings and slm_gguf_copy_keys on what it accepted).
 *
 * The reader reads a file (FILE *, fstat for the size, seeks), so the input is put in an
 * anonymous memory file (memfd_create, made once, rewritten for each input) read through
 * /proc/self/fd/N: the real code path, no disk. Input: the file's bytes.
 * Checked: 0 or -1 with a message naming the file; a file accepted keeps its tensor data
 * inside the file and its name NUL-terminated; the copied keys write back out as a file
 * the reader accepts again, with as many keys.
 */
#include "fuzz_target.h"

#include "gguf.h"
#include "util.h"

#include <sys/mman.h>
#include <unistd.h>

/* An anonymous file and its path "/proc/self/fd/N". */
static int mem_file(char *path, size_t n, const char *name)
{
    int fd = memfd_create(name, 0);
    FUZZ_CHECK(fd >= 0, "memfd_create failed");
    snprintf(path, n, "/proc/self/fd/%d", fd);
    return fd;
}

static const char *g_copy; /* the copy written, removed at exit */

static void remove_copy(void)
{
    if (g_copy) {
        char dir[64];
        snprintf(dir, sizeof dir, "%s", g_copy);
        unlink(g_copy);
        *strrchr(dir, '/') = '\0';
        rmdir(dir);
    }
}

static void put(int fd, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate failed");
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
        FUZZ_CHECK(w > 0, "pwrite failed");
        off += (size_t)w;
    }
}

/* The keys of a file the reader accepted, copied by slm_gguf_copy_keys, must write out
 * (the writer writes a temporary file and renames it: a real folder, made once) as a file
 * the reader accepts with the same number of keys. */
static void check_copy(const char *in)
{
    static char dir[] = "/tmp/slm-fuzz-gguf.XXXXXX", out[64];
    if (!out[0]) {
        FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
        snprintf(out, sizeof out, "%s/copy.gguf", dir);
        atexit(remove_copy);
    }
    char err[SLM_ERRLEN];
    slm_gguf_writer *w = slm_gguf_writer_new();
    fuzz_poison(err, sizeof err);
    long k = slm_gguf_copy_keys(w, in, "", NULL, err, sizeof err);
    fuzz_check_rc(k < 0 ? (int)k : 0, err, sizeof err, "slm_gguf_copy_keys");
    if (k >= 0) {
        fuzz_poison(err, sizeof err);
        int rc = slm_gguf_writer_write(w, out, err, sizeof err);
        FUZZ_CHECK(rc == 0, "the copied keys do not write out");
        slm_gguf_info info;
        rc = slm_gguf_inspect(out, &info, err, sizeof err);
        FUZZ_CHECK(rc == 0, "the copied keys do not read back");
        FUZZ_CHECK(info.n_kv == (uint64_t)k, "the copy has another number of keys");
        g_copy = out;
    }
    slm_gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static int fd = -1;
    if (fd < 0)
        fd = mem_file(path, sizeof path, "fuzz.gguf");
    put(fd, data, size);
    char err[SLM_ERRLEN];
    slm_gguf_info info;
    fuzz_poison(err, sizeof err);
    int rc = slm_gguf_inspect(path, &info, err, sizeof err);
    fuzz_check_rc(rc, err, sizeof err, "slm_gguf_inspect");
    if (rc != 0) {
        FUZZ_CHECK(strstr(err, path) != NULL, "a message that names no file");
        return 0;
    }
    FUZZ_CHECK(info.file_size == size, "a file size other than the input's");
    /* a file without tensor data may end before the aligned start of its (empty) data
     * section, as llama.cpp allows: only data there is must lie inside the file */
    FUZZ_CHECK(info.data_size == 0 || info.data_offset + info.data_size <= info.file_size,
               "data past the end accepted");
    FUZZ_CHECK(memchr(info.name, 0, sizeof info.name) != NULL, "an unterminated name");
    char **s = NULL;
    size_t ns = 0;
    fuzz_poison(err, sizeof err);
    rc = slm_gguf_read_strings(path, "tokenizer.ggml.tokens", &s, &ns, err, sizeof err);
    fuzz_check_rc(rc, err, sizeof err, "slm_gguf_read_strings");
    for (size_t i = 0; i < ns; i++)
        free(s[i]);
    free(s);
    check_copy(path);
    return 0;
}
