/* URL routing and the plain verbs. Owned by routes.c. */
#ifndef KLEASE_TESTS_KSIM_ROUTES_H
#define KLEASE_TESTS_KSIM_ROUTES_H

#include "request.h"

/* Answers one Lease API request (authenticated already, not faulted here). */
void ksim__route_request(request *rq, reply *r);

#endif
