// Atomic durable writes: a failure injected at each step through the FileOps seam leaves the old
// file intact and no temporary file behind.
#include <doctest/doctest.h>

#include <cerrno>

#include "lucid/registry/atomic_file.hpp"
#include "temp_dir.hpp"

using namespace lucid::registry;
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
