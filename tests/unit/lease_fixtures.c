/* Lease responses for tests. */
#include "lease_fixtures.h"

#include "core/microtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const CONFLICT_STATUS =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"the object has been modified\",\"reason\":\"Conflict\",\"code\":409}";

char *lease_json(int rv, const char *holder, int64_t renew_wall_ns, int duration_s, int transitions)
{
    char t[KLEASE__MICROTIME_LEN + 1];
    klease__microtime_format(renew_wall_ns, t);
    char *buf = malloc(2048);
    if (buf == NULL)
        abort();
    if (holder != NULL)
        snprintf(buf, 2048,
                 "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{"
                 "\"name\":\"lease-a\",\"namespace\":\"ns\",\"resourceVersion\":\"%d\"},\"spec\":{"
                 "\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%d,\"acquireTime\":\"%s\","
                 "\"renewTime\":\"%s\",\"leaseTransitions\":%d}}",
                 rv, holder, duration_s, t, t, transitions);
    else
        snprintf(buf, 2048,
                 "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{"
                 "\"name\":\"lease-a\",\"namespace\":\"ns\",\"resourceVersion\":\"%d\"},\"spec\":{"
                 "\"leaseTransitions\":%d}}",
                 rv, transitions);
    return buf;
}

void push_lease(scripted_transport *t, int http, int rv, const char *holder, int64_t renew_wall,
                int duration_s, int transitions)
{
    char *body = lease_json(rv, holder, renew_wall, duration_s, transitions);
    scripted_push(t, (scripted_reply){.http_status = http, .body = body});
    free(body);
}

char *watch_line(const char *type, int rv, const char *holder, int64_t renew_wall, int duration_s,
                 int transitions)
{
    char *lease = lease_json(rv, holder, renew_wall, duration_s, transitions);
    size_t n = strlen(lease) + 64;
    char *line = malloc(n);
    if (line == NULL)
        abort();
    snprintf(line, n, "{\"type\":\"%s\",\"object\":%s}\n", type, lease);
    free(lease);
    return line;
}
