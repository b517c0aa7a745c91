// Must not compile: a task owns its frame and is move-only. Built once with PULSE_CONTROL defined
// (the legal move), which must compile, so that the failure is the copy and not something else.
#include <pulse/task.hpp>

pulse::task<int> make() { co_return 1; }

int main() {
  pulse::task<int> original = make();
#ifdef PULSE_CONTROL
  pulse::task<int> copy = static_cast<pulse::task<int>&&>(original);
#else
  pulse::task<int> copy = original;
#endif
  return copy ? 0 : 1;
}
