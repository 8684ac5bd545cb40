/* Log plumbing. The library never prints; it only calls the host's callback. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *klease_log_level_name(klease_log_level level)
{
    switch (level) {
    case KLEASE_LOG_DEBUG: return "debug";
    case KLEASE_LOG_INFO: return "info";
    case KLEASE_LOG_WARN: return "warn";
    case KLEASE_LOG_ERROR: return "error";
    }
    return "unknown";
}

void klease__log(const klease__logger *lg, klease_log_level level, const char *fmt, ...)
{
    if (lg == NULL || lg->fn == NULL || level < lg->min_level)
        return;
    char line[KLEASE__LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        memcpy(line + sizeof line - 4, "...", 4);
    lg->fn(lg->user, level, line);
}
