/* Internal error helpers: fill a caller's klease_error safely. */
#ifndef KLEASE_CORE_ERROR_H
#define KLEASE_CORE_ERROR_H

#include "klease/klease.h"

#if defined(__GNUC__)
#define KLEASE__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define KLEASE__PRINTF(fmt, args)
#endif

/* Fills `err` (which may be NULL) with `status`, no HTTP code and a formatted
 * message, truncated to fit, and returns `status`. */
klease_status klease__fail(klease_error *err, klease_status status, const char *fmt, ...)
    KLEASE__PRINTF(3, 4);

/* Like klease__fail, also recording the HTTP code and the Kubernetes reason
 * (NULL for none). */
klease_status klease__fail_http(klease_error *err, klease_status status, int http_code,
                                const char *reason, const char *fmt, ...) KLEASE__PRINTF(5, 6);

/* Resets `err` (may be NULL) to "no error". */
void klease__error_clear(klease_error *err);

/* Copies at most dst_size-1 bytes of src and always NUL-terminates. Returns
 * true when src fitted without truncation. */
bool klease__strlcpy(char *dst, const char *src, size_t dst_size);

#endif
