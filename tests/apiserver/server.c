/* Start, stop and the libmicrohttpd glue: one thread per connection (so a
 * slow, hung or watching request never blocks another), request bodies,
 * identity, faults, then routes.c; connection and TLS counters. */
#include "sim.h"

#include "auth.h"
#include "certs.h"
#include "control.h"
#include "events.h"
#include "faults.h"
#include "history.h"
#include "request.h"
#include "routes.h"
#include "state.h"
#include "status.h"
#include "store.h"
#include "watch.h"
#include "core/clock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)

typedef struct conn_state {
    bool tls_counted;
} conn_state;

typedef struct req_ctx {
    char *body;
    size_t len, cap;
    bool too_big;
} req_ctx;

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    ksim *sim = cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&sim->mu);
        sim->counters.connections++;
        pthread_mutex_unlock(&sim->mu);
        *socket_context = calloc(1, sizeof(conn_state)); /* NULL only loses the TLS count */
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->body);
        free(ctx);
    }
    *con_cls = NULL;
}

static void logger(void *cls, const char *fmt, va_list ap)
{
    ksim *sim = cls;
    if (sim->o.verbose) {
        fputs("ksim: ", stderr);
        vfprintf(stderr, fmt, ap);
    }
}

static void first_call(ksim *sim, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_state *cs = ci ? ci->socket_context : NULL;
    pthread_mutex_lock(&sim->mu);
    sim->counters.requests++;
    /* A request arriving proves the handshake completed on this connection. */
    if (sim->o.tls && cs && !cs->tls_counted) {
        cs->tls_counted = true;
        sim->counters.tls_handshakes++;
    }
    pthread_mutex_unlock(&sim->mu);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply *r)
{
    if (r->watch)
        return ksim__watch_queue_response(conn, r->watch) == 0 ? MHD_YES : MHD_NO;
    size_t len = r->body ? strlen(r->body) : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    free(r->body);
    r->body = NULL;
    if (resp == NULL)
        return MHD_NO;
    char audit[37], retry[16];
    ksim__random_uid(audit);
    MHD_add_response_header(resp, "Audit-Id", audit);
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", retry);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned int)r->code, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void injected_status(reply *r, const fault_decision *d)
{
    if (d->kind == KSIM_FAULT_THROTTLE) {
        cJSON *det = cJSON_CreateObject();
        if (det)
            cJSON_AddNumberToObject(det, "retryAfterSeconds", d->retry_after_s);
        ksim__reply_status(r, 429, "TooManyRequests", "Too many requests, please try again later.",
                           det);
        r->retry_after_s = d->retry_after_s;
    } else if (d->status == 503) {
        ksim__reply_status(r, 503, "ServiceUnavailable", "ksim: injected fault", NULL);
    } else {
        int code = d->status >= 500 && d->status <= 599 ? d->status : 500;
        ksim__reply_status(r, code, "InternalError",
                           "Internal error occurred: ksim: injected fault", NULL);
    }
}

static enum MHD_Result handle(ksim *sim, struct MHD_Connection *conn, const char *url,
                              const char *method, req_ctx *ctx)
{
    request rq = {.sim = sim,
                  .conn = conn,
                  .method = method,
                  .url = url,
                  .body = ctx->body,
                  .body_len = ctx->len,
                  .fd = -1};
    reply r = {0};
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        rq.fd = ci->connect_fd;
    ksim__auth_identify(sim, conn, &rq.id);
    ksim__default_manager(&rq);

    if (sim->o.control_endpoint && strncmp(url, "/_ksim/", 7) == 0) {
        if (rq.id.bad_token || rq.id.bad_cert)
            ksim__reply_status(&r, 401, "Unauthorized", "Unauthorized", NULL);
        else if (!rq.id.authenticated || !ksim__auth_allowed(sim, &rq.id))
            ksim__reply_status(&r, 403, "Forbidden",
                               "the control endpoint needs an authorized user", NULL);
        else
            ksim__control_request(&rq, &r);
        return send_reply(conn, &r);
    }

    const char *w = ksim__query(&rq, "watch");
    bool is_watch = strcmp(method, "GET") == 0 && w && (!strcmp(w, "1") || !strcmp(w, "true"));
    fault_decision d;
    ksim__faults_decide(sim, method, is_watch, rq.id.user, &d);
    if (d.latency_ms > 0)
        ksim__sleep_ms(sim, d.latency_ms);
    if (d.fire) {
        switch (d.kind) {
        case KSIM_FAULT_ERROR:
        case KSIM_FAULT_THROTTLE: injected_status(&r, &d); return send_reply(conn, &r);
        case KSIM_FAULT_DROP_BEFORE: return MHD_NO; /* closes the connection, nothing applied */
        case KSIM_FAULT_DROP_AFTER: rq.drop_after = true; break;
        default: /* HANG, PARTITION */ ksim__hang_until_gone(sim, rq.fd); return MHD_NO;
        }
    }
    if (ctx->too_big)
        ksim__reply_status(&r, 413, "RequestEntityTooLarge", "the request body is too large", NULL);
    else
        ksim__route_request(&rq, &r);
    if (rq.drop_after) {
        ksim__watch_discard(r.watch);
        free(r.body);
        return MHD_NO; /* applied, but the client never hears */
    }
    return send_reply(conn, &r);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    ksim *sim = cls;
    req_ctx *ctx = *con_cls;
    (void)version;
    if (ctx == NULL) {
        if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
            return MHD_NO;
        *con_cls = ctx;
        first_call(sim, conn);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->too_big || ctx->len + n > MAX_BODY) {
            ctx->too_big = true;
            return MHD_YES;
        }
        if (ctx->len + n + 1 > ctx->cap) {
            size_t cap = (ctx->len + n + 1) * 2;
            char *b = realloc(ctx->body, cap);
            if (b == NULL)
                return MHD_NO;
            ctx->body = b;
            ctx->cap = cap;
        }
        memcpy(ctx->body + ctx->len, upload_data, n);
        ctx->len += n;
        ctx->body[ctx->len] = '\0';
        return MHD_YES;
    }
    return handle(sim, conn, url, method, ctx);
}

