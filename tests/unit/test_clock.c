/* System clock and the fake clock used by every timing test. */
#include "cmocka_wrap.h"

#include "core/clock.h"
#include "core/fake_clock.h"

#include <errno.h>
#include <stdbool.h>

#define S  KLEASE__NS_PER_S
#define MS KLEASE__NS_PER_MS

static void test_system_monotonic_clock_never_goes_backwards(void **state)
{
    (void)state;
    const klease__clock *c = klease__clock_system();
    int64_t prev = klease__mono_ns(c);
    for (int i = 0; i < 1000; i++) {
        int64_t now = klease__mono_ns(c);
        assert_true(now >= prev);
        prev = now;
    }
}

static void test_system_wall_clock_is_epoch_time(void **state)
{
    (void)state;
    /* Any machine running this test is after 2020-01-01 and before 2200. */
    int64_t wall = klease__wall_ns(klease__clock_system());
    assert_true(wall > INT64_C(1577836800) * S);
    assert_true(wall < INT64_C(7258118400) * S);
}

static void test_system_timedwait_times_out_past_deadline(void **state)
{
    (void)state;
    const klease__clock *c = klease__clock_system();
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    assert_int_equal(klease__cond_init(&cond), 0);
    pthread_mutex_lock(&mu);
    assert_int_equal(c->timedwait(c, &cond, &mu, klease__mono_ns(c) - 1), ETIMEDOUT);
    int64_t start = klease__mono_ns(c);
    int rc;
    while ((rc = c->timedwait(c, &cond, &mu, start + 20 * MS)) == 0) {
    }
    assert_int_equal(rc, ETIMEDOUT);
    assert_true(klease__mono_ns(c) >= start + 20 * MS);
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cond);
}

static void test_fake_clock_moves_only_when_advanced(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(5 * S, 1000 * S);
    const klease__clock *c = klease__fake_clock_get(fc);
    assert_int_equal(klease__mono_ns(c), 5 * S);
    assert_int_equal(klease__wall_ns(c), 1000 * S);
    klease__fake_clock_advance(fc, 250 * MS);
    assert_int_equal(klease__mono_ns(c), 5 * S + 250 * MS);
    assert_int_equal(klease__wall_ns(c), 1000 * S + 250 * MS);
    klease__fake_clock_set_wall(fc, 7 * S);
    assert_int_equal(klease__wall_ns(c), 7 * S);
    assert_int_equal(klease__mono_ns(c), 5 * S + 250 * MS);
    klease__fake_clock_free(fc);
}

typedef struct waiter_ctx {
    const klease__clock *clock;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t deadline;
    int rc;
    int64_t woke_at;
    bool signalled;
} waiter_ctx;

