/* PATCH: merge patches and server-side apply. Owned by patch.c. */
#ifndef KLEASE_TESTS_KSIM_PATCH_H
#define KLEASE_TESTS_KSIM_PATCH_H

#include "request.h"

/* With sim->mu held; picks the patch type from the Content-Type. */
void ksim__handle_patch(request *rq, reply *r, const char *ns, const char *name);

#endif
