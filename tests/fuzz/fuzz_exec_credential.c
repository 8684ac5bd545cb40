/* libFuzzer target: an exec credential plugin's standard output. */
#include "config/exec_credential.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    klease_error err;
    if (klease__exec_credential_parse((const char *)data, size, KLEASE__EXEC_API_V1, &r, &err) ==
        KLEASE_OK)
        klease__exec_result_clear(&r);
    return 0;
}
