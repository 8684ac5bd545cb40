/* klease list and klease delete: calls on the lease collection, beside the
 * manager that the other commands use for one lease. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* An age as kubectl prints one: 42s, 5m, 3h, 12d. */
static void format_age(char *buf, size_t size, int64_t created_wall_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (created_wall_ns <= 0) {
        snprintf(buf, size, "<unknown>");
        return;
    }
    int64_t s = (now - created_wall_ns) / 1000000000;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, size, "%llds", (long long)s);
    else if (s < 2 * 3600)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

static void print_json(const klease_lease_info *l)
{
    char expiry[64];
    printf("{\"namespace\":");
    cli_print_json_string(l->ns);
    printf(",\"name\":");
    cli_print_json_string(l->name);
    printf(",\"held\":%s,\"holder\":", l->held ? "true" : "false");
    if (l->held) {
        cli_print_json_string(l->claim.holder);
        cli_format_wall(expiry, sizeof expiry, l->claim.expiry_wall_ns);
        printf(",\"expiry\":");
        cli_print_json_string(expiry);
        int64_t left = (l->claim.deadline_mono_ns - cli_mono_ns()) / 1000000;
        printf(",\"timeLeftMs\":%lld", (long long)(left < 0 ? 0 : left));
    } else {
        printf("null");
    }
    printf(",\"transitions\":%lld,\"resourceVersion\":", (long long)l->claim.transitions);
    cli_print_json_string(l->claim.resource_version);
    if (l->created_wall_ns > 0) {
        cli_format_wall(expiry, sizeof expiry, l->created_wall_ns);
        printf(",\"created\":");
        cli_print_json_string(expiry);
    }
    printf("}\n");
}

static void print_row(const klease_lease_info *l, bool header)
{
    char holder[4 * KLEASE_IDENTITY_MAX + 8] = "<none>", left[32] = "-", age[32];
    char ns[256], name[1024];
    if (header)
        printf("%-16s %-24s %-32s %-10s %-11s %s\n", "NAMESPACE", "NAME", "HOLDER", "TIME-LEFT",
               "TRANSITIONS", "AGE");
    if (l->held) {
        cli_escape(holder, sizeof holder, l->claim.holder);
        cli_format_duration(left, sizeof left,
                            (l->claim.deadline_mono_ns - cli_mono_ns()) / 1000000);
    }
    format_age(age, sizeof age, l->created_wall_ns);
    printf("%-16s %-24s %-32s %-10s %-11lld %s\n", cli_escape(ns, sizeof ns, l->ns),
           cli_escape(name, sizeof name, l->name), holder, left, (long long)l->claim.transitions,
           age);
}

int cli_cmd_list(const cli_opts *o)
{
    klease_client *c = NULL;
    int rc = cli_client_open(&c, o);
    if (rc != CLI_EXIT_OK)
        return rc;
    klease_lease_info *leases = NULL;
    size_t n = 0;
    klease_error err;
    klease_status st = klease_lease_list(c, o->ns, o->all_namespaces, &leases, &n, &err);
    if (st != KLEASE_OK) {
        cli_report("list", st, &err);
        klease_client_free(c);
        return cli_exit_for(st);
    }
    if (n == 0 && o->output == CLI_OUTPUT_TEXT)
        fprintf(stderr, "klease: no leases found in %s\n",
                o->all_namespaces ? "any namespace"
                                  : (o->ns != NULL ? o->ns : klease_client_namespace(c)));
    for (size_t i = 0; i < n; i++) {
        if (o->output == CLI_OUTPUT_JSON)
            print_json(&leases[i]);
        else
            print_row(&leases[i], i == 0);
    }
    klease_lease_list_free(leases);
    klease_client_free(c);
    return CLI_EXIT_OK;
}

int cli_cmd_delete(const cli_opts *o)
{
    klease_client *c = NULL;
    int rc = cli_client_open(&c, o);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *ns = o->ns != NULL ? o->ns : klease_client_namespace(c);
    klease_error err;
    klease_status st = klease_lease_delete(c, ns, o->name, &err);
    char what[1400], ns_shown[256], name_shown[1024];
    cli_escape(ns_shown, sizeof ns_shown, ns);
    cli_escape(name_shown, sizeof name_shown, o->name);
    if (st == KLEASE_ENOTFOUND) {
        cli_errorf("lease %s/%s not found", ns_shown, name_shown);
    } else if (st != KLEASE_OK) {
        snprintf(what, sizeof what, "delete %s/%s", ns_shown, name_shown);
        cli_report(what, st, &err);
    } else if (o->output == CLI_OUTPUT_JSON) {
        printf("{\"namespace\":");
        cli_print_json_string(ns);
        printf(",\"name\":");
        cli_print_json_string(o->name);
        printf(",\"deleted\":true}\n");
    } else {
        printf("lease %s/%s deleted\n", ns_shown, name_shown);
    }
    klease_client_free(c);
    return cli_exit_for(st);
}
