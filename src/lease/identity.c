/* klease_default_identity: who a replica claims a lease as.
 *
 * client-go's convention, `<host>_<random UUID>`, with $POD_NAME in place of
 * the host name when it is set. The host name alone is not enough: two
 * processes on one host (cron-style `klease exec`, two replicas of one pod
 * spec after a restart) would share it and both believe they hold the lease.
 *
 * The random part is drawn once per process from getrandom() and kept, keyed
 * by the process id, so every call in a process agrees and a forked child
 * draws its own. The mutex is held only to read or store that cache, never
 * across a system call that can block. */
#include "core/error.h"
#include "klease/klease.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef HOST_NAME_MAX
#define HOST_NAME_MAX 255
#endif

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
#define UUID_LEN 36
/* The name part is cut to what fits with "_" and the UUID. */
#define NAME_MAX_LEN (KLEASE_IDENTITY_MAX - 1 - UUID_LEN)

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t cache_pid; /* 0: nothing cached yet */
static char cache_uuid[UUID_LEN + 1];

static klease_status random_uuid(char out[UUID_LEN + 1], klease_error *err)
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return klease__fail(err, KLEASE_ECONFIG, "default identity: getrandom failed: %s",
                                n < 0 ? strerror(errno) : "no bytes");
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4: random */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
    snprintf(out, UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return KLEASE_OK;
}

/* This process's UUID: drawn on the first call in each process. */
static klease_status process_uuid(char out[UUID_LEN + 1], klease_error *err)
{
    pid_t pid = getpid();
    pthread_mutex_lock(&cache_mu);
    bool cached = cache_pid == pid;
    if (cached)
        memcpy(out, cache_uuid, UUID_LEN + 1);
    pthread_mutex_unlock(&cache_mu);
    if (cached)
        return KLEASE_OK;
    char fresh[UUID_LEN + 1];
    klease_status st = random_uuid(fresh, err);
    if (st != KLEASE_OK)
        return st;
    /* Two threads may both draw: the first to store wins, so all agree. */
    pthread_mutex_lock(&cache_mu);
    if (cache_pid != pid) {
        memcpy(cache_uuid, fresh, sizeof cache_uuid);
        cache_pid = pid;
    }
    memcpy(out, cache_uuid, UUID_LEN + 1);
    pthread_mutex_unlock(&cache_mu);
    return KLEASE_OK;
}

klease_status klease_default_identity(char *buf, size_t size, klease_error *err)
{
    char host[HOST_NAME_MAX + 1];
    const char *name = getenv("POD_NAME");
    const char *from = "$POD_NAME";

    if (buf == NULL || size == 0)
        return klease__fail(err, KLEASE_EINVAL, "default identity: no buffer");
    if (name == NULL || name[0] == '\0') {
        /* gethostname may leave the name unterminated when it is cut. */
        if (gethostname(host, sizeof host - 1) != 0)
            return klease__fail(err, KLEASE_ECONFIG,
                                "default identity: $POD_NAME is not set and the host name is "
                                "unavailable");
        host[sizeof host - 1] = '\0';
        name = host;
        from = "the host name";
        if (name[0] == '\0')
            return klease__fail(err, KLEASE_ECONFIG,
                                "default identity: $POD_NAME is not set and the host name is "
                                "empty");
    }
    size_t len = strnlen(name, NAME_MAX_LEN);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f)
            return klease__fail(err, KLEASE_ECONFIG,
                                "default identity: %s contains a control character", from);
    }
    size_t need = len + 1 + UUID_LEN + 1;
    if (need > size)
        return klease__fail(err, KLEASE_EINVAL,
                            "default identity: needs %zu bytes, the buffer has %zu", need, size);
    char uuid[UUID_LEN + 1];
    klease_status st = process_uuid(uuid, err);
    if (st != KLEASE_OK)
        return st;
    memcpy(buf, name, len);
    buf[len] = '_';
    memcpy(buf + len + 1, uuid, UUID_LEN + 1);
    return KLEASE_OK;
}
