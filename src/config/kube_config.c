/* Connection settings as values: freeing and copying them, and the checks
 * every credential and URL passes before it reaches a header or a message. */
#include "config/kube_config.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

static void free_list(char **list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        klease__free(list[i]);
    klease__free(list);
}

void klease__exec_config_free(klease__exec_config *x)
{
    if (x == NULL)
        return;
    klease__free(x->command);
    free_list(x->args);
    free_list(x->env);
    klease__free(x->api_version);
    klease__free(x->install_hint);
    klease__free(x);
}

static char **dup_list(char *const *list)
{
    size_t n = 0;
    while (list != NULL && list[n] != NULL)
        n++;
    char **copy = klease__calloc(n + 1, sizeof *copy);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((copy[i] = klease__strdup(list[i])) == NULL) {
            free_list(copy);
            return NULL;
        }
    }
    return copy;
}

klease__exec_config *klease__exec_config_dup(const klease__exec_config *x)
{
    if (x == NULL)
        return NULL;
    klease__exec_config *c = klease__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->provide_cluster_info = x->provide_cluster_info;
    c->interactive_mode = x->interactive_mode;
    if ((c->command = klease__strdup(x->command)) == NULL ||
        (c->args = dup_list(x->args)) == NULL || (c->env = dup_list(x->env)) == NULL ||
        (x->api_version != NULL && (c->api_version = klease__strdup(x->api_version)) == NULL) ||
        (x->install_hint != NULL && (c->install_hint = klease__strdup(x->install_hint)) == NULL)) {
        klease__exec_config_free(c);
        return NULL;
    }
    return c;
}

void klease__kube_config_free(klease__kube_config *cfg)
{
    if (cfg == NULL)
        return;
    klease__free(cfg->server);
    klease__free(cfg->tls_server_name);
    klease__free(cfg->proxy_url);
    klease__free(cfg->ca_pem);
    klease__free(cfg->client_cert_pem);
    klease__free(cfg->client_key_pem);
    klease__free(cfg->token);
    klease__free(cfg->token_file);
    klease__free(cfg->username);
    klease__free(cfg->password);
    klease__exec_config_free(cfg->exec);
    klease__free(cfg->ns);
    klease__free(cfg->source);
    klease__free(cfg);
}

const char *klease__credential_text_problem(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n')
            return "contains a line break (CR or LF), which would add HTTP headers";
        if (c < 0x20 || c == 0x7f)
            return "contains a control character";
    }
    return NULL;
}

/* A URL without a scheme ("host:port", which client-go reads as https) has
 * its authority at the start; the last '@' ends the user info. */
bool klease__url_userinfo(const char *url, size_t *start, size_t *len)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep != NULL ? sep + 3 : url;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++) {
        if (*p == '@')
            at = p; /* the last one: a password may contain '@' unescaped */
    }
    if (at == NULL)
        return false;
    *start = (size_t)(auth - url);
    *len = (size_t)(at + 1 - auth);
    return true;
}

char *klease__url_redact(const char *url, char *out, size_t size)
{
    size_t start = 0, len = 0;
    if (size == 0)
        return out;
    if (url == NULL)
        url = "";
    if (!klease__url_userinfo(url, &start, &len))
        snprintf(out, size, "%s", url);
    else
        snprintf(out, size, "%.*sredacted@%s", (int)start, url, url + start + len);
    return out;
}
