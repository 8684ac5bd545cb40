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

/* The code point of a well-formed UTF-8 sequence at `p` and its length, or
 * 0 for a byte that does not start one (overlong forms and surrogates
 * included). */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
    if (p[0] >= 0xc2 && p[0] <= 0xdf && (p[1] & 0xc0) == 0x80) {
        *cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        return 2;
    }
    if (p[0] >= 0xe0 && p[0] <= 0xef && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
        (p[0] != 0xe0 || p[1] >= 0xa0) && (p[0] != 0xed || p[1] < 0xa0)) {
        *cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        return 3;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
        (p[3] & 0xc0) == 0x80 && (p[0] != 0xf0 || p[1] >= 0x90) && (p[0] != 0xf4 || p[1] < 0x90)) {
        *cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
              (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
        return 4;
    }
    return 0;
}

/* Code points a terminal acts on or that reorder what is shown: C1
 * controls (U+009B is CSI on its own), line and paragraph separators, and
 * the bidirectional overrides and isolates. */
static bool invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *cli_escape(char *out, size_t size, const char *s)
{
    size_t n = 0;
    if (size == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        char piece[16];
        size_t len = 1;
        uint32_t cp = 0;
        if (*p == '\\') {
            snprintf(piece, sizeof piece, "\\\\");
        } else if (*p >= 0x20 && *p < 0x7f) {
            piece[0] = (char)*p;
            piece[1] = '\0';
        } else if (*p < 0x80 || (len = utf8_decode(p, &cp)) == 0) {
            snprintf(piece, sizeof piece, "\\x%02x", *p);
            len = 1;
        } else if (invisible_control(cp)) {
            snprintf(piece, sizeof piece, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(piece, p, len);
            piece[len] = '\0';
        }
        size_t plen = strlen(piece);
        if (n + plen >= size)
            break; /* cut whole escapes only */
        memcpy(out + n, piece, plen);
        n += plen;
        p += len;
    }
    out[n] = '\0';
    return out;
}

void cli_errorf(const char *fmt, ...)
{
    char line[1024], shown[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Messages carry text from the server (Status messages, holders). One
     * write per line, so lines from several replicas sharing a terminal
     * stay whole. */
    fprintf(stderr, "klease: %s\n", cli_escape(shown, sizeof shown, line));
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

/* A double-quoted YAML scalar: JSON's escapes are YAML's, and DEL is not
 * printable in YAML either. */
static void print_yaml_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* One field of a JSON object (comma-separated, in braces) or a YAML
 * mapping (a line each); `str` NULL: a raw value (number, bool, null). */
static void field(const cli_opts *o, bool *first, const char *key, const char *str, const char *raw)
{
    bool yaml = o->output == CLI_OUTPUT_YAML;
    if (yaml)
        printf("%s: ", key);
    else
        printf("%s\"%s\":", *first ? "{" : ",", key);
    *first = false;
    if (str == NULL)
        fputs(raw, stdout);
    else if (yaml)
        print_yaml_string(str);
    else
        cli_print_json_string(str);
    if (yaml)
        putchar('\n');
}

void cli_print_claim_row(const char *ns, const char *name, const klease_claim *claim, bool held,
                         bool header)
{
    char holder[4 * KLEASE_IDENTITY_MAX + 8] = "<none>", left[32] = "-", expiry[64] = "-";
    char ns_shown[1024], name_shown[1024], rv[512];
    if (header)
        printf("%-16s %-24s %-32s %-10s %-11s %-16s %s\n", "NAMESPACE", "NAME", "HOLDER",
               "TIME-LEFT", "TRANSITIONS", "RESOURCE-VERSION", "EXPIRES");
    if (held) {
        int64_t left_ms = (claim->deadline_mono_ns - cli_mono_ns()) / 1000000;
        cli_format_duration(left, sizeof left, left_ms);
        cli_format_wall(expiry, sizeof expiry, claim->expiry_wall_ns);
        cli_escape(holder, sizeof holder, claim->holder);
    }
    printf("%-16s %-24s %-32s %-10s %-11lld %-16s %s\n", cli_escape(ns_shown, sizeof ns_shown, ns),
           cli_escape(name_shown, sizeof name_shown, name), holder, left,
           (long long)claim->transitions, cli_escape(rv, sizeof rv, claim->resource_version),
           expiry);
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
    if (o->output == CLI_OUTPUT_WIDE) {
        cli_print_claim_row(ns, o->name, claim, held, true);
        return;
    }
    if (o->output == CLI_OUTPUT_JSON || o->output == CLI_OUTPUT_YAML) {
        bool first = true;
        char num[32];
        field(o, &first, "namespace", ns, NULL);
        field(o, &first, "name", o->name, NULL);
        field(o, &first, "held", NULL, held ? "true" : "false");
        field(o, &first, "heldByMe", NULL, mine ? "true" : "false");
        field(o, &first, "holder", held ? claim->holder : NULL, "null");
        if (held) {
            field(o, &first, "holderTruncated", NULL, claim->holder_truncated ? "true" : "false");
            field(o, &first, "expiry", expiry, NULL);
            snprintf(num, sizeof num, "%lld", (long long)left_ms);
            field(o, &first, "timeLeftMs", NULL, num);
        }
        /* The version and transitions are known even when nobody holds it. */
        snprintf(num, sizeof num, "%lld", (long long)claim->transitions);
        field(o, &first, "transitions", NULL, num);
        field(o, &first, "resourceVersion", claim->resource_version, NULL);
        field(o, &first, "identity", o->identity, NULL);
        if (verdict != NULL)
            field(o, &first, "result", verdict, NULL);
        if (o->output == CLI_OUTPUT_JSON)
            printf("}\n");
        return;
    }
    /* Text is for a terminal: what the server sent is escaped. */
    char holder[4 * KLEASE_IDENTITY_MAX + 8], rv[512], ns_shown[1024], name_shown[1024];
    printf("lease:            %s/%s\n", cli_escape(ns_shown, sizeof ns_shown, ns),
           cli_escape(name_shown, sizeof name_shown, o->name));
    if (!held) {
        printf("holder:           (none: unheld or expired)\n");
    } else {
        printf("holder:           %s%s%s\n", cli_escape(holder, sizeof holder, claim->holder),
               claim->holder_truncated ? "..." : "", mine ? " (you)" : "");
        printf("expires:          %s\n", expiry);
        printf("time left:        %s\n", left);
    }
    printf("transitions:      %lld\n", (long long)claim->transitions);
    printf("resourceVersion:  %s\n", cli_escape(rv, sizeof rv, claim->resource_version));
    if (verdict != NULL)
        printf("result:           %s\n", verdict);
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void cli_log(void *user, klease_log_level level, const char *msg)
{
    (void)user;
    /* The library may log from its threads: keep lines whole. */
    static char shown[8192]; /* guarded by log_mu */
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "klease: [%s] %s\n", klease_log_level_name(level),
            cli_escape(shown, sizeof shown, msg));
    pthread_mutex_unlock(&log_mu);
}
