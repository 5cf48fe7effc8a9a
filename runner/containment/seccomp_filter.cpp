#include "containment/seccomp_filter.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "containment/measure_text.hpp"

namespace lucid::runner::containment {
namespace {

// The runner's own ABI. An x32 build is left without a filter: its calls carry
// __X32_SYSCALL_BIT, which the filter below refuses for a 64-bit runner.
#if defined(__x86_64__) && !defined(__ILP32__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__i386__)
constexpr std::uint32_t kArch = AUDIT_ARCH_I386;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#elif defined(__arm__) && defined(__ARMEB__)
constexpr std::uint32_t kArch = AUDIT_ARCH_ARMEB;
#elif defined(__arm__)
constexpr std::uint32_t kArch = AUDIT_ARCH_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::uint32_t kArch = AUDIT_ARCH_RISCV64;
#else
#define LUCID_NO_SECCOMP_ARCH 1
#endif

#ifndef LUCID_NO_SECCOMP_ARCH

// Refused with EPERM. Each behind its own guard: not every architecture has every call
// (iopl/ioperm are x86 only; aarch64 has no umount, only umount2).
constexpr long kDenied[] = {
#ifdef __NR_process_vm_readv
    __NR_process_vm_readv,
#endif
#ifdef __NR_process_vm_writev
    __NR_process_vm_writev,
#endif
// Filesystems: mounting, old and new API (fsopen + fsmount + move_mount mount too).
#ifdef __NR_mount
    __NR_mount,
#endif
#ifdef __NR_umount
    __NR_umount,
#endif
#ifdef __NR_umount2
    __NR_umount2,
#endif
#ifdef __NR_pivot_root
    __NR_pivot_root,
#endif
#ifdef __NR_fsopen
    __NR_fsopen,
#endif
#ifdef __NR_fsconfig
    __NR_fsconfig,
#endif
#ifdef __NR_fsmount
    __NR_fsmount,
#endif
#ifdef __NR_fspick
    __NR_fspick,
#endif
#ifdef __NR_move_mount
    __NR_move_mount,
#endif
#ifdef __NR_open_tree
    __NR_open_tree,
#endif
#ifdef __NR_mount_setattr
    __NR_mount_setattr,
#endif
#ifdef __NR_open_by_handle_at
    __NR_open_by_handle_at,
#endif
#ifdef __NR_swapon
    __NR_swapon,
#endif
#ifdef __NR_swapoff
    __NR_swapoff,
#endif
// The machine and its kernel.
#ifdef __NR_reboot
    __NR_reboot,
#endif
#ifdef __NR_kexec_load
    __NR_kexec_load,
#endif
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
#ifdef __NR_init_module
    __NR_init_module,
#endif
#ifdef __NR_finit_module
    __NR_finit_module,
#endif
#ifdef __NR_delete_module
    __NR_delete_module,
#endif
#ifdef __NR_bpf
    __NR_bpf,
#endif
#ifdef __NR_perf_event_open
    __NR_perf_event_open,
#endif
#ifdef __NR_acct
    __NR_acct,
#endif
#ifdef __NR_iopl
    __NR_iopl,
#endif
#ifdef __NR_ioperm
    __NR_ioperm,
#endif
#ifdef __NR_userfaultfd
    __NR_userfaultfd,
#endif
// Namespaces: entering and creating (clone with namespace flags is checked separately).
#ifdef __NR_setns
    __NR_setns,
#endif
#ifdef __NR_unshare
    __NR_unshare,
#endif
// The kernel keyring.
#ifdef __NR_keyctl
    __NR_keyctl,
#endif
#ifdef __NR_add_key
    __NR_add_key,
#endif
#ifdef __NR_request_key
    __NR_request_key,
#endif
// The clock.
#ifdef __NR_settimeofday
    __NR_settimeofday,
#endif
#ifdef __NR_clock_settime
    __NR_clock_settime,
#endif
#ifdef __NR_clock_settime64
    __NR_clock_settime64,
#endif
#ifdef __NR_stime
    __NR_stime,
#endif
#ifdef __NR_adjtimex
    __NR_adjtimex,
#endif
#ifdef __NR_clock_adjtime
    __NR_clock_adjtime,
#endif
#ifdef __NR_clock_adjtime64
    __NR_clock_adjtime64,
#endif
};

// clone() with any of these creates a namespace, which unshare() is refused for. (CLONE_NEWTIME
// is left out: in clone()'s flags its bit is part of the exit signal.)
constexpr std::uint32_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                          CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET;

// The low 32 bits of a system call argument inside seccomp_data (args are 64-bit).
constexpr std::uint32_t low_word_of_arg(int index) {
    return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * index) +
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
           4
#else
           0
#endif
        ;
}

sock_filter statement(std::uint16_t code, std::uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    return BPF_JUMP(code, k, jt, jf);
}

constexpr std::uint32_t kDeny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
constexpr std::uint32_t kNoSuchCall = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);

void deny_if(std::vector<sock_filter>& program, long nr) {
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kDeny));
}

#endif  // LUCID_NO_SECCOMP_ARCH

}  // namespace

std::vector<sock_filter> seccomp_program(bool allow_ptrace) {
#ifdef LUCID_NO_SECCOMP_ARCH
    (void)allow_ptrace;
    return {};
#else
    std::vector<sock_filter> program;
    const auto load = [&](std::uint32_t offset) {
        program.push_back(statement(BPF_LD | BPF_W | BPF_ABS, offset));
    };
    // A call made through another ABI has other numbers: checking them against this table
    // would be meaningless, so such a process is killed.
    load(offsetof(seccomp_data, arch));
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
    program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    load(offsetof(seccomp_data, nr));
#if defined(__x86_64__) && !defined(__ILP32__) && defined(__X32_SYSCALL_BIT)
    // x32 calls share x86_64's audit arch but not its numbers (nr | __X32_SYSCALL_BIT).
    program.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kDeny));
#endif
    // Each check is "equal: refuse, else fall through to the next": jump offsets stay small
    // whatever the table's length.
    for (const long nr : kDenied) deny_if(program, nr);
    if (!allow_ptrace) deny_if(program, __NR_ptrace);
#ifdef __NR_clone3
    // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc (2.34+) fall
    // back to clone(), whose flags are checked below.
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kNoSuchCall));
#endif
    // clone(flags, ...): the flags are the first argument on every architecture above.
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3));
    load(low_word_of_arg(0));
    program.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kDeny));
    program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    return program;
#endif
}

std::string install_seccomp(bool requested, bool sanitizer_build) {
    if (!requested) return kNotRequested;
    std::vector<sock_filter> program = seccomp_program(sanitizer_build);
    if (program.empty()) return unavailable("no seccomp audit architecture known for this CPU");
    const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    // TSYNC: threads that already exist (a sanitizer's, a library's) get the filter too.
    const long synced =
        ::syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
    if (synced > 0) {
        return failed("seccomp: thread " + std::to_string(synced) + " could not be synchronised");
    }
    if (synced < 0) {
        const int err = errno;
        // EINVAL from a kernel whose prctl does not know seccomp either: built without it.
        if ((err == EINVAL || err == ENOSYS) && ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 &&
            errno == EINVAL) {
            return unavailable("this kernel has no seccomp (" + system_error_text("seccomp", err) +
                               ")");
        }
        return failed(system_error_text("seccomp(SECCOMP_SET_MODE_FILTER)", err));
    }
    if (sanitizer_build) {
        return kApplied + " (ptrace allowed: LeakSanitizer in this sanitizer build needs it)";
    }
    return kApplied;
}

}  // namespace lucid::runner::containment
