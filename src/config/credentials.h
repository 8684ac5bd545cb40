/* Credentials that may change while a client lives: bearer tokens read from
 * a file (bound service-account tokens rotate about hourly) and exec plugin
 * results (cached until their expirationTimestamp). Thread-safe. */
#ifndef KLEASE_CONFIG_CREDENTIALS_H
#define KLEASE_CONFIG_CREDENTIALS_H

#include "core/clock.h"
#include "core/log.h"
#include "config/kube_config.h"
#include "core/budget.h"

#include <stdint.h>

typedef struct klease__credentials klease__credentials;

/* What to present on one request: a snapshot owned by the caller, released
 * with klease__auth_clear. Any field may be NULL. */
typedef struct klease__auth {
    char *bearer_token;
    char *username;
    char *password;
    char *client_cert_pem; /* from the kubeconfig or an exec plugin */
    size_t client_cert_pem_len;
    char *client_key_pem;
    size_t client_key_pem_len;
    uint64_t generation; /* changes whenever any of the values above changes */
} klease__auth;

/* Keeps pointers to nothing in `cfg` after returning (copies what it needs).
 * `clock` (wall time, for expirationTimestamp) and `log` must outlive it. */
klease_status klease__credentials_new(klease__credentials **out, const klease__kube_config *cfg,
                                      const klease__clock *clock, const klease__logger *log,
                                      klease_error *err);
void klease__credentials_free(klease__credentials *c);

/* Current credentials, within the call's budget `b` (may be NULL: no limit).
 * Re-reads a token file whose contents may have changed and runs the exec
 * plugin when there is no unexpired cached result. The plugin runs outside
 * the lock, one run at a time: concurrent callers wait for that run, each
 * until its own deadline, and share its result. Errors: KLEASE_EAUTH (plugin
 * failed, with its installHint; token file unreadable), KLEASE_ETIMEDOUT
 * (the budget ran out while the plugin ran or while waiting for another
 * caller's run), KLEASE_ECLOSED (cancelled), KLEASE_ENOMEM. */
klease_status klease__credentials_get(klease__credentials *c, const klease__budget *b,
                                      klease__auth *out, klease_error *err);

/* Called after a 401 answered a request made with credentials of
 * `generation`. Returns true when the caller should retry once with a new
 * klease__credentials_get: the credentials already changed since
 * `generation` (another request refreshed them; nothing is dropped), or an
 * exec plugin result was cached (it is dropped, so the next get runs the
 * plugin again). Returns false when nothing new can come: static token,
 * basic auth, static client certificate, or a token file (whose next read is
 * forced to bypass the stat check, but which only changes if the file does). */
bool klease__credentials_unauthorized(klease__credentials *c, uint64_t generation);

void klease__auth_clear(klease__auth *a);

#endif
