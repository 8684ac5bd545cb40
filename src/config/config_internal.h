/* Pieces of config/config.c shared with config/incluster.c. */
#ifndef KLEASE_CONFIG_CONFIG_INTERNAL_H
#define KLEASE_CONFIG_CONFIG_INTERNAL_H

#include "config/config.h"

#define KLEASE__INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Largest certificate file read (CA bundles reach a few hundred KiB). */
#define KLEASE__PEM_FILE_MAX ((size_t)8 << 20)

/* True when in-cluster config can be tried: client-go's Possible(), i.e.
 * KUBERNETES_SERVICE_HOST and _PORT are set and `dir`/token is a file. */
bool klease__incluster_possible(const char *dir);

/* In-cluster settings from the environment and the service-account files in
 * `dir` (NULL: KLEASE__INCLUSTER_DIR). KLEASE_ECONFIG, KLEASE_ENOMEM. */
klease_status klease__incluster_load(klease__kube_config **out, const char *dir,
                                     const klease__logger *log, klease_error *err);

#endif
