// What the agent reads from the drop-in directory, which any local user with write access to it
// controls (issue 14 #6, #12 and the FIFO finding): artifacts and detached signatures are opened
// by descriptor, checked to be regular files, held to a size cap, and never waited on.
//
// A call that used to block for ever runs on a thread with a deadline; when it misses the
// deadline, the test fails and then unblocks it (a writer opening the FIFO ends the reader's
// open()), so a regression fails the test instead of hanging it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>

#include "common/local_file.hpp"
#include "install/artifact_verifier.hpp"
#include "install/base64.hpp"
#include "install/component_files.hpp"
#include "install/detached_signature.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using lucid::host::LocalFile;
using lucid::host::LocalFileError;
using lucid::host::install::base64_encode;
using lucid::host::install::ComponentFiles;
using lucid::host::install::read_detached_signature;
using lucid::host::install::stage_local_file;
using lucid::host::install::VerifierSettings;
using lucid::host::install::VerifyOutcome;
using lucid::test::TempDir;

namespace {

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    REQUIRE(out);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Runs stage_local_file with a deadline; `fifo` (when given) is opened for writing if the call
// is still blocked after it, which releases a reader stuck in open().
VerifyOutcome stage_with_deadline(const fs::path& source, ComponentFiles& files,
                                  const VerifierSettings& settings, const fs::path& fifo = {}) {
    auto call =
        std::async(std::launch::async, [&] { return stage_local_file(source, files, settings); });
    if (call.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        FAIL_CHECK("stage_local_file(" << source.string() << ") still blocked after 5 s");
        if (!fifo.empty()) {
            const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0) ::close(fd);
        }
    }
    return call.get();
}

bool staging_empty(const ComponentFiles& files) {
    std::error_code ec;
    return !fs::exists(files.staging_dir(), ec) || fs::is_empty(files.staging_dir(), ec);
}

}  // namespace

TEST_CASE("a regular file is read and copied from the descriptor opened") {
    TempDir dir;
    write_file(dir / "a.txt", "hello");
    auto file = LocalFile::open(dir / "a.txt", 100);
    CHECK(file.size() == 5);
    CHECK(file.read_all() == "hello");
    // The path is swapped after the open: the descriptor still reads what was checked.
    fs::remove(dir / "a.txt");
    write_file(dir / "a.txt", "replaced");
    file.copy_to(dir / "copy.txt", 0640);
    std::ifstream in(dir / "copy.txt");
    std::string copied((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(copied == "hello");
    const std::string exists = "cannot create " + (dir / "copy.txt").string() + ": File exists";
    CHECK_THROWS_WITH_AS(file.copy_to(dir / "copy.txt", 0640), exists.c_str(), LocalFileError);
}

TEST_CASE("FIFOs, devices, directories, missing and oversized files are refused by name") {
    TempDir dir;
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    fs::create_symlink("/dev/zero", dir / "zero");
    fs::create_directory(dir / "sub");
    write_file(dir / "big", std::string(101, 'x'));
    const auto refused = [&](const char* name, const std::string& message) {
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(LocalFile::open(dir / name, 100), message.c_str(), LocalFileError);
    };
    refused("fifo", (dir / "fifo").string() + " is not a regular file");
    refused("zero", (dir / "zero").string() + " is not a regular file");
    refused("sub", (dir / "sub").string() + " is not a regular file");
    refused("missing", "cannot open " + (dir / "missing").string() + ": No such file or directory");
    refused("big", (dir / "big").string() + " exceeds the size cap of 100 bytes (it has 101)");
}

TEST_CASE("a detached signature is read as base64 text or as the raw 64 bytes") {
    TempDir dir;
    CHECK_FALSE(read_detached_signature(dir / "none.so.sig"));
    write_file(dir / "text.so.sig", "c2lnbmF0dXJl\n");
    CHECK(read_detached_signature(dir / "text.so.sig") == std::string("c2lnbmF0dXJl"));
    std::string raw(64, '\0');
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7 + 3);
    raw[63] = '\n';  // a raw signature may end in a byte that looks like a line end
    write_file(dir / "raw.so.sig", raw);
    CHECK(read_detached_signature(dir / "raw.so.sig") == base64_encode(raw));
    // A dangling link is not "unsigned": it names a file the operator meant to be there.
    fs::create_symlink(dir / "gone", dir / "dangling.so.sig");
    CHECK_THROWS_AS(read_detached_signature(dir / "dangling.so.sig"), LocalFileError);
}

TEST_CASE("a drop-in whose .sig is a FIFO is refused at once, naming the signature file") {
    TempDir dir;
    ComponentFiles files(dir / "data");
    write_file(dir / "x-1.0.0.so", "not a plugin");
    const fs::path sig = dir / "x-1.0.0.so.sig";
    REQUIRE(::mkfifo(sig.c_str(), 0600) == 0);
    const auto out = stage_with_deadline(dir / "x-1.0.0.so", files, {}, sig);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message == sig.string() + " is not a regular file");
    CHECK(staging_empty(files));
}

TEST_CASE("a drop-in whose .sig links to /dev/zero or is large is refused, not read") {
    TempDir dir;
    ComponentFiles files(dir / "data");
    write_file(dir / "x-1.0.0.so", "not a plugin");
    fs::create_symlink("/dev/zero", dir / "x-1.0.0.so.sig");
    const auto device = stage_with_deadline(dir / "x-1.0.0.so", files, {});
    REQUIRE_FALSE(device.ok());
    CHECK(device.error().message == (dir / "x-1.0.0.so.sig").string() + " is not a regular file");

    fs::remove(dir / "x-1.0.0.so.sig");
    write_file(dir / "x-1.0.0.so.sig", std::string(5000, 'A'));
    const auto large = stage_with_deadline(dir / "x-1.0.0.so", files, {});
    REQUIRE_FALSE(large.ok());
    CHECK(large.error().message ==
          (dir / "x-1.0.0.so.sig").string() + " exceeds the size cap of 4096 bytes (it has 5000)");
    CHECK(staging_empty(files));
}

TEST_CASE("a drop-in over the size cap is refused before anything is copied to staging") {
    TempDir dir;
    ComponentFiles files(dir / "data");
    const fs::path big = dir / "big-1.0.0.so";
    {
        std::ofstream out(big, std::ios::binary);
        out.seekp(300ll << 20);  // sparse: 300 MB that take no disk
        out.put('\0');
    }
    VerifierSettings settings;
    settings.limits.max_bytes = 1 << 20;
    const auto out = stage_with_deadline(big, files, settings);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message == big.string() + " exceeds the size cap of 1048576 bytes (it has " +
                                     std::to_string((300ll << 20) + 1) + ")");
    CHECK(staging_empty(files));
}

TEST_CASE("a FIFO drop-in is refused with a reason, not 'Success', and never waited on") {
    TempDir dir;
    ComponentFiles files(dir / "data");
    const fs::path fifo = dir / "fifo-1.0.0.so";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto out = stage_with_deadline(fifo, files, {}, fifo);
    REQUIRE_FALSE(out.ok());
    CHECK_FALSE(contains(out.error().message, "Success"));
    CHECK(out.error().message == fifo.string() + " is not a regular file");
    CHECK(staging_empty(files));
}
