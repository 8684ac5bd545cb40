/*
 * libklease for C++17: a small header-only wrapper over klease/klease.h.
 *
 * Copyright The libklease Authors. Licensed under the Apache License 2.0.
 *
 *  - klease::client, klease::manager and klease::elector own their C handle
 *    (RAII) and are move-only. A manager must not outlive its client, nor an
 *    elector its manager: declare them in that order and they are destroyed
 *    in the right one.
 *  - Failures throw klease::error (a std::runtime_error) carrying the
 *    klease_error. Someone else holding the lease is not an error.
 *  - Durations are std::chrono::milliseconds; options have the C defaults.
 *  - Nothing here adds state beyond the C library: the same thread-safety
 *    rules apply (see klease.h).
 */
#ifndef KLEASE_KLEASE_HPP
#define KLEASE_KLEASE_HPP

#include "klease.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace klease
{

/* A failed call: what() is "status: message"; details() is the full C error. */
class error : public std::runtime_error
{
  public:
    explicit error(const klease_error &e) : std::runtime_error(describe(e)), err_(e)
    {
    }

    klease_status status() const noexcept
    {
        return err_.status;
    }
    int http_code() const noexcept
    {
        return err_.http_code;
    }
    /* The Kubernetes Status reason ("Conflict", "NotFound"...) or "". */
    const char *reason() const noexcept
    {
        return err_.reason;
    }
    const klease_error &details() const noexcept
    {
        return err_;
    }

  private:
    static std::string describe(const klease_error &e)
    {
        std::string s = klease_strerror(e.status);
        if (e.message[0] != '\0')
            s += std::string(": ") + e.message;
        return s;
    }
    klease_error err_;
};

namespace detail
{
/* Throws for anything but KLEASE_OK. The library fills `err` on failure; a
 * status it did not describe still gets its strerror as the message. */
inline void check(klease_status st, klease_error &err)
{
    if (st == KLEASE_OK)
        return;
    if (err.status != st) {
        err = klease_error{};
        err.status = st;
        err.retry_after_ms = -1;
        std::strncpy(err.message, klease_strerror(st), sizeof err.message - 1);
    }
    throw error(err);
}

inline const char *c_str_or_null(const std::string &s)
{
    return s.empty() ? nullptr : s.c_str();
}
} // namespace detail

using std::chrono::milliseconds;

/* The identity a replica claims with by default ($POD_NAME, else the host name). */
inline std::string default_identity()
{
    char buf[KLEASE_IDENTITY_MAX + 1];
    klease_error err{};
    detail::check(klease_default_identity(buf, sizeof buf, &err), err);
    return buf;
}

/* A snapshot of who holds a lease (a value; see klease_claim). */
class claim
{
  public:
    claim() : c_{}
    {
    }
    explicit claim(const klease_claim &c) : c_(c)
    {
    }

    std::string holder() const
    {
        return c_.holder;
    }
    bool holder_truncated() const noexcept
    {
        return c_.holder_truncated;
    }
    /* True while the claim's deadline (this process's monotonic clock) has not passed. */
    bool is_current() const noexcept
    {
        return klease_claim_is_current(&c_);
    }
    bool is_current_for(const std::string &claimant) const noexcept
    {
        return klease_claim_is_current_for(&c_, claimant.c_str());
    }
    /* Time left before the deadline (0 once it has passed); see klease_claim_time_left_ms. */
    milliseconds time_left() const noexcept
    {
        return milliseconds(klease_claim_time_left_ms(&c_));
    }
    /* True when `claimant` holds it with more than `margin` left; see
     * klease_claim_is_current_for_margin. */
    bool is_current_for(const std::string &claimant, milliseconds margin) const noexcept
    {
        return klease_claim_is_current_for_margin(&c_, claimant.c_str(), margin.count());
    }
    /* When the claim ends, on the wall clock, as written on the lease. */
    std::chrono::system_clock::time_point expiry() const
    {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(c_.expiry_wall_ns)));
    }
    /* For fencing: pass these to the systems the lease guards. */
    std::string resource_version() const
    {
        return c_.resource_version;
    }
    std::int64_t transitions() const noexcept
    {
        return c_.transitions;
    }
    const klease_claim &c() const noexcept
    {
        return c_;
    }

  private:
    klease_claim c_;
};

/* How to claim. Whole seconds on the wire; see klease_claim_params. */
struct claim_params {
    milliseconds lease_duration{30000};
    milliseconds renew_grace{1000};

    klease_claim_params c() const noexcept
    {
        klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
        p.lease_duration_ms = lease_duration.count();
        p.renew_grace_ms = renew_grace.count();
        return p;
    }
};

