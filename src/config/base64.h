/* Standard base64 (RFC 4648 section 4) as Kubernetes uses it for []byte
 * fields such as certificate-authority-data. */
#ifndef KLEASE_CONFIG_BASE64_H
#define KLEASE_CONFIG_BASE64_H

#include "klease/klease.h"

#include <stddef.h>

/* Decodes `len` bytes of `in` into a new NUL-terminated buffer (the NUL is
 * not counted in *out_len). Like Go's encoding/json, '\r' and '\n' anywhere
 * are ignored and padding is required. KLEASE_EINVAL on anything else that is
 * not base64, KLEASE_ENOMEM on allocation failure; *out is set only on
 * success and freed with klease__free. */
klease_status klease__base64_decode(const char *in, size_t len, char **out, size_t *out_len);

/* Encodes `len` bytes into a new NUL-terminated string, or NULL when out of
 * memory. */
char *klease__base64_encode(const void *in, size_t len);

#endif
