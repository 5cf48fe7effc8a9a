// The plugin's bytes in memory, for run_as: installed plugin files are the agent's (0640 under a
// 0750 data directory), so a runner that has become another user could not open them. While
// still root, the runner copies the file into a sealed memfd; after the switch it loads
// /proc/self/fd/N, which needs no access to the file or its directories (a process may always
// open its own descriptors, and Landlock does not confine the kernel-internal memfd mount).
//
// The copy is sealed (no write, grow, shrink, further seals): the bytes loaded are the bytes
// read, whatever the plugin later does with the descriptor. It is created MFD_NOEXEC_SEAL where
// the kernel knows the flag (vm.memfd_noexec=2 refuses executable memfds): dlopen maps it with
// PROT_EXEC, which that seal does not forbid (it forbids execve and chmod +x only).
//
// Thread: any. Errors: texts naming the real file, never the /proc path.
#pragma once

#include <string>
#include <variant>

namespace lucid::runner::containment {

class PluginImage {
  public:
    // "cannot copy <file> into memory for run_as: <call>: <strerror>" on failure.
    static std::variant<PluginImage, std::string> copy(const std::string& file);

    PluginImage(PluginImage&& other) noexcept;
    PluginImage& operator=(PluginImage&&) = delete;
    PluginImage(const PluginImage&) = delete;
    ~PluginImage();

    const std::string& source() const { return source_; }  // the file copied
    std::string path() const;                              // "/proc/self/fd/N": for dlopen
    int fd() const { return fd_; }

  private:
    PluginImage(std::string source, int fd) : source_(std::move(source)), fd_(fd) {}
    std::string source_;
    int fd_ = -1;
};

}  // namespace lucid::runner::containment
