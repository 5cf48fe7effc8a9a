#include "containment/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "containment/measure_text.hpp"
#include "containment/owned_fd.hpp"

// Access rights of later ABIs than the installed kernel headers know (their values are
// kernel ABI and never change); which ones are handled depends on the running kernel's ABI.
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)  // ABI 2
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif

namespace lucid::runner::containment {
namespace {

#ifdef __NR_landlock_create_ruleset

constexpr std::uint64_t kRead =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// Rights that apply to a file (not a directory); others on a file rule are EINVAL.
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

// Every filesystem right the kernel's Landlock ABI knows: each is denied unless a rule grants it.
std::uint64_t handled_rights(int abi) {
    std::uint64_t rights =
        LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
        LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
        LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
        LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
        LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

std::string why_unavailable(int err) {
    const std::string call = system_error_text("landlock_create_ruleset", err);
    if (err == EOPNOTSUPP)
        return unavailable("Landlock is not enabled in this kernel (" + call + ")");
    if (err == ENOSYS) return unavailable("this kernel has no Landlock (" + call + ")");
    return failed(call);
}

// Grants `rights` beneath `path`; a path that does not exist is skipped (empty result).
std::string allow(int ruleset, const std::string& path, std::uint64_t rights) {
    const OwnedFd target{::open(path.c_str(), O_PATH | O_CLOEXEC)};
    if (target.fd < 0) {
        if (errno == ENOENT) return {};
        return failed(system_error_text("open " + path, errno));
    }
    struct stat st {};
    if (::fstat(target.fd, &st) != 0) return failed(system_error_text("stat " + path, errno));
    landlock_path_beneath_attr rule{};
    rule.allowed_access = S_ISDIR(st.st_mode) ? rights : rights & kFileRights;
    rule.parent_fd = target.fd;
    if (::syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
        return failed(system_error_text("landlock_add_rule " + path, errno));
    }
    return {};
}

#endif  // __NR_landlock_create_ruleset

}  // namespace

FilesystemRuleset::FilesystemRuleset(const std::vector<std::string>& read_paths,
                                     const std::vector<std::string>& write_paths) {
    if (read_paths.empty() && write_paths.empty()) {
        result_ = kNotRequested;
        return;
    }
#ifndef __NR_landlock_create_ruleset
    result_ = unavailable("built without the Landlock system calls (kernel headers before 5.13)");
#else
    const long abi =
        ::syscall(__NR_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        result_ = why_unavailable(errno);
        return;
    }
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = handled_rights(static_cast<int>(abi));
    fd_ = static_cast<int>(::syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0));
    if (fd_ < 0) {
        result_ = why_unavailable(errno);
        return;
    }
    for (const std::string& path : read_paths) {
        result_ = allow(fd_, path, kRead & attr.handled_access_fs);
        if (!result_.empty()) return;
    }
    for (const std::string& path : write_paths) {
        result_ = allow(fd_, path, attr.handled_access_fs);
        if (!result_.empty()) return;
    }
#endif
}

FilesystemRuleset::~FilesystemRuleset() {
    if (fd_ >= 0) ::close(fd_);
}

std::string FilesystemRuleset::enforce() {
    if (!result_.empty()) return result_;
#ifdef __NR_landlock_restrict_self
    if (::syscall(__NR_landlock_restrict_self, fd_, 0) != 0) {
        return failed(system_error_text("landlock_restrict_self", errno));
    }
#endif
    return kApplied;
}

}  // namespace lucid::runner::containment
