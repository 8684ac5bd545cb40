/* Writing a lease and answering with it, shared by PUT and the patches.
 * Owned by commit.c. All with sim->mu held. */
#ifndef KLEASE_TESTS_KSIM_COMMIT_H
#define KLEASE_TESTS_KSIM_COMMIT_H

#include "request.h"

/* Commits `next` (taken) and answers it (201 when `created`, else 200). */
void ksim__reply_commit(request *rq, reply *r, lease *next, ksim_op op, bool created);
/* An update that replaces the spec (PUT, strategic merge, merge): a write
 * that changes nothing is answered with the object as it is (no new
 * resourceVersion, like the real server); otherwise `spec` (taken) is
 * committed with the writer as an Update manager, and the result answered. */
void ksim__commit_spec_update(request *rq, reply *r, const lease *cur, lease_spec *spec,
                              ksim_op op);
/* Whether a body's resourceVersion (NULL or "": none) is the stored one. */
bool ksim__is_current_rv(const lease *cur, const char *rv);

#endif
