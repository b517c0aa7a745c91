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

// What one call produced: its value (or reference, or nothing) or its exception, in one union.
// Which one is live is kept by the caller of capture (a local flag, or the job's returned_on_thief), not
// stored here: so a call that returns, the common case, never touches an exception_ptr (no
// zeroing before, no test after). The owner destroys the live member with destroy().
template <typename R>
class call_outcome {
public:
  call_outcome() noexcept {}
  call_outcome(const call_outcome&) = delete;
  call_outcome& operator=(const call_outcome&) = delete;
  ~call_outcome() {}

  // Runs fn, keeping what it produced: true if it returned, false if it threw.
  template <typename F>
  [[gnu::always_inline]] bool capture(F& fn) noexcept {
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(fn);
        std::construct_at(&m_value);
      } else if constexpr (std::is_reference_v<R>) {
        std::construct_at(&m_value, std::addressof(std::invoke(fn)));
      } else {
        std::construct_at(&m_value, std::invoke(fn));
      }
      return true;
    } catch (...) {
      std::construct_at(&m_error, std::current_exception());
      return false;
    }
  }
  void destroy(bool returned) noexcept {
    if (!returned) {
      m_error.~exception_ptr();
    } else if constexpr (!std::is_trivially_destructible_v<stored>) {
      m_value.~stored();
    }
  }
  [[noreturn]] void rethrow() const { std::rethrow_exception(m_error); }
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
    std::exception_ptr m_error;
  };
};

template <typename F>
using call_result_t = std::invoke_result_t<F&>;

template <typename F>
using pcall_element_t = std::conditional_t<std::is_void_v<call_result_t<F>>, std::monostate, call_result_t<F>>;

// A small callable that a copy calls exactly like the original (trivially copied, and called as
// const: no state of its own that a call could change).
template <typename F>
inline constexpr bool copy_calls_like_original =
    std::is_trivially_copyable_v<F> && sizeof(F) <= 2 * sizeof(void*) && std::is_invocable_v<const F&>;

// One later call of a pcall, living in pcall's frame. It keeps a copy of a small callable, else a
// reference: with a copy, the original's address never escapes, so the inline path, which calls
// the original, finds its captures in registers rather than reloading them through the job.
template <typename F>
class call_job final : public stack_job {
public:
  explicit call_job(F& fn) noexcept : stack_job(&run), m_fn(fn) {}  // a trivial copy, or a reference
  call_outcome<call_result_t<F>> outcome;
  // Whether the call returned, when a thief ran it: written before done() says it finished, and
  // read only then (left unset otherwise: a store on every pcall for nothing).
  bool returned_on_thief;

  // Runs the call through the job's own callable (the copy, or the reference); whether it returned.
  bool run_here() noexcept { return outcome.capture(m_fn); }

private:
  static void run(stack_job& self) noexcept {
    auto& job = static_cast<call_job&>(self);
    job.returned_on_thief = job.run_here();
  }
  std::conditional_t<copy_calls_like_original<F>, const F, F&> m_fn;
};

// Takes a later call back and runs it here if no thief took it: true, and whether it returned in
// `returned`. False if a thief has it. Calls the caller's original `fn`, or, if null, the job's.
template <typename F>
[[gnu::always_inline]] inline bool run_unless_stolen(latent_stack* stack, call_job<F>& job, F* fn,
                                                     bool& returned) noexcept {
  if (stack == nullptr || reclaim_job(*stack, job)) {
    returned = fn != nullptr ? job.outcome.capture(*fn) : job.run_here();  // nobody took it: a plain call
    return true;
  }
  return false;
}

// Records the later calls, last first, so that the first later call is the newest: it comes back
// first. In room the caller reserved.
template <typename... F, std::size_t... I>
[[gnu::always_inline]] inline void publish_later_calls(latent_stack& stack, std::tuple<call_job<F>...>& later,
                                                       std::index_sequence<I...>) noexcept {
  (publish_job(stack, std::get<sizeof...(I) - 1 - I>(later)), ...);
}

template <typename F>
[[gnu::always_inline]] inline void wait_unless_ran(call_job<F>& job, bool ran, bool& returned) noexcept {
  if (!ran) {
    wait_for_job(job);
    returned = job.returned_on_thief;
  }
}