static void *waiter_main(void *arg)
{
    waiter_ctx *w = arg;
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (!w->signalled &&
           (rc = w->clock->timedwait(w->clock, &w->cond, &w->mu, w->deadline)) == 0) {
    }
    w->rc = w->signalled ? 0 : rc;
    w->woke_at = klease__mono_ns(w->clock);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void start_waiter(waiter_ctx *w, klease__fake_clock *fc, int64_t deadline, pthread_t *t)
{
    w->clock = klease__fake_clock_get(fc);
    pthread_mutex_init(&w->mu, NULL);
    assert_int_equal(klease__cond_init(&w->cond), 0);
    w->deadline = deadline;
    w->rc = -1;
    w->signalled = false;
    assert_int_equal(pthread_create(t, NULL, waiter_main, w), 0);
}

static void finish_waiter(waiter_ctx *w, pthread_t t)
{
    pthread_join(t, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
}

static void test_fake_timedwait_wakes_exactly_when_deadline_is_reached(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(0, 0);
    waiter_ctx w;
    pthread_t t;
    start_waiter(&w, fc, 10 * S, &t);
    assert_true(klease__fake_clock_await_sleepers(fc, 1, 10000));
    assert_int_equal(klease__fake_clock_next_deadline(fc), 10 * S);

    klease__fake_clock_advance(fc, 10 * S - 1);
    /* Not yet due: the waiter must still be asleep. */
    assert_int_equal(klease__fake_clock_sleepers(fc), 1);

    klease__fake_clock_advance(fc, 1);
    finish_waiter(&w, t);
    assert_int_equal(w.rc, ETIMEDOUT);
    assert_int_equal(w.woke_at, 10 * S);
    assert_int_equal(klease__fake_clock_sleepers(fc), 0);
    klease__fake_clock_free(fc);
}

static void test_fake_timedwait_wakes_on_signal_before_deadline(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(0, 0);
    waiter_ctx w;
    pthread_t t;
    start_waiter(&w, fc, 60 * S, &t);
    assert_true(klease__fake_clock_await_sleepers(fc, 1, 10000));
    pthread_mutex_lock(&w.mu);
    w.signalled = true;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.mu);
    finish_waiter(&w, t);
    assert_int_equal(w.rc, 0);
    assert_int_equal(w.woke_at, 0);
    klease__fake_clock_free(fc);
}

static void test_fake_timedwait_with_past_deadline_returns_at_once(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(100, 0);
    const klease__clock *c = klease__fake_clock_get(fc);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    klease__cond_init(&cond);
    pthread_mutex_lock(&mu);
    assert_int_equal(c->timedwait(c, &cond, &mu, 100), ETIMEDOUT);
    pthread_mutex_unlock(&mu);
    klease__sleep_until(c, 50); /* already past: returns without blocking */
    pthread_cond_destroy(&cond);
    klease__fake_clock_free(fc);
}

static void test_fake_advance_wakes_only_due_sleepers(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(0, 0);
    waiter_ctx a, b;
    pthread_t ta, tb;
    start_waiter(&a, fc, 1 * S, &ta);
    start_waiter(&b, fc, 3 * S, &tb);
    assert_true(klease__fake_clock_await_sleepers(fc, 2, 10000));
    klease__fake_clock_advance(fc, 2 * S);
    finish_waiter(&a, ta);
    assert_int_equal(a.rc, ETIMEDOUT);
    assert_int_equal(klease__fake_clock_sleepers(fc), 1);
    assert_int_equal(klease__fake_clock_next_deadline(fc), 3 * S);
    klease__fake_clock_advance(fc, 1 * S);
    finish_waiter(&b, tb);
    assert_int_equal(b.rc, ETIMEDOUT);
    assert_int_equal(b.woke_at, 3 * S);
    klease__fake_clock_free(fc);
}

static void test_await_sleepers_gives_up_after_real_timeout(void **state)
{
    (void)state;
    klease__fake_clock *fc = klease__fake_clock_new(0, 0);
    assert_false(klease__fake_clock_await_sleepers(fc, 1, 20));
    assert_int_equal(klease__fake_clock_next_deadline(fc), INT64_MAX);
    klease__fake_clock_free(fc);
}

static void test_saturating_add_never_wraps(void **state)
{
    (void)state;
    assert_int_equal(klease__add_sat(INT64_MAX - 1, 10), INT64_MAX);
    assert_int_equal(klease__add_sat(INT64_MIN + 1, -10), INT64_MIN);
    assert_int_equal(klease__add_sat(5, -7), -2);
}

static void test_unit_conversions_saturate_at_the_int64_extremes(void **state)
{
    (void)state;
    assert_int_equal(klease__ms_to_ns(1500), INT64_C(1500000000));
    assert_int_equal(klease__ms_to_ns(-2), INT64_C(-2000000));
    assert_int_equal(klease__ms_to_ns(INT64_MAX), INT64_MAX);
    assert_int_equal(klease__ms_to_ns(INT64_MIN), INT64_MIN);
    /* The first value whose product no longer fits. */
    assert_int_equal(klease__ms_to_ns(INT64_MAX / KLEASE__NS_PER_MS + 1), INT64_MAX);
    assert_int_equal(klease__ms_to_ns(INT64_MAX / KLEASE__NS_PER_MS),
                     INT64_MAX / KLEASE__NS_PER_MS * KLEASE__NS_PER_MS);
    assert_int_equal(klease__s_to_ns(INT32_MAX), (int64_t)INT32_MAX * KLEASE__NS_PER_S);
    assert_int_equal(klease__s_to_ns(INT32_MIN), (int64_t)INT32_MIN * KLEASE__NS_PER_S);
    assert_int_equal(klease__s_to_ns(INT64_C(10000000000)), INT64_MAX);
    assert_int_equal(klease__s_to_ns(-INT64_C(10000000000)), INT64_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_monotonic_clock_never_goes_backwards),
        cmocka_unit_test(test_system_wall_clock_is_epoch_time),
        cmocka_unit_test(test_system_timedwait_times_out_past_deadline),
        cmocka_unit_test(test_fake_clock_moves_only_when_advanced),
        cmocka_unit_test(test_fake_timedwait_wakes_exactly_when_deadline_is_reached),
        cmocka_unit_test(test_fake_timedwait_wakes_on_signal_before_deadline),
        cmocka_unit_test(test_fake_timedwait_with_past_deadline_returns_at_once),
        cmocka_unit_test(test_fake_advance_wakes_only_due_sleepers),
        cmocka_unit_test(test_await_sleepers_gives_up_after_real_timeout),
        cmocka_unit_test(test_saturating_add_never_wraps),
        cmocka_unit_test(test_unit_conversions_saturate_at_the_int64_extremes),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
