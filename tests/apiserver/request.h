/* One request as the handlers see it, and what every verb handler does with
 * it: query parameters, the field manager, the JSON body, name and
 * validation answers. Owned by request.c. */
#ifndef KLEASE_TESTS_KSIM_REQUEST_H
#define KLEASE_TESTS_KSIM_REQUEST_H

#include "auth.h"
#include "lease.h"
#include "ksim.h"
#include "status.h"
#include "store.h"

struct MHD_Connection;

typedef struct request {
    ksim *sim;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    identity id;
    char manager[256]; /* fieldManager, else the User-Agent's product, like the server */
    bool drop_after;   /* DROP_AFTER fault: apply, then drop */
    int fd;            /* client socket, for noticing a disconnect */
} request;

/* A query parameter, NULL when absent. */
const char *ksim__query(const request *rq, const char *key);
/* Fills rq->manager: fieldManager, else the User-Agent's product. */
void ksim__default_manager(request *rq);
const char *ksim__field_manager(const request *rq);
/* The writer of `rq`, for the store's history. */
writer ksim__request_writer(const request *rq);
/* Reads "metadata.name=NAME" (also "==", and metadata.namespace terms) into
 * name (empty: no name term). false for anything else, with the bad label. */
bool ksim__parse_field_selector(const char *sel, char *name, size_t namesz, char *bad,
                                size_t badsz);
/* Parses a JSON body; on failure fills a 400 with Go's wording. */
cJSON *ksim__parse_body(const request *rq, reply *r);
/* Checks a decoded body's namespace and name against the URL (400 if not). */
bool ksim__check_names(reply *r, const decoded *d, const char *ns, const char *url_name,
                       bool name_required);
/* ksim__lease_validate() answering 422 (or OOM); true when valid. */
bool ksim__validate(reply *r, const char *name, const lease_spec *s);

#endif
