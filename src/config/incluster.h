/* In-cluster configuration: the service account's token, CA and namespace
 * and $KUBERNETES_SERVICE_HOST/PORT. Owned by config/incluster.c; the
 * resolver in config/config.c falls back to it. */
#ifndef KLEASE_CONFIG_INCLUSTER_H
#define KLEASE_CONFIG_INCLUSTER_H

#include "config/kube_config.h"
#include "core/log.h"

#define KLEASE__INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* True when in-cluster config can be tried: client-go's Possible(), i.e.
 * KUBERNETES_SERVICE_HOST and _PORT are set and `dir`/token is a file. */
bool klease__incluster_possible(const char *dir);

/* In-cluster settings from the environment and the service-account files in
 * `dir` (NULL: KLEASE__INCLUSTER_DIR). KLEASE_ECONFIG, KLEASE_ENOMEM. */
klease_status klease__incluster_load(klease__kube_config **out, const char *dir,
                                     const klease__logger *log, klease_error *err);

#endif
