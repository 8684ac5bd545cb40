/* klease create|get|claim|vacate: one API round each, through the public
 * manager API, and an exit code a script can branch on. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_exit_for(klease_status st)
{
    switch (st) {
    case KLEASE_OK: return CLI_EXIT_OK;
    case KLEASE_EINVAL: return CLI_EXIT_USAGE;
    case KLEASE_ECONFIG: return CLI_EXIT_CONFIG;
    case KLEASE_ENOTFOUND: return CLI_EXIT_NOT_FOUND;
    case KLEASE_EAUTH: return CLI_EXIT_AUTH;
    default: return CLI_EXIT_API;
    }
}

static int session_open(cli_session *s, const cli_opts *o, bool create_if_missing,
                        bool report_missing);

/* The client as the command line says: kubectl's flags over the kubeconfig. */
static void client_options(klease_client_options *co, const cli_opts *o)
{
    klease_client_options init = KLEASE_CLIENT_OPTIONS_INIT;
    *co = init;
    co->kubeconfig = o->kubeconfig;
    co->context = o->context;
    co->cluster = o->cluster;
    co->user = o->user;
    co->server = o->server;
    co->token = o->token;
    co->certificate_authority = o->certificate_authority;
    co->insecure_skip_tls_verify = o->insecure_skip_tls_verify;
    co->request_timeout_ms = o->request_timeout_ms;
    if (o->verbose > 0) {
        co->log_fn = cli_log;
        co->log_level = KLEASE_LOG_DEBUG; /* a one-shot command logs little at info */
    }
}

int cli_client_open(klease_client **out, const cli_opts *o)
{
    klease_client_options co;
    klease_error err;
    client_options(&co, o);
    klease_status st = klease_client_new(out, &co, &err);
    if (st != KLEASE_OK) {
        cli_report(NULL, st, &err);
        return cli_exit_for(st);
    }
    return CLI_EXIT_OK;
}

/* Errors that may pass while we wait: the server is down, hangs, or is busy. */
static bool passing(klease_status st)
{
    return st == KLEASE_ETIMEDOUT || st == KLEASE_ETRANSPORT || st == KLEASE_EHTTP ||
           st == KLEASE_EPROTO || st == KLEASE_ECONFLICT;
}

int cli_session_try(cli_session *s, const cli_opts *o, bool create_if_missing, klease_status *st,
                    klease_error *err)
{
    klease_client_options co;
    memset(s, 0, sizeof *s);
    client_options(&co, o);
    *st = klease_client_new(&s->client, &co, err);
    if (*st == KLEASE_OK) {
        snprintf(s->ns, sizeof s->ns, "%s",
                 o->ns != NULL ? o->ns : klease_client_namespace(s->client));
        klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
        mo.create_if_missing = create_if_missing;
        mo.field_manager = o->field_manager;
        *st = klease_manager_init(&s->manager, s->client, s->ns, o->name, &mo, err);
    }
    if (*st == KLEASE_OK)
        return CLI_EXIT_OK;
    bool again = passing(*st);
    if (!again) {
        char what[512];
        snprintf(what, sizeof what, "lease %s/%s", s->ns, o->name);
        if (*st == KLEASE_ENOTFOUND)
            cli_errorf("lease %s/%s not found (use --create to create it)", s->ns, o->name);
        else
            cli_report(s->manager == NULL && s->ns[0] == '\0' ? NULL : what, *st, err);
    }
    cli_session_close(s);
    return again ? -1 : cli_exit_for(*st);
}

/* Opens a JSON object with the lease's namespace and name. */
static void print_json_head(const char *ns, const char *name)
{
    printf("{\"namespace\":");
    cli_print_json_string(ns);
    printf(",\"name\":");
    cli_print_json_string(name);
}

int cli_session_open(cli_session *s, const cli_opts *o, bool create_if_missing)
{
    return session_open(s, o, create_if_missing, true);
}

