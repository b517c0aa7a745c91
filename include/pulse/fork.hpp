// pulse::fork and pulse::fork_all: potentially parallel calls of tasks.
//
//   auto [a, b] = co_await pulse::fork(left(), right());
//   std::vector<long> r = co_await pulse::fork_all(std::move(tasks));
//
// The first task runs at once on this worker, like a call. The rest wait, in order, where another
// worker may take them; if none does, they run here after the first, as plain calls would, with no
// synchronisation paid. The await completes when all have finished, on whichever worker finished
// last. Results come back in order; a void task's place holds std::monostate (fork_all gives a
// std::reference_wrapper for a reference result).
//
// Exceptions: once a task has thrown, siblings that have not started are skipped, those running
// finish, and the exception of the lowest-numbered task that threw is rethrown. That is the same
// exception the tasks would throw run one after the other, whatever the schedule. No task outlives
// the await. If the worker has no memory to record the rest of a fork where a thief could take it,
// the tasks simply run one after the other: the fork never fails for lack of scheduler memory.
#pragma once

#include <pulse/detail/fork_join.hpp>
#include <pulse/task.hpp>

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <ranges>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace pulse {
namespace detail {

template <typename T>
struct fork_result {
  using type = T;
};
template <>
struct fork_result<void> {
  using type = std::monostate;
};
template <typename T>
using fork_result_t = typename fork_result<T>::type;

// fork_all's element type: a vector cannot hold references.
template <typename T>
struct fork_all_result {
  using type = fork_result_t<T>;
};
template <typename T>
struct fork_all_result<T&> {
  using type = std::reference_wrapper<T>;
};
template <typename T>
using fork_all_result_t = typename fork_all_result<T>::type;

// The result of a child that returned (the join checked for failures first).
template <typename T>
fork_result_t<T> take_fork_value(task_promise<T>& child) {
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return child.take_value();
  }
}

// Throws std::length_error: more children than a join counts.
[[noreturn]] void throw_too_many_children(std::size_t count, const char* operation);

// Throws std::logic_error naming what is wrong with the task at `position`: empty or already started.
[[noreturn]] void throw_not_forkable(bool has_coroutine, std::size_t position, const char* operation);

// A task can be forked if it holds a coroutine that has not started.
template <typename T>
void check_forkable(const task<T>& child, std::size_t position, const char* operation) {
  const auto handle = child.handle();
  if (!handle || handle.promise().started()) [[unlikely]] {
    throw_not_forkable(static_cast<bool>(handle), position, operation);
  }
}

// A forked child's promise, from the bare handle the fork owns.
template <typename T>
task_promise<T>& child_promise(std::coroutine_handle<> child) noexcept {
  return std::coroutine_handle<task_promise<T>>::from_address(child.address()).promise();
}

// The fork's children, which it owns once they were taken out of their tasks.
inline void destroy_children(std::span<const std::coroutine_handle<>> children) noexcept {
  for (const std::coroutine_handle<> child : children) {
    child.destroy();
  }
}

// Rethrows the failure of the lowest-numbered child that failed, if any.
inline bool rethrow_failure(const task_promise_base& child) {
  if (const std::exception_ptr* failure = child.failure()) {
    std::rethrow_exception(*failure);
  }
  return false;
}

}  // namespace detail

template <typename... T>
class [[nodiscard("co_await the fork: on its own it runs nothing")]] fork_awaitable {
  static_assert(sizeof...(T) >= 1, "pulse::fork needs at least one task");

public:
  // Takes the coroutines out of the tasks once all of them are known to be forkable; the fork
  // owns them from then on. Only the bare handles are kept, in one array: the join reads them by
  // index, and the frame holding the awaitable stays small.
  explicit fork_awaitable(task<T>&&... children) {
    std::size_t position = 0;
    (detail::check_forkable(children, position++, "pulse::fork"), ...);
    position = 0;
    ((m_handles[position++] = detail::task_access::release(children)), ...);
  }
  fork_awaitable(const fork_awaitable&) = delete;
  fork_awaitable& operator=(const fork_awaitable&) = delete;
  ~fork_awaitable() { detail::destroy_children(m_handles); }

  bool await_ready() const noexcept { return false; }

  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    link(parent, std::index_sequence_for<T...>{});
    m_join.children = m_handles.data();
    m_join.count = static_cast<std::uint32_t>(sizeof...(T));
    return detail::transfer_to(detail::fork_start(m_join, parent));
  }

  std::tuple<detail::fork_result_t<T>...> await_resume() { return results(std::index_sequence_for<T...>{}); }

