/* cJSON returns NULL both for bad syntax and for a failed allocation. A
 * failed malloc sets errno to ENOMEM (glibc does), and nothing else cJSON
 * calls does, so errno tells the two apart.
 *
 * cJSON's own allocations do not go through klease__malloc. The only way to
 * route them is cJSON_InitHooks, which replaces the allocator for every cJSON
 * user in the process (the host application and its other libraries
 * included); a library must not change that behind its host's back, and
 * cJSON 1.7 has no per-call allocator. So cJSON allocates with whatever the
 * host chose (the C library's malloc by default), and the allocation-failure
 * tests fail our own allocations around each parse and print, not cJSON's;
 * a NULL from cJSON is still mapped to KLEASE_ENOMEM through errno.
 *
 * cJSON (1.7.15) decodes the escape \u0000 into a raw 0 byte inside
 * valuestring and keeps no length, so "me\u0000other" would read as "me".
 * Before parsing, every \u0000 escape is rewritten to \uFFFF (same length),
 * which cJSON decodes to KLEASE__JSON_NUL_MARK: strings keep their full
 * length, and callers that compare identities treat the mark as "not
 * representable". */
#include "core/json.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

/* Offset of the first \u0000 escape, or len when there is none. A backslash
 * is only valid inside a string, so no string tracking is needed: each
 * escape pair is skipped whole, which keeps "\\u0000" (an escaped backslash
 * followed by text) from being taken for one. */
static size_t find_nul_escape(const char *text, size_t len, size_t from)
{
    /* memchr jumps between backslashes: every response and watch event
     * passes through here, and most have no backslash at all. */
    for (size_t i = from; i + 1 < len; i++) {
        const char *bs = memchr(text + i, '\\', len - 1 - i);
        if (bs == NULL)
            break;
        i = (size_t)(bs - text);
        if (text[i + 1] == 'u' && i + 6 <= len && memcmp(text + i + 2, "0000", 4) == 0)
            return i;
        i++; /* skip the escaped character */
    }
    return len;
}

static klease_status parse(const char *text, size_t len, cJSON **out)
{
    errno = 0;
    *out = cJSON_ParseWithLength(text, len);
    if (*out != NULL)
        return KLEASE_OK;
    return errno == ENOMEM ? KLEASE_ENOMEM : KLEASE_EPROTO;
}

klease_status klease__json_parse(const char *text, size_t len, cJSON **out)
{
    *out = NULL;
    if (text == NULL)
        return KLEASE_EPROTO;
    size_t at = find_nul_escape(text, len, 0);
    if (at == len)
        return parse(text, len, out);
    char *copy = klease__malloc(len);
    if (copy == NULL)
        return KLEASE_ENOMEM;
    memcpy(copy, text, len);
    for (; at < len; at = find_nul_escape(copy, len, at + 6))
        memcpy(copy + at + 2, "FFFF", 4);
    klease_status st = parse(copy, len, out);
    klease__free(copy);
    return st;
}