/* ------------------------------------------------------------ lifecycle */

static void fail(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", msg);
}

static char *dup_opt(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && d == NULL)
        *ok = false;
    return d;
}

/* The admin token: reused from a kept workdir, else random and saved. */
static int admin_token(ksim *sim)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin-token", sim->workdir);
    FILE *f = sim->own_workdir ? NULL : fopen(path, "r");
    if (f) {
        size_t n = fread(sim->admin_token, 1, 64, f);
        fclose(f);
        sim->admin_token[n] = '\0';
        sim->admin_token[strcspn(sim->admin_token, "\r\n")] = '\0';
        if (strlen(sim->admin_token) >= 16)
            return ksim_add_token(sim, sim->admin_token, KSIM_ADMIN_USER, true);
    }
    unsigned char b[32];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(sim->admin_token + 2 * i, 3, "%02x", b[i]);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    chmod(path, 0600);
    fputs(sim->admin_token, f);
    if (fclose(f) != 0)
        return -1;
    return ksim_add_token(sim, sim->admin_token, KSIM_ADMIN_USER, true);
}

static int start_daemon(ksim *sim, char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sim->o.port)};
    if (inet_pton(AF_INET, sim->bind_address, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "bad bind address %s", sim->bind_address);
        return -1;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | (sim->o.tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, sim->server_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, sim->server_cert_pem},
        /* A trust list makes libmicrohttpd ask for (not require) client certificates. */
        {MHD_OPTION_HTTPS_MEM_TRUST, 0, sim->ca_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    sim->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, sim, MHD_OPTION_SOCK_ADDR,
                                   &sa, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
                                   MHD_OPTION_NOTIFY_CONNECTION, notify_connection, sim,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_completed, sim,
                                   MHD_OPTION_EXTERNAL_LOGGER, logger, sim, MHD_OPTION_ARRAY,
                                   sim->o.tls ? tls : &tls[3], MHD_OPTION_END);
    if (sim->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%u", sim->bind_address, (unsigned)sim->o.port);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sim->daemon, MHD_DAEMON_INFO_BIND_PORT);
    sim->port = di ? di->port : 0;
    snprintf(sim->url, sizeof(sim->url), "%s://%s:%u", sim->o.tls ? "https" : "http",
             sim->bind_address, (unsigned)sim->port);
    return sim->port ? 0 : -1;
}

/* Copies the options (strings too; *ok turns false if a copy fails) and
 * applies their defaults. */
static void copy_options(ksim *sim, const ksim_options *o, bool *ok)
{
    sim->o = *o;
    sim->bind_address = dup_opt(o->bind_address ? o->bind_address : "127.0.0.1", ok);
    sim->history_path = dup_opt(o->history_path, ok);
    sim->state_path = dup_opt(o->state_path, ok);
    sim->o.workdir = sim->o.history_path = sim->o.state_path = sim->o.bind_address = NULL;
    if (sim->o.bookmark_interval_ms <= 0)
        sim->o.bookmark_interval_ms = 60000;
    if (sim->o.watch_history < 0)
        sim->o.watch_history = 0;
    sim->rng = o->seed ? o->seed : (uint64_t)klease__mono_ns(klease__clock_system()) | 1;
    sim->rv = 1;
    sim->floor_rv = 1;
    sim->rbac_verbs = ~0u;
}

/* A simulator with its options and lock, nothing started yet; NULL (with a
 * message in errbuf) when that fails. *ok false: a string copy failed, and
 * the caller must ksim_stop() it. */
static ksim *sim_new(const ksim_options *o, bool *ok, char *errbuf, size_t errlen)
{
    ksim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) {
        fail(errbuf, errlen, "out of memory");
        return NULL;
    }
    copy_options(sim, o, ok);
    char bad_verb[64];
    if (o->rbac_verbs != NULL &&
        ksim__auth_parse_verbs(o->rbac_verbs, &sim->rbac_verbs, bad_verb, sizeof(bad_verb)) != 0) {
        free(sim->bind_address);
        free(sim->history_path);
        free(sim->state_path);
        free(sim);
        snprintf(errbuf, errlen, "rbac verbs: unknown verb '%s'", bad_verb);
        return NULL;
    }
    pthread_mutex_init(&sim->mu, NULL);
    if (klease__cond_init(&sim->cond) != 0) {
        pthread_mutex_destroy(&sim->mu);
        free(sim->bind_address);
        free(sim->history_path);
        free(sim->state_path);
        free(sim);
        fail(errbuf, errlen, "cannot create a condition variable");
        return NULL;
    }
    return sim;
}

