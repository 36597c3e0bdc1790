/*
 * ctlesc.h — control characters from the data (model output, names, a server's message)
 * never reach a report or a terminal raw: the one escaper, used by the reports and by
 * slmbench's messages on stderr.
 */
#ifndef SLM_CTLESC_H
#define SLM_CTLESC_H

#include "util.h"

/* When s begins with a C0 control other than tab and line feed, or DEL, this writes it
 * visibly as \xHH (ESC is "\x1b"), when with a C1 control in UTF-8 (C2 80 to C2 9F) as
 * \u00HH, and returns the bytes consumed; otherwise it writes nothing and returns 0. A
 * lone byte 0x80-0x9f (not UTF-8) is left alone. */
size_t slm_ctl_esc(slm_buf *b, const char *s);

/* s with its control characters escaped as slm_ctl_esc, nothing else changed. */
void slm_ctl_text(slm_buf *b, const char *s);

#endif
