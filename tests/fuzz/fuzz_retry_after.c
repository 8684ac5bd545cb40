/* libFuzzer target: a Retry-After header value. Whatever the server sends,
 * the pause is "none" (-1) or between 0 and KLEASE__RETRY_AFTER_MAX_MS, the
 * same for the same input and time, and delay-seconds (digits only) always
 * parse. Input: the header value (libcurl hands over a NUL-terminated
 * string, so this does too); the first byte also picks "now". */
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t nows[] = {0, 1795456800, 4102444800, -1, INT64_C(253402300799)};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size + 1);
    if (value == NULL)
        return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    int64_t now = nows[size > 0 ? data[0] % (sizeof nows / sizeof nows[0]) : 0];

    int64_t ms = klease__retry_after_parse(value, now);
    if (ms < -1 || ms > KLEASE__RETRY_AFTER_MAX_MS)
        abort();
    if (klease__retry_after_parse(value, now) != ms)
        abort();
    size_t len = strlen(value);
    bool digits = len > 0;
    for (size_t i = 0; i < len; i++)
        digits = digits && value[i] >= '0' && value[i] <= '9';
    if (digits && ms < 0)
        abort();
    free(value);
    return 0;
}
