/* libFuzzer target: one kubeconfig file (YAML) as the parser sees it.
 *
 * An input whose first byte is 0xf0 or more is first wrapped in nesting:
 * the low nibble picks the depth (40 to 160 levels, either side of the
 * parser's limit of 64), the next byte the kind ("[", "{k: " or "- "), and
 * the rest goes inside. This keeps the event-by-event depth limit, and what
 * happens right at it, in reach of every mutation instead of only of inputs
 * that happen to type 65 brackets. */
#include "config/kubeconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse(const char *text, size_t len)
{
    klease__kubeconfig *kc = NULL;
    klease_error err;
    if (klease__kubeconfig_parse(text, len, "/fuzz/config", &kc, &err) == KLEASE_OK)
        klease__kubeconfig_free(kc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] < 0xf0) {
        parse((const char *)data, size);
        return 0;
    }
    static const char *const openers[] = {"[", "{k: ", "- "};
    static const char closers[] = {']', '}', 0};
    size_t depth = 40 + (size_t)(data[0] & 0x0f) * 8;
    size_t kind = data[1] % 3;
    size_t olen = strlen(openers[kind]);
    const uint8_t *rest = data + 2;
    size_t rest_len = size - 2;
    size_t len = depth * olen + rest_len + depth + 1;
    char *text = malloc(len);
    if (text == NULL)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < depth; i++, k += olen)
        memcpy(text + k, openers[kind], olen);
    memcpy(text + k, rest, rest_len);
    k += rest_len;
    for (size_t i = 0; closers[kind] != 0 && i < depth; i++)
        text[k++] = closers[kind];
    text[k++] = '\n';
    parse(text, k);
    free(text);
    return 0;
}
