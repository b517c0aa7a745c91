#include <pulse/task.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pulse::detail {

void throw_task_misuse(const char* message) { throw std::logic_error(message); }

void die_task_destroyed_while_running() noexcept {
  std::fputs("pulse: a pulse::task was destroyed while it was running (awaited, and not finished); "
             "its frame would be freed under it\n",
             stderr);
  std::abort();
}

}  // namespace pulse::detail
