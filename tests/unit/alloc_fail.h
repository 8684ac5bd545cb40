/* The allocation-failure loop shared by the unit tests: run an operation
 * with the 1st, 2nd, ... allocation failing until a run in which no
 * allocation had to fail. Each failing run must end in KLEASE_ENOMEM or in
 * the status the operation has without any failure (some failures are
 * absorbed: an unparseable error body is quoted raw, for one). Leaks are
 * caught by ASan's LeakSanitizer and valgrind, which run every unit test. */
#ifndef KLEASE_TEST_ALLOC_FAIL_H
#define KLEASE_TEST_ALLOC_FAIL_H

#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "klease/klease.h"

#include <cjson/cJSON.h>

/* One run. It sets up what must not fail, calls klease__alloc_fail_after(n)
 * itself right before the operation, and cleans up everything. */
typedef klease_status (*alloc_fail_run_fn)(void *ctx, long n);

/* Returns the number of allocations the operation made (the first n whose
 * run needed no injected failure). */
static inline long alloc_fail_each(const char *what, alloc_fail_run_fn run, void *ctx,
                                   klease_status want)
{
    for (long n = 0;; n++) {
        uint64_t failed_before = klease__alloc_failed_count();
        klease_status st = run(ctx, n);
        klease__alloc_fail_after(-1);
        bool injected = klease__alloc_failed_count() != failed_before;
        if (!injected) {
            if (st != want)
                fail_msg("%s: without any failure: status %d, want %d", what, st, want);
            print_message("%s: %ld allocations, each failed once\n", what, n);
            return n;
        }
        if (st != want && st != KLEASE_ENOMEM)
            fail_msg("%s: allocation %ld failing gave status %d (%s), want %d or ENOMEM", what, n,
                     st, klease_strerror(st), want);
        if (n > 100000)
            fail_msg("%s: never succeeded", what);
    }
}

/* cJSON allocates on the library's behalf: route it through the hooks so
 * the switch reaches those allocations too (the library itself never calls
 * cJSON_InitHooks; the host program may). */
static inline void alloc_fail_route_cjson(void)
{
    cJSON_Hooks hooks = {klease__malloc, klease__free};
    cJSON_InitHooks(&hooks);
}

#endif
