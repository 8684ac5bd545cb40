/* klease_default_identity: who a replica claims a lease as. */
#include "core/error.h"
#include "klease/klease.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOST_NAME_MAX
#define HOST_NAME_MAX 255
#endif

klease_status klease_default_identity(char *buf, size_t size, klease_error *err)
{
    char host[HOST_NAME_MAX + 1];
    const char *id = getenv("POD_NAME");
    const char *from = "$POD_NAME";

    if (buf == NULL)
        return klease__fail(err, KLEASE_EINVAL, "default identity: no buffer");
    if (id == NULL || id[0] == '\0') {
        /* gethostname may leave the name unterminated when it is cut. */
        if (gethostname(host, sizeof host - 1) != 0)
            return klease__fail(err, KLEASE_ECONFIG,
                                "default identity: $POD_NAME is not set and the host name is "
                                "unavailable");
        host[sizeof host - 1] = '\0';
        id = host;
        from = "the host name";
        if (id[0] == '\0')
            return klease__fail(err, KLEASE_ECONFIG,
                                "default identity: $POD_NAME is not set and the host name is "
                                "empty");
    }
    size_t len = strlen(id);
    if (len > KLEASE_IDENTITY_MAX)
        return klease__fail(err, KLEASE_ECONFIG,
                            "default identity: %s is %zu bytes, longer than %d", from, len,
                            KLEASE_IDENTITY_MAX);
    if (len >= size)
        return klease__fail(err, KLEASE_EINVAL,
                            "default identity: %s needs %zu bytes, the buffer has %zu", from,
                            len + 1, size);
    memcpy(buf, id, len + 1);
    return KLEASE_OK;
}
