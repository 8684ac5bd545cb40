/* Fuzzes the MicroTime parser: never crashes, and whatever it accepts
 * formats back to a valid MicroTime that parses to the same instant. */
#include "core/microtime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t ns;
    klease_error err;
    if (klease__microtime_parse((const char *)data, size, &ns, &err) != KLEASE_OK)
        return 0;
    char buf[KLEASE__MICROTIME_LEN + 1];
    if (klease__microtime_format(ns, buf) != KLEASE_OK)
        abort();
    int64_t again;
    if (klease__microtime_parse(buf, strlen(buf), &again, &err) != KLEASE_OK || again != ns)
        abort();
    return 0;
}
