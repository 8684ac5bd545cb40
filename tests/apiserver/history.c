/* The append-only record of accepted writes, in memory and optionally as
 * JSON lines in a file (flushed per line so a killed simulator loses none). */
#include "history.h"

#include "sim.h"
#include "status.h"

#include "core/microtime.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *ksim_op_name(ksim_op op)
{
    static const char *const names[] = {"create", "apply", "smp", "merge", "put", "delete"};
    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "unknown";
}

static void entry_free(ksim_history_entry *e)
{
    free(e->ns);
    free(e->name);
    free(e->holder);
    free(e->identity);
    free(e->field_manager);
}

static int entry_copy(ksim_history_entry *dst, const ksim_history_entry *src)
{
    *dst = *src;
    dst->ns = src->ns ? strdup(src->ns) : NULL;
    dst->name = src->name ? strdup(src->name) : NULL;
    dst->holder = src->holder ? strdup(src->holder) : NULL;
    dst->identity = strdup(src->identity ? src->identity : "");
    dst->field_manager = strdup(src->field_manager ? src->field_manager : "");
    if ((src->ns && !dst->ns) || (src->name && !dst->name) || (src->holder && !dst->holder) ||
        !dst->identity || !dst->field_manager) {
        entry_free(dst);
        return -1;
    }
    return 0;
}

static char *entry_json(const ksim_history_entry *e)
{
    char t[KLEASE__MICROTIME_LEN + 1], rv[24];
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    snprintf(rv, sizeof(rv), "%" PRIu64, e->resource_version);
    if (o == NULL || klease__microtime_format(e->wall_ns, t) != KLEASE_OK ||
        !cJSON_AddStringToObject(o, "time", t) ||
        !cJSON_AddNumberToObject(o, "wallNs", (double)e->wall_ns) ||
        !cJSON_AddNumberToObject(o, "monoNs", (double)e->mono_ns) ||
        !cJSON_AddStringToObject(o, "resourceVersion", rv) ||
        !cJSON_AddStringToObject(o, "op", ksim_op_name(e->op)) ||
        !cJSON_AddStringToObject(o, "namespace", e->ns) ||
        !cJSON_AddStringToObject(o, "name", e->name) ||
        !(e->holder ? cJSON_AddStringToObject(o, "holderIdentity", e->holder)
                    : cJSON_AddNullToObject(o, "holderIdentity")))
        goto out;
    if (e->has_renew_time) {
        if (klease__microtime_format(e->renew_time_ns, t) != KLEASE_OK ||
            !cJSON_AddStringToObject(o, "renewTime", t))
            goto out;
    }
    if ((e->has_duration &&
         !cJSON_AddNumberToObject(o, "leaseDurationSeconds", e->lease_duration_seconds)) ||
        (e->has_transitions &&
         !cJSON_AddNumberToObject(o, "leaseTransitions", e->lease_transitions)) ||
        !cJSON_AddStringToObject(o, "identity", e->identity) ||
        !cJSON_AddStringToObject(o, "fieldManager", e->field_manager))
        goto out;
    s = ksim__json_line(o);
out:
    cJSON_Delete(o);
    return s;
}

int ksim__history_append(ksim *sim, const ksim_history_entry *e)
{
    history_vec *h = &sim->history;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        ksim_history_entry *v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    if (entry_copy(&h->v[h->n], e) != 0)
        return -1;
    h->n++;
    if (sim->history_file) {
        char *line = entry_json(e);
        if (line == NULL)
            return -1;
        fputs(line, sim->history_file);
        fflush(sim->history_file);
        free(line);
    }
    return 0;
}

int ksim_history_get(ksim *sim, size_t from, ksim_history_entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = 0;
    pthread_mutex_lock(&sim->mu);
    size_t total = sim->history.n > from ? sim->history.n - from : 0;
    ksim_history_entry *v = total ? calloc(total, sizeof(*v)) : NULL;
    if (total && v == NULL) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < total; i++)
        if (entry_copy(&v[i], &sim->history.v[from + i]) != 0) {
            ksim_history_free(v, i);
            v = NULL;
            rc = -1;
            goto out;
        }
    *out = v;
    *n = total;
out:
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

void ksim_history_free(ksim_history_entry *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        entry_free(&entries[i]);
    free(entries);
}

size_t ksim_history_count(ksim *sim)
{
    pthread_mutex_lock(&sim->mu);
    size_t n = sim->history.n;
    pthread_mutex_unlock(&sim->mu);
    return n;
}

/* JSON lines of entries [from, end), for the control endpoint. */
char *ksim__history_jsonl(ksim *sim, size_t from)
{
    size_t len = 0, cap = 256;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    pthread_mutex_lock(&sim->mu);
    for (size_t i = from; i < sim->history.n; i++) {
        char *line = entry_json(&sim->history.v[i]);
        size_t n = line ? strlen(line) : 0;
        if (line && len + n + 1 > cap) {
            char *t = realloc(out, cap = (len + n + 1) * 2);
            if (t == NULL) {
                free(line);
                line = NULL;
            } else {
                out = t;
            }
        }
        if (line == NULL) {
            free(out);
            out = NULL;
            break;
        }
        memcpy(out + len, line, n + 1);
        len += n;
        free(line);
    }
    pthread_mutex_unlock(&sim->mu);
    return out;
}

void ksim__history_free_all(ksim *sim)
{
    ksim_history_free(sim->history.v, sim->history.n);
    memset(&sim->history, 0, sizeof(sim->history));
    if (sim->history_file)
        fclose(sim->history_file);
    sim->history_file = NULL;
}
