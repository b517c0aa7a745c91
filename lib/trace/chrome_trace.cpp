#include "trace/chrome_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace pulse::detail {
namespace {

const char* name_of(trace_kind kind) noexcept {
  switch (kind) {
    case trace_kind::task:
      return "task";
    case trace_kind::wait:
      return "join wait";
    case trace_kind::park:
      return "park";
    case trace_kind::steal:
      return "steal";
    case trace_kind::promote:
      return "promote";
    case trace_kind::split:
      return "loop split";
    case trace_kind::io_completions:
      return "I/O completions";
    case trace_kind::hand_over:
      return "hand over";
  }
  return "?";
}

const char* source_of(std::uint32_t arg) noexcept {
  switch (static_cast<trace_source>(arg)) {
    case trace_source::own_deque:
      return "own deque";
    case trace_source::injection:
      return "injection queue";
    case trace_source::stolen:
      return "stolen";
  }
  return "?";
}

double microseconds(std::int64_t ns) noexcept { return static_cast<double>(ns) / 1000.0; }

std::string args_of(const trace_event& event) {
  switch (event.kind) {
    case trace_kind::task:
      return fmt::format(R"({{"from":"{}"}})", source_of(event.arg));
    case trace_kind::steal:
      return fmt::format(R"({{"victim":{}}})", event.arg);
    case trace_kind::promote:
      return fmt::format(R"({{"entries":{}}})", event.arg);
    case trace_kind::io_completions:
      return fmt::format(R"({{"resumed":{}}})", event.arg);
    case trace_kind::hand_over:
      return fmt::format(R"({{"tasks":{}}})", event.arg);
    case trace_kind::wait:
    case trace_kind::park:
    case trace_kind::split:
      break;
  }
  return "{}";
}

}  // namespace

chrome_trace_file::chrome_trace_file(std::string path) : m_path(std::move(path)), m_file(std::fopen(m_path.c_str(), "w")) {
  if (!m_file) {
    throw std::system_error(errno, std::generic_category(), fmt::format("pulse: cannot write a trace to '{}'", m_path));
  }
}

void chrome_trace_file::write(const std::vector<worker_trace>& workers, std::int64_t origin_ns) {
  std::FILE* const out = m_file.get();
  std::uint64_t dropped = 0;
  fmt::print(out, "{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  fmt::print(out, R"({{"ph":"M","name":"process_name","pid":1,"args":{{"name":"pulse runtime"}}}})");
  for (const worker_trace& each : workers) {
    dropped += each.dropped;
    fmt::print(out, ",\n" R"({{"ph":"M","name":"thread_name","pid":1,"tid":{},"args":{{"name":"worker {}"}}}})",
               each.worker, each.worker);
    for (const trace_event& event : each.events) {
      // A span already under way when the trace started (a worker asleep) is cut at the start.
      const std::int64_t start_ns = std::max(event.start_ns, origin_ns);
      const double ts = microseconds(start_ns - origin_ns);
      if (event.kind == trace_kind::task || event.kind == trace_kind::wait || event.kind == trace_kind::park ||
          event.kind == trace_kind::io_completions) {
        const std::int64_t duration_ns = std::max<std::int64_t>(0, event.start_ns + event.duration_ns - start_ns);
        fmt::print(out, ",\n" R"({{"ph":"X","name":"{}","pid":1,"tid":{},"ts":{:.3f},"dur":{:.3f},"args":{}}})",
                   name_of(event.kind), each.worker, ts, microseconds(duration_ns), args_of(event));
      } else {
        fmt::print(out, ",\n" R"({{"ph":"i","s":"t","name":"{}","pid":1,"tid":{},"ts":{:.3f},"args":{}}})",
                   name_of(event.kind), each.worker, ts, args_of(event));
      }
    }
  }
  fmt::print(out, "\n],\"otherData\":{{\"dropped_events\":{}}}}}\n", dropped);
  const bool failed = std::ferror(out) != 0;
  const int closed = std::fclose(m_file.release());
  if (failed || closed != 0) {
    throw std::system_error(errno, std::generic_category(), fmt::format("pulse: writing the trace '{}' failed", m_path));
  }
}

}  // namespace pulse::detail
