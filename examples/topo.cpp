// topo: the machine as pulse sees it (only the CPUs this process may use: try it under
// `taskset -c 0`), and where a runtime's workers go: one per core, pinned.
#include <pulse/pulse.hpp>
#include <pulse/fmt.hpp>

#include <fmt/format.h>

#include <sched.h>

#include <map>
#include <mutex>

namespace {

pulse::task<int> where_am_i() { co_return sched_getcpu(); }

}  // namespace

int main() {
  const pulse::topology machine = pulse::topology::detect();
  fmt::print("{}\n", machine);

  pulse::runtime rt;
  fmt::print("\na runtime with {} worker{} ({}), one per core\n", rt.worker_count(), rt.worker_count() == 1 ? "" : "s",
             *rt.options().pin ? "pinned; PULSE_PIN=0 turns that off" : "not pinned");
  // Work submitted from this thread wakes the idle worker nearest to it.
  fmt::print("a task submitted from CPU {} ran on CPU {}\n", sched_getcpu(), pulse::sync_wait(rt, where_am_i()));
}
