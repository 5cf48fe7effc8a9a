// One agent per data directory (registry/data_dir_lock.hpp): a second one is refused with the
// directory and the holder's pid, and the lock goes with the process that held it.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "lucid/registry/data_dir_lock.hpp"
#include "temp_dir.hpp"

using lucid::registry::DataDirInUse;
using lucid::registry::DataDirLock;

TEST_CASE("a second holder of a data directory is refused, naming it and the holder's pid") {
    lucid::test::TempDir dir;
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        DataDirLock lock(dir.path());
        (void)::write(ready[1], "x", 1);
        for (;;) ::pause();
    }
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    ::close(ready[1]);

    std::ifstream pid_file(dir / "agent.lock");
    pid_t written = 0;
    pid_file >> written;
    CHECK(written == child);
    try {
        DataDirLock second(dir.path());
        FAIL("a second lock was granted");
    } catch (const DataDirInUse& e) {
        CHECK(e.holder() == std::optional<pid_t>(child));
        const std::string message = e.what();
        CHECK_MESSAGE(message.find(dir.path().string()) != std::string::npos, message);
        CHECK_MESSAGE(message.find("pid " + std::to_string(child)) != std::string::npos, message);
    }

    // However the holder ends, its lock goes with it.
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    DataDirLock mine(dir.path());
    CHECK_FALSE(mine.read_only_reason());
    std::ifstream again(dir / "agent.lock");
    again >> written;
    CHECK(written == ::getpid());
}

TEST_CASE("a data directory that cannot be opened is an error naming it") {
    lucid::test::TempDir dir;
    CHECK_THROWS_WITH(DataDirLock(dir / "missing"), doctest::Contains("missing"));
}
