// A reconcile loop in C++17 with klease.hpp: acts only while it holds the lease.
//
//   controller_cpp [--kubeconfig PATH] [--namespace NS] [--lease NAME]
//                  [--identity ID] [--rounds N] [--interval-ms N]
//
// Same behaviour as controller.c: each round calls ensure_claimed() (no I/O
// while our claim is fresh), works only when the claim is ours, and vacates
// at the end. Errors arrive as klease::error exceptions.
#include <klease/klease.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace
{

long long arg_num(const std::string &s)
{
    std::size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used != s.size() || v < 0)
        throw std::invalid_argument(s);
    return v;
}

} // namespace

int main(int argc, char **argv)
{
    std::string kubeconfig, ns, lease = "example-controller-cpp", identity;
    long long rounds = -1, interval_ms = 1000;
    try {
        for (int i = 1; i < argc; i += 2) {
            std::string a = argv[i];
            if (i + 1 >= argc)
                throw std::invalid_argument(a);
            std::string v = argv[i + 1];
            if (a == "--kubeconfig")
                kubeconfig = v;
            else if (a == "--namespace")
                ns = v;
            else if (a == "--lease")
                lease = v;
            else if (a == "--identity")
                identity = v;
            else if (a == "--rounds")
                rounds = arg_num(v);
            else if (a == "--interval-ms")
                interval_ms = arg_num(v);
            else
                throw std::invalid_argument(a);
        }
    } catch (const std::exception &e) {
        std::cerr << "controller_cpp: bad argument '" << e.what() << "'\n";
        return 2;
    }

    try {
        if (identity.empty())
            identity = klease::default_identity();

        klease::client_options co;
        co.kubeconfig = kubeconfig;
        klease::client client(co);

        // A lease that does not exist is an error unless we ask to create it.
        try {
            klease::manager probe(client, lease + "-missing", {}, ns);
        } catch (const klease::error &e) {
            if (e.status() != KLEASE_ENOTFOUND)
                throw;
            std::cout << "as expected, " << lease << "-missing: " << e.what() << " (HTTP "
                      << e.http_code() << ")\n";
        }

        klease::manager_options mo;
        mo.create_if_missing = true;
        klease::manager manager(client, lease, mo, ns);

        // Work only with more than one round's worth of time left on the claim,
        // and renew before that margin is reached (see controller.c).
        const std::chrono::milliseconds work_margin(2000);
        klease::claim_params params;
        params.lease_duration = std::chrono::seconds(15);
        params.renew_grace = work_margin + std::chrono::milliseconds(1000);
        for (long long round = 1; rounds < 0 || round <= rounds; round++) {
            try {
                klease::claim claim = manager.ensure_claimed(identity, params);
                if (claim.is_current_for(identity, work_margin))
                    std::cout << "round " << round << ": leader (resourceVersion "
                              << claim.resource_version() << ", transitions " << claim.transitions()
                              << "): reconciled\n";
                else if (claim.is_current_for(identity))
                    std::cout << "round " << round << ": leader with only "
                              << claim.time_left().count() << " ms left; work skipped\n";
                else
                    std::cout << "round " << round << ": follower; " << claim.holder()
                              << " leads\n";
            } catch (const klease::error &e) {
                // Transient: skip the round, never act without a confirmed claim.
                std::cerr << "round " << round << ": " << e.what() << "\n";
            }
            std::cout.flush();
            std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
        }
        bool vacated = manager.vacate(identity);
        std::cout << "done" << (vacated ? "; lease vacated" : "") << "\n";
        return 0;
    } catch (const klease::error &e) {
        std::cerr << "controller_cpp: " << e.what() << "\n";
        return 1;
    }
}
