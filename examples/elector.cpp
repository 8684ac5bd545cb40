// The background elector in C++17 with klease.hpp: a callback hears about
// leadership changes; the work loop acts only while is_leader().
//
//   elector_cpp [--kubeconfig PATH] [--lease NAME] [--identity ID] [--seconds N]
#include <klease/klease.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

int main(int argc, char **argv)
{
    std::string kubeconfig, lease = "example-elector-cpp", identity;
    long long seconds = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--kubeconfig")
            kubeconfig = v;
        else if (a == "--lease")
            lease = v;
        else if (a == "--identity")
            identity = v;
        else if (a == "--seconds")
            seconds = std::stoll(v);
    }

    try {
        if (identity.empty())
            identity = klease::default_identity();
        klease::client_options co;
        co.kubeconfig = kubeconfig;
        klease::client client(co);
        klease::manager_options mo;
        mo.create_if_missing = true;
        klease::manager manager(client, lease, mo);

        std::mutex out_mu; // the callback runs on the client's callback thread
        std::atomic<int> changes{0};
        klease::elector_options eo;
        eo.on_change = [&](const std::optional<klease::claim> &claim, bool leading,
                           klease_status status) {
            std::lock_guard<std::mutex> lock(out_mu);
            changes++;
            if (status == KLEASE_ECLOSED)
                std::cout << "elector closed\n";
            else if (leading)
                std::cout << identity << " is now the leader\n";
            else
                std::cout << "not leading; holder: " << (claim ? claim->holder() : "(none)")
                          << "\n";
        };
        klease::claim_params params;
        params.lease_duration = std::chrono::seconds(15);
        // Move-only: the elector can be handed around; its callback stays valid.
        klease::elector started(manager, identity, params, std::move(eo));
        klease::elector elector = std::move(started);

        long long work = 0;
        for (long long tick = 0; tick < seconds * 10; tick++) {
            if (elector.is_leader())
                work++;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        {
            std::lock_guard<std::mutex> lock(out_mu);
            std::cout << "did " << work << " units of work as the leader\n";
        }
        elector.close(); // vacates; throws klease::error if that failed
        std::cout << "callback ran " << changes.load() << " times\n";
        return 0;
    } catch (const klease::error &e) {
        std::cerr << "elector_cpp: " << e.what() << "\n";
        return 1;
    }
}
