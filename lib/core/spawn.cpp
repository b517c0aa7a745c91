// pulse::spawn: detached tasks. Their root catches what the task throws and hands it to the
// runtime, since no one awaits them.
#include "core/runtime_impl.hpp"

#include <pulse/detail/root.hpp>
#include <pulse/spawn.hpp>

namespace pulse {
namespace {

detail::root_task spawned_root(runtime& target, task<void> work) {
  detail::runtime_impl& impl = target.impl();  // the last roots finish while ~runtime drains
  try {
    task<void> owned = std::move(work);
    co_await std::move(owned);
  } catch (...) {
    impl.report_unhandled_exception(std::current_exception());
  }
}

}  // namespace

void spawn(runtime& target, task<void> work) { spawned_root(target, std::move(work)).submit_to(target); }

void spawn(task<void> work) {
  const detail::worker* self = detail::current_worker();
  runtime& target = self != nullptr ? self->owner().facade() : default_runtime();
  spawn(target, std::move(work));
}

}  // namespace pulse
