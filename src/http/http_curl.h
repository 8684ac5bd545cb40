/* The libcurl transport. */
#ifndef KLEASE_HTTP_HTTP_CURL_H
#define KLEASE_HTTP_HTTP_CURL_H

#include "core/log.h"
#include "config/kube_config.h"
#include "config/credentials.h"
#include "http/http.h"

typedef struct klease__curl_settings {
    int64_t connect_timeout_ms;
    size_t max_response_bytes;
    size_t max_connections;     /* pooled connections (watches excluded); 0: 16 */
    const klease__logger *log;  /* must outlive the transport */
    klease__credentials *creds; /* borrowed; must outlive the transport; may be NULL */
} klease__curl_settings;

/* Copies what it needs from `cfg`. KLEASE_ECONFIG for a server URL libcurl
 * cannot use, KLEASE_ENOMEM. */
klease_status klease__curl_transport_new(klease__transport **out, const klease__kube_config *cfg,
                                         const klease__curl_settings *settings, klease_error *err);

#endif
