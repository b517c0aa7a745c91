// Must not compile under -Werror: a task that is created and dropped never runs, so task is
// [[nodiscard]]. The PULSE_CONTROL build keeps the task and must compile.
#include <pulse/task.hpp>

pulse::task<int> make() { co_return 1; }

int main() {
#ifdef PULSE_CONTROL
  pulse::task<int> kept = make();
  return kept ? 0 : 1;
#else
  make();
  return 0;
#endif
}
