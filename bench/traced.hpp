// Tracing a runtime for the length of one benchmark, to measure what a trace costs: the traced
// variants run the same code with a trace running, written (to a temporary file, then removed)
// when the benchmark ends.
#pragma once

#include <pulse/runtime.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace pulse_bench {

class trace_while_alive {
public:
  trace_while_alive(pulse::runtime& rt, bool on)
      : m_rt(rt), m_path(on ? "/tmp/pulse-bench-trace-" + std::to_string(::getpid()) + ".json" : "") {
    if (on) {
      m_rt.start_trace(m_path);
    }
  }
  ~trace_while_alive() {
    if (!m_path.empty()) {
      m_rt.stop_trace();
      std::remove(m_path.c_str());
    }
  }
  trace_while_alive(const trace_while_alive&) = delete;
  trace_while_alive& operator=(const trace_while_alive&) = delete;

private:
  pulse::runtime& m_rt;
  std::string m_path;
};

}  // namespace pulse_bench
