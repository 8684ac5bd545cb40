/* A kubeconfig for the simulator: one cluster with the CA inline, one user
 * (the admin token, or a client certificate inline), one context. */
#include "certs.h"

#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ksim_write_kubeconfig(ksim *sim, const char *path, ksim_kubeconfig_kind kind)
{
    char *ca64 = NULL, *cert = NULL, *key = NULL, *cert64 = NULL, *key64 = NULL;
    int rc = -1;
    if (sim == NULL || path == NULL)
        return -1;
    if (sim->o.tls && (ca64 = ksim__base64_encode(sim->ca_pem, strlen(sim->ca_pem))) == NULL)
        goto out;
    if (kind == KSIM_KUBECONFIG_CERT) {
        if (!sim->o.tls || ksim_issue_client_cert(sim, KSIM_ADMIN_USER "-cert", &cert, &key) != 0 ||
            (cert64 = ksim__base64_encode(cert, strlen(cert))) == NULL ||
            (key64 = ksim__base64_encode(key, strlen(key))) == NULL)
            goto out;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        goto out;
    chmod(path, 0600); /* it holds credentials */
    fprintf(f, "apiVersion: v1\nkind: Config\nclusters:\n- name: ksim\n  cluster:\n");
    fprintf(f, "    server: %s\n", sim->url);
    if (ca64)
        fprintf(f, "    certificate-authority-data: %s\n", ca64);
    fprintf(f, "users:\n- name: ksim-user\n  user:\n");
    if (kind == KSIM_KUBECONFIG_CERT)
        fprintf(f, "    client-certificate-data: %s\n    client-key-data: %s\n", cert64, key64);
    else
        fprintf(f, "    token: %s\n", sim->admin_token);
    fprintf(f, "contexts:\n- name: ksim\n  context:\n    cluster: ksim\n    user: ksim-user\n"
               "    namespace: default\ncurrent-context: ksim\n");
    rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
out:
    free(ca64);
    free(cert);
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    free(key);
    free(cert64);
    free(key64);
    return rc;
}
