/*
 * asof.h — the date a run stands for (`slmbench run --as-of DATE`), so a team can
 * rebuild the history of past months: the run is stored with runs.as_of beside its real
 * start time (created_at), and the drift review places it in the month of as_of.
 */
#ifndef SLM_ASOF_H
#define SLM_ASOF_H

#include <stddef.h>
#include <time.h>

#define SLM_AS_OF_LEN 32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */

/*
 * Parses DATE as YYYY-MM-DD (midnight UTC) or an RFC 3339 date-time
 * (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); 't', 'z' and a space for 'T' accepted,
 * as RFC 3339 allows) and writes it into out as UTC, "YYYY-MM-DDTHH:MM:SSZ" (fractions
 * of a second dropped). Refuses a field out of range (month 13, 30 February, hour 24,
 * offset beyond ±23:59), trailing text, and a moment after now (a run cannot stand for a
 * date that has not come). Returns 0, or -1 with err saying what is wrong, worded to follow the option's name
 * ("needs YYYY-MM-DD ..., got '2026-13-01' (...)").
 */
int slm_parse_as_of(const char *date, time_t now, char out[SLM_AS_OF_LEN], char *err,
                    size_t errlen);

#endif
