// Directory creation with explicit modes, and the world-writable check at start.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "common/file_modes.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// umask 000 for one test: a mode that survives it was asked for explicitly.
struct NoUmask {
    NoUmask() : saved(::umask(0)) {}
    ~NoUmask() { ::umask(saved); }
    mode_t saved;
};

}  // namespace

TEST_CASE("creates every missing directory with the mode asked for, whatever the umask") {
    NoUmask no_umask;
    lucid::test::TempDir dir;
    make_directories(dir / "a/b/c");
    for (const char* sub : {"a", "a/b", "a/b/c"}) CHECK(mode_of(dir / sub) == 0750u);
    make_directories(dir / "a/b/staging", kStagingDirMode);
    CHECK(mode_of(dir / "a/b/staging") == 0700u);

    // An existing directory keeps the mode it has.
    fs::permissions(dir / "a", fs::perms::owner_all);
    make_directories(dir / "a/d");
    CHECK(mode_of(dir / "a") == 0700u);
}

TEST_CASE("a directory that cannot be created is named in the error, with the errno") {
    lucid::test::TempDir dir;
    {
        std::FILE* f = std::fopen((dir / "file").c_str(), "w");
        std::fclose(f);
    }
    try {
        make_directories(dir / "file/sub");
        FAIL("no exception");
    } catch (const std::system_error& e) {
        // The step that failed: `file` is in the way of a directory.
        CHECK(std::string(e.what()).find("cannot create directory '" + (dir / "file").string() +
                                         "'") == 0);
        CHECK(e.code() == std::errc::not_a_directory);
    }
}

TEST_CASE("only a directory writable by any user is tightened") {
    NoUmask no_umask;
    lucid::test::TempDir dir;
    make_directories(dir / "open");
    fs::permissions(dir / "open", fs::perms::all);
    const auto changed = tighten_if_world_writable(dir / "open");
    REQUIRE(changed);
    CHECK(changed->find("mode 0777") != std::string::npos);
    CHECK(mode_of(dir / "open") == 0750u);

    make_directories(dir / "shared");
    fs::permissions(dir / "shared", fs::perms::owner_all | fs::perms::group_all |
                                        fs::perms::others_read | fs::perms::others_exec);
    CHECK_FALSE(tighten_if_world_writable(dir / "shared"));  // 0775: the operator's choice
    CHECK(mode_of(dir / "shared") == 0775u);
}
