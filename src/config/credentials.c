/* Credentials that change while a client lives. One mutex guards all state.
 * An exec plugin runs outside it, single-flight: the first caller that needs
 * a fresh result runs the plugin; the others wait on a condition variable,
 * each only until its own call's deadline, and take that run's result. */
#include "config/credentials.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "config/exec_credential.h"
#include "config/exec_plugin.h"
#include "config/file.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* A token is about a KiB; anything near this is not a token. */
#define TOKEN_FILE_MAX ((size_t)1 << 20)

struct klease__credentials {
    pthread_mutex_t mu;
    pthread_cond_t exec_done; /* broadcast when a plugin run ends */
    const klease__clock *clock;
    const klease__logger *log;

    char *token; /* static; the fallback when the token file cannot be read */
    char *token_file;
    char *username;
    char *password;
    char *cert_pem; /* static client certificate */
    size_t cert_pem_len;
    char *key_pem;
    size_t key_pem_len;
    klease__exec_config *exec; /* NULL: no plugin, or one that is not used */
    char *exec_info;

    char *file_token; /* the token file's last good contents */
    struct stat file_st;
    bool file_st_valid;

    klease__exec_result exec_res;
    bool exec_valid;
    bool exec_running;     /* some caller is running the plugin, without mu */
    uint64_t exec_runs;    /* completed runs */
    klease_status exec_st; /* result of the last run */
    char exec_msg[KLEASE_ERROR_MESSAGE_MAX];

    uint64_t generation;
};

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void klease__credentials_free(klease__credentials *c)
{
    if (c == NULL)
        return;
    pthread_cond_destroy(&c->exec_done);
    pthread_mutex_destroy(&c->mu);
    klease__free(c->token);
    klease__free(c->token_file);
    klease__free(c->username);
    klease__free(c->password);
    klease__free(c->cert_pem);
    klease__free(c->key_pem);
    klease__exec_config_free(c->exec);
    klease__free(c->exec_info);
    klease__free(c->file_token);
    klease__exec_result_clear(&c->exec_res);
    klease__free(c);
}

static bool dup_opt(char **dst, const char *src)
{
    return src == NULL || (*dst = klease__strdup(src)) != NULL;
}

static bool dup_pem(char **dst, size_t *dst_len, const char *src, size_t len)
{
    if (src == NULL)
        return true;
    if ((*dst = klease__malloc(len + 1)) == NULL)
        return false;
    memcpy(*dst, src, len);
    (*dst)[len] = '\0';
    *dst_len = len;
    return true;
}

