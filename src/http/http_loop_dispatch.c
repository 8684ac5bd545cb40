/* The loop interface: dispatch to the transport's own loop or the generic
 * one. */
#include "http/http_loop_internal.h"

#include "core/alloc.h"
#include "core/error.h"

#include <string.h>

klease_status klease__http_loop_new(klease__transport *t, const klease__clock *clock,
                                    klease__http_loop **out, klease_error *err)
{
    *out = NULL;
    if (t == NULL || clock == NULL)
        return klease__fail(err, KLEASE_EINVAL, "an HTTP loop needs a transport and a clock");
    if (t->loop_new != NULL)
        return t->loop_new(t, clock, out, err);
    return klease__http_loop_generic_new(t, clock, out, err);
}

void klease__http_loop_free(klease__http_loop *l)
{
    if (l != NULL)
        l->impl->free(l);
}

klease__http_op *klease__http_loop_start(klease__http_loop *l, const klease__http_request *req,
                                         klease__cancel *cancel, klease__http_data_fn on_data,
                                         klease__http_done_fn done, void *user)
{
    return l->impl->start(l, req, cancel, on_data, done, user);
}

void klease__http_loop_abort(klease__http_loop *l, klease__http_op *op)
{
    if (op != NULL)
        l->impl->end_op(l, op);
}

void klease__http_loop_run(klease__http_loop *l, int64_t deadline_ns)
{
    l->impl->run(l, deadline_ns);
}

void klease__http_loop_wakeup(klease__http_loop *l)
{
    l->impl->wakeup(l);
}

void klease__http_loop_get_stats(const klease__http_loop *l, klease__http_loop_stats *out)
{
    l->impl->get_stats(l, out);
}