struct client_options {
    std::string kubeconfig; /* empty: $KUBECONFIG, ~/.kube/config, in-cluster */
    std::string context;    /* empty: the current context */
    milliseconds request_timeout{10000};
    milliseconds connect_timeout{5000};
    /* Called from library threads; must be thread-safe and must not throw. */
    std::function<void(klease_log_level, const char *)> log;
    klease_log_level log_level = KLEASE_LOG_INFO;
};

/* A connection to one API server; share one per process. */
class client
{
  public:
    explicit client(client_options opts = {})
        : opts_(std::make_unique<client_options>(std::move(opts)))
    {
        klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
        o.kubeconfig = detail::c_str_or_null(opts_->kubeconfig);
        o.context = detail::c_str_or_null(opts_->context);
        o.request_timeout_ms = opts_->request_timeout.count();
        o.connect_timeout_ms = opts_->connect_timeout.count();
        if (opts_->log) {
            o.log_fn = &client::log_trampoline;
            o.log_user = opts_.get(); /* stable across moves: it lives on the heap */
            o.log_level = opts_->log_level;
        }
        klease_client *c = nullptr;
        klease_error err{};
        detail::check(klease_client_new(&c, &o, &err), err);
        c_.reset(c);
    }

    client(client &&) noexcept = default;
    client &operator=(client &&) noexcept = default;
    client(const client &) = delete;
    client &operator=(const client &) = delete;

    /* The default namespace (the context's, else "default"). */
    std::string ns() const
    {
        return klease_client_namespace(c_.get());
    }
    std::string server() const
    {
        return klease_client_server(c_.get());
    }
    klease_client *get() const noexcept
    {
        return c_.get();
    }

  private:
    struct deleter {
        void operator()(klease_client *c) const noexcept
        {
            klease_client_free(c);
        }
    };
    static void log_trampoline(void *user, klease_log_level level, const char *msg) noexcept
    {
        static_cast<client_options *>(user)->log(level, msg);
    }
    /* Declared first, destroyed last: the C client points at the log function. */
    std::unique_ptr<client_options> opts_;
    std::unique_ptr<klease_client, deleter> c_;
};

struct manager_options {
    bool create_if_missing = false;
    std::string field_manager; /* empty: "klease" */
    milliseconds clock_skew_tolerance{1000};
    int max_conflict_rounds = 8;
};

/* One Lease: klease_ensure_claimed() and friends. */
class manager
{
  public:
    /* Reads lease ns/name (empty ns: the client's namespace). Throws
     * klease::error, e.g. KLEASE_ENOTFOUND without create_if_missing. */
    manager(client &c, const std::string &name, const manager_options &opts = {},
            const std::string &ns = {})
    {
        klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
        o.create_if_missing = opts.create_if_missing;
        o.field_manager = detail::c_str_or_null(opts.field_manager);
        o.clock_skew_tolerance_ms = opts.clock_skew_tolerance.count();
        o.max_conflict_rounds = opts.max_conflict_rounds;
        klease_manager *m = nullptr;
        klease_error err{};
        detail::check(
            klease_manager_init(&m, c.get(), detail::c_str_or_null(ns), name.c_str(), &o, &err),
            err);
        m_.reset(m);
    }

    manager(manager &&) noexcept = default;
    manager &operator=(manager &&) noexcept = default;
    manager(const manager &) = delete;
    manager &operator=(const manager &) = delete;

    /* The cached claim, no I/O; empty when unheld or expired. */
    std::optional<claim> claimed() const
    {
        klease_claim c;
        bool has = false;
        klease_claimed(m_.get(), &c, &has);
        return has ? std::optional<claim>(claim(c)) : std::nullopt;
    }

    /* Reads the lease from the API server. */
    std::optional<claim> sync()
    {
        klease_claim c;
        bool has = false;
        klease_error err{};
        detail::check(klease_sync(m_.get(), &c, &has, &err), err);
        return has ? std::optional<claim>(claim(c)) : std::nullopt;
    }

    /* Claims or renews for `claimant`, or returns someone else's current
     * claim (not an error: check is_current_for()). */
    claim ensure_claimed(const std::string &claimant, const claim_params &params = {})
    {
        klease_claim c;
        klease_claim_params p = params.c();
        klease_error err{};
        detail::check(klease_ensure_claimed(m_.get(), claimant.c_str(), &p, &c, &err), err);
        return claim(c);
    }

    /* Gives the lease up if `claimant` holds it; true when it wrote. */
    bool vacate(const std::string &claimant)
    {
        bool vacated = false;
        klease_error err{};
        detail::check(klease_vacate(m_.get(), claimant.c_str(), &vacated, &err), err);
        return vacated;
    }

    klease_manager_stats stats() const
    {
        klease_manager_stats s;
        klease_manager_get_stats(m_.get(), &s);
        return s;
    }

