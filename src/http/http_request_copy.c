/* The copy of a request that a loop's op keeps while it runs (the caller's
 * request need not outlive start()). */
#include "http/http_loop_internal.h"

#include "core/alloc.h"

#include <string.h>

static size_t len_or_0(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* Appends `n` bytes of `s` and a NUL at *at; returns where they went. */
static char *put(char **at, const char *s, size_t n)
{
    char *where = *at;
    memcpy(where, s, n);
    where[n] = '\0';
    *at += n + 1;
    return where;
}

bool klease__request_copy_init(klease__request_copy *c, const klease__http_request *req)
{
    size_t method = len_or_0(req->method), path = len_or_0(req->path);
    size_t type = len_or_0(req->content_type);
    size_t body = req->body != NULL ? req->body_len + 1 : 0;
    c->req = *req;
    if ((c->mem = klease__malloc(method + path + type + body + 1)) == NULL)
        return false;
    char *at = c->mem;
    if (req->method != NULL)
        c->req.method = put(&at, req->method, method - 1);
    if (req->path != NULL)
        c->req.path = put(&at, req->path, path - 1);
    if (req->content_type != NULL)
        c->req.content_type = put(&at, req->content_type, type - 1);
    if (req->body != NULL)
        c->req.body = put(&at, req->body, req->body_len);
    return true;
}

void klease__request_copy_clear(klease__request_copy *c)
{
    klease__free(c->mem);
    c->mem = NULL;
}
