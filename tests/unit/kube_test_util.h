/* Helpers shared by the kube config and credential tests: a clean
 * environment, a log capture and temporary directories. */
#ifndef KLEASE_TEST_KUBE_TEST_UTIL_H
#define KLEASE_TEST_KUBE_TEST_UTIL_H

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KC_FIXTURE(name)   KLEASE_FIXTURE_DIR "/kubeconfig/" name
#define EXEC_FIXTURE(name) KLEASE_FIXTURE_DIR "/exec/" name

/* Every variable the loaders read, so no test sees the developer's own. */
static inline void clean_kube_env(void)
{
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    unsetenv("POD_NAME");
    setenv("HOME", "/nonexistent/klease-test-home", 1);
}

typedef struct log_capture {
    int warnings;
    char last[1024]; /* the last warning or error */
} log_capture;

static inline void capture_log(void *user, klease_log_level level, const char *msg)
{
    log_capture *c = user;
    if (level < KLEASE_LOG_WARN)
        return;
    c->warnings++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

/* A fresh directory under $TMPDIR; the caller removes it with rm_tree. */
static inline void make_temp_dir(char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/klease-test-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(out) == NULL)
        abort();
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

static inline void rm_tree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        abort();
}

#endif
