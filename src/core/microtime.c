/* MicroTime formatting and strict parsing. */
#include "core/microtime.h"

#include "core/clock.h"
#include "core/error.h"

#include <stdio.h>
#include <time.h>

klease_status klease__microtime_format(int64_t wall_ns, char out[KLEASE__MICROTIME_LEN + 1])
{
    /* Floor division, so instants before 1970 keep a positive fraction. */
    int64_t sec = wall_ns / KLEASE__NS_PER_S;
    int64_t rem = wall_ns % KLEASE__NS_PER_S;
    if (rem < 0) {
        rem += KLEASE__NS_PER_S;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return KLEASE_EINVAL;
    int n = snprintf(out, KLEASE__MICROTIME_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(rem / 1000));
    return n == KLEASE__MICROTIME_LEN ? KLEASE_OK : KLEASE_EINVAL;
}

/* Reads exactly `n` ASCII digits at s[*pos]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    if (len - *pos < (size_t)n)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return true;
}

static bool literal(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return false;
    (*pos)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads a '.' and the fraction digits after it. MicroTime wants exactly six;
 * RFC 3339 (Go's time.RFC3339 parsing) allows none or one to nine. */
static bool fraction(const char *s, size_t len, size_t *pos, bool micro, int64_t *nanos)
{
    *nanos = 0;
    if (!micro && (*pos >= len || s[*pos] != '.'))
        return true;
    if (!literal(s, len, pos, '.'))
        return false;
    int ndigits = 0;
    int64_t scale = 100000000;
    while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
        if (++ndigits > 9)
            return false;
        *nanos += (s[*pos] - '0') * scale;
        scale /= 10;
        (*pos)++;
    }
    return micro ? ndigits == 6 : ndigits >= 1;
}

static klease_status parse_time(const char *s, size_t len, bool micro, int64_t *out_ns,
                                klease_error *err)
{
    /* Zeroed so optimisers can see no path reads them unset. */
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, off_h = 0, off_m = 0, sign = 0;
    int64_t nanos = 0;
    size_t pos = 0;
    const char *what = NULL;

    if (s == NULL)
        return klease__fail(err, KLEASE_EPROTO, "time: missing");
    if (!digits(s, len, &pos, 4, &year) || !literal(s, len, &pos, '-') ||
        !digits(s, len, &pos, 2, &mon) || !literal(s, len, &pos, '-') ||
        !digits(s, len, &pos, 2, &day))
        what = "expected a date YYYY-MM-DD";
    else if (!literal(s, len, &pos, 'T'))
        what = "expected 'T' between date and time";
    else if (!digits(s, len, &pos, 2, &hour) || !literal(s, len, &pos, ':') ||
             !digits(s, len, &pos, 2, &min) || !literal(s, len, &pos, ':') ||
             !digits(s, len, &pos, 2, &sec))
        what = "expected a time HH:MM:SS";
    else if (!fraction(s, len, &pos, micro, &nanos))
        what = micro ? "expected exactly six fraction digits" : "expected 1 to 9 fraction digits";
    else if (literal(s, len, &pos, 'Z'))
        sign = 0;
    else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
        sign = s[pos++] == '+' ? 1 : -1;
        if (!digits(s, len, &pos, 2, &off_h) || !literal(s, len, &pos, ':') ||
            !digits(s, len, &pos, 2, &off_m) || off_h > 23 || off_m > 59)
            what = "expected a zone offset +hh:mm";
    } else
        what = "expected 'Z' or a zone offset";

    if (what == NULL && pos != len)
        what = "unexpected text after the time";
    if (what == NULL && (mon < 1 || mon > 12))
        what = "month out of range";
    if (what == NULL && (day < 1 || day > days_in_month(year, mon)))
        what = "day out of range";
    if (what == NULL && (hour > 23 || min > 59 || sec > 59))
        what = "time of day out of range";
    if (what != NULL)
        return klease__fail(err, KLEASE_EPROTO, "time \"%.*s\": %s", len > 64 ? 64 : (int)len, s,
                            what);

    struct tm tm = {
        .tm_year = year - 1900,
        .tm_mon = mon - 1,
        .tm_mday = day,
        .tm_hour = hour,
        .tm_min = min,
        .tm_sec = sec,
    };
    int64_t epoch_s = (int64_t)timegm(&tm);
    epoch_s -= (int64_t)sign * (off_h * 3600 + off_m * 60);
    /* Nanoseconds in an int64_t reach from 1677 to 2262; refuse the rest
     * rather than wrap around. */
    if (epoch_s <= INT64_MIN / KLEASE__NS_PER_S || epoch_s >= INT64_MAX / KLEASE__NS_PER_S)
        return klease__fail(err, KLEASE_EPROTO, "time \"%.*s\": out of the supported range",
                            len > 64 ? 64 : (int)len, s);
    *out_ns = epoch_s * KLEASE__NS_PER_S + nanos;
    return KLEASE_OK;
}

klease_status klease__microtime_parse(const char *s, size_t len, int64_t *out_ns, klease_error *err)
{
    return parse_time(s, len, true, out_ns, err);
}

klease_status klease__rfc3339_parse(const char *s, size_t len, int64_t *out_ns, klease_error *err)
{
    return parse_time(s, len, false, out_ns, err);
}
