/* libFuzzer target: a Lease as the API server returns it (GET, PATCH and
 * POST responses, watch event objects). Whatever decodes must be a lease the
 * manager can use: a NUL-terminated resourceVersion and holder within their
 * bounds, transitions clamped, and a holder that compares equal to itself. */
#include "lease/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    klease__lease l;
    klease_error err;
    if (klease__lease_decode((const char *)data, size, &l, &err) != KLEASE_OK) {
        if (strnlen(err.message, sizeof err.message) == sizeof err.message)
            abort(); /* the message must be NUL-terminated */
        return 0;
    }
    if (strnlen(l.resource_version, sizeof l.resource_version) == sizeof l.resource_version ||
        strnlen(l.holder, sizeof l.holder) == sizeof l.holder)
        abort();
    if (l.transitions < 0 || l.transitions > INT32_MAX)
        abort();
    if (l.has_holder && !klease__lease_same_holder(&l, &l))
        abort();
    /* A truncated foreign holder must never pass for any identity we claim with. */
    if (l.holder_truncated && klease__lease_held_by(&l, l.holder))
        abort();
    return 0;
}
