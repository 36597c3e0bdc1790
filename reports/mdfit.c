/* mdfit.c — see mdfit.h. */
#include "mdfit.h"

#include <string.h>

size_t slm_md_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80; /* not a continuation byte */
    return c;
}

/* The last offset <= limit where a line starts with a heading of level 2 to 4 (0: none);
 * with headings_only == 0, the last line start. */
static size_t last_cut(const char *s, size_t limit, int headings_only)
{
    size_t best = 0;
    for (size_t i = 1; i <= limit; i++) {
        if (s[i - 1] != '\n')
            continue;
        if (!headings_only)
            best = i;
        else if (!strncmp(s + i, "## ", 3) || !strncmp(s + i, "### ", 4) ||
                 !strncmp(s + i, "#### ", 5))
            best = i;
    }
    return best;
}

int slm_md_fit(slm_buf *md, size_t max_chars, const char *where)
{
    if (!md->data || slm_md_chars(md->data, md->len) <= max_chars)
        return 0;
    size_t total = slm_md_chars(md->data, md->len);
    char note[512];
    /* the note's own length, with room for the numbers it will hold */
    snprintf(note, sizeof note,
             "\n---\n**Cut here to fit a pull-request comment** (GitHub takes at most %zu "
             "characters): %020zu of %020zu characters shown. Everything is in %s.\n",
             max_chars, (size_t)0, total, where);
    size_t nn = slm_md_chars(note, strlen(note));
    size_t room = max_chars > nn ? max_chars - nn : 0;
    /* the byte offset holding `room` characters */
    size_t lim = 0, c = 0;
    while (lim < md->len && c < room) {
        lim++;
        while (lim < md->len && ((unsigned char)md->data[lim] & 0xC0) == 0x80)
            lim++;
        c++;
    }
    size_t cut = last_cut(md->data, lim < md->len ? lim : md->len - 1, 1);
    if (!cut)
        cut = last_cut(md->data, lim < md->len ? lim : md->len - 1, 0);
    md->len = cut;
    md->data[cut] = '\0';
    slm_buf_printf(md,
                   "\n---\n**Cut here to fit a pull-request comment** (GitHub takes at most %zu "
                   "characters): %zu of %zu characters shown. Everything is in %s.\n",
                   max_chars, slm_md_chars(md->data, cut), total, where);
    return 1;
}