private:
  template <std::size_t I>
  auto& promise() const noexcept {
    return detail::child_promise<std::tuple_element_t<I, std::tuple<T...>>>(m_handles[I]);
  }

  template <std::size_t... I>
  void link(std::coroutine_handle<> parent, std::index_sequence<I...>) noexcept {
    (promise<I>().link_to_fork(m_join, static_cast<std::uint32_t>(I), parent), ...);
  }

  // Braced initialisation takes the results in order, after the lowest-numbered failure (if any)
  // was rethrown.
  template <std::size_t... I>
  std::tuple<detail::fork_result_t<T>...> results(std::index_sequence<I...>) {
    if (detail::any_child_failed(m_join)) [[unlikely]] {
      (detail::rethrow_failure(promise<I>()) || ...);
    }
    return std::tuple<detail::fork_result_t<T>...>{detail::take_fork_value(promise<I>())...};
  }

  std::array<std::coroutine_handle<>, sizeof...(T)> m_handles{};
  detail::fork_join m_join;
};

// Runs the tasks as potentially parallel calls; see the top of this header.
template <typename... T>
fork_awaitable<T...> fork(task<T>... children) {
  return fork_awaitable<T...>(std::move(children)...);
}

template <typename T>
class [[nodiscard("co_await the fork: on its own it runs nothing")]] fork_all_awaitable {
public:
  // Forks of up to this many tasks keep their handles in the awaitable (in the parent's frame,
  // which comes from the worker's pool); larger ones in one heap array.
  static constexpr std::size_t inline_capacity = 16;

  // As fork_awaitable: the coroutines are taken out of the tasks once all are known to be
  // forkable, and the fork owns the bare handles, which the join reads by index.
  explicit fork_all_awaitable(std::vector<task<T>> children) : m_count(children.size()) {
    if (m_count >= detail::fork_join::most_children) {
      detail::throw_too_many_children(m_count, "pulse::fork_all");
    }
    for (std::size_t position = 0; position < m_count; ++position) {
      detail::check_forkable(children[position], position, "pulse::fork_all");
    }
    if (m_count > inline_capacity) {
      m_heap = std::make_unique_for_overwrite<std::coroutine_handle<>[]>(m_count);  // may throw: nothing taken yet
      m_handles = m_heap.get();
    }
    for (std::size_t position = 0; position < m_count; ++position) {
      std::construct_at(m_handles + position, detail::task_access::release(children[position]));
    }
  }
  fork_all_awaitable(const fork_all_awaitable&) = delete;
  fork_all_awaitable& operator=(const fork_all_awaitable&) = delete;
  ~fork_all_awaitable() { detail::destroy_children({m_handles, m_count}); }

  bool await_ready() const noexcept { return m_count == 0; }

  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    for (std::size_t i = 0; i < m_count; ++i) {
      promise(i).link_to_fork(m_join, static_cast<std::uint32_t>(i), parent);
    }
    m_join.children = m_handles;
    m_join.count = static_cast<std::uint32_t>(m_count);
    return detail::transfer_to(detail::fork_start(m_join, parent));
  }

  std::vector<detail::fork_all_result_t<T>> await_resume() {
    if (detail::any_child_failed(m_join)) [[unlikely]] {
      for (std::size_t i = 0; i < m_count; ++i) {
        detail::rethrow_failure(promise(i));
      }
    }
    std::vector<detail::fork_all_result_t<T>> results;
    results.reserve(m_count);
    for (std::size_t i = 0; i < m_count; ++i) {
      results.push_back(detail::take_fork_value(promise(i)));
    }
    return results;
  }

private:
  detail::task_promise<T>& promise(std::size_t index) const noexcept { return detail::child_promise<T>(m_handles[index]); }

  std::size_t m_count;
  std::unique_ptr<std::coroutine_handle<>[]> m_heap;
  // Uninitialised beyond m_count (a union member has no default construction): the first m_count
  // are constructed by the constructor.
  union {
    std::coroutine_handle<> m_inline[inline_capacity];
  };
  // m_inline or m_heap. The awaitable never moves (it is not copyable or movable, and returned
  // only as a prvalue), so it may point into itself.
  std::coroutine_handle<>* m_handles = m_inline;
  detail::fork_join m_join;
};

// Runs every task of `children` as potentially parallel calls; see the top of this header.
template <typename T>
fork_all_awaitable<T> fork_all(std::vector<task<T>> children) {
  return fork_all_awaitable<T>(std::move(children));
}

// Any other range of tasks (moved from).
template <std::ranges::input_range Range>
  requires(!std::is_same_v<std::remove_cvref_t<Range>, std::vector<std::ranges::range_value_t<Range>>> &&
           std::is_same_v<std::ranges::range_value_t<Range>, task<typename std::ranges::range_value_t<Range>::value_type>>)
auto fork_all(Range&& children) {
  using task_type = std::ranges::range_value_t<Range>;
  std::vector<task_type> owned;
  for (auto&& child : children) {
    owned.push_back(std::move(child));
  }
  return fork_all(std::move(owned));
}

}  // namespace pulse
