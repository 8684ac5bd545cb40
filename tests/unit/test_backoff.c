/* Jittered exponential backoff: bounds, growth, cap, spread, determinism. */
#include "cmocka_wrap.h"

#include "core/backoff.h"

static void test_delays_stay_within_jitter_band_of_the_growing_base(void **state)
{
    (void)state;
    klease__backoff b;
    klease__backoff_init(&b, 100, 100000, 2.0, 0.5, 42);
    int64_t base = 100;
    for (int i = 0; i < 8; i++) {
        int64_t d = klease__backoff_next(&b);
        assert_true(d <= base);
        assert_true(d >= base / 2);
        base *= 2;
    }
}

static void test_cap_is_never_exceeded(void **state)
{
    (void)state;
    klease__backoff b;
    klease__backoff_init(&b, 5, 1000, 3.0, 0.5, 7);
    for (int i = 0; i < 1000; i++)
        assert_true(klease__backoff_next(&b) <= 1000);
    /* Once capped, the base stays at the cap: delays stay in [500, 1000]. */
    for (int i = 0; i < 100; i++)
        assert_true(klease__backoff_next(&b) >= 500);
}

static void test_without_jitter_delays_are_exact_powers(void **state)
{
    (void)state;
    klease__backoff b;
    klease__backoff_init(&b, 10, 1000, 2.0, 0.0, 1);
    const int64_t want[] = {10, 20, 40, 80, 160, 320, 640, 1000, 1000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(klease__backoff_next(&b), want[i]);
}

static void test_reset_starts_again_from_the_minimum(void **state)
{
    (void)state;
    klease__backoff b;
    klease__backoff_init(&b, 10, 1000, 2.0, 0.0, 1);
    klease__backoff_next(&b);
    klease__backoff_next(&b);
    klease__backoff_reset(&b);
    assert_int_equal(klease__backoff_next(&b), 10);
}

static void test_same_seed_gives_the_same_sequence(void **state)
{
    (void)state;
    klease__backoff a, b;
    klease__backoff_init(&a, 5, 60000, 2.0, 0.5, 1234);
    klease__backoff_init(&b, 5, 60000, 2.0, 0.5, 1234);
    for (int i = 0; i < 50; i++)
        assert_int_equal(klease__backoff_next(&a), klease__backoff_next(&b));
}

static void test_jitter_spreads_delays_across_the_band(void **state)
{
    (void)state;
    /* At a fixed base (factor 1), 2000 draws with 50% jitter should fill the
     * band [500, 1000]: both quarters near the edges are hit, and the mean is
     * near the middle. */
    klease__backoff b;
    klease__backoff_init(&b, 1000, 1000, 1.0, 0.5, 99);
    int low = 0, high = 0;
    double sum = 0;
    for (int i = 0; i < 2000; i++) {
        int64_t d = klease__backoff_next(&b);
        assert_true(d >= 500 && d <= 1000);
        low += d < 625;
        high += d > 875;
        sum += (double)d;
    }
    assert_true(low > 300);
    assert_true(high > 300);
    double mean = sum / 2000;
    assert_true(mean > 700 && mean < 800);
}

static void test_out_of_range_parameters_are_clamped(void **state)
{
    (void)state;
    klease__backoff b;
    klease__backoff_init(&b, -5, -10, 0.1, 7.0, 0);
    assert_int_equal(b.min_ms, 0);
    assert_int_equal(b.max_ms, 0);
    assert_true(b.factor >= 1.0);
    assert_true(b.jitter <= 1.0);
    assert_true(b.rng != 0);
    assert_int_equal(klease__backoff_next(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays_stay_within_jitter_band_of_the_growing_base),
        cmocka_unit_test(test_cap_is_never_exceeded),
        cmocka_unit_test(test_without_jitter_delays_are_exact_powers),
        cmocka_unit_test(test_reset_starts_again_from_the_minimum),
        cmocka_unit_test(test_same_seed_gives_the_same_sequence),
        cmocka_unit_test(test_jitter_spreads_delays_across_the_band),
        cmocka_unit_test(test_out_of_range_parameters_are_clamped),
    };
    return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
