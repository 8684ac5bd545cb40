/* What the loop implementations share: the table klease__http_loop_*()
 * dispatches through, an intrusive list, and the copy of a request an op
 * keeps. http/http_loop.c owns it; http/http_loop_generic.c and
 * http/http_curl_loop.c implement loops. */
#ifndef KLEASE_HTTP_HTTP_LOOP_INTERNAL_H
#define KLEASE_HTTP_HTTP_LOOP_INTERNAL_H

#include "http/http_loop.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct klease__http_loop_impl {
    klease__http_op *(*start)(klease__http_loop *l, const klease__http_request *req,
                              klease__cancel *cancel, klease__http_data_fn on_data,
                              klease__http_done_fn done, void *user);
    void (*end_op)(klease__http_loop *l, klease__http_op *op); /* klease__http_loop_abort */
    void (*run)(klease__http_loop *l, int64_t deadline_ns);
    void (*wakeup)(klease__http_loop *l);
    void (*get_stats)(const klease__http_loop *l, klease__http_loop_stats *out);
    void (*free)(klease__http_loop *l);
} klease__http_loop_impl;

/* The first member of every loop. */
struct klease__http_loop {
    const klease__http_loop_impl *impl;
};

/* The generic loop over `t`'s request() and stream(). */
klease_status klease__http_loop_generic_new(klease__transport *t, const klease__clock *clock,
                                            klease__http_loop **out, klease_error *err);

/* A circular doubly-linked list with a sentinel: O(1) removal from the
 * middle, which ending an op early needs for an op wherever it is queued. */
typedef struct klease__link {
    struct klease__link *prev, *next;
} klease__link;

static inline void klease__list_init(klease__link *head)
{
    head->prev = head->next = head;
}

static inline bool klease__list_empty(const klease__link *head)
{
    return head->next == head;
}

/* Whether `n` is on some list (links of removed nodes are reset). */
static inline bool klease__link_linked(const klease__link *n)
{
    return n->next != NULL && n->next != n;
}

static inline void klease__list_push_back(klease__link *head, klease__link *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void klease__list_remove(klease__link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#define KLEASE__CONTAINER_OF(ptr, type, member)                                                    \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A request whose strings and body live in one allocation, `mem`. */
typedef struct klease__request_copy {
    klease__http_request req;
    char *mem;
} klease__request_copy;

/* false when out of memory. */
bool klease__request_copy_init(klease__request_copy *c, const klease__http_request *req);
void klease__request_copy_clear(klease__request_copy *c);

#endif
