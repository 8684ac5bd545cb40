/* Kubernetes Status bodies and HTTP errors mapped to klease_status. */
#ifndef KLEASE_API_STATUS_H
#define KLEASE_API_STATUS_H

#include "http/http.h"

/* Maps a non-2xx response to a status and fills `err`: 404 ENOTFOUND, 409
 * ECONFLICT, 401/403 EAUTH, everything else EHTTP (Retry-After kept). The
 * Status body's reason and message go into err; for a field-manager conflict
 * the reason is the cause's "FieldManagerConflict", so callers can tell it
 * from a stale resourceVersion ("Conflict") and "AlreadyExists". `what`
 * names the call, e.g. "PATCH lease ns/name". */
klease_status klease__status_error(const klease__http_response *resp, const char *what,
                                   klease_error *err);

/* Reads a Status object (as a watch ERROR event carries) into err with the
 * same mapping. */
struct cJSON;
klease_status klease__status_from_object(const struct cJSON *status, const char *what,
                                         klease_error *err);

#endif
