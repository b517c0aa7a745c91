// pulse::spawn: start a task that nobody awaits.
#pragma once

#include <pulse/runtime.hpp>
#include <pulse/task.hpp>

namespace pulse {

// Starts `work` on `target` and returns at once. The runtime's destructor waits for it. An
// exception that escapes it goes to runtime_options::on_unhandled_exception. Callable from any
// thread, workers included; it throws std::logic_error once the runtime is shutting down and the
// caller is not one of its workers.
void spawn(runtime& target, task<void> work);

// Starts `work` on the runtime of the calling worker, or on the default runtime when the caller is
// not a worker.
void spawn(task<void> work);

}  // namespace pulse