    klease_manager *get() const noexcept
    {
        return m_.get();
    }

  private:
    struct deleter {
        void operator()(klease_manager *m) const noexcept
        {
            klease_manager_free(m);
        }
    };
    std::unique_ptr<klease_manager, deleter> m_;
};

/* Called on the client's callback thread when the claim changes (see
 * klease_elector_change_fn). Must not throw and must not close the elector. */
using change_fn =
    std::function<void(const std::optional<claim> &claim, bool leading, klease_status status)>;

struct elector_options {
    change_fn on_change;
    bool watch = true;
    milliseconds poll_interval{2000};
    milliseconds min_backoff{5};
    milliseconds max_backoff{5000};
    milliseconds vacate_timeout{1000}; /* 0: do not vacate when closed */
    /* Leadership ends this long before the claim's deadline when it was not
     * renewed (see klease_elector_options.margin_ms); -1 ms: half the renew grace. */
    milliseconds margin{KLEASE_MARGIN_AUTO};
};

/* A background thread keeping the lease for one claimant. The destructor
 * closes it (vacating) and ignores errors; call close() to see them. */
class elector
{
  public:
    elector(manager &m, const std::string &claimant, const claim_params &params = {},
            elector_options opts = {})
        : on_change_(std::make_unique<change_fn>(std::move(opts.on_change)))
    {
        klease_elector_options o = KLEASE_ELECTOR_OPTIONS_INIT;
        if (*on_change_) {
            o.on_change = &elector::change_trampoline;
            o.user = on_change_.get(); /* stable across moves */
        }
        o.watch = opts.watch;
        o.poll_interval_ms = opts.poll_interval.count();
        o.min_backoff_ms = opts.min_backoff.count();
        o.max_backoff_ms = opts.max_backoff.count();
        o.vacate_timeout_ms = opts.vacate_timeout.count();
        o.margin_ms = opts.margin.count();
        klease_claim_params p = params.c();
        klease_error err{};
        detail::check(klease_spawn(&e_, m.get(), claimant.c_str(), &p, &o, &err), err);
    }

    elector(elector &&other) noexcept
        : on_change_(std::move(other.on_change_)), e_(std::exchange(other.e_, nullptr))
    {
    }
    elector &operator=(elector &&other) noexcept
    {
        if (this != &other) {
            klease_elector_close(e_, nullptr);
            e_ = std::exchange(other.e_, nullptr);
            on_change_ = std::move(other.on_change_);
        }
        return *this;
    }
    elector(const elector &) = delete;
    elector &operator=(const elector &) = delete;
    ~elector()
    {
        klease_elector_close(e_, nullptr);
    }

    /* Stops, vacates if leading, joins. Throws the error that stopped the
     * elector, or the vacate's. Idempotent. */
    void close()
    {
        klease_elector *e = std::exchange(e_, nullptr);
        if (e == nullptr)
            return;
        klease_error err{};
        klease_status st = klease_elector_close(e, &err);
        if (st != KLEASE_ECLOSED)
            detail::check(st, err);
    }

    /* Lock-free: true only while we hold the claim and its margin has not begun. */
    bool is_leader() const noexcept
    {
        return e_ != nullptr && klease_elector_is_leader(e_);
    }

    std::optional<claim> current() const
    {
        klease_claim c;
        bool has = false;
        klease_elector_current(e_, &c, &has);
        return has ? std::optional<claim>(claim(c)) : std::nullopt;
    }

    /* Waits for a change after version `seen`. KLEASE_OK (out updated),
     * KLEASE_ETIMEDOUT, or KLEASE_ECLOSED once the elector has stopped. */
    klease_status wait_change(std::uint64_t &seen, milliseconds timeout, std::optional<claim> &out)
    {
        klease_claim c;
        bool has = false;
        klease_status st = klease_elector_wait_change(e_, &seen, timeout.count(), &c, &has);
        if (st == KLEASE_OK)
            out = has ? std::optional<claim>(claim(c)) : std::nullopt;
        return st;
    }

    /* KLEASE_OK, or the last error (retrying) / the fatal one (stopped). */
    klease_status status(klease_error *err = nullptr) const
    {
        return klease_elector_status(e_, err);
    }

    klease_elector *get() const noexcept
    {
        return e_;
    }

  private:
    static void change_trampoline(void *user, const klease_claim *c, bool leading,
                                  klease_status st) noexcept
    {
        const auto &fn = *static_cast<change_fn *>(user);
        fn(c != nullptr ? std::optional<claim>(claim(*c)) : std::nullopt, leading, st);
    }
    std::unique_ptr<change_fn> on_change_;
    klease_elector *e_ = nullptr;
};

} // namespace klease

#endif /* KLEASE_KLEASE_HPP */
