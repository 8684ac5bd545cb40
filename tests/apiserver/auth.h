/* Who is calling, and may they touch leases. Owned by auth.c. */
#ifndef KLEASE_TESTS_KSIM_AUTH_H
#define KLEASE_TESTS_KSIM_AUTH_H

#include "ksim.h"

struct MHD_Connection;

/* Identity of one request. */
typedef struct identity {
    char user[256];
    bool authenticated; /* a valid token or certificate */
    bool bad_token;     /* a bearer token nobody registered: 401 */
    bool bad_cert;      /* a certificate the CA did not sign: 401 */
} identity;

void ksim__auth_identify(ksim *sim, struct MHD_Connection *conn, identity *id);
bool ksim__auth_allowed(ksim *sim, const identity *id);
/* Parses a comma-separated verb list into a mask; -1 names a bad verb. */
int ksim__auth_parse_verbs(const char *list, unsigned *mask, char *bad, size_t badsz);
/* Whether the RBAC verbs configured allow `verb` on leases. */
bool ksim__auth_verb_allowed(const ksim *sim, const char *verb);
void ksim__auth_free(ksim *sim);

#endif