// pcall's join: every later call is taken back (newest first, which is the order they were
// published in reverse) and run, or, if a thief took it, waited for once all are taken back.
// `returned[i]` says whether later call i returned.
// These helpers are always_inline, and not lambdas: clang left the lambdas of a fold out of line,
// and that call per pcall cost tree_sum a quarter of its time.
template <typename... F, std::size_t... I>
[[gnu::always_inline]] inline void join_later_calls(latent_stack* stack, std::tuple<call_job<F>...>& later,
                                                    std::tuple<F*...> fns, bool (&returned)[sizeof...(F)],
                                                    std::index_sequence<I...>) noexcept {
  const bool ran[] = {run_unless_stolen(stack, std::get<I>(later), std::get<I>(fns), returned[I])...};  // in order
  (wait_unless_ran(std::get<I>(later), ran[I], returned[I]), ...);
}

// Destroys every outcome, whichever member is live, when pcall returns or throws.
template <typename F, typename... G>
struct outcomes_cleanup {
  call_outcome<call_result_t<F>>& first;
  bool first_returned;
  std::tuple<call_job<G>...>& later;
  const bool (&later_returned)[sizeof...(G)];

  template <std::size_t... I>
  [[gnu::always_inline]] void destroy(std::index_sequence<I...>) noexcept {
    first.destroy(first_returned);
    (std::get<I>(later).outcome.destroy(later_returned[I]), ...);
  }
  [[gnu::always_inline]] ~outcomes_cleanup() { destroy(std::index_sequence_for<G...>{}); }
};

template <typename F>
[[gnu::always_inline]] inline void rethrow_if_failed(call_job<F>& job, bool returned) {
  if (!returned) [[unlikely]] {
    job.outcome.rethrow();
  }
}

// The first call threw: the later ones still run (or are waited for), then its exception, the
// lowest-numbered, is rethrown. Out of line, so that on the hot path the first call's success is
// known from the control flow, with no flag kept across the later calls; it calls the later calls
// through their jobs, so that the originals' addresses do not escape the hot path.
template <typename F, typename... G>
[[gnu::noinline, gnu::cold, noreturn]] void finish_after_first_failed(latent_stack* stack,
                                                                     call_outcome<call_result_t<F>>& first,
                                                                     std::tuple<call_job<G>...>& later) {
  bool later_returned[sizeof...(G)];
  join_later_calls(stack, later, std::tuple<G*...>{}, later_returned, std::index_sequence_for<G...>{});
  outcomes_cleanup<F, G...> cleanup{first, false, later, later_returned};
  first.rethrow();
}

// The results in order (the first call returned), after the lowest-numbered failure of a later
// call (if any) was rethrown.
template <typename F, typename... G, std::size_t... I>
[[gnu::always_inline]] inline std::tuple<pcall_element_t<F>, pcall_element_t<G>...> pcall_results(
    call_outcome<call_result_t<F>>& first, std::tuple<call_job<G>...>& later,
    const bool (&later_returned)[sizeof...(G)], std::index_sequence<I...>) {
  outcomes_cleanup<F, G...> cleanup{first, true, later, later_returned};
  (rethrow_if_failed(std::get<I>(later), later_returned[I]), ...);
  return std::tuple<pcall_element_t<F>, pcall_element_t<G>...>(first.take(), std::get<I>(later).outcome.take()...);
}

}  // namespace detail

// always_inline: then a recursive kernel (fib, a tree walk) recurses through its own function, its
// argument and result in registers, rather than through an out-of-line pcall that takes the calls
// by reference and returns the tuple in memory (tree_sum T1 12.0 -> 10.8 ms with the outcome change).
template <typename F, typename... G>
  requires std::is_invocable_v<F&> && (std::is_invocable_v<G&> && ...)
[[gnu::always_inline]] inline std::tuple<detail::pcall_element_t<F>, detail::pcall_element_t<G>...> pcall(F&& f,
                                                                                                           G&&... g) {
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

  if (!first.capture(f)) [[unlikely]] {
    detail::finish_after_first_failed<F>(stack, first, later);
  }
  bool later_returned[count];
  detail::join_later_calls(stack, later, std::tuple<std::remove_reference_t<G>*...>(std::addressof(g)...),
                           later_returned, std::make_index_sequence<count>{});
  return detail::pcall_results<F>(first, later, later_returned, std::make_index_sequence<count>{});
}

}  // namespace pulse
