// Writes the workers' trace events as a Chrome trace (the JSON "Trace Event Format"), which
// ui.perfetto.dev and chrome://tracing open: one track per worker, spans as complete events ("X"),
// the rest as thread-scoped instants ("i"), times in microseconds from the start of the trace.
#pragma once

#include "trace/trace_buffer.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace pulse::detail {

struct worker_trace {
  unsigned worker;
  std::vector<trace_event> events;
  std::uint64_t dropped;
};

class chrome_trace_file {
public:
  // Opens (creates or truncates) `path` now, so that a bad path is reported when tracing starts,
  // not when it ends. Throws std::system_error naming the path.
  explicit chrome_trace_file(std::string path);

  const std::string& path() const noexcept { return m_path; }

  // Writes every worker's events and closes the file. Throws std::system_error if writing fails.
  void write(const std::vector<worker_trace>& workers, std::int64_t origin_ns);

private:
  struct closer {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
  };
  std::string m_path;
  std::unique_ptr<std::FILE, closer> m_file;
};

}  // namespace pulse::detail
