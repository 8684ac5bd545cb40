/* klease: the command line. parse.c reads the arguments against the table in
 * flags.c, then one command runs (commands.c, exec.c). */
#include "cli.h"

#include <string.h>

int main(int argc, char **argv)
{
    cli_opts o = {0};
    /* -1: not given; filled in by cli_parse (exec's defaults differ). */
    o.duration_ms = -1;
    o.grace_ms = -1;
    o.kill_after_ms = -1;
    o.margin_ms = -1;
    o.timeout_ms = -1;
    o.request_timeout_ms = -1;
    o.conflict_exit = -1;
    o.output = CLI_OUTPUT_TEXT;

    int rc = cli_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (strcmp(o.command, "create") == 0)
        return cli_cmd_create(&o);
    if (strcmp(o.command, "get") == 0)
        return cli_cmd_get(&o);
    if (strcmp(o.command, "claim") == 0)
        return cli_cmd_claim(&o);
    if (strcmp(o.command, "vacate") == 0)
        return cli_cmd_vacate(&o);
    if (strcmp(o.command, "list") == 0)
        return cli_cmd_list(&o);
    if (strcmp(o.command, "delete") == 0)
        return cli_cmd_delete(&o);
    return cli_cmd_exec(&o);
}