/* `report_missing`: say so on stderr when the lease does not exist. */
static int session_open(cli_session *s, const cli_opts *o, bool create_if_missing,
                        bool report_missing)
{
    klease_error err;
    klease_status st;
    char what[512];

    memset(s, 0, sizeof *s);
    klease_client_options co;
    client_options(&co, o);
    if ((st = klease_client_new(&s->client, &co, &err)) != KLEASE_OK) {
        cli_report(NULL, st, &err);
        return cli_exit_for(st);
    }
    snprintf(s->ns, sizeof s->ns, "%s", o->ns != NULL ? o->ns : klease_client_namespace(s->client));

    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = create_if_missing;
    mo.field_manager = o->field_manager;
    if ((st = klease_manager_init(&s->manager, s->client, s->ns, o->name, &mo, &err)) !=
        KLEASE_OK) {
        snprintf(what, sizeof what, "lease %s/%s", s->ns, o->name);
        if (st != KLEASE_ENOTFOUND)
            cli_report(what, st, &err);
        else if (report_missing)
            cli_errorf("lease %s/%s not found (use --create to create it)", s->ns, o->name);
        cli_session_close(s);
        return cli_exit_for(st);
    }
    return CLI_EXIT_OK;
}

void cli_session_close(cli_session *s)
{
    klease_manager_free(s->manager);
    klease_client_free(s->client);
    s->manager = NULL;
    s->client = NULL;
}

int cli_cmd_create(const cli_opts *o)
{
    cli_session s;
    /* Look first, so the output can say whether this call created it. A
     * concurrent creator between the two calls is fine: create tolerates it. */
    int rc = session_open(&s, o, false, false);
    bool existed = rc == CLI_EXIT_OK;
    if (rc == CLI_EXIT_NOT_FOUND)
        rc = cli_session_open(&s, o, true);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (o->output == CLI_OUTPUT_JSON) {
        print_json_head(s.ns, o->name);
        printf(",\"created\":%s}\n", existed ? "false" : "true");
    } else
        printf("lease %s/%s %s\n", s.ns, o->name, existed ? "already exists" : "created");
    cli_session_close(&s);
    return CLI_EXIT_OK;
}

/* What makes a change worth a line: the holder, the transitions, the
 * resourceVersion (every renewal), not the time left. */
static bool same_claim(const klease_claim *a, bool a_has, const klease_claim *b, bool b_has)
{
    return a_has == b_has && strcmp(a->holder, b->holder) == 0 &&
           a->transitions == b->transitions &&
           strcmp(a->resource_version, b->resource_version) == 0;
}

typedef struct watch_view {
    const cli_opts *o;
    cli_opts shown;
    const char *ns;
    klease_claim last;
    bool last_has;
    bool gone; /* said that the lease was deleted */
} watch_view;

/* One change from the watch: a line (or document) unless it is the state
 * already shown (a re-read after 410 Expired may report that again). */
static bool print_change(void *user, const klease_lease_info *lease)
{
    watch_view *v = user;
    if (lease == NULL) {
        if (!v->gone)
            cli_errorf("lease %s/%s deleted (still watching)", v->ns, v->o->name);
        v->gone = true;
        return true;
    }
    v->gone = false;
    if (same_claim(&lease->claim, lease->held, &v->last, v->last_has))
        return true;
    if (v->shown.output == CLI_OUTPUT_WIDE)
        cli_print_claim_row(v->ns, v->o->name, &lease->claim, lease->held, false);
    else {
        if (v->shown.output == CLI_OUTPUT_YAML)
            printf("---\n");
        cli_print_claim(&v->shown, v->ns, &lease->claim, lease->held, NULL);
    }
    fflush(stdout);
    v->last = lease->claim;
    v->last_has = lease->held;
    return true;
}

/* A watch call's length: short, so the loop comes round often; a signal
 * ends the process at once anyway (get --watch keeps their default action). */
#define WATCH_CALL_MS     1000
#define WATCH_MIN_CALL_MS 100 /* the least time one watch request may take, however it ends */

/* get --watch: follows the lease with a Kubernetes watch from the version
 * just shown and prints it again on every change (a table row for text and
 * wide, an object per line for JSON, a document each for YAML), until
 * interrupted. An error is said once per kind and the watch goes on a
 * second later, from the last version seen. */
