/* klease: how results and errors look, as text for people and JSON for
 * scripts. Errors always go to stderr as one line, results to stdout. */
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t cli_mono_ns(void)
{
    struct timespec ts;
    /* The library's deadlines are on CLOCK_BOOTTIME where it exists. */
#ifdef CLOCK_BOOTTIME
    clock_gettime(CLOCK_BOOTTIME, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cli_errorf(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line, so lines from several replicas sharing a terminal stay whole. */
    fprintf(stderr, "klease: %s\n", line);
}

void cli_report(const char *what, klease_status st, const klease_error *err)
{
    const char *msg = err != NULL && err->status == st && err->message[0] ? err->message : "";
    if (what == NULL)
        cli_errorf("%s%s%s", klease_strerror(st), msg[0] ? ": " : "", msg);
    else
        cli_errorf("%s: %s%s%s", what, klease_strerror(st), msg[0] ? ": " : "", msg);
}

void cli_format_wall(char *buf, size_t size, int64_t wall_ns)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, size, "?");
        return;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ns / 1000000 % 1000));
}

void cli_format_duration(char *buf, size_t size, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 60000)
        snprintf(buf, size, "%lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
    else
        snprintf(buf, size, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

/* A JSON string literal; holder identities come from the server, so escape. */
void cli_print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

void cli_print_claim(const cli_opts *o, const char *ns, const klease_claim *claim, bool held,
                     const char *verdict)
{
    char expiry[64] = "", left[32] = "";
    int64_t left_ms = 0;
    bool mine = false;
    if (held) {
        cli_format_wall(expiry, sizeof expiry, claim->expiry_wall_ns);
        left_ms = (claim->deadline_mono_ns - cli_mono_ns()) / 1000000;
        if (left_ms < 0)
            left_ms = 0;
        cli_format_duration(left, sizeof left, left_ms);
        mine = klease_claim_is_current_for(claim, o->identity);
    }
    if (o->output == CLI_OUTPUT_JSON) {
        printf("{\"namespace\":");
        cli_print_json_string(ns);
        printf(",\"name\":");
        cli_print_json_string(o->name);
        printf(",\"held\":%s,\"heldByMe\":%s,\"holder\":", held ? "true" : "false",
               mine ? "true" : "false");
        if (held)
            cli_print_json_string(claim->holder);
        else
            printf("null");
        if (held) {
            printf(",\"holderTruncated\":%s,\"expiry\":",
                   claim->holder_truncated ? "true" : "false");
            cli_print_json_string(expiry);
            printf(",\"timeLeftMs\":%lld", (long long)left_ms);
        }
        /* The version and transitions are known even when nobody holds it. */
        printf(",\"transitions\":%lld,\"resourceVersion\":", (long long)claim->transitions);
        cli_print_json_string(claim->resource_version);
        printf(",\"identity\":");
        cli_print_json_string(o->identity);
        if (verdict != NULL) {
            printf(",\"result\":");
            cli_print_json_string(verdict);
        }
        printf("}\n");
        return;
    }
    printf("lease:            %s/%s\n", ns, o->name);
    if (!held) {
        printf("holder:           (none: unheld or expired)\n");
    } else {
        printf("holder:           %s%s%s\n", claim->holder, claim->holder_truncated ? "..." : "",
               mine ? " (you)" : "");
        printf("expires:          %s\n", expiry);
        printf("time left:        %s\n", left);
    }
    printf("transitions:      %lld\n", (long long)claim->transitions);
    printf("resourceVersion:  %s\n", claim->resource_version);
    if (verdict != NULL)
        printf("result:           %s\n", verdict);
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void cli_log(void *user, klease_log_level level, const char *msg)
{
    (void)user;
    /* The library may log from its threads: keep lines whole. */
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "klease: [%s] %s\n", klease_log_level_name(level), msg);
    pthread_mutex_unlock(&log_mu);
}
