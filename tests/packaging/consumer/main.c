/* A minimal program using libklease, built by the packaging tests. */
#include <klease/klease.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(klease_version(), KLEASE_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", KLEASE_VERSION_STRING, klease_version());
        return 1;
    }
    if (strcmp(klease_strerror(KLEASE_ETIMEDOUT), "timed out") != 0)
        return 1;
    printf("consumer ok: libklease %s\n", klease_version());
    return 0;
}
