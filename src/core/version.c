/* The version of the linked library. */
#include "klease/klease.h"

const char *klease_version(void)
{
    return KLEASE_VERSION_STRING;
}
