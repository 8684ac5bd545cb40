/* cmocka needs these headers before its own. */
#ifndef KLEASE_TEST_CMOCKA_WRAP_H
#define KLEASE_TEST_CMOCKA_WRAP_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
