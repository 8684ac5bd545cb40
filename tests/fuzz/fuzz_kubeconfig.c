/* libFuzzer target: one kubeconfig file (YAML) as the parser sees it. */
#include "kube/kubeconfig.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    klease__kubeconfig *kc = NULL;
    klease_error err;
    if (klease__kubeconfig_parse((const char *)data, size, "/fuzz/config", &kc, &err) == KLEASE_OK)
        klease__kubeconfig_free(kc);
    return 0;
}
