/* Error model: status strings and safe formatting into klease_error. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *klease_strerror(klease_status status)
{
    switch (status) {
    case KLEASE_OK: return "success";
    case KLEASE_EINVAL: return "invalid argument";
    case KLEASE_ENOMEM: return "out of memory";
    case KLEASE_ETIMEDOUT: return "timed out";
    case KLEASE_ECONFLICT: return "conflict";
    case KLEASE_ENOTFOUND: return "not found";
    case KLEASE_EAUTH: return "not authorized";
    case KLEASE_EHTTP: return "HTTP error";
    case KLEASE_ETRANSPORT: return "transport error";
    case KLEASE_EPROTO: return "protocol error";
    case KLEASE_ECONFIG: return "configuration error";
    case KLEASE_ECLOSED: return "closed";
    }
    return "unknown status";
}

bool klease__strlcpy(char *dst, const char *src, size_t dst_size)
{
    if (dst_size == 0)
        return src == NULL || src[0] == '\0';
    if (src == NULL) {
        dst[0] = '\0';
        return true;
    }
    size_t n = strnlen(src, dst_size);
    bool fits = n < dst_size;
    if (!fits)
        n = dst_size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return fits;
}

void klease__error_clear(klease_error *err)
{
    if (err == NULL)
        return;
    err->status = KLEASE_OK;
    err->http_code = 0;
    err->retry_after_ms = -1;
    err->reason[0] = '\0';
    err->message[0] = '\0';
}

static void format_message(klease_error *err, const char *fmt, va_list ap)
{
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    if (n < 0) {
        klease__strlcpy(err->message, "(unformattable message)", sizeof err->message);
    } else if ((size_t)n >= sizeof err->message) {
        /* Mark the cut so a reader knows the message is incomplete. */
        memcpy(err->message + sizeof err->message - 4, "...", 4);
    }
}

klease_status klease__fail(klease_error *err, klease_status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    klease__error_clear(err);
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    format_message(err, fmt, ap);
    va_end(ap);
    return status;
}

klease_status klease__fail_http(klease_error *err, klease_status status, int http_code,
                                const char *reason, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    klease__error_clear(err);
    err->status = status;
    err->http_code = http_code;
    klease__strlcpy(err->reason, reason, sizeof err->reason);
    va_list ap;
    va_start(ap, fmt);
    format_message(err, fmt, ap);
    va_end(ap);
    return status;
}
