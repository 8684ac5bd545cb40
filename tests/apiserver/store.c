/* The lease store: a hash table of leases by namespace and name, the global
 * resourceVersion, and the fan-out of every accepted write to watch events
 * and to the history. Every function here runs with sim->mu held, except
 * ksim_get_lease_json(), which takes it. */
#include "store.h"

#include "core/clock.h"
#include "events.h"
#include "history.h"
#include "sim.h"
#include "status.h"
#include "table.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

int64_t ksim__now_wall_s(void)
{
    return klease__wall_ns(klease__clock_system()) / KLEASE__NS_PER_S;
}

void ksim__random_uid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        /* Uniqueness is all a uid needs here; fall back on the clocks. */
        int64_t t =
            klease__mono_ns(klease__clock_system()) ^ klease__wall_ns(klease__clock_system());
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 37);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

bool ksim__parse_rv(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

lease *ksim__store_find(ksim *sim, const char *ns, const char *name)
{
    return ksim__table_get(sim->leases, ns, name);
}

long ksim__store_sorted(ksim *sim, const char *ns, void ***out)
{
    return ksim__table_sorted(sim->leases, ns, out);
}

static char *event_line(const char *type, const lease *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *obj = ksim__lease_to_json(l, false);
    char *s = NULL;
    if (o == NULL || obj == NULL || !cJSON_AddStringToObject(o, "type", type)) {
        cJSON_Delete(obj);
        goto out;
    }
    cJSON_AddItemToObject(o, "object", obj);
    s = ksim__json_line(o);
out:
    cJSON_Delete(o);
    return s;
}

static int record(ksim *sim, const lease *l, ksim_op op, const writer *who, bool deleted)
{
    const klease__clock *clk = klease__clock_system();
    ksim_history_entry e = {
        .wall_ns = klease__wall_ns(clk),
        .mono_ns = klease__mono_ns(clk),
        .resource_version = l->rv,
        .op = op,
        .ns = l->ns,
        .name = l->name,
        .identity = who ? (char *)who->identity : (char *)"",
        .field_manager = (char *)(who && !deleted ? who->field_manager : ""),
    };
    if (!deleted) {
        e.holder = l->spec.holder;
        e.has_renew_time = l->spec.has_renew;
        e.renew_time_ns = l->spec.renew_ns;
        e.has_duration = l->spec.has_duration;
        e.lease_duration_seconds = l->spec.duration;
        e.has_transitions = l->spec.has_transitions;
        e.lease_transitions = l->spec.transitions;
    }
    return ksim__history_append(sim, &e);
}

int ksim__store_commit(ksim *sim, lease *next, ksim_op op, const writer *who, bool created)
{
    next->rv = sim->rv + 1;
    char *line = event_line(created ? "ADDED" : "MODIFIED", next);
    void *old = NULL;
    if (line == NULL || ksim__table_put(&sim->leases, next->ns, next->name, next, &old) != 0) {
        free(line);
        ksim__lease_free(next);
        return -1;
    }
    ksim__lease_free(old);
    sim->rv++;
    /* The write is applied; failing to tell watchers or the history about it
     * would make them lie, so report OOM but keep the write. */
    int rc = ksim__events_publish(sim, next->ns, next->name, next->rv, line);
    free(line);
    if (record(sim, next, op, who, false) != 0)
        rc = -1;
    return rc;
}

int ksim__store_delete(ksim *sim, lease *l, const writer *who)
{
    uint64_t old_rv = l->rv;
    l->rv = sim->rv + 1;
    char *line = event_line("DELETED", l);
    if (line == NULL) {
        l->rv = old_rv;
        return -1;
    }
    sim->rv++;
    ksim__table_remove(sim->leases, l->ns, l->name);
    int rc = ksim__events_publish(sim, l->ns, l->name, l->rv, line);
    free(line);
    if (record(sim, l, KSIM_OP_DELETE, who, true) != 0)
        rc = -1;
    ksim__lease_free(l);
    return rc;
}

static void free_lease(void *l)
{
    ksim__lease_free(l);
}

void ksim__store_free_all(ksim *sim)
{
    ksim__table_free(sim->leases, free_lease);
    sim->leases = NULL;
}

char *ksim_get_lease_json(ksim *sim, const char *ns, const char *name)
{
    pthread_mutex_lock(&sim->mu);
    lease *l = ksim__store_find(sim, ns, name);
    char *s = l ? ksim__lease_to_text(l) : NULL;
    pthread_mutex_unlock(&sim->mu);
    return s;
}
