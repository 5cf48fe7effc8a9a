#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

namespace lucid::host {
namespace fs = std::filesystem;

int FileOps::open(const char* path, int flags, mode_t mode) const {
    return ::open(path, flags, mode);
}
ssize_t FileOps::write(int fd, const void* data, std::size_t size) const {
    return ::write(fd, data, size);
}
int FileOps::fsync(int fd) const { return ::fsync(fd); }
int FileOps::close(int fd) const { return ::close(fd); }
int FileOps::rename(const char* from, const char* to) const { return ::rename(from, to); }

const FileOps& real_file_ops() {
    static const FileOps ops;
    return ops;
}

namespace {

[[noreturn]] void fail(const char* step, const fs::path& path) {
    throw std::system_error(errno, std::generic_category(),
                            std::string(step) + " '" + path.string() + "'");
}

// Closes and unlinks the temporary file unless the rename consumed it.
class TempFile {
  public:
    TempFile(const FileOps& ops, fs::path path, int fd)
        : ops_(ops), path_(std::move(path)), fd_(fd) {}
    ~TempFile() {
        const int saved = errno;  // keep the errno of the failure being reported
        if (fd_ >= 0) ops_.close(fd_);
        if (!committed_) ::unlink(path_.c_str());
        errno = saved;
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return fd_; }
    void close_or_throw() {
        const int fd = fd_;
        fd_ = -1;
        if (ops_.close(fd) != 0) fail("cannot close", path_);
    }
    void commit() { committed_ = true; }

  private:
    const FileOps& ops_;
    fs::path path_;
    int fd_;
    bool committed_ = false;
};

void fsync_directory(const fs::path& dir) {
    // Without this the rename may still be only in the page cache after a power cut.
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("cannot open directory", dir);
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (rc != 0) fail("cannot fsync directory", dir);
}

fs::path sibling(const fs::path& path, std::string_view label) {
    return path.parent_path() / (path.stem().string() + "." + std::string(label) + "." +
                                 file_timestamp() + path.extension().string());
}

}  // namespace

namespace {

void write_and_rename(const fs::path& target, std::string_view content, const FileOps& ops,
                      mode_t mode, bool durable) {
    static std::atomic<unsigned> counter{0};
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const fs::path temp = dir / (target.filename().string() + ".tmp." + std::to_string(::getpid()) +
                                 "." + std::to_string(counter++));

    const int fd = ops.open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) fail("cannot create", temp);
    TempFile file(ops, temp, fd);

    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ops.write(file.fd(), content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            fail("cannot write", temp);
        }
        written += static_cast<std::size_t>(n);
    }
    // fsync before rename: otherwise a crash can leave the new name pointing at empty data.
    if (durable && ops.fsync(file.fd()) != 0) fail("cannot fsync", temp);
    file.close_or_throw();
    if (ops.rename(temp.c_str(), target.c_str()) != 0) fail("cannot rename onto", target);
    file.commit();
    if (durable) fsync_directory(dir);
}

}  // namespace

void write_file_atomically(const fs::path& target, std::string_view content, const FileOps& ops,
                           mode_t mode) {
    write_and_rename(target, content, ops, mode, true);
}

void replace_file_unflushed(const fs::path& target, std::string_view content, mode_t mode) {
    write_and_rename(target, content, real_file_ops(), mode, false);
}

std::optional<pid_t> temp_file_writer(const std::string& file_name) {
    // The name write_file_atomically() gives its temporary: `<name>.tmp.<pid>.<counter>`.
    const auto counter_dot = file_name.rfind('.');
    if (counter_dot == std::string::npos || counter_dot == 0) return std::nullopt;
    const auto pid_dot = file_name.rfind('.', counter_dot - 1);
    constexpr std::string_view marker = ".tmp";
    if (pid_dot == std::string::npos || pid_dot < marker.size() + 1 ||
        file_name.compare(pid_dot - marker.size(), marker.size(), marker) != 0) {
        return std::nullopt;
    }
    const auto digits = [&](std::size_t from, std::size_t to) {
        if (from >= to || to - from > 10) return false;
        for (std::size_t i = from; i < to; ++i) {
            if (file_name[i] < '0' || file_name[i] > '9') return false;
        }
        return true;
    };
    if (!digits(pid_dot + 1, counter_dot) || !digits(counter_dot + 1, file_name.size())) {
        return std::nullopt;
    }
    return static_cast<pid_t>(std::stoll(file_name.substr(pid_dot + 1, counter_dot - pid_dot - 1)));
}

namespace {

template <typename Stale>
std::vector<fs::path> remove_temporaries(const fs::path& dir, const Stale& stale) {
    std::vector<fs::path> removed;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
        const std::string name = item.path().filename().string();
        const auto writer = temp_file_writer(name);
        if (!writer || !item.is_regular_file(ec) || !stale(name, *writer)) continue;
        if (fs::remove(item.path(), ec)) removed.push_back(item.path());
    }
    return removed;
}

}  // namespace

std::vector<fs::path> remove_temp_files(const fs::path& target) {
    const std::string prefix = target.filename().string() + ".tmp.";
    return remove_temporaries(target.has_parent_path() ? target.parent_path() : fs::path("."),
                              [&](const std::string& name, pid_t) {
                                  return name.compare(0, prefix.size(), prefix) == 0;
                              });
}

std::vector<fs::path> remove_interrupted_writes(const fs::path& dir) {
    return remove_temporaries(dir, [](const std::string&, pid_t writer) {
        // kill(pid, 0) probes without signalling: ESRCH means no such process. A live writer
        // (lucidctl migrating the registry right now) keeps its file.
        return writer == ::getpid() || (::kill(writer, 0) != 0 && errno == ESRCH);
    });
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open", path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) fail("cannot read", path);
    return buffer.str();
}

std::string file_timestamp() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
    return out;
}

fs::path move_aside(const fs::path& path, std::string_view label) {
    const fs::path aside = sibling(path, label);
    fs::rename(path, aside);
    fsync_directory(path.has_parent_path() ? path.parent_path() : fs::path("."));
    return aside;
}

std::string move_aside_saying(const fs::path& path, std::string_view label) {
    try {
        return "moved aside to " + move_aside(path, label).string();
    } catch (const std::exception& e) {
        return std::string("cannot move it aside (") + e.what() + ")";
    }
}

fs::path copy_aside(const fs::path& path, std::string_view label) {
    const fs::path copy = sibling(path, label);
    write_file_atomically(copy, read_file(path));
    return copy;
}

}  // namespace lucid::host
