/* Allocation hooks and the fail-the-Nth-allocation switch. */
#include "cmocka_wrap.h"

#include "core/alloc.h"

#include <string.h>

static int reset_switch(void **state)
{
    (void)state;
    klease__alloc_fail_after(-1);
    return 0;
}

static void test_allocations_succeed_when_switch_is_off(void **state)
{
    (void)state;
    uint64_t before = klease__alloc_count();
    void *p = klease__malloc(16);
    void *q = klease__calloc(4, 4);
    assert_non_null(p);
    assert_non_null(q);
    assert_memory_equal(q, (char[16]){0}, 16);
    klease__free(p);
    klease__free(q);
    assert_int_equal(klease__alloc_count() - before, 2);
}

static void test_switch_fails_exactly_the_nth_allocation_and_after(void **state)
{
    (void)state;
    klease__alloc_fail_after(2);
    void *a = klease__malloc(8);
    void *b = klease__strdup("hello");
    void *c = klease__malloc(8);
    void *d = klease__calloc(1, 8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_null(d);
    klease__alloc_fail_after(-1);
    void *e = klease__malloc(8);
    assert_non_null(e);
    klease__free(a);
    klease__free(b);
    klease__free(e);
}

static void test_fail_after_zero_fails_the_next_allocation(void **state)
{
    (void)state;
    uint64_t failed = klease__alloc_failed_count();
    klease__alloc_fail_after(0);
    assert_null(klease__malloc(1));
    assert_null(klease__realloc(NULL, 1));
    assert_null(klease__strdup("x"));
    assert_int_equal(klease__alloc_failed_count() - failed, 3);
}

static void test_realloc_failure_leaves_the_block_intact(void **state)
{
    (void)state;
    char *p = klease__malloc(4);
    assert_non_null(p);
    memcpy(p, "abc", 4);
    klease__alloc_fail_after(0);
    assert_null(klease__realloc(p, 1 << 20));
    klease__alloc_fail_after(-1);
    assert_string_equal(p, "abc");
    klease__free(p);
}

static void test_strdup_and_strndup_copy_and_handle_null(void **state)
{
    (void)state;
    assert_null(klease__strdup(NULL));
    char *s = klease__strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    klease__free(s);
    s = klease__strndup("ab", 10);
    assert_string_equal(s, "ab");
    klease__free(s);
    klease__free(NULL);
}

static void test_zero_sized_requests_return_usable_pointers(void **state)
{
    (void)state;
    void *p = klease__malloc(0);
    void *q = klease__calloc(0, 8);
    assert_non_null(p);
    assert_non_null(q);
    klease__free(p);
    klease__free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_allocations_succeed_when_switch_is_off, reset_switch),
        cmocka_unit_test_teardown(test_switch_fails_exactly_the_nth_allocation_and_after,
                                  reset_switch),
        cmocka_unit_test_teardown(test_fail_after_zero_fails_the_next_allocation, reset_switch),
        cmocka_unit_test_teardown(test_realloc_failure_leaves_the_block_intact, reset_switch),
        cmocka_unit_test_teardown(test_strdup_and_strndup_copy_and_handle_null, reset_switch),
        cmocka_unit_test_teardown(test_zero_sized_requests_return_usable_pointers, reset_switch),
    };
    return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
