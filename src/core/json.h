/* Parsing JSON with cJSON while telling "out of memory" from "not JSON". */
#ifndef KLEASE_CORE_JSON_H
#define KLEASE_CORE_JSON_H

#include "klease/klease.h"

#include <cjson/cJSON.h>

/* Parses `len` bytes into *out. KLEASE_ENOMEM when an allocation failed,
 * KLEASE_EPROTO when the text is not JSON (the caller words the message). */
klease_status klease__json_parse(const char *text, size_t len, cJSON **out);

#endif