klease_status klease__credentials_new(klease__credentials **out, const klease__kube_config *cfg,
                                      const klease__clock *clock, const klease__logger *log,
                                      klease_error *err)
{
    klease_status st = KLEASE_OK;
    klease__credentials *c = klease__calloc(1, sizeof *c);
    if (c == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        klease__free(c);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create a mutex");
    }
    if (klease__cond_init(&c->exec_done) != 0) {
        pthread_mutex_destroy(&c->mu);
        klease__free(c);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create a condition variable");
    }
    c->clock = clock;
    c->log = log;
    c->generation = 1;
    c->exec_res.expiry_ns = INT64_MAX;
    if (!dup_opt(&c->token, cfg->token) || !dup_opt(&c->token_file, cfg->token_file) ||
        !dup_opt(&c->username, cfg->username) || !dup_opt(&c->password, cfg->password) ||
        !dup_pem(&c->cert_pem, &c->cert_pem_len, cfg->client_cert_pem, cfg->client_cert_pem_len) ||
        !dup_pem(&c->key_pem, &c->key_pem_len, cfg->client_key_pem, cfg->client_key_pem_len)) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    if (cfg->exec != NULL) {
        /* client-go ignores the plugin when the user also has a token, basic
         * auth or a client certificate: explicit credentials win. */
        if (c->token != NULL || c->token_file != NULL || c->username != NULL ||
            c->cert_pem != NULL) {
            klease__log(log, KLEASE_LOG_INFO,
                        "%s: exec plugin \"%s\" not used: the user has other credentials",
                        cfg->source != NULL ? cfg->source : "kubeconfig", cfg->exec->command);
        } else if ((c->exec = klease__exec_config_dup(cfg->exec)) == NULL ||
                   klease__exec_info_json(c->exec, cfg, &c->exec_info) != KLEASE_OK) {
            st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    klease__credentials_free(c);
    return st;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Re-reads the token file when stat says it may have changed. Projected
 * service-account tokens are replaced by renaming a symlink, which changes
 * the inode; in-place writers change size or mtime. With mu held. */
static klease_status refresh_token_file(klease__credentials *c, klease_error *err)
{
    struct stat st;
    if (c->file_st_valid && stat(c->token_file, &st) == 0 && same_file(&st, &c->file_st))
        return KLEASE_OK;

    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    klease_status bad_text = KLEASE_EAUTH;
    int e = klease__file_read(c->token_file, TOKEN_FILE_MAX, &buf, &len, &st);
    if (e == ENOMEM)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (e != 0) {
        why = klease__file_strerror(e);
    } else {
        /* client-go trims surrounding whitespace (a trailing newline is usual). */
        while (len > 0 && isspace((unsigned char)buf[len - 1]))
            buf[--len] = '\0';
        size_t skip = 0;
        while (skip < len && isspace((unsigned char)buf[skip]))
            skip++;
        memmove(buf, buf + skip, len - skip + 1);
        if (buf[0] == '\0')
            why = "the file is empty";
        else if ((why = klease__credential_text_problem(buf, len - skip)) != NULL)
            bad_text = KLEASE_ECONFIG;
    }
    if (why != NULL) {
        klease__free(buf);
        c->file_st_valid = false;
        /* Like client-go's caching token source: a token that was good a
         * moment ago beats no token while the file is being replaced. */
        if (c->file_token != NULL || c->token != NULL) {
            klease__log(c->log, KLEASE_LOG_WARN, "token file %s: %s; using the %s token",
                        c->token_file, why, c->file_token != NULL ? "previous" : "static");
            return KLEASE_OK;
        }
        return klease__fail(err, bad_text, "token file %s: %s", c->token_file, why);
    }
    if (!same_text(buf, c->file_token)) {
        klease__free(c->file_token);
        c->file_token = buf;
        buf = NULL;
        c->generation++;
    }
    klease__free(buf);
    c->file_st = st;
    c->file_st_valid = true;
    return KLEASE_OK;
}

static void wake_exec_waiters(void *arg)
{
    klease__credentials *c = arg;
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->exec_done);
    pthread_mutex_unlock(&c->mu);
}

/* Waits, with mu held, for the run in progress to end, until the call's
 * deadline or cancel. KLEASE_OK when it ended (whatever its result). */
static klease_status await_exec(klease__credentials *c, const klease__budget *b, klease_error *err)
{
    const klease__clock *sys = klease__clock_system();
    klease__cancel *cancel = b != NULL ? b->cancel : NULL;
    int64_t deadline = b != NULL ? b->deadline_ns : INT64_MAX;
    uint64_t runs = c->exec_runs;
    klease_status st = KLEASE_OK;
    /* Attach without holding mu: the waker takes it. */
    pthread_mutex_unlock(&c->mu);
    bool attached = klease__cancel_attach(cancel, wake_exec_waiters, c);
    pthread_mutex_lock(&c->mu);
    while (st == KLEASE_OK && c->exec_running && c->exec_runs == runs) {
        if (!attached || klease__cancel_fired(cancel))
            st = klease__fail(err, KLEASE_ECLOSED,
                              "exec plugin \"%.100s\": cancelled while "
                              "waiting for its run",
                              c->exec->command);
        else if (sys->timedwait(sys, &c->exec_done, &c->mu, deadline) == ETIMEDOUT &&
                 c->exec_running && c->exec_runs == runs)
            st = klease__fail(err, KLEASE_ETIMEDOUT,
                              "exec plugin \"%.100s\": the call's time limit of %lld ms ran out "
                              "waiting for the plugin run in progress",
                              c->exec->command, (long long)b->limit_ms);
    }
    if (attached) {
        pthread_mutex_unlock(&c->mu);
        klease__cancel_detach(cancel);
        pthread_mutex_lock(&c->mu);
    }
    return st;
}

/* Makes sure there is an unexpired plugin result, with mu held (released
 * while the plugin runs). One run at a time: a caller that finds a run in
 * progress waits for it and takes its result; a run that failed only because
 * its caller's budget ran out (or was cancelled) is retried by the next
 * caller with a budget of its own. */
static klease_status refresh_exec(klease__credentials *c, const klease__budget *b,
                                  klease_error *err)
{
    klease_status st;
    for (;;) {
        if (c->exec_valid && klease__wall_ns(c->clock) < c->exec_res.expiry_ns)
            return KLEASE_OK;
        if (!c->exec_running)
            break;
        uint64_t runs = c->exec_runs;
        if ((st = await_exec(c, b, err)) != KLEASE_OK)
            return st;
        if (c->exec_runs != runs && c->exec_st != KLEASE_OK && c->exec_st != KLEASE_ETIMEDOUT &&
            c->exec_st != KLEASE_ECLOSED)
            return klease__fail(err, c->exec_st, "%s", c->exec_msg); /* that run's failure */
    }
    c->exec_running = true;
    pthread_mutex_unlock(&c->mu);
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    klease_error run_err;
    klease__error_clear(&run_err);
    st = klease__exec_plugin_run(c->exec, c->exec_info, c->log, b, &r, &run_err);
    pthread_mutex_lock(&c->mu);
    c->exec_running = false;
    c->exec_runs++;
    c->exec_st = st;
    klease__strlcpy(c->exec_msg, run_err.message, sizeof c->exec_msg);
    pthread_cond_broadcast(&c->exec_done);
    if (st != KLEASE_OK) {
        klease__exec_result_clear(&r);
        return klease__fail(err, st, "%s", run_err.message);
    }
    if (!c->exec_valid || !same_text(r.token, c->exec_res.token) ||
        !same_text(r.cert_pem, c->exec_res.cert_pem) || !same_text(r.key_pem, c->exec_res.key_pem))
        c->generation++;
    klease__exec_result_clear(&c->exec_res);
    c->exec_res = r;
    c->exec_valid = true;
    return KLEASE_OK;
}

klease_status klease__credentials_get(klease__credentials *c, const klease__budget *b,
                                      klease__auth *out, klease_error *err)
{
    klease_status st = KLEASE_OK;
    klease__auth a = {0};

    pthread_mutex_lock(&c->mu);
    if (c->token_file != NULL && (st = refresh_token_file(c, err)) != KLEASE_OK)
        goto out;
    if (c->exec != NULL && (st = refresh_exec(c, b, err)) != KLEASE_OK)
        goto out;

    const char *token = c->file_token != NULL ? c->file_token : c->token;
    const char *cert = c->cert_pem, *key = c->key_pem;
    size_t cert_len = c->cert_pem_len, key_len = c->key_pem_len;
    if (c->exec != NULL) {
        token = c->exec_res.token;
        if (c->exec_res.cert_pem != NULL) {
            cert = c->exec_res.cert_pem;
            cert_len = c->exec_res.cert_pem_len;
            key = c->exec_res.key_pem;
            key_len = c->exec_res.key_pem_len;
        }
    }
    a.generation = c->generation;
    if (!dup_opt(&a.bearer_token, token) || !dup_opt(&a.username, c->username) ||
        !dup_opt(&a.password, c->password) ||
        !dup_pem(&a.client_cert_pem, &a.client_cert_pem_len, cert, cert_len) ||
        !dup_pem(&a.client_key_pem, &a.client_key_pem_len, key, key_len)) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    *out = a;
    a = (klease__auth){0};
out:
    pthread_mutex_unlock(&c->mu);
    klease__auth_clear(&a);
    return st;
}

bool klease__credentials_unauthorized(klease__credentials *c, uint64_t generation)
{
    bool retry = false;
    pthread_mutex_lock(&c->mu);
    if (generation != c->generation) {
        /* Someone already fetched newer credentials: retrying with them may
         * succeed, and nothing needs to be dropped. */
        retry = true;
    } else if (c->exec != NULL) {
        c->exec_valid = false;
        retry = true;
    } else if (c->token_file != NULL) {
        /* Force a full re-read next time (stat can miss a same-size rewrite
         * within the file system's timestamp granularity), but the token
         * only changes if the file did: no point retrying now. */
        c->file_st_valid = false;
    }
    pthread_mutex_unlock(&c->mu);
    return retry;
}

void klease__auth_clear(klease__auth *a)
{
    if (a == NULL)
        return;
    klease__free(a->bearer_token);
    klease__free(a->username);
    klease__free(a->password);
    klease__free(a->client_cert_pem);
    klease__free(a->client_key_pem);
    *a = (klease__auth){0};
}
