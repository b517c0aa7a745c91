// The pulse-checksum example run as a separate process (examples/checksum.cpp) on a tree built here.
// Covers: every file's line (checksum, size, path) matches a serial implementation of the checksum
// written here from the definition in checksum.cpp's header, on 1 and 2 workers, for an empty file,
// one byte, exactly one chunk, one chunk and a byte, several chunks, a sparse file of more chunks
// than are read at once (65 MiB), 70 files in one directory (more than a group), a nested
// directory, a link to a file (followed) and a link to a directory (not followed); the lines are
// sorted by path; a missing path and a FIFO are reported on stderr with status 1 while the other
// files are still summed; bad arguments give the usage and status 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t chunk_bytes = std::uint64_t{1} << 20;

// FNV-1a 64 over bytes, then over le64 numbers, as checksum.cpp defines its checksum.
std::uint64_t fnv1a(const std::string& bytes, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (const char c : bytes) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t fnv1a_le64(std::uint64_t value, std::uint64_t hash) {
  std::string bytes;
  for (int i = 0; i < 8; ++i, value >>= 8) {
    bytes.push_back(static_cast<char>(value & 0xff));
  }
  return fnv1a(bytes, hash);
}

std::string contents_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The line pulse-checksum should print for the file at `path` (listed as `shown`).
std::string expected_line(const fs::path& path, const std::string& shown) {
  const std::string bytes = contents_of(path);
  std::uint64_t combined = 0xcbf29ce484222325ULL;
  for (std::uint64_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
    combined = fnv1a_le64(fnv1a(bytes.substr(offset, chunk_bytes)), combined);
  }
  char line[64];
  std::snprintf(line, sizeof line, "%016llx  %llu  ", static_cast<unsigned long long>(fnv1a_le64(bytes.size(), combined)),
                static_cast<unsigned long long>(bytes.size()));
  return line + shown;
}

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string pseudo_random_bytes(std::size_t size, std::uint32_t seed) {
  std::string bytes(size, '\0');
  for (char& c : bytes) {
    seed = seed * 1664525U + 1013904223U;
    c = static_cast<char>(seed >> 24);
  }
  return bytes;
}

// A directory in the temporary directory, removed with the object.
class scratch_directory {
public:
  scratch_directory() {
    const char* dir = std::getenv("TMPDIR");
    std::string name = std::string(dir != nullptr ? dir : "/tmp") + "/pulse-test-checksum-XXXXXX";
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    m_path = name;
  }
  ~scratch_directory() {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
  const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

struct run_result {
  int status = -1;
  std::vector<std::string> lines;  // stdout
  std::string errors;              // stderr
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

// `path` in single quotes, for the shell (built by appending: GCC 12 warns wrongly on "'" + string).
std::string quoted(const fs::path& path) {
  std::string text(1, '\'');
  text += path.string();
  text += '\'';
  return text;
}

// Runs pulse-checksum with `arguments` (already quoted for the shell), its output into `scratch`.
run_result run_checksum(const scratch_directory& scratch, const std::string& arguments) {
  const fs::path out = scratch.path() / "stdout";
  const fs::path err = scratch.path() / "stderr";
  const std::string command = quoted(PULSE_CHECKSUM_PATH) + ' ' + arguments + " > " + quoted(out) + " 2> " + quoted(err);
  const int raw = std::system(command.c_str());
  run_result result;
  result.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  result.lines = lines_of(contents_of(out));
  result.errors = contents_of(err);
  return result;
}

}  // namespace

TEST_CASE("pulse-checksum sums every file of a tree as its definition says", "[checksum]") {
  scratch_directory scratch;
  const fs::path tree = scratch.path() / "tree";
  write_file(tree / "a" / "empty", "");
  write_file(tree / "a" / "one", "x");
  write_file(tree / "b" / "exact", pseudo_random_bytes(chunk_bytes, 1));
  write_file(tree / "b" / "over", pseudo_random_bytes(chunk_bytes + 1, 2));
  write_file(tree / "b" / "c" / "several", pseudo_random_bytes(3 * chunk_bytes + chunk_bytes / 2, 3));
  for (int i = 0; i < 70; ++i) {
    write_file(tree / "many" / std::to_string(100 + i), pseudo_random_bytes(static_cast<std::size_t>(i) * 37, 4 + i));
  }
  // 65 MiB and 5 bytes, mostly holes: more chunks than one file reads at once (64).
  {
    const fs::path sparse = tree / "sparse";
    write_file(sparse, "start");
    fs::resize_file(sparse, 65 * chunk_bytes + 5);
    std::fstream patch(sparse, std::ios::binary | std::ios::in | std::ios::out);
    patch.seekp(static_cast<std::streamoff>(64 * chunk_bytes + 3));
    patch << "the last chunks";
  }
  fs::create_symlink(tree / "b" / "over", tree / "link_to_file");
  fs::create_directory_symlink(tree / "b", tree / "link_to_dir");

  // recursive_directory_iterator follows no directory link by default; is_regular_file follows a
  // file link. Sorted by path, as the tool prints them.
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(tree)) {
    if (entry.is_regular_file()) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  REQUIRE(paths.size() == 77);  // 6 files, 70 in many/, and the link to a file
  std::vector<std::string> expected;
  for (const std::string& path : paths) {
    expected.push_back(expected_line(path, path));
  }

  for (const char* workers : {"1", "2"}) {
    INFO("--workers " << workers);
    const run_result result = run_checksum(scratch, std::string("--workers ") + workers + ' ' + quoted(tree));
    CHECK(result.status == 0);
    CHECK(result.lines == expected);
    CHECK_THAT(result.errors, Catch::Contains("77 files"));
  }
}

TEST_CASE("pulse-checksum reports paths it cannot sum and sums the rest", "[checksum][errors]") {
  scratch_directory scratch;
  const fs::path file = scratch.path() / "file";
  write_file(file, "some bytes");
  const fs::path fifo = scratch.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const fs::path missing = scratch.path() / "missing";
  const run_result result =
      run_checksum(scratch, quoted(missing) + ' ' + quoted(file) + ' ' + quoted(fifo));
  CHECK(result.status == 1);
  CHECK(result.lines == std::vector<std::string>{expected_line(file, file.string())});
  CHECK_THAT(result.errors, Catch::Contains(missing.string() + ": No such file or directory"));
  CHECK_THAT(result.errors, Catch::Contains(fifo.string() + ": not a regular file or a directory"));
}

TEST_CASE("pulse-checksum's bad arguments give the usage and status 2", "[checksum][errors]") {
  scratch_directory scratch;
  for (const std::string arguments : {"", "--workers 0 .", "--workers many .", "--workers", "--frobnicate ."}) {
    INFO("arguments: " << arguments);
    const run_result result = run_checksum(scratch, arguments);
    CHECK(result.status == 2);
    CHECK(result.lines.empty());
    CHECK_THAT(result.errors, Catch::Contains("usage: pulse-checksum"));
  }
}
