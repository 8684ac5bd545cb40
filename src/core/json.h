/* Parsing JSON with cJSON while telling "out of memory" from "not JSON".
 * cJSON allocates outside klease__malloc; core/json.c says why. */
#ifndef KLEASE_CORE_JSON_H
#define KLEASE_CORE_JSON_H

#include "klease/klease.h"

#include <cjson/cJSON.h>

/* What a \u0000 escape decodes to (U+FFFF, a noncharacter, in UTF-8): cJSON
 * cannot hold a NUL inside a string, so the parser substitutes this mark and
 * strings keep their length. Never part of an identity we claim with. */
#define KLEASE__JSON_NUL_MARK "\xEF\xBF\xBF"

/* Parses `len` bytes into *out. KLEASE_ENOMEM when an allocation failed,
 * KLEASE_EPROTO when the text is not JSON (the caller words the message).
 * Every \u0000 escape decodes to KLEASE__JSON_NUL_MARK. */
klease_status klease__json_parse(const char *text, size_t len, cJSON **out);

#endif
