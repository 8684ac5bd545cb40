/* Fault rules: matching by method, route and identity, counts and seeded
 * probabilities (the waits they cause are in sim.c). */
#include "faults.h"

#include "sim.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ksim__fault_rule {
    uint64_t id;
    ksim_fault f; /* method/identity point at the copies below */
    char *method;
    char *identity;
    int left; /* remaining firings, or -1 for unlimited */
    struct ksim__fault_rule *next;
} fault_rule;

/* How often each rule fired, kept after the rule is used up. */
typedef struct ksim__fired {
    uint64_t id;
    uint64_t count;
    struct ksim__fired *next;
} fired;

/* xorshift64*: tiny, seedable, good enough to pick which requests fail. */
static double next_random(ksim *sim)
{
    uint64_t x = sim->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sim->rng = x;
    return (double)((x * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void count_fired(ksim *sim, uint64_t id)
{
    for (fired *f = sim->fired; f; f = f->next)
        if (f->id == id) {
            f->count++;
            return;
        }
    fired *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return; /* only the statistic is lost */
    f->id = id;
    f->count = 1;
    f->next = sim->fired;
    sim->fired = f;
}

int ksim_add_fault(ksim *sim, const ksim_fault *f, uint64_t *id)
{
    if (sim == NULL || f == NULL || f->kind > KSIM_FAULT_PARTITION)
        return -1;
    fault_rule *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -1;
    r->f = *f;
    r->method = f->method ? strdup(f->method) : NULL;
    r->identity = f->identity ? strdup(f->identity) : NULL;
    if ((f->method && r->method == NULL) || (f->identity && r->identity == NULL)) {
        free(r->method);
        free(r->identity);
        free(r);
        return -1;
    }
    r->f.method = r->method;
    r->f.identity = r->identity;
    r->left = f->count > 0 ? f->count : -1;
    pthread_mutex_lock(&sim->mu);
    r->id = ++sim->next_fault_id;
    fault_rule **pp = &sim->faults;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    if (id)
        *id = r->id;
    ksim__wake_all(sim);
    pthread_mutex_unlock(&sim->mu);
    return 0;
}

static void free_rule(fault_rule *r)
{
    free(r->method);
    free(r->identity);
    free(r);
}

bool ksim_remove_fault(ksim *sim, uint64_t id)
{
    bool found = false;
    pthread_mutex_lock(&sim->mu);
    for (fault_rule **pp = &sim->faults; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            fault_rule *r = *pp;
            *pp = r->next;
            free_rule(r);
            found = true;
            break;
        }
    ksim__wake_all(sim); /* a lifted partition lets watches talk again */
    pthread_mutex_unlock(&sim->mu);
    return found;
}

void ksim_clear_faults(ksim *sim)
{
    pthread_mutex_lock(&sim->mu);
    while (sim->faults) {
        fault_rule *r = sim->faults;
        sim->faults = r->next;
        free_rule(r);
    }
    ksim__wake_all(sim);
    pthread_mutex_unlock(&sim->mu);
}

uint64_t ksim_fault_fired(ksim *sim, uint64_t id)
{
    uint64_t n = 0;
    pthread_mutex_lock(&sim->mu);
    for (fired *f = sim->fired; f; f = f->next)
        if (f->id == id)
            n = f->count;
    pthread_mutex_unlock(&sim->mu);
    return n;
}

static bool rule_matches(const fault_rule *r, const char *method, bool is_watch, const char *user)
{
    if (r->method && strcasecmp(r->method, method) != 0)
        return false;
    if (r->f.route == KSIM_ROUTE_WATCH && !is_watch)
        return false;
    if (r->f.route == KSIM_ROUTE_NON_WATCH && is_watch)
        return false;
    return r->identity == NULL || strcmp(r->identity, user) == 0;
}

void ksim__faults_decide(ksim *sim, const char *method, bool is_watch, const char *user,
                         fault_decision *d)
{
    memset(d, 0, sizeof(*d));
    pthread_mutex_lock(&sim->mu);
    for (fault_rule **pp = &sim->faults; *pp;) {
        fault_rule *r = *pp;
        bool terminal = r->f.kind != KSIM_FAULT_LATENCY;
        if (!rule_matches(r, method, is_watch, user) || (terminal && d->fire) ||
            (r->f.probability < 1.0 && next_random(sim) >= r->f.probability)) {
            pp = &r->next;
            continue;
        }
        count_fired(sim, r->id);
        if (terminal) {
            d->fire = true;
            d->kind = r->f.kind;
            d->status = r->f.status;
            d->retry_after_s = r->f.retry_after_s;
        } else {
            d->latency_ms += r->f.latency_ms;
        }
        if (r->left > 0 && --r->left == 0) {
            *pp = r->next;
            free_rule(r);
            continue;
        }
        pp = &r->next;
    }
    pthread_mutex_unlock(&sim->mu);
}

bool ksim__identity_partitioned(ksim *sim, const char *user)
{
    for (fault_rule *r = sim->faults; r; r = r->next)
        if (r->f.kind == KSIM_FAULT_PARTITION &&
            (r->identity == NULL || strcmp(r->identity, user) == 0))
            return true;
    return false;
}

void ksim__faults_free(ksim *sim)
{
    while (sim->faults) {
        fault_rule *r = sim->faults;
        sim->faults = r->next;
        free_rule(r);
    }
    while (sim->fired) {
        fired *f = sim->fired;
        sim->fired = f->next;
        free(f);
    }
}

/* ------------------------------------------------------------------ JSON */

static const char *const kind_names[] = {"latency",    "error", "throttle", "drop-before",
                                         "drop-after", "hang",  "partition"};

int ksim_add_fault_json(ksim *sim, const char *json, uint64_t *id)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    int rc = -1;
    if (!cJSON_IsObject(o))
        goto out;
    ksim_fault f = KSIM_FAULT_INIT;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsString(v))
        goto out;
    size_t k = 0;
    for (; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
        if (strcmp(v->valuestring, kind_names[k]) == 0)
            break;
    if (k == sizeof(kind_names) / sizeof(kind_names[0]))
        goto out;
    f.kind = (ksim_fault_kind)k;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "method")))
        f.method = v->valuestring;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "identity")))
        f.identity = v->valuestring;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "route"))) {
        if (strcmp(v->valuestring, "watch") == 0)
            f.route = KSIM_ROUTE_WATCH;
        else if (strcmp(v->valuestring, "non-watch") == 0)
            f.route = KSIM_ROUTE_NON_WATCH;
        else if (strcmp(v->valuestring, "any") != 0)
            goto out;
    }
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "count")))
        f.count = v->valueint;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "probability")))
        f.probability = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "latencyMs")))
        f.latency_ms = v->valueint;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "status")))
        f.status = v->valueint;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "retryAfterSeconds")))
        f.retry_after_s = v->valueint;
    rc = ksim_add_fault(sim, &f, id);
out:
    cJSON_Delete(o);
    return rc;
}
