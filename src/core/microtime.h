/* Kubernetes MicroTime: RFC 3339 with exactly six fraction digits. */
#ifndef KLEASE_CORE_MICROTIME_H
#define KLEASE_CORE_MICROTIME_H

#include "klease/klease.h"

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
#define KLEASE__MICROTIME_LEN 27

/* Formats Unix-epoch nanoseconds (truncated to microseconds) as
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" into `out` (KLEASE__MICROTIME_LEN + 1 bytes).
 * Every int64_t instant (years 1677-2262) has a four-digit year, so this only
 * fails (KLEASE_EINVAL) if the C library cannot convert the time. */
klease_status klease__microtime_format(int64_t wall_ns, char out[KLEASE__MICROTIME_LEN + 1]);

/* Parses a MicroTime exactly as the API server accepts it (Go layout
 * "2006-01-02T15:04:05.000000Z07:00"): four-digit year, valid calendar date
 * and time of day, exactly six fraction digits, then "Z" or "+hh:mm"/"-hh:mm".
 * `len` bytes of `s` are read; no NUL terminator is needed. On success stores
 * Unix-epoch nanoseconds (a multiple of 1000) in `*out_ns`. KLEASE_EPROTO for
 * anything else, including valid times outside the int64_t range of years
 * 1677-2262, with a message naming what is wrong. */
klease_status klease__microtime_parse(const char *s, size_t len, int64_t *out_ns,
                                      klease_error *err);

/* Parses an RFC 3339 time as Go's time.RFC3339 layout accepts it (and so
 * metav1.Time, e.g. an ExecCredential's expirationTimestamp): the same rules
 * as klease__microtime_parse except that the fraction is optional and has 1
 * to 9 digits, e.g. "2024-05-01T10:00:00Z". Nanosecond precision. */
klease_status klease__rfc3339_parse(const char *s, size_t len, int64_t *out_ns, klease_error *err);

#endif
