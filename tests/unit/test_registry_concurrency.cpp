// Two processes saving the registry at the same time never corrupt it or lose an update.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "lucid/registry/registry_store.hpp"
#include "temp_dir.hpp"

using namespace lucid::registry;

namespace {

constexpr int kWritersPerProcess = 40;

// Each writer adds its own entries with read-modify-write under the lock. Without the lock, two
// processes would read the same old file and one's entries would vanish.
int add_entries(const std::filesystem::path& dir, const std::string& prefix) {
    try {
        RegistryStore store(dir);
        for (int i = 0; i < kWritersPerProcess; ++i) {
            store.update([&](Registry& r) {
                Entry e;
                e.component_id = prefix + std::to_string(i);
                e.dist_name = "dist-" + e.component_id;
                e.version = "1.0.0";
                r.put(e);
            });
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

}  // namespace

TEST_CASE("two processes updating concurrently keep every entry and a valid file") {
    lucid::test::TempDir dir;
    std::vector<pid_t> children;
    for (const char* prefix : {"a", "b"}) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) ::_exit(add_entries(dir.path(), prefix));
        children.push_back(pid);
    }
    // The parent writes too: three writers in all.
    CHECK(add_entries(dir.path(), "c") == 0);
    for (pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    const auto report = RegistryStore(dir.path()).load();
    CHECK(report.problems.empty());
    CHECK(report.registry.size() == 3 * kWritersPerProcess);
}
