/* Who is calling, and may they touch leases: client certificates signed by
 * the simulator's CA first (as the real union authenticator does), then
 * bearer tokens, else system:anonymous. */
#include "auth.h"

#include "sim.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ksim__token {
    char *token;
    char *user;
    struct ksim__token *next;
} token;

typedef struct ksim__user_right {
    char *user;
    bool authorized;
    struct ksim__user_right *next;
} user_right;

static void cert_identity(struct MHD_Connection *conn, identity *id)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL)
        return;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &n);
    if (peers == NULL || n == 0)
        return;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0) {
        id->bad_cert = true;
        return;
    }
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
        return;
    char cn[256];
    size_t len = sizeof(cn);
    if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS &&
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) ==
            GNUTLS_E_SUCCESS) {
        snprintf(id->user, sizeof(id->user), "%s", cn);
        id->authenticated = true;
    } else {
        id->bad_cert = true;
    }
    gnutls_x509_crt_deinit(crt);
}

void ksim__auth_identify(ksim *sim, struct MHD_Connection *conn, identity *id)
{
    memset(id, 0, sizeof(*id));
    snprintf(id->user, sizeof(id->user), "%s", KSIM_ANONYMOUS);
    if (sim->o.tls) {
        cert_identity(conn, id);
        if (id->authenticated || id->bad_cert)
            return;
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (h == NULL)
        return;
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        id->bad_token = true; /* basic auth and the like are not accepted */
        return;
    }
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    pthread_mutex_lock(&sim->mu);
    for (token *k = sim->tokens; k; k = k->next)
        if (strcmp(k->token, t) == 0) {
            snprintf(id->user, sizeof(id->user), "%s", k->user);
            id->authenticated = true;
            break;
        }
    pthread_mutex_unlock(&sim->mu);
    if (!id->authenticated)
        id->bad_token = true;
}

bool ksim__auth_allowed(ksim *sim, const identity *id)
{
    if (!id->authenticated)
        return sim->o.allow_anonymous;
    bool ok = true;
    pthread_mutex_lock(&sim->mu);
    for (user_right *u = sim->rights; u; u = u->next)
        if (strcmp(u->user, id->user) == 0) {
            ok = u->authorized;
            break;
        }
    pthread_mutex_unlock(&sim->mu);
    return ok;
}

static const char *const verbs[] = {"get", "list", "watch", "create", "update", "patch", "delete"};

static int verb_bit(const char *verb, size_t len)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strlen(verbs[i]) == len && strncmp(verbs[i], verb, len) == 0)
            return (int)i;
    return -1;
}

int ksim__auth_parse_verbs(const char *list, unsigned *mask, char *bad, size_t badsz)
{
    *mask = 0;
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        int bit = verb_bit(p, len);
        if (bit < 0) {
            snprintf(bad, badsz, "%.*s", (int)len, p);
            return -1;
        }
        *mask |= 1u << bit;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

bool ksim__auth_verb_allowed(const ksim *sim, const char *verb)
{
    int bit = verb_bit(verb, strlen(verb));
    return bit >= 0 && (sim->rbac_verbs & (1u << bit)) != 0;
}

static int set_right(ksim *sim, const char *user, bool authorized)
{
    for (user_right *u = sim->rights; u; u = u->next)
        if (strcmp(u->user, user) == 0) {
            u->authorized = authorized;
            return 0;
        }
    user_right *u = calloc(1, sizeof(*u));
    if (u == NULL || (u->user = strdup(user)) == NULL) {
        free(u);
        return -1;
    }
    u->authorized = authorized;
    u->next = sim->rights;
    sim->rights = u;
    return 0;
}

int ksim_set_user_authorized(ksim *sim, const char *user, bool authorized)
{
    if (sim == NULL || user == NULL)
        return -1;
    pthread_mutex_lock(&sim->mu);
    int rc = set_right(sim, user, authorized);
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

int ksim_add_token(ksim *sim, const char *tok, const char *user, bool authorized)
{
    if (sim == NULL || tok == NULL || user == NULL || tok[0] == '\0')
        return -1;
    int rc = -1;
    pthread_mutex_lock(&sim->mu);
    token *k = NULL;
    for (token *t = sim->tokens; t; t = t->next)
        if (strcmp(t->token, tok) == 0)
            k = t;
    char *u = strdup(user);
    if (u == NULL)
        goto out;
    if (k == NULL) {
        if ((k = calloc(1, sizeof(*k))) == NULL || (k->token = strdup(tok)) == NULL) {
            free(k);
            free(u);
            goto out;
        }
        k->next = sim->tokens;
        sim->tokens = k;
    }
    free(k->user);
    k->user = u;
    rc = set_right(sim, user, authorized);
out:
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

void ksim__auth_free(ksim *sim)
{
    while (sim->tokens) {
        token *k = sim->tokens;
        sim->tokens = k->next;
        free(k->token);
        free(k->user);
        free(k);
    }
    while (sim->rights) {
        user_right *u = sim->rights;
        sim->rights = u->next;
        free(u->user);
        free(u);
    }
}
