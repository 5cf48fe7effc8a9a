// Atomic durable writes: a failure injected at each step through the FileOps seam leaves the old
// file intact and no temporary file behind.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/atomic_file.hpp"
#include "temp_dir.hpp"

using namespace lucid::host;
namespace fs = std::filesystem;

namespace {

enum class Step { none, open, write, short_write_then_fail, fsync, close, rename };

class FailingOps : public FileOps {
  public:
    explicit FailingOps(Step step) : step_(step) {}
    int open(const char* path, int flags, mode_t mode) const override {
        if (step_ == Step::open) return fail(ENOSPC);
        return FileOps::open(path, flags, mode);
    }
    ssize_t write(int fd, const void* data, std::size_t size) const override {
        if (step_ == Step::write) return fail(ENOSPC);
        if (step_ == Step::short_write_then_fail) {
            if (wrote_once_) return fail(ENOSPC);
            wrote_once_ = true;
            return FileOps::write(fd, data, size / 2);
        }
        return FileOps::write(fd, data, size);
    }
    int fsync(int fd) const override {
        if (step_ == Step::fsync) return fail(EIO);
        return FileOps::fsync(fd);
    }
    int close(int fd) const override {
        if (step_ == Step::close) {
            FileOps::close(fd);
            return fail(EIO);
        }
        return FileOps::close(fd);
    }
    int rename(const char* from, const char* to) const override {
        if (step_ == Step::rename) return fail(EXDEV);
        return FileOps::rename(from, to);
    }

  private:
    static int fail(int error) {
        errno = error;
        return -1;
    }
    Step step_;
    mutable bool wrote_once_ = false;
};

std::size_t files_in(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("writes a new file and replaces an existing one") {
    lucid::test::TempDir dir;
    const auto target = dir / "registry.json";
    write_file_atomically(target, "first");
    CHECK(read_file(target) == "first");
    write_file_atomically(target, "second, longer");
    CHECK(read_file(target) == "second, longer");
    CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("a failure at any step leaves the old file intact and no temporary file") {
    for (Step step : {Step::open, Step::write, Step::short_write_then_fail, Step::fsync,
                      Step::close, Step::rename}) {
        CAPTURE(static_cast<int>(step));
        lucid::test::TempDir dir;
        const auto target = dir / "registry.json";
        write_file_atomically(target, "old content");
        FailingOps ops(step);
        CHECK_THROWS_AS(write_file_atomically(target, "new content that never lands", ops),
                        std::system_error);
        CHECK(read_file(target) == "old content");
        CHECK(files_in(dir.path()) == 1);
    }
}

TEST_CASE("the error names the step and the file") {
    lucid::test::TempDir dir;
    FailingOps ops(Step::fsync);
    try {
        write_file_atomically(dir / "core_config.json", "{}", ops);
        FAIL("expected an exception");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("cannot fsync") != std::string::npos);
        CHECK(std::string(e.what()).find("core_config.json") != std::string::npos);
    }
}

TEST_CASE("moves a file aside under a timestamped name in the same directory") {
    lucid::test::TempDir dir;
    const auto target = dir / "registry.json";
    write_file_atomically(target, "{oops");
    const auto aside = move_aside(target, "corrupt");
    CHECK_FALSE(fs::exists(target));
    CHECK(aside.parent_path() == dir.path());
    CHECK(aside.filename().string().rfind("registry.corrupt.", 0) == 0);
    CHECK(aside.extension() == ".json");
    CHECK(read_file(aside) == "{oops");
}

TEST_CASE("a temporary file's name gives its writer's pid") {
    CHECK(temp_file_writer("registry.json.tmp.123.4") == 123);
    CHECK(temp_file_writer("echo.tmp.1.0") == 1);
    CHECK_FALSE(temp_file_writer("registry.json"));
    CHECK_FALSE(temp_file_writer("registry.json.tmp.12a.4"));
    CHECK_FALSE(temp_file_writer("registry.json.tmp.123"));
    CHECK_FALSE(temp_file_writer(".tmp.1.2"));
    CHECK_FALSE(temp_file_writer("x.tmp.1.2.so"));
}

TEST_CASE("the temporaries of one file are removed, and only those") {
    lucid::test::TempDir dir;
    for (const char* name : {"registry.json", "registry.json.tmp.1.0", "registry.json.tmp.77.3",
                             "request_log.json.tmp.1.0"}) {
        write_file_atomically(dir / name, "x");
    }
    CHECK(remove_temp_files(dir / "registry.json").size() == 2);
    CHECK(fs::exists(dir / "registry.json"));
    CHECK_FALSE(fs::exists(dir / "registry.json.tmp.1.0"));
    CHECK_FALSE(fs::exists(dir / "registry.json.tmp.77.3"));
    CHECK(fs::exists(dir / "request_log.json.tmp.1.0"));
}

TEST_CASE("at start, temporaries of writers that are gone and of this process are removed") {
    lucid::test::TempDir dir;
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    REQUIRE(gone > 0);
    REQUIRE(::waitpid(gone, nullptr, 0) == gone);
    const auto temp = [&](pid_t pid) {
        return dir / ("request_log.json.tmp." + std::to_string(pid) + ".0");
    };
    for (const pid_t pid : {gone, ::getpid(), ::getppid()}) write_file_atomically(temp(pid), "x");

    CHECK(remove_interrupted_writes(dir.path()).size() == 2);
    CHECK_FALSE(fs::exists(temp(gone)));
    CHECK_FALSE(fs::exists(temp(::getpid())));
    CHECK(fs::exists(temp(::getppid())));  // a live writer may still rename it
}
