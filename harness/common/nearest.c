/* nearest.c — edit distance and the nearest word (see nearest.h). */
#include "nearest.h"

#include <ctype.h>
#include <string.h>

static int same_char(char a, char b)
{
    return tolower((unsigned char)a) == tolower((unsigned char)b);
}

size_t slm_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= SLM_NEAREST_MAX || lb >= SLM_NEAREST_MAX)
        return (size_t)-1;
    /* three rows of the table: i - 2, i - 1 and i */
    size_t rows[3][SLM_NEAREST_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = up[j - 1] + !same_char(a[i - 1], b[j - 1]);
            if (up[j] + 1 < best)
                best = up[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && same_char(a[i - 1], b[j - 2]) &&
                same_char(a[i - 2], b[j - 1]) && up2[j - 2] + 1 < best)
                best = up2[j - 2] + 1; /* two neighbours swapped */
            cur[j] = best;
        }
    }
    return rows[la % 3][lb];
}

const char *slm_nearest(const char *word, const char *const *words, size_t n)
{
    size_t lw = strlen(word), lim = lw / 3 > 2 ? lw / 3 : 2, best = (size_t)-1;
    const char *near = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!words[i])
            continue;
        if (!strcmp(words[i], word))
            return NULL;
        size_t d = slm_edit_distance(word, words[i]), lc = strlen(words[i]);
        size_t m = lc < lw ? lc : lw;
        if (d > 1 && m >= 3 && !strncmp(word, words[i], m))
            d = 1; /* one begins with the other: 'label' for 'label_name' */
        if (d < best) {
            best = d;
            near = words[i];
        }
    }
    return near && best <= lim ? near : NULL;
}
