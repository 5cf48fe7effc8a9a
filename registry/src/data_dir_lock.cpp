#include "lucid/registry/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "common/file_modes.hpp"

namespace lucid::registry {
namespace fs = std::filesystem;
namespace {

std::string describe(const fs::path& dir, std::optional<pid_t> holder) {
    return "data directory " + dir.string() + " is in use by another lucid-agent (pid " +
           (holder ? std::to_string(*holder) : std::string("unknown")) +
           "); two agents must not share one data directory";
}

// Takes the lock without waiting; false when another open file description holds it.
bool try_lock(int fd, const fs::path& what) {
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return false;
        throw std::system_error(errno, std::generic_category(),
                                "cannot lock '" + what.string() + "'");
    }
    return true;
}

// The pid the holder wrote into the lock file, if it could.
std::optional<pid_t> written_pid(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    long pid = 0;
    if (std::sscanf(buf, "%ld", &pid) != 1 || pid <= 0) return std::nullopt;
    return static_cast<pid_t>(pid);
}

}  // namespace

DataDirInUse::DataDirInUse(const fs::path& dir, std::optional<pid_t> holder)
    : std::runtime_error(describe(dir, holder)), holder_(holder) {}

std::optional<pid_t> flock_holder(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters carry "->" and hold nothing.
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        if (line.find("FLOCK") == std::string::npos || line.find("->") != std::string::npos) {
            continue;
        }
        std::istringstream words(line);
        std::vector<std::string> fields;
        for (std::string w; words >> w;) fields.push_back(w);
        for (std::size_t i = 1; i < fields.size(); ++i) {
            if (fields[i] != id) continue;
            const long pid = std::atol(fields[i - 1].c_str());
            if (pid > 0 && pid != ::getpid()) return static_cast<pid_t>(pid);
        }
    }
    return std::nullopt;
}

DataDirLock::DataDirLock(const fs::path& data_dir) {
    dir_fd_ = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot open the data directory '" + data_dir.string() + "'");
    }
    const fs::path file = data_dir / "agent.lock";
    const auto in_use = [&](int fd) {
        auto holder = flock_holder(fd);
        if (!holder) {
            const int pid_fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
            if (pid_fd >= 0) {
                holder = written_pid(pid_fd);
                ::close(pid_fd);
            }
        }
        return DataDirInUse(data_dir, holder);
    };
    try {
        // The directory first: the one lock every agent can take, read-only or not.
        if (!try_lock(dir_fd_, data_dir)) throw in_use(dir_fd_);
        // Creating the lock file probes whether the directory is writable. The pid is written
        // through a descriptor closed at once: one held open for writing would make a
        // `mount -o remount,ro` of the data directory fail with EBUSY.
        const int writer =
            ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, host::kDataFileMode);
        if (writer >= 0) {
            // Losing the pid costs only the message of a second agent (which asks /proc/locks
            // first anyway).
            const std::string pid = std::to_string(::getpid()) + "\n";
            if (::ftruncate(writer, 0) == 0) {
                (void)!::pwrite(writer, pid.data(), pid.size(), 0);
            }
            ::close(writer);
        } else if (errno == EROFS || errno == EACCES || errno == EPERM) {
            read_only_reason_ = std::generic_category().message(errno);
        } else {
            throw std::system_error(errno, std::generic_category(),
                                    "cannot open lock file '" + file.string() + "'");
        }
        // flock needs no write access. On a read-only directory without the file, the
        // directory lock alone.
        file_fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (file_fd_ >= 0 && !try_lock(file_fd_, file)) throw in_use(file_fd_);
    } catch (...) {
        if (file_fd_ >= 0) ::close(file_fd_);
        ::close(dir_fd_);
        throw;
    }
}

DataDirLock::~DataDirLock() {
    // Closing the descriptors releases the locks; the pid stays (a stale pid is harmless: the
    // next holder overwrites it, and a second agent asks /proc/locks first).
    if (file_fd_ >= 0) ::close(file_fd_);
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

}  // namespace lucid::registry
