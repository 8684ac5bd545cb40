/* Persistence for restarts: leases (as the API shows them, plus what the
 * API does not show) and the resourceVersion counter, in one JSON file. */
#include "state.h"

#include "lease.h"
#include "sim.h"
#include "status.h"
#include "store.h"
#include "table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Fields the API output does not carry, under a key of our own. */
static cJSON *sidecar(const lease *l)
{
    cJSON *k = cJSON_CreateObject(), *mf = cJSON_AddArrayToObject(k, "managed");
    if (mf == NULL || !cJSON_AddNumberToObject(k, "created", (double)l->created_s)) {
        cJSON_Delete(k);
        return NULL;
    }
    for (size_t i = 0; i < l->n_mf; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(mf, e);
        if (e == NULL || !cJSON_AddStringToObject(e, "manager", l->mf[i].manager) ||
            !cJSON_AddBoolToObject(e, "apply", l->mf[i].apply) ||
            !cJSON_AddNumberToObject(e, "time", (double)l->mf[i].time_s) ||
            !cJSON_AddNumberToObject(e, "mask", l->mf[i].mask)) {
            cJSON_Delete(k);
            return NULL;
        }
    }
    return k;
}

int ksim_save_state(ksim *sim, const char *path)
{
    char rv[24], tmp[4096];
    int rc = -1;
    char *text = NULL;
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "leases");
    pthread_mutex_lock(&sim->mu);
    snprintf(rv, sizeof(rv), "%" PRIu64, sim->rv);
    bool ok = arr && cJSON_AddStringToObject(o, "resourceVersion", rv);
    void **all = NULL;
    long count = ksim__store_sorted(sim, "", &all);
    ok = ok && count >= 0;
    for (long i = 0; ok && i < count; i++) {
        lease *l = all[i];
        cJSON *item = ksim__lease_to_json(l, false), *side = sidecar(l);
        ok = item && side;
        if (ok) {
            cJSON_AddItemToObject(item, "ksim", side);
            cJSON_AddItemToArray(arr, item);
        } else {
            cJSON_Delete(item);
            cJSON_Delete(side);
        }
    }
    pthread_mutex_unlock(&sim->mu);
    free(all);
    if (!ok || (text = ksim__json_line(o)) == NULL)
        goto out;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        goto out;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        goto out;
    size_t n = strlen(text);
    bool written = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0 || !written || rename(tmp, path) != 0) {
        remove(tmp);
        goto out;
    }
    rc = 0;
out:
    free(text);
    cJSON_Delete(o);
    return rc;
}

static char *read_all(const char *path, bool *missing)
{
    *missing = false;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        *missing = errno == ENOENT;
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *t = realloc(buf, cap *= 2);
            if (t == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = t;
        }
    }
    if (buf)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

static lease *load_one(const cJSON *item)
{
    decoded d;
    if (ksim__lease_decode(item, &d) != DEC_OK)
        return NULL;
    const cJSON *side = cJSON_GetObjectItemCaseSensitive(item, "ksim");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(side, "created");
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(side, "managed");
    lease *l = calloc(1, sizeof(*l));
    uint64_t rv = 0;
    if (l == NULL || !d.name || !d.ns || !d.uid || strlen(d.uid) >= sizeof(l->uid) ||
        !ksim__parse_rv(d.rv, &rv) || !cJSON_IsNumber(created) || (l->ns = strdup(d.ns)) == NULL ||
        (l->name = strdup(d.name)) == NULL)
        goto fail;
    memcpy(l->uid, d.uid, strlen(d.uid) + 1);
    l->rv = rv;
    l->created_s = (int64_t)created->valuedouble;
    l->spec = d.spec;
    memset(&d.spec, 0, sizeof(d.spec));
    const cJSON *e;
    cJSON_ArrayForEach(e, mf)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manager");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "apply");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "time");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "mask");
        if (!cJSON_IsString(m) || !cJSON_IsNumber(t) || !cJSON_IsNumber(k) ||
            ksim__lease_set_owner(l, m->valuestring, cJSON_IsTrue(a), (unsigned)k->valueint & F_ALL,
                                  false, (int64_t)t->valuedouble) != 0)
            goto fail;
    }
    return l;
fail:
    ksim__spec_clear(&d.spec);
    ksim__lease_free(l);
    return NULL;
}

int ksim__state_load(ksim *sim, const char *path, char *err, size_t errlen)
{
    bool missing = false;
    char *text = read_all(path, &missing);
    if (text == NULL) {
        if (missing)
            return 0; /* first run */
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    int rc = -1;
    cJSON *o = cJSON_Parse(text);
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(o, "resourceVersion");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "leases");
    uint64_t v = 0;
    if (!cJSON_IsString(rv) || !ksim__parse_rv(rv->valuestring, &v) || !cJSON_IsArray(arr)) {
        snprintf(err, errlen, "%s: not a ksim state file", path);
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        lease *l = load_one(item);
        void *dup = NULL;
        if (l == NULL || ksim__table_put(&sim->leases, l->ns, l->name, l, &dup) != 0) {
            ksim__lease_free(l);
            snprintf(err, errlen, "%s: a lease cannot be read", path);
            goto out;
        }
        ksim__lease_free(dup); /* a file written by hand may repeat a lease: the last wins */
        if (l->rv > v)
            v = l->rv;
    }
    sim->rv = v;
    /* Events before the restart are gone: older watches get 410, as after a
     * real API server restart. */
    sim->floor_rv = v;
    rc = 0;
out:
    cJSON_Delete(o);
    free(text);
    return rc;
}
