// The default runtime: started on first use, sized from the affinity mask or PULSE_WORKERS.
// Covers: the worker count with no PULSE_WORKERS; and, through hidden tags that CTest runs in their
// own process: one worker under `taskset -c 0` ([taskset]), PULSE_WORKERS=3 ([env-3]), and a bad
// PULSE_WORKERS making sync_wait throw invalid_argument naming it, on every call ([env-bad]); and
// std::exit called from inside a task ending the process normally ([exit-in-task]), although the
// exit handler that drains the default runtime then runs on one of its workers.
#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <sched.h>

#include <cstdlib>
#include <stdexcept>

namespace {

pulse::task<int> one() { co_return 1; }

unsigned cpus_in_affinity_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
  return static_cast<unsigned>(CPU_COUNT(&set));
}

TEST_CASE("the default runtime has one worker per CPU in the affinity mask", "[default]") {
  if (const char* env = std::getenv("PULSE_WORKERS"); env != nullptr && *env != '\0') {
    WARN("PULSE_WORKERS is set in the environment; this case checks the unset default");
    return;
  }
  CHECK(pulse::sync_wait(one()) == 1);
  CHECK(pulse::default_runtime().worker_count() == cpus_in_affinity_mask());
}

TEST_CASE("under taskset -c 0 the default runtime has one worker", "[.][taskset]") {
  REQUIRE(cpus_in_affinity_mask() == 1);  // run me as: taskset -c 0 test_default_runtime [taskset]
  CHECK(pulse::sync_wait(one()) == 1);
  CHECK(pulse::default_runtime().worker_count() == 1);
}

TEST_CASE("PULSE_WORKERS sizes the default runtime", "[.][env-3]") {
  CHECK(pulse::sync_wait(one()) == 1);
  CHECK(pulse::default_runtime().worker_count() == 3);
}

TEST_CASE("a bad PULSE_WORKERS is an invalid_argument from sync_wait, every time", "[.][env-bad]") {
  for (int attempt = 0; attempt < 2; ++attempt) {
    CHECK_THROWS_MATCHES(pulse::sync_wait(one()), std::invalid_argument,
                         Catch::Message("PULSE_WORKERS='lots' is not a valid worker count: expected a whole "
                                        "number from 1 to " +
                                        std::to_string(std::max(256U, 64U * cpus_in_affinity_mask()))));
  }
}

pulse::task<int> exit_from_task() {
  std::exit(0);
  co_return 1;
}

TEST_CASE("std::exit inside a task ends the process normally", "[.][exit-in-task]") {
  pulse::sync_wait(exit_from_task());
  FAIL("std::exit returned");
}

}  // namespace
