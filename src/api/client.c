/* klease_client: one per cluster connection, shared by managers and threads. */
#include "api/client.h"

#include "core/alloc.h"
#include "core/error.h"
#include "config/config.h"
#include "http/http_curl.h"

#include <stdatomic.h>
#include <string.h>

#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_MAX_RESPONSE_BYTES ((size_t)4 << 20)

static int64_t hooked_wall_ns(const klease__clock *c)
{
    const klease_client *client = c->ctx;
    return client->wall_hook(client->wall_hook_user);
}

static klease_status client_alloc(klease_client **out, const klease_client_options *o,
                                  klease_error *err)
{
    klease_client *c = klease__calloc(1, sizeof *c);
    if (c == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    c->clock_with_hook = *klease__clock_system();
    c->clock = &c->clock_with_hook;
    c->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
    c->max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
    c->log.min_level = KLEASE_LOG_INFO;
    if (o != NULL) {
        if (o->request_timeout_ms > 0)
            c->request_timeout_ms = o->request_timeout_ms;
        if (o->max_response_bytes > 0)
            c->max_response_bytes = o->max_response_bytes;
        c->log.fn = o->log_fn;
        c->log.user = o->log_user;
        c->log.min_level = o->log_level;
        if (o->wall_clock_ns != NULL) {
            c->wall_hook = o->wall_clock_ns;
            c->wall_hook_user = o->wall_clock_user;
            c->clock_with_hook.wall_ns = hooked_wall_ns;
            c->clock_with_hook.ctx = c;
        }
    }
    *out = c;
    return KLEASE_OK;
}

klease_status klease_client_new(klease_client **out, const klease_client_options *opts,
                                klease_error *err)
{
    klease_status st;
    klease_client *c = NULL;
    if (out == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_client_new: out is NULL");
    *out = NULL;
    if (opts != NULL && (opts->version < 1 || opts->version > KLEASE_CLIENT_OPTIONS_VERSION))
        return klease__fail(err, KLEASE_EINVAL, "klease_client_options: unknown version %d",
                            opts->version);
    if ((st = client_alloc(&c, opts, err)) != KLEASE_OK)
        return st;

    klease__config_request req = {0};
    if (opts != NULL) {
        req.kubeconfig = opts->kubeconfig;
        req.context = opts->context;
        req.in_cluster_dir = opts->in_cluster_dir;
        /* Version 1 callers' structs end before the overrides. */
        if (opts->version >= 2) {
            req.cluster = opts->cluster;
            req.user = opts->user;
            req.server = opts->server;
            req.token = opts->token;
            req.certificate_authority = opts->certificate_authority;
            req.insecure_skip_tls_verify = opts->insecure_skip_tls_verify;
        }
    }
    if ((st = klease__kube_config_load(&c->cfg, &req, &c->log, err)) != KLEASE_OK)
        goto fail;
    if ((c->ns = klease__strdup(c->cfg->ns != NULL ? c->cfg->ns : "default")) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto fail;
    }
    if ((st = klease__credentials_new(&c->creds, c->cfg, c->clock, &c->log, err)) != KLEASE_OK)
        goto fail;
    klease__curl_settings settings = {
        .connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS,
        .max_response_bytes = c->max_response_bytes,
        .log = &c->log,
        .creds = c->creds,
    };
    if (opts != NULL && opts->connect_timeout_ms > 0)
        settings.connect_timeout_ms = opts->connect_timeout_ms;
    if (opts != NULL)
        settings.max_connections = opts->max_connections;
    if ((st = klease__curl_transport_new(&c->transport, c->cfg, &settings, err)) != KLEASE_OK)
        goto fail;
    klease__log(&c->log, KLEASE_LOG_DEBUG, "client for %s (namespace %s) from %s", c->cfg->server,
                c->ns, c->cfg->source ? c->cfg->source : "config");
    *out = c;
    return KLEASE_OK;
fail:
    klease_client_free(c);
    return st;
}

klease_status klease__client_new_with_transport(klease_client **out, klease__transport *transport,
                                                const klease__clock *clock, const char *ns,
                                                klease_error *err)
{
    klease_client *c = NULL;
    klease_status st = client_alloc(&c, NULL, err);
    if (st != KLEASE_OK) {
        transport->destroy(transport);
        return st;
    }
    c->transport = transport;
    if (clock != NULL)
        c->clock = clock;
    if ((c->ns = klease__strdup(ns != NULL ? ns : "default")) == NULL) {
        klease_client_free(c);
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    *out = c;
    return KLEASE_OK;
}

void klease_client_free(klease_client *c)
{
    if (c == NULL)
        return;
    /* Every elector is closed by now; the engine's loop uses the transport. */
    if (c->engine_free != NULL)
        c->engine_free(atomic_load(&c->engine));
    if (c->transport != NULL)
        c->transport->destroy(c->transport);
    klease__credentials_free(c->creds);
    klease__kube_config_free(c->cfg);
    klease__free(c->ns);
    klease__free(c);
}

const char *klease_client_namespace(const klease_client *c)
{
    return c != NULL ? c->ns : NULL;
}

const char *klease_client_server(const klease_client *c)
{
    return c != NULL && c->cfg != NULL ? c->cfg->server : NULL;
}

int64_t klease__client_timeout(const klease_client *c, int64_t call_timeout_ms)
{
    if (call_timeout_ms > 0 && call_timeout_ms < c->request_timeout_ms)
        return call_timeout_ms;
    return c->request_timeout_ms;
}
