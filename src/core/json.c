/* cJSON returns NULL both for bad syntax and for a failed allocation. A
 * failed malloc sets errno to ENOMEM (glibc does, and so do our hooks when a
 * test makes them fail), and nothing else cJSON calls does, so errno tells
 * the two apart. */
#include "core/json.h"

#include <errno.h>

klease_status klease__json_parse(const char *text, size_t len, cJSON **out)
{
    errno = 0;
    *out = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;
    if (*out != NULL)
        return KLEASE_OK;
    return errno == ENOMEM ? KLEASE_ENOMEM : KLEASE_EPROTO;
}
