// pulse::pcall: potentially parallel calls of plain functions (the seed's PCall).
//
//   long fib(int n) {
//     if (n < 2) return n;
//     auto [a, b] = pulse::pcall([=] { return fib(n - 1); }, [=] { return fib(n - 2); });
//     return a + b;
//   }
//
// Calls f, then the rest, on this thread, exactly like plain calls: the later calls are recorded as
// latent work (a few plain stores) and taken back when f returns. If a heartbeat promoted one and
// another worker took it, the join waits for it and runs other work meanwhile. Results come back as
// a tuple (a void call's place holds std::monostate); every call runs, and if any threw, the
// exception of the lowest-numbered one is rethrown after all have finished. On a thread that is not
// a worker everything simply runs inline. No coroutine frame: the fastest form for compute kernels.
#pragma once

#include <pulse/detail/stack_job.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace pulse {
namespace detail {

// What one call produced: its value (or reference, or nothing) or its exception. Constructed
// empty, and captured exactly once before it is destroyed or read (pcall runs every call): so the
// exception pointer alone tells which member is live, and no engaged flag is stored.
template <typename R>
class call_outcome {
public:
  call_outcome() noexcept {}
  call_outcome(const call_outcome&) = delete;
  call_outcome& operator=(const call_outcome&) = delete;
  ~call_outcome() {
    if constexpr (!std::is_trivially_destructible_v<stored>) {
      if (!m_error) {
        m_value.~stored();
      }
    }
  }

  template <typename F>
  [[gnu::always_inline]] void capture(F& fn) noexcept {
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(fn);
        std::construct_at(&m_value);
      } else if constexpr (std::is_reference_v<R>) {
        std::construct_at(&m_value, std::addressof(std::invoke(fn)));
      } else {
        std::construct_at(&m_value, std::invoke(fn));
      }
    } catch (...) {
      m_error = std::current_exception();
    }
  }
  void rethrow_if_failed() const {
    if (m_error) {
      std::rethrow_exception(m_error);
    }
  }
  decltype(auto) take() {
    if constexpr (std::is_void_v<R>) {
      return std::monostate{};
    } else if constexpr (std::is_reference_v<R>) {
      return static_cast<R>(*m_value);
    } else {
      return R(std::move(m_value));
    }
  }

private:
  using stored = std::conditional_t<std::is_void_v<R>, std::monostate,
                                    std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;
  union {
    stored m_value;
  };
  std::exception_ptr m_error;
};

template <typename F>
using call_result_t = std::invoke_result_t<F&>;

template <typename F>
using pcall_element_t = std::conditional_t<std::is_void_v<call_result_t<F>>, std::monostate, call_result_t<F>>;

// One later call of a pcall, living in pcall's frame.
template <typename F>
class call_job final : public stack_job {
public:
  explicit call_job(F& fn) noexcept : stack_job(&run), m_fn(fn) {}
  call_outcome<call_result_t<F>> outcome;

  [[gnu::always_inline]] void run_inline() noexcept { outcome.capture(m_fn); }

private:
  static void run(stack_job& self) noexcept { static_cast<call_job&>(self).run_inline(); }
  F& m_fn;
};

// Takes a later call back and runs it here if no thief took it; says whether a thief has it.
template <typename F>
[[gnu::always_inline]] inline bool run_unless_stolen(latent_stack* stack, call_job<F>& job) noexcept {
  if (stack == nullptr || reclaim_job(*stack, job)) {
    job.run_inline();  // nobody took it: a plain call
    return false;
  }
  return true;
}

// Records the later calls, last first, so that the first later call is the newest: it comes back
// first. In room the caller reserved.
template <typename... F, std::size_t... I>
[[gnu::always_inline]] inline void publish_later_calls(latent_stack& stack, std::tuple<call_job<F>...>& later,
                                                       std::index_sequence<I...>) noexcept {
  (publish_job(stack, std::get<sizeof...(I) - 1 - I>(later)), ...);
}

// pcall's join: every later call is taken back (newest first, which is the order they were
// published in reverse) and run, or, if a thief took it, waited for once all are taken back.
// These helpers are always_inline, and not lambdas: clang left the lambdas of a fold out of line,
// and that call per pcall cost tree_sum a quarter of its time.
template <typename... F, std::size_t... I>
[[gnu::always_inline]] inline void join_later_calls(latent_stack* stack, std::tuple<call_job<F>...>& later,
                                                    std::index_sequence<I...>) noexcept {
  const bool stolen[] = {run_unless_stolen(stack, std::get<I>(later))...};  // braced: in order
  ((stolen[I] ? wait_for_job(std::get<I>(later)) : void()), ...);
}

// The results in order, after the lowest-numbered failure (if any) was rethrown.
template <typename F, typename... G, std::size_t... I>
[[gnu::always_inline]] inline std::tuple<pcall_element_t<F>, pcall_element_t<G>...> pcall_results(
    call_outcome<call_result_t<F>>& first, std::tuple<call_job<G>...>& later, std::index_sequence<I...>) {
  first.rethrow_if_failed();
  (std::get<I>(later).outcome.rethrow_if_failed(), ...);
  return std::tuple<pcall_element_t<F>, pcall_element_t<G>...>(first.take(), std::get<I>(later).outcome.take()...);
}

}  // namespace detail

template <typename F, typename... G>
  requires std::is_invocable_v<F&> && (std::is_invocable_v<G&> && ...)
std::tuple<detail::pcall_element_t<F>, detail::pcall_element_t<G>...> pcall(F&& f, G&&... g) {
  constexpr std::size_t count = sizeof...(G);
  detail::latent_stack* stack = detail::this_thread_latent_stack();
  if constexpr (count > 1) {
    if (stack != nullptr) {
      detail::latent_reserve(*stack, count);  // may throw: before anything is constructed or recorded
    }
  }
  detail::call_outcome<detail::call_result_t<F>> first;
  std::tuple<detail::call_job<std::remove_reference_t<G>>...> later{g...};

  if constexpr (count > 1) {
    if (stack != nullptr) {
      detail::publish_later_calls(*stack, later, std::make_index_sequence<count>{});
    }
  } else if (stack != nullptr) {
    // One call: no reserve on this, the hottest path; if the stack cannot grow for it, the calls
    // simply run here, in order (the outcomes are constructed already, so nothing may throw).
    try {
      detail::publish_job_unreserved(*stack, std::get<0>(later));
    } catch (...) {
      stack = nullptr;
    }
  }

  first.capture(f);

  detail::join_later_calls(stack, later, std::make_index_sequence<count>{});
  return detail::pcall_results<F>(first, later, std::make_index_sequence<count>{});
}

}  // namespace pulse
