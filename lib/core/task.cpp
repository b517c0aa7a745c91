#include <pulse/task.hpp>

#include <stdexcept>

namespace pulse::detail {

void throw_task_misuse(const char* message) { throw std::logic_error(message); }

}  // namespace pulse::detail
