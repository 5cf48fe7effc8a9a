// The lucid-plugin-runner children of an agent, as /proc shows them: how the process isolation
// tests see a child (that it exists, is gone, and whose credentials it has) without asking the
// agent. Header-only; Linux only.
#pragma once

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lucid::itest {

// The pids of lucid-plugin-runner processes whose parent is `agent`.
inline std::vector<int> runners_of(int agent) {
    std::vector<int> out;
    DIR* proc = ::opendir("/proc");
    if (!proc) return out;
    while (dirent* e = ::readdir(proc)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos || line.find("(lucid-plugin-r") == std::string::npos) {
            continue;
        }
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid == agent) out.push_back(pid);
    }
    ::closedir(proc);
    return out;
}

// The numbers of a line of /proc/<pid>/status, e.g. "Uid:" → {real, effective, saved, fs},
// "Groups:" → the supplementary groups; empty when the process or the line is gone.
inline std::vector<long> proc_status_numbers(int pid, const std::string& key) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(key, 0) != 0) continue;
        std::istringstream numbers(line.substr(key.size()));
        std::vector<long> out;
        long n = 0;
        while (numbers >> n) out.push_back(n);
        return out;
    }
    return {};
}

}  // namespace lucid::itest
