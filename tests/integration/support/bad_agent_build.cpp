// A build of "lucid-agent" that cannot run (the self-update tests' bad build): it says its
// version like the agent, so it passes an upgrade's `--version` check, and anything else ends
// with exit 1 at once, as a build that dies at start would.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    std::printf("lucid-agent %s\n", LUCID_BAD_AGENT_VERSION);
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) return 0;
    std::fprintf(stderr, "lucid-agent %s: this build dies at start (a test's bad build)\n",
                 LUCID_BAD_AGENT_VERSION);
    return 1;
}
