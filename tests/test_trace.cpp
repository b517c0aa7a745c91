// Tracing (runtime::start_trace / stop_trace, PULSE_TRACE; lib/trace).
// Covers: a trace of a small run parses as JSON in the Chrome trace format, names a track for
// every worker and holds events from every worker (task spans, steals, promotions), each well
// formed; on a long run the buffers stay bounded (at most trace_events_per_worker per worker, the
// rest counted as dropped); starting twice and stopping with no trace are logic_errors; a path that
// cannot be written is a system_error naming it, leaves no trace running, and the runtime keeps
// working; PULSE_TRACE with such a path only warns; with a good one ([env-trace], which CTest runs
// with PULSE_TRACE set) the file written as the runtime ends holds both workers' tasks.
#include <pulse/pulse.hpp>

#include "fib.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>

namespace {

using pulse_test::fib_fork;

using namespace std::chrono_literals;

// A task that waits (bounded) until its sibling runs too: only possible if a thief took the
// sibling, so a two-worker trace of it has work on both workers whatever the timing.
pulse::task<int> rendezvous(std::atomic<int>& arrived) {
  arrived.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
  }
  co_return arrived.load();
}

pulse::task<int> pair() {
  std::atomic<int> arrived{0};
  auto [a, b] = co_await pulse::fork(rendezvous(arrived), rendezvous(arrived));
  co_return a + b;
}

std::string temporary_path(const char* name) {
  return std::string(std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp") + "/pulse-" + name + "-" +
         std::to_string(::getpid()) + ".json";
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);  // throws (and fails the test) if it is not JSON
}

// The events of a trace, checked for the fields every viewer needs.
const nlohmann::json& checked_events(const nlohmann::json& trace) {
  REQUIRE(trace.contains("traceEvents"));
  const nlohmann::json& events = trace["traceEvents"];
  REQUIRE(events.is_array());
  for (const nlohmann::json& event : events) {
    REQUIRE(event.contains("ph"));
    REQUIRE(event.contains("name"));
    REQUIRE(event.contains("pid"));
    const std::string phase = event["ph"];
    if (phase == "X") {
      CHECK(event["dur"].get<double>() >= 0.0);
    }
    if (phase == "X" || phase == "i") {
      CHECK(event["ts"].get<double>() >= 0.0);
      CHECK(event.contains("tid"));
    }
  }
  return events;
}

TEST_CASE("a trace of a small run is Chrome trace JSON with events from every worker", "[trace]") {
  const std::string path = temporary_path("small");
  {
    pulse::runtime rt{{.workers = 2}};
    rt.start_trace(path);
    for (int round = 0; round < 3; ++round) {
      REQUIRE(pulse::sync_wait(rt, pair()) == 4);
    }
    REQUIRE(pulse::sync_wait(rt, fib_fork(18)) == 2584);
    rt.stop_trace();
  }
  const nlohmann::json trace = read_json(path);
  std::remove(path.c_str());
  std::set<int> named_tracks;
  std::set<int> tracks_with_tasks;
  std::set<std::string> names;
  for (const nlohmann::json& event : checked_events(trace)) {
    names.insert(event["name"].get<std::string>());
    if (event["ph"] == "M" && event["name"] == "thread_name") {
      named_tracks.insert(event["tid"].get<int>());
    }
    if (event["ph"] == "X" && event["name"] == "task") {
      tracks_with_tasks.insert(event["tid"].get<int>());
    }
  }
  CHECK(named_tracks == std::set<int>{0, 1});
  CHECK(tracks_with_tasks == std::set<int>{0, 1});  // the stolen siblings ran on the other worker
  CHECK(names.count("steal") == 1);
  CHECK(names.count("promote") == 1);
  CHECK(trace["otherData"]["dropped_events"] == 0);
}

TEST_CASE("trace buffers stay bounded on a long run", "[trace]") {
  const std::string path = temporary_path("long");
  constexpr std::size_t limit = 8;
  {
    pulse::runtime rt{{.workers = 2, .promotion = pulse::promotion_mode::eager, .trace_events_per_worker = limit}};
    rt.start_trace(path);
    // 40 roots alone are 40 task spans, more than the two workers' rings hold together, whatever
    // the steals add.
    for (int round = 0; round < 40; ++round) {
      REQUIRE(pulse::sync_wait(rt, fib_fork(16)) == 987);
    }
    rt.stop_trace();
  }
  const nlohmann::json trace = read_json(path);
  std::remove(path.c_str());
  std::size_t per_worker[2] = {0, 0};
  for (const nlohmann::json& event : checked_events(trace)) {
    if (event["ph"] != "M") {
      ++per_worker[event["tid"].get<int>()];
    }
  }
  CHECK(per_worker[0] <= limit);
  CHECK(per_worker[1] <= limit);
  CHECK(trace["otherData"]["dropped_events"].get<std::uint64_t>() > 0);
}

TEST_CASE("misusing the trace API is a clear error, and a bad path leaves the runtime working", "[trace]") {
  // Before, a count too big to allocate was a length_error from start_trace naming no option.
  CHECK_THROWS_WITH(pulse::runtime({.trace_events_per_worker = 0}), Catch::Contains("trace_events_per_worker"));
  CHECK_THROWS_WITH(pulse::runtime({.trace_events_per_worker = pulse::max_trace_events_per_worker + 1}),
                    Catch::Contains("trace_events_per_worker"));
  CHECK_THROWS_WITH(pulse::runtime({.trace_events_per_worker = std::size_t{1} << 62}), Catch::Contains("trace_events_per_worker"));
  pulse::runtime rt{{.workers = 2}};
  CHECK_THROWS_WITH(rt.stop_trace(), Catch::Contains("no trace running"));
  try {
    rt.start_trace("/nonexistent-directory/pulse-trace.json");
    FAIL("start_trace accepted a path that cannot be written");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-directory/pulse-trace.json") != std::string::npos);
  }
  CHECK_THROWS_AS(rt.stop_trace(), std::logic_error);  // the failed start left no trace running
  CHECK(pulse::sync_wait(rt, fib_fork(12)) == 144);

  const std::string path = temporary_path("twice");
  rt.start_trace(path);
  CHECK_THROWS_WITH(rt.start_trace(path), Catch::Contains("already running"));
  rt.stop_trace();
  std::remove(path.c_str());
}

TEST_CASE("PULSE_TRACE with a path that cannot be written only warns", "[trace]") {
  ::setenv("PULSE_TRACE", "/nonexistent-directory/pulse-trace.json", 1);
  {
    pulse::runtime rt{{.workers = 1}};
    CHECK(pulse::sync_wait(rt, fib_fork(10)) == 55);
  }
  ::unsetenv("PULSE_TRACE");
}

// Run by CTest with PULSE_TRACE set: the file is written as the runtime ends.
TEST_CASE("PULSE_TRACE traces a runtime from start to end", "[.env-trace]") {
  const char* const path = std::getenv("PULSE_TRACE");
  REQUIRE(path != nullptr);
  {
    pulse::runtime rt{{.workers = 2}};
    REQUIRE(pulse::sync_wait(rt, pair()) == 4);
  }
  const nlohmann::json trace = read_json(path);
  std::set<int> tracks_with_tasks;
  for (const nlohmann::json& event : checked_events(trace)) {
    if (event["ph"] == "X" && event["name"] == "task") {
      tracks_with_tasks.insert(event["tid"].get<int>());
    }
  }
  CHECK(tracks_with_tasks == std::set<int>{0, 1});
  std::remove(path);
}

}  // namespace
