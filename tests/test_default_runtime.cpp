// The default runtime: started on first use, sized from the affinity mask or PULSE_WORKERS.
// Covers: the worker count with no PULSE_WORKERS (one per core); and, through hidden tags that
// CTest runs in their own process: one worker, pinned to the one CPU, under `taskset -c N`
// ([taskset]), PULSE_WORKERS=3 ([env-3]), a bad PULSE_WORKERS making sync_wait throw
// invalid_argument naming it, on every call ([env-bad]), likewise PULSE_PIN=maybe ([pin-bad]); and
// std::exit called from inside a task ending the process normally ([exit-in-task]), although the
// exit handler that drains the default runtime then runs on one of its workers; and a spawned
// accept loop left running when main returns cancelled at exit, with a message, instead of
// holding the process forever ([exit-with-accept]).
#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <sched.h>
#include <unistd.h>

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

TEST_CASE("the default runtime has one worker per core in the affinity mask", "[default]") {
  if (const char* env = std::getenv("PULSE_WORKERS"); env != nullptr && *env != '\0') {
    WARN("PULSE_WORKERS is set in the environment; this case checks the unset default");
    return;
  }
  CHECK(pulse::sync_wait(one()) == 1);
  CHECK(pulse::default_runtime().worker_count() == pulse::topology::detect().cores.size());
}

// Where the task runs: the CPU now, and how many CPUs its thread may use.
struct seen_from_task {
  int cpu = -1;
  unsigned allowed = 0;
};

// No REQUIRE in here: it runs on a worker, and Catch's assertions are for the main thread.
pulse::task<seen_from_task> look_around() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const bool read = sched_getaffinity(0, sizeof set, &set) == 0;
  co_return seen_from_task{sched_getcpu(), read ? static_cast<unsigned>(CPU_COUNT(&set)) : 0U};
}

TEST_CASE("under taskset -c N the default runtime has one worker, pinned to CPU N", "[.][taskset]") {
  // Run me as: taskset -c N test_default_runtime [taskset]
  REQUIRE(cpus_in_affinity_mask() == 1);
  const pulse::topology machine = pulse::topology::detect();
  REQUIRE(machine.pus.size() == 1);
  const seen_from_task seen = pulse::sync_wait(look_around());
  CHECK(pulse::default_runtime().worker_count() == 1);
  CHECK(seen.cpu == static_cast<int>(machine.pus[0].os_index));
  CHECK(seen.allowed == 1);
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

TEST_CASE("a bad PULSE_PIN is an invalid_argument from sync_wait naming it", "[.][pin-bad]") {
  CHECK_THROWS_MATCHES(pulse::sync_wait(one()), std::invalid_argument,
                       Catch::Message("PULSE_PIN='maybe' is not valid: expected 1 or true (pin each worker to a CPU), "
                                      "0 or false (do not)"));
}

pulse::task<int> exit_from_task() {
  std::exit(0);
  co_return 1;
}

TEST_CASE("std::exit inside a task ends the process normally", "[.][exit-in-task]") {
  pulse::sync_wait(exit_from_task());
  FAIL("std::exit returned");
}

pulse::task<void> accept_forever(int listener) {
  co_await pulse::net::accept_each(listener, [](int fd) { ::close(fd); });
}

// The process must then exit, its accept cancelled after the default grace, and say so on stderr
// (CTest looks for the message, and times out a hang).
TEST_CASE("a server task left on the default runtime does not hold up the exit", "[.][exit-with-accept]") {
  pulse::spawn(accept_forever(pulse::net::listen_tcp(0, "127.0.0.1")));
  CHECK(pulse::sync_wait(one()) == 1);  // the runtime is running, the accept with it
}

}  // namespace
