// The seccomp filter: the system calls a plugin has no business making (debugging other
// processes, mounting, loading kernel modules or BPF, entering or creating namespaces,
// rebooting, setting the clock ...) fail with EPERM; everything else is allowed. A system call
// of another ABI than the runner's (i386 on x86_64, x32) cannot slip past the table: the
// process is killed (other architecture) or refused (x32).
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace lucid::runner::containment {

// The BPF program (exposed for tests); empty when this CPU's audit architecture is not known.
// allow_ptrace: leave ptrace allowed (LeakSanitizer stops the world with it).
std::vector<sock_filter> seccomp_program(bool allow_ptrace);

// Installs the program for every thread (SECCOMP_FILTER_FLAG_TSYNC). Needs no_new_privs (or
// CAP_SYS_ADMIN). "applied", "applied (ptrace allowed: ...)", "not requested",
// "unavailable: ..." (kernel without seccomp filters, unknown CPU), "failed: ...".
std::string install_seccomp(bool requested, bool sanitizer_build);

}  // namespace lucid::runner::containment
