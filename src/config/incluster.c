/* In-cluster config: the API server from the service environment variables
 * and credentials from the pod's service-account volume (client-go's
 * rest.InClusterConfig and its namespace lookup). */
#include "core/alloc.h"
#include "core/error.h"
#include "config/incluster.h"
#include "config/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = klease__malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

bool klease__incluster_possible(const char *dir)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
        return false;
    char *token = join(dir != NULL ? dir : KLEASE__INCLUSTER_DIR, "token");
    struct stat st;
    bool ok = token != NULL && stat(token, &st) == 0 && !S_ISDIR(st.st_mode);
    klease__free(token);
    return ok;
}

static void trim(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t skip = 0;
    while (isspace((unsigned char)s[skip]))
        skip++;
    memmove(s, s + skip, len - skip + 1);
}

static bool valid_port(const char *port)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(port, &end, 10);
    return errno == 0 && end != port && *end == '\0' && port[0] >= '0' && port[0] <= '9' &&
           v >= 1 && v <= 65535;
}

/* The namespace: $POD_NAMESPACE (client-go checks it first), else the
 * namespace file, else "default". */
static klease_status read_namespace(klease__kube_config *cfg, const char *dir, klease_error *err)
{
    const char *env = getenv("POD_NAMESPACE");
    if (env != NULL && env[0] != '\0') {
        cfg->ns = klease__strdup(env);
        return cfg->ns != NULL ? KLEASE_OK : klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    char *path = join(dir, "namespace");
    char *buf = NULL;
    size_t len = 0;
    int e = path != NULL ? klease__file_read(path, 4096, &buf, &len, NULL) : ENOMEM;
    klease__free(path);
    if (e == ENOMEM)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (e == 0) {
        trim(buf);
        if (buf[0] != '\0') {
            cfg->ns = buf;
            return KLEASE_OK;
        }
        klease__free(buf);
    }
    cfg->ns = klease__strdup("default");
    return cfg->ns != NULL ? KLEASE_OK : klease__fail(err, KLEASE_ENOMEM, "out of memory");
}

/* The token is read now so a missing volume fails early, and again on every
 * request through token_file, since it rotates. */
static klease_status check_token(const char *token_file, klease_error *err)
{
    char *token = NULL;
    size_t len = 0;
    klease_status st = KLEASE_OK;
    int e = klease__file_read(token_file, (size_t)1 << 20, &token, &len, NULL);
    if (e == ENOMEM)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (e != 0 || len == 0) {
        st = klease__fail(err, KLEASE_ECONFIG, "in-cluster config: service-account token %s: %s",
                          token_file, e != 0 ? klease__file_strerror(e) : "the file is empty");
        goto out;
    }
    trim(token);
    const char *why = klease__credential_text_problem(token, strlen(token));
    if (why != NULL)
        st = klease__fail(err, KLEASE_ECONFIG,
                          "in-cluster config: service-account token %s: the token %s; refused",
                          token_file, why);
out:
    klease__free(token);
    return st;
}

/* client-go logs a missing or unreadable CA and carries on with the system
 * trust store; so do we. */
static klease_status read_ca(klease__kube_config *cfg, const char *dir, const klease__logger *log,
                             klease_error *err)
{
    char *ca_path = join(dir, "ca.crt");
    if (ca_path == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    int e = klease__file_read(ca_path, KLEASE__PEM_FILE_MAX, &cfg->ca_pem, &cfg->ca_pem_len, NULL);
    if (e != 0 && e != ENOMEM)
        klease__log(log, KLEASE_LOG_WARN,
                    "in-cluster config: cannot read %s (%s); using the system trust store", ca_path,
                    klease__file_strerror(e));
    klease__free(ca_path);
    return e == ENOMEM ? klease__fail(err, KLEASE_ENOMEM, "out of memory") : KLEASE_OK;
}

klease_status klease__incluster_load(klease__kube_config **out, const char *dir,
                                     const klease__logger *log, klease_error *err)
{
    klease_status st = KLEASE_OK;
    klease__kube_config *cfg = NULL;

    if (dir == NULL)
        dir = KLEASE__INCLUSTER_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
        return klease__fail(err, KLEASE_ECONFIG,
                            "in-cluster config: KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be set (not running in a pod?)");
    if (!valid_port(port))
        return klease__fail(err, KLEASE_ECONFIG,
                            "in-cluster config: KUBERNETES_SERVICE_PORT \"%.20s\" is not a port",
                            port);
    if ((cfg = klease__calloc(1, sizeof *cfg)) == NULL)
        goto nomem;
    /* net.JoinHostPort brackets IPv6 literals, e.g. https://[fd00::1]:443. */
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    size_t slen = strlen(host) + strlen(port) + 16;
    if ((cfg->server = klease__malloc(slen)) == NULL)
        goto nomem;
    snprintf(cfg->server, slen, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);

    if ((cfg->token_file = join(dir, "token")) == NULL)
        goto nomem;
    if ((st = check_token(cfg->token_file, err)) != KLEASE_OK ||
        (st = read_ca(cfg, dir, log, err)) != KLEASE_OK ||
        (st = read_namespace(cfg, dir, err)) != KLEASE_OK)
        goto out;
    size_t srclen = strlen(dir) + 32;
    if ((cfg->source = klease__malloc(srclen)) == NULL)
        goto nomem;
    snprintf(cfg->source, srclen, "in-cluster config (%s)", dir);
    klease__log(log, KLEASE_LOG_DEBUG, "using %s (server %s)", cfg->source, cfg->server);
    *out = cfg;
    cfg = NULL;
    goto out;
nomem:
    st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
out:
    klease__kube_config_free(cfg);
    return st;
}
