/* Running an exec credential plugin: the command without a shell, bounded
 * in time and output. Owned by config/exec_plugin.c; what the plugin prints
 * is read by config/exec_credential.h. */
#ifndef KLEASE_CONFIG_EXEC_PLUGIN_H
#define KLEASE_CONFIG_EXEC_PLUGIN_H

#include "config/exec_credential.h"
#include "config/kube_config.h"
#include "core/budget.h"
#include "core/log.h"

#include <stdint.h>

/* A plugin that has not finished after this long is killed. client-go has no
 * limit; cloud CLIs that refresh a token over the network take a few seconds,
 * and an interactive login (which we cannot offer anyway) would take longer. */
#define KLEASE__EXEC_TIMEOUT_MS_DEFAULT 30000
/* An ExecCredential is a few KiB; a plugin printing more is broken. */
#define KLEASE__EXEC_MAX_STDOUT ((size_t)1 << 20)
/* Standard error is kept for error messages and the debug log only. */
#define KLEASE__EXEC_MAX_STDERR ((size_t)4096)

#ifdef KLEASE_TEST_SEAMS
/* Test seam, only in klease_internal (built with KLEASE_TEST_SEAMS): sets
 * the process-wide plugin timeout; ms <= 0 restores the default. Atomic. */
void klease__exec_plugin_set_timeout_ms(int64_t ms);
#endif

/* Runs the plugin: looked up in $PATH when the command has no '/', started
 * with posix_spawn (no shell) in its own process group, stdin
 * from /dev/null, stdout and stderr captured, only fds 0-2 inherited, our
 * environment plus x->env plus KUBERNETES_EXEC_INFO=`exec_info`. The whole
 * process group is killed when the plugin outlives its time limit
 * (KLEASE__EXEC_TIMEOUT_MS_DEFAULT) or the call's budget `b` (may be NULL),
 * when the budget's cancel token fires, or when it prints more than
 * KLEASE__EXEC_MAX_STDOUT bytes. The call's budget running out is
 * KLEASE_ETIMEDOUT, a cancel KLEASE_ECLOSED; a spawn failure, non-zero exit,
 * signal, the plugin's own time limit, too much output or a bad
 * ExecCredential is KLEASE_EAUTH with a message that ends with the
 * installHint. Blocks the calling thread; call it without holding locks
 * other threads need quickly. */
klease_status klease__exec_plugin_run(const klease__exec_config *x, const char *exec_info,
                                      const klease__logger *log, const klease__budget *b,
                                      klease__exec_result *out, klease_error *err);

#endif
