/* klease exec: what is checked and prepared before CMD runs. CMD is looked
 * up before the lease is taken, so a typo exits 127 (126: not executable),
 * as a shell would, instead of taking the lease from a replica that could
 * have run. CMD's environment says what it holds, as consul lock's
 * CONSUL_LOCK_HELD does, with a fencing token: leaseTransitions, which every
 * libklease write that changes the holder increments, so a later holder
 * always has a larger one and a system CMD writes to can reject the token
 * of a stale holder. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* 0 if `path` is an executable regular file, else the errno execve gives. */
static int can_exec(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOTDIR ? ENOENT : errno;
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
        return EACCES;
    return 0;
}

bool cli_cmd_check(char *const *argv, int *exit_code)
{
    const char *cmd = argv[0];
    int e = ENOENT;
    if (cmd[0] == '\0') {
        e = ENOENT;
    } else if (strchr(cmd, '/') != NULL) {
        e = can_exec(cmd);
    } else {
        const char *path = getenv("PATH");
        if (path == NULL)
            path = "/usr/local/bin:/usr/bin:/bin";
        /* As execvp: the first executable match wins; a match that is not
         * executable is remembered as EACCES (126) if none is. */
        for (const char *p = path;; p++) {
            const char *end = strchr(p, ':');
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
            char full[4096];
            int len = snprintf(full, sizeof full, "%.*s%s%s", (int)n, n ? p : ".",
                               n && p[n - 1] == '/' ? "" : "/", cmd);
            if (len > 0 && (size_t)len < sizeof full) {
                int r = can_exec(full);
                if (r == 0) {
                    e = 0;
                    break;
                }
                if (r != ENOENT)
                    e = r;
            }
            if (end == NULL)
                break;
            p = end;
        }
    }
    if (e == 0)
        return true;
    char shown[512];
    cli_escape(shown, sizeof shown, cmd);
    if (e == ENOENT) {
        cli_errorf("%s: command not found; not taking the lease", shown);
        *exit_code = CLI_EXIT_NO_COMMAND;
    } else {
        cli_errorf("%s: cannot run: %s; not taking the lease", shown, strerror(e));
        *exit_code = CLI_EXIT_CANNOT_EXEC;
    }
    return false;
}

/* True when `w` needs no quotes in a POSIX shell. */
static bool plain_word(const char *w)
{
    if (*w == '\0')
        return false;
    for (; *w != '\0'; w++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./,:@%^",
                   *w) == NULL)
            return false;
    return true;
}

/* Appends `w` quoted for a POSIX shell, without backslashes (state lines
 * escape backslashes, so a backslash in the quoting would not survive):
 * plain words as they are; words with a ' but nothing special inside double
 * quotes in "..."; others in '...', each ' written as '"'"'. */
static size_t append_quoted(char *buf, size_t used, size_t size, const char *w)
{
    bool plain = plain_word(w);
    bool dq = !plain && strchr(w, '\'') != NULL && strpbrk(w, "\"$`\\!") == NULL;
    char q = dq ? '"' : '\'';
    if (!plain && used + 1 < size)
        buf[used++] = q;
    for (const char *c = w; *c != '\0' && used + 5 < size; c++) {
        if (!plain && !dq && *c == '\'') { /* end the quote, a quoted ', reopen it */
            memcpy(buf + used, "'\"'\"'", 5);
            used += 5;
        } else {
            buf[used++] = *c;
        }
    }
    if (!plain && used + 1 < size)
        buf[used++] = q;
    buf[used] = '\0';
    return used;
}

void cli_format_cmdline(char *buf, size_t size, char *const *argv)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; argv[i] != NULL && used + 1 < size; i++) {
        if (i > 0)
            buf[used++] = ' ';
        used = append_quoted(buf, used, size, argv[i]);
    }
    if (used + 8 >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

static const char *const our_vars[] = {"KLEASE_LEASE", "KLEASE_NAMESPACE", "KLEASE_NAME",
                                       "KLEASE_IDENTITY", "KLEASE_FENCING_TOKEN"};
#define N_OURS (sizeof our_vars / sizeof our_vars[0])

static bool is_ours(const char *entry)
{
    for (size_t k = 0; k < N_OURS; k++) {
        size_t n = strlen(our_vars[k]);
        if (strncmp(entry, our_vars[k], n) == 0 && entry[n] == '=')
            return true;
    }
    return false;
}

char **cli_env_new(const char *ns, const char *name, const char *identity,
                   const klease_claim *claim)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    /* Our strings follow the pointer array in the same block, so one free() does. */
    char token[32];
    snprintf(token, sizeof token, "%" PRId64, claim->transitions);
    const char *values[N_OURS] = {NULL, ns, name, identity, token};
    size_t bytes = (n + N_OURS + 1) * sizeof(char *);
    size_t lease_len = strlen(ns) + 1 + strlen(name);
    bytes += strlen(our_vars[0]) + 2 + lease_len;
    for (size_t k = 1; k < N_OURS; k++)
        bytes += strlen(our_vars[k]) + 2 + strlen(values[k]);
    char **env = malloc(bytes);
    if (env == NULL)
        return NULL;
    char *text = (char *)(env + n + N_OURS + 1), *end = (char *)env + bytes;
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_ours(environ[i]))
            env[out++] = environ[i];
    for (size_t k = 0; k < N_OURS; k++) {
        int len = k == 0 ? snprintf(text, (size_t)(end - text), "%s=%s/%s", our_vars[0], ns, name)
                         : snprintf(text, (size_t)(end - text), "%s=%s", our_vars[k], values[k]);
        env[out++] = text;
        text += len + 1;
    }
    env[out] = NULL;
    return env;
}

void cli_env_free(char **env)
{
    free(env);
}
