/* Watch streams. Owned by watch.c. */
#ifndef KLEASE_TESTS_KSIM_WATCH_H
#define KLEASE_TESTS_KSIM_WATCH_H

#include "request.h"

/* Opens a watch of ns (takes sim->mu itself): on success r->watch is set. */
void ksim__handle_watch(request *rq, reply *r, const char *ns);
/* Streams `w` as the response of `conn`; the response then owns it. */
int ksim__watch_queue_response(struct MHD_Connection *conn, struct watch *w);
/* Closes a watch that will not be streamed. NULL-safe. */
void ksim__watch_discard(struct watch *w);

#endif
