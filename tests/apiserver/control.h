/* The /_ksim/ control endpoint. Owned by control.c. */
#ifndef KLEASE_TESTS_KSIM_CONTROL_H
#define KLEASE_TESTS_KSIM_CONTROL_H

#include "request.h"

/* Answers one /_ksim/ request of an authorized caller. */
void ksim__control_request(request *rq, reply *r);

#endif