/* The given workdir (created if needed, kept), else a fresh temporary one. */
static int make_workdir(ksim *sim, const char *dir, char *err, size_t errlen)
{
    if (dir) {
        if ((sim->workdir = strdup(dir)) == NULL)
            return -1;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s", dir);
            return -1;
        }
        return 0;
    }
    char tmpl[] = "/tmp/ksim-XXXXXX";
    if (mkdtemp(tmpl) == NULL || (sim->workdir = strdup(tmpl)) == NULL) {
        snprintf(err, errlen, "cannot create a temporary directory");
        return -1;
    }
    sim->own_workdir = true;
    return 0;
}

/* PKI, admin token, saved state and history file, then the listener. */
static int open_everything(ksim *sim, char *err, size_t errlen)
{
    if (sim->o.tls && ksim__certs_init(sim, err, errlen) != 0)
        return -1;
    if (admin_token(sim) != 0) {
        snprintf(err, errlen, "cannot create the admin token in %s", sim->workdir);
        return -1;
    }
    if (sim->state_path && ksim__state_load(sim, sim->state_path, err, errlen) != 0)
        return -1;
    if (sim->history_path && (sim->history_file = fopen(sim->history_path, "a")) == NULL) {
        snprintf(err, errlen, "cannot open %s", sim->history_path);
        return -1;
    }
    return start_daemon(sim, err, errlen);
}

int ksim_start(ksim **out, const ksim_options *o, char *errbuf, size_t errlen)
{
    char err[512] = "out of memory";
    ksim_options defaults = KSIM_OPTIONS_INIT;
    *out = NULL;
    if (o == NULL)
        o = &defaults;
    if (o->version != KSIM_OPTIONS_VERSION) {
        fail(errbuf, errlen, "unknown ksim_options version");
        return -1;
    }
    bool ok = true;
    ksim *sim = sim_new(o, &ok, errbuf, errlen);
    if (sim == NULL)
        return -1;
    if (!ok || make_workdir(sim, o->workdir, err, sizeof(err)) != 0 ||
        open_everything(sim, err, sizeof(err)) != 0) {
        fail(errbuf, errlen, err);
        sim->state_path = NULL; /* nothing to save from a failed start */
        ksim_stop(sim);
        return -1;
    }
    *out = sim;
    return 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

void ksim_stop(ksim *sim)
{
    if (sim == NULL)
        return;
    pthread_mutex_lock(&sim->mu);
    sim->stopping = true;
    ksim__wake_all(sim);
    pthread_mutex_unlock(&sim->mu);
    /* Joins every connection thread; watches and hung requests see
     * `stopping` within a slice and return. */
    if (sim->daemon)
        MHD_stop_daemon(sim->daemon);
    if (sim->state_path)
        ksim_save_state(sim, sim->state_path);
    ksim__events_free_all(sim);
    ksim__store_free_all(sim);
    ksim__history_free_all(sim);
    ksim__faults_free(sim);
    ksim__auth_free(sim);
    ksim__certs_free(sim);
    if (sim->own_workdir && sim->workdir)
        remove_tree(sim->workdir);
    free(sim->workdir);
    free(sim->bind_address);
    free(sim->history_path);
    free(sim->state_path);
    OPENSSL_cleanse(sim->admin_token, sizeof(sim->admin_token));
    pthread_cond_destroy(&sim->cond);
    pthread_mutex_destroy(&sim->mu);
    free(sim);
}
