/* Writing a lease and answering with it: the common end of PUT, strategic
 * merge, merge and server-side apply. */
#include "commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ksim__is_current_rv(const lease *cur, const char *rv)
{
    uint64_t v = 0;
    return rv == NULL || rv[0] == '\0' || (ksim__parse_rv(rv, &v) && v == cur->rv);
}

void ksim__reply_commit(request *rq, reply *r, lease *next, ksim_op op, bool created)
{
    writer who = ksim__request_writer(rq);
    char *ns = strdup(next->ns), *name = strdup(next->name);
    if (ns == NULL || name == NULL) {
        ksim__lease_free(next);
        ksim__reply_oom(r);
    } else if (ksim__store_commit(rq->sim, next, op, &who, created) != 0) {
        ksim__reply_oom(r);
    } else {
        char *t = ksim__lease_to_text(ksim__store_find(rq->sim, ns, name));
        if (t == NULL)
            ksim__reply_oom(r);
        else
            ksim__reply_json(r, created ? 201 : 200, t);
    }
    free(ns);
    free(name);
}

void ksim__commit_spec_update(request *rq, reply *r, const lease *cur, lease_spec *spec, ksim_op op)
{
    unsigned changed = ksim__spec_diff(&cur->spec, spec);
    if (changed == 0) {
        /* A write that changes nothing keeps its resourceVersion. */
        ksim__reply_text(r, 200, ksim__lease_to_text(cur));
        return;
    }
    lease *next = ksim__lease_clone(cur);
    if (next == NULL) {
        ksim__reply_oom(r);
        return;
    }
    ksim__spec_clear(&next->spec);
    next->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    if (ksim__lease_set_owner(next, ksim__field_manager(rq), false,
                              changed & ksim__spec_mask(&next->spec), true,
                              ksim__now_wall_s()) != 0) {
        ksim__lease_free(next);
        ksim__reply_oom(r);
        return;
    }
    ksim__reply_commit(rq, r, next, op, false);
}