__attribute__((noreturn)) static void watch(cli_session *s, const cli_opts *o, klease_claim last,
                                            bool last_has)
{
    watch_view v = {.o = o, .shown = *o, .ns = s->ns, .last = last, .last_has = last_has};
    if (v.shown.output == CLI_OUTPUT_TEXT)
        v.shown.output = CLI_OUTPUT_WIDE;
    char rv[sizeof last.resource_version];
    snprintf(rv, sizeof rv, "%s", last.resource_version);
    klease_status last_st = KLEASE_OK;
    for (;;) {
        fflush(stdout);
        klease_error err;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        klease_status st = klease_lease_watch(s->client, s->ns, o->name, rv, sizeof rv,
                                              WATCH_CALL_MS, print_change, &v, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t took_ms =
            (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (st != KLEASE_OK) {
            if (st != last_st)
                cli_report("watch (retrying)", st, &err);
            struct timespec second = {1, 0};
            nanosleep(&second, NULL);
        } else if (took_ms < WATCH_MIN_CALL_MS) {
            /* A server that ends every stream at once must not make us spin. */
            struct timespec pause = {0, (WATCH_MIN_CALL_MS - took_ms) * 1000000L};
            nanosleep(&pause, NULL);
        }
        last_st = st;
    }
}

int cli_cmd_get(const cli_opts *o)
{
    cli_session s;
    int rc = cli_session_open(&s, o, o->create);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* klease_manager_init has just read the lease: its cache is fresh. */
    klease_claim claim;
    bool has = false;
    klease_claimed(s.manager, &claim, &has);
    if (o->watch && o->output == CLI_OUTPUT_TEXT) {
        cli_opts wide = *o;
        wide.output = CLI_OUTPUT_WIDE;
        cli_print_claim(&wide, s.ns, &claim, has, NULL);
    } else {
        if (o->watch && o->output == CLI_OUTPUT_YAML)
            printf("---\n");
        cli_print_claim(o, s.ns, &claim, has, NULL);
    }
    if (o->watch)
        watch(&s, o, claim, has);
    cli_session_close(&s);
    return rc;
}

int cli_cmd_claim(const cli_opts *o)
{
    cli_session s;
    int rc = cli_session_open(&s, o, o->create);
    if (rc != CLI_EXIT_OK)
        return rc;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = o->duration_ms;
    p.renew_grace_ms = o->grace_ms;
    klease_claim claim;
    klease_error err;
    klease_status st = klease_ensure_claimed(s.manager, o->identity, &p, &claim, &err);
    if (st != KLEASE_OK) {
        char what[512];
        snprintf(what, sizeof what, "claim %s/%s", s.ns, o->name);
        cli_report(what, st, &err);
        cli_session_close(&s);
        return cli_exit_for(st);
    }
    bool mine = klease_claim_is_current_for(&claim, o->identity);
    bool held = claim.holder[0] != '\0';
    cli_print_claim(o, s.ns, &claim, held, mine ? "held" : "held by someone else");
    cli_session_close(&s);
    return mine ? CLI_EXIT_OK : CLI_EXIT_NOT_HELD;
}

int cli_cmd_vacate(const cli_opts *o)
{
    cli_session s;
    int rc = cli_session_open(&s, o, false);
    if (rc != CLI_EXIT_OK)
        return rc;
    bool vacated = false;
    klease_error err;
    klease_status st = klease_vacate(s.manager, o->identity, &vacated, &err);
    if (st != KLEASE_OK) {
        char what[512];
        snprintf(what, sizeof what, "vacate %s/%s", s.ns, o->name);
        cli_report(what, st, &err);
        cli_session_close(&s);
        return cli_exit_for(st);
    }
    if (o->output == CLI_OUTPUT_JSON) {
        print_json_head(s.ns, o->name);
        printf(",\"identity\":");
        cli_print_json_string(o->identity);
        printf(",\"vacated\":%s}\n", vacated ? "true" : "false");
    } else if (vacated)
        printf("lease %s/%s vacated by %s\n", s.ns, o->name, o->identity);
    else
        printf("lease %s/%s not held by %s: nothing to vacate\n", s.ns, o->name, o->identity);
    cli_session_close(&s);
    return vacated ? CLI_EXIT_OK : CLI_EXIT_NOT_HELD;
}
