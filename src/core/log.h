/* Log plumbing: formats a line and hands it to the host's callback. */
#ifndef KLEASE_CORE_LOG_H
#define KLEASE_CORE_LOG_H

#include "core/error.h"
#include "klease/klease.h"

typedef struct klease__logger {
    klease_log_fn fn; /* NULL: logging off */
    void *user;
    klease_log_level min_level;
} klease__logger;

/* Formats into a bounded stack buffer (long lines are truncated) and calls
 * the callback when `level` >= the logger's minimum. Never allocates. */
void klease__log(const klease__logger *lg, klease_log_level level, const char *fmt, ...)
    KLEASE__PRINTF(3, 4);

#define KLEASE__LOG_LINE_MAX 1024

#endif
