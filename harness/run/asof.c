/* asof.c — see asof.h. */
#include "asof.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* n decimal digits at s into *v; 0, or -1 when one is not a digit. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil),
 * so no time zone of the process is involved. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153LL * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The time part after 'T' ("HH:MM:SS[.frac](Z|±HH:MM)"): seconds of the day into *sec,
 * the offset east of UTC into *off (seconds). */
static int time_part(const char *t, long *sec, long *off, const char **why)
{
    int hh, mi, ss, oh, om;
    if (digits(t, 2, &hh) || t[2] != ':' || digits(t + 3, 2, &mi) || t[5] != ':' ||
        digits(t + 6, 2, &ss))
        return *why = "expected HH:MM:SS after the date", -1;
    if (hh > 23 || mi > 59 || ss > 60)
        return *why = "hour, minute or second out of range", -1;
    t += 8;
    if (*t == '.') {
        if (t[1] < '0' || t[1] > '9')
            return *why = "a fraction of a second needs digits", -1;
        for (t++; *t >= '0' && *t <= '9'; t++)
            ;
    }
    *sec = hh * 3600L + mi * 60L + (ss > 59 ? 59 : ss); /* a leap second as :59 */
    *off = 0;
    if ((*t == 'Z' || *t == 'z') && !t[1])
        return 0;
    if ((*t != '+' && *t != '-') || digits(t + 1, 2, &oh) || t[3] != ':' ||
        digits(t + 4, 2, &om) || t[6])
        return *why = "expected a time zone: Z or +HH:MM or -HH:MM", -1;
    if (oh > 23 || om > 59)
        return *why = "time zone offset out of range", -1;
    *off = (*t == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    return 0;
}

int slm_parse_as_of(const char *date, time_t now, char out[SLM_AS_OF_LEN], char *err,
                    size_t errlen)
{
    const char *why = "not that form";
    int y, m, d;
    long sec = 0, off = 0;
    if (!date || strlen(date) < 10 || digits(date, 4, &y) || date[4] != '-' ||
        digits(date + 5, 2, &m) || date[7] != '-' || digits(date + 8, 2, &d))
        goto bad;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in(y, m)) {
        why = "no such date (year from 1970, month 01..12, day within the month)";
        goto bad;
    }
    if (date[10]) {
        if (!strchr("Tt ", date[10]) || time_part(date + 11, &sec, &off, &why))
            goto bad;
    }
    long long t = days_from_civil(y, m, d) * 86400LL + sec - off;
    if (t < 0) {
        why = "before 1970-01-01T00:00:00Z";
        goto bad;
    }
    if (t > (long long)now)
        return slm_err(err, errlen, "got '%s', a moment in the future (a run can only stand "
                                    "for a date that has come)", date);
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, SLM_AS_OF_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
bad:
    return slm_err(err, errlen, "needs YYYY-MM-DD or an RFC 3339 date-time, got '%s' (%s)",
                   date ? date : "", why);
}
