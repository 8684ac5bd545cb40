/* The simulator's hash table (table.c) on its own: finds, replaces and
 * removes stay right across its growth to 10,000 entries, keys that only
 * differ in where namespace and name split stay apart, and listings come
 * sorted by namespace then name, for one namespace or all. */
#include "cmocka_wrap.h"

#include "table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 10000 };

static void name_of(int i, char out[16])
{
    snprintf(out, 16, "l-%05d", i);
}

static void
test_ten_thousand_leases_are_found_replaced_and_removed_by_namespace_and_name(void **state)
{
    (void)state;
    ksim__table *t = NULL;
    static int vals[N], other[N];
    char name[16];
    /* A fixed permutation (7919 is prime to N), so insertion is not sorted. */
    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N;
        name_of(i, name);
        void *old = &old;
        assert_int_equal(ksim__table_put(&t, "ns-a", name, &vals[i], &old), 0);
        assert_null(old);
        assert_int_equal(ksim__table_put(&t, "ns-b", name, &other[i], NULL), 0);
    }
    assert_int_equal(ksim__table_count(t), 2 * N);
    for (int i = 0; i < N; i++) {
        name_of(i, name);
        assert_ptr_equal(ksim__table_get(t, "ns-a", name), &vals[i]);
        assert_ptr_equal(ksim__table_get(t, "ns-b", name), &other[i]);
    }
    assert_null(ksim__table_get(t, "ns-c", "l-00001"));
    assert_null(ksim__table_get(t, "ns-a", "l-10000"));
    /* Replacing hands back the old value and keeps the count. */
    void *old = NULL;
    assert_int_equal(ksim__table_put(&t, "ns-a", "l-00042", &other[0], &old), 0);
    assert_ptr_equal(old, &vals[42]);
    assert_ptr_equal(ksim__table_get(t, "ns-a", "l-00042"), &other[0]);
    assert_int_equal(ksim__table_count(t), 2 * N);
    /* Every other one of ns-a removed. */
    for (int i = 0; i < N; i += 2) {
        name_of(i, name);
        assert_non_null(ksim__table_remove(t, "ns-a", name));
        assert_null(ksim__table_remove(t, "ns-a", name)); /* once only */
    }
    for (int i = 0; i < N; i++) {
        name_of(i, name);
        void *want = i % 2 == 0 ? NULL : i == 42 ? (void *)&other[0] : (void *)&vals[i];
        assert_ptr_equal(ksim__table_get(t, "ns-a", name), want);
    }
    assert_int_equal(ksim__table_count(t), 2 * N - N / 2);
    ksim__table_free(t, NULL);
}

static void test_a_key_split_differently_is_another_key(void **state)
{
    (void)state;
    ksim__table *t = NULL;
    int a, b;
    assert_int_equal(ksim__table_put(&t, "ab", "c", &a, NULL), 0);
    assert_int_equal(ksim__table_put(&t, "a", "bc", &b, NULL), 0);
    assert_ptr_equal(ksim__table_get(t, "ab", "c"), &a);
    assert_ptr_equal(ksim__table_get(t, "a", "bc"), &b);
    assert_int_equal(ksim__table_count(t), 2);
    ksim__table_free(t, NULL);
}

typedef struct item {
    const char *ns, *name;
} item;

static void test_listings_are_sorted_by_namespace_then_name(void **state)
{
    (void)state;
    item items[] = {{"ns-b", "z"}, {"ns-a", "m"}, {"ns-b", "a"}, {"ns-a", "b"},
                    {"ns", "zz"},  {"ns-a", "a"}, {"ns-c", "q"}};
    size_t n = sizeof(items) / sizeof(items[0]);
    ksim__table *t = NULL;
    void *sentinel = &sentinel, **out = &sentinel;        /* must be reset to NULL */
    assert_int_equal(ksim__table_sorted(t, "", &out), 0); /* empty: no array */
    assert_null(out);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ksim__table_put(&t, items[i].ns, items[i].name, &items[i], NULL), 0);
    const char *all[][2] = {{"ns", "zz"},  {"ns-a", "a"}, {"ns-a", "b"}, {"ns-a", "m"},
                            {"ns-b", "a"}, {"ns-b", "z"}, {"ns-c", "q"}};
    assert_int_equal(ksim__table_sorted(t, "", &out), (long)n);
    for (size_t i = 0; i < n; i++) {
        const item *it = out[i];
        assert_string_equal(it->ns, all[i][0]);
        assert_string_equal(it->name, all[i][1]);
    }
    free(out);
    assert_int_equal(ksim__table_sorted(t, "ns-a", &out), 3);
    assert_string_equal(((const item *)out[0])->name, "a");
    assert_string_equal(((const item *)out[1])->name, "b");
    assert_string_equal(((const item *)out[2])->name, "m");
    free(out);
    assert_int_equal(ksim__table_sorted(t, "ns-none", &out), 0);
    assert_null(out);
    ksim__table_free(t, NULL);
}

static void count_one(void *value, void *arg)
{
    (void)value;
    (*(int *)arg)++;
}

static void free_one(void *value)
{
    free(value);
}

static void test_each_visits_a_namespace_and_free_releases_every_value(void **state)
{
    (void)state;
    ksim__table *t = NULL;
    char name[16];
    for (int i = 0; i < 300; i++) {
        name_of(i, name);
        int *v = malloc(sizeof(*v));
        assert_non_null(v);
        assert_int_equal(ksim__table_put(&t, i % 3 ? "x" : "y", name, v, NULL), 0);
    }
    int n = 0;
    ksim__table_each(t, "y", count_one, &n);
    assert_int_equal(n, 100);
    n = 0;
    ksim__table_each(t, "", count_one, &n);
    assert_int_equal(n, 300);
    ksim__table_free(t, free_one); /* valgrind / LSan: nothing left */
    ksim__table_free(NULL, free_one);
    assert_null(ksim__table_get(NULL, "x", "y"));
    assert_int_equal(ksim__table_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_ten_thousand_leases_are_found_replaced_and_removed_by_namespace_and_name),
        cmocka_unit_test(test_a_key_split_differently_is_another_key),
        cmocka_unit_test(test_listings_are_sorted_by_namespace_then_name),
        cmocka_unit_test(test_each_visits_a_namespace_and_free_releases_every_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
