/* Answers: the reply a handler fills, Status bodies shaped like the real
 * server's, and compact JSON lines. Owned by status.c; includes no other
 * internal header (a watch reply only carries an opaque pointer). */
#ifndef KLEASE_TESTS_KSIM_STATUS_H
#define KLEASE_TESTS_KSIM_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#define KSIM_GROUP       "coordination.k8s.io"
#define KSIM_API_VERSION "coordination.k8s.io/v1"

struct watch; /* watch.c */

typedef struct reply {
    int code;
    char *body;          /* newline-terminated JSON; owned */
    int retry_after_s;   /* > 0: add a Retry-After header */
    bool drop;           /* close the connection without any response */
    struct watch *watch; /* non-NULL: stream this watch instead of `body` */
} reply;

/* Status with reason (NULL: none) and details (consumed, may be NULL). */
void ksim__reply_status(reply *r, int code, const char *reason, const char *message,
                        cJSON *details);
/* details {name, group, kind:"leases"} */
cJSON *ksim__details_named(const char *name);
void ksim__reply_not_found(reply *r, const char *name);
void ksim__reply_conflict(reply *r, const char *name);
void ksim__reply_bad_request(reply *r, const char *message);
/* 500 without reason, like the server's */
void ksim__reply_internal(reply *r, const char *message);
/* 422 with the causes of ksim__lease_validate() (consumed) */
void ksim__reply_invalid(reply *r, const char *name, cJSON *causes);
void ksim__reply_json(reply *r, int code, char *body); /* takes `body` */
/* takes `text`; NULL (no memory): 500 */
void ksim__reply_text(reply *r, int code, char *text);
void ksim__reply_oom(reply *r);
/* Compact JSON text of `o`, newline-terminated like the server's. NULL on OOM. */
char *ksim__json_line(const cJSON *o);
char *ksim__status_text(int code, const char *reason, const char *message, cJSON *details);

#endif
