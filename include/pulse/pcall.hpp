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
// Each callable is called once, as an lvalue: a callable passed as an lvalue is the very one
// called, wherever it runs; one passed as an rvalue (a lambda written in place) may be copied, if
// small and trivially copyable, for a thief to call instead. Two calls or more.
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
        auto&& result = std::invoke(fn);  // named, so an lvalue even for T&&: addressof refuses rvalues
        std::construct_at(&m_value, std::addressof(result));
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

// How a later call's job holds its callable; G as pcall deduced it (T& for an lvalue, T for an
// rvalue). An lvalue is referenced: the caller may look at it or change it, even from the first
// call, and a thief must call the very object a plain call would. An rvalue, which the caller gave
// up, if small and trivially copyable, is copied into the job: then exactly one of the two is
// called (the copy by a thief, or the caller's object inline), each as a non-const lvalue, and
// nobody else reaches either, so the copy is not observable; but the caller's object, whose
// address no longer escapes, keeps its captures in registers on the inline path (tree_sum by pcall
// 10% faster). Anything else is referenced.
template <typename G>
consteval bool copies_callable() {
  if constexpr (std::is_lvalue_reference_v<G> || !std::is_object_v<G>) {
    return false;  // and sizeof would not apply to a function
  } else {
    return std::is_trivially_copyable_v<G> && std::is_copy_constructible_v<G> && sizeof(G) <= 4 * sizeof(void*);
  }
}
template <typename G>
inline constexpr bool job_copies_callable = copies_callable<G>();

// One later call of a pcall, living in pcall's frame.
template <typename G>
class call_job final : public stack_job {
public:
  using callable = std::remove_reference_t<G>;
  explicit call_job(callable& fn) noexcept : stack_job(&run), m_fn(fn) {}
  call_outcome<call_result_t<callable>> outcome;
  // Whether the call returned, when a thief ran it: written before done() says it finished, and
  // read only then (left unset otherwise: a store on every pcall for nothing).
  bool returned_on_thief;

  // Runs the call through the job's callable (the copy, or the caller's object); whether it
  // returned.
  bool run_here() noexcept { return outcome.capture(m_fn); }

private:
  static void run(stack_job& self) noexcept {
    auto& job = static_cast<call_job&>(self);
    job.returned_on_thief = job.run_here();
  }
  std::conditional_t<job_copies_callable<G>, callable, callable&> m_fn;
};

// Takes a later call back and runs it here if no thief took it: true, and whether it returned in
// `returned`. False if a thief has it. Runs the caller's object `fn`, or, if null, the job's.
template <typename G>
[[gnu::always_inline]] inline bool run_unless_stolen(latent_stack* stack, call_job<G>& job,
                                                     std::remove_reference_t<G>* fn, bool& returned) noexcept {
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
                                                    std::tuple<std::remove_reference_t<F>*...> fns,
                                                    bool (&returned)[sizeof...(F)],
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
// known from the control flow, with no flag kept across the later calls; and it runs the later
// calls through their jobs, so that the callers' objects do not escape the hot path.
template <typename F, typename... G>
[[gnu::noinline, gnu::cold, noreturn]] void finish_after_first_failed(latent_stack* stack,
                                                                     call_outcome<call_result_t<F>>& first,
                                                                     std::tuple<call_job<G>...>& later) {
  bool later_returned[sizeof...(G)];
  join_later_calls(stack, later, std::tuple<std::remove_reference_t<G>*...>{}, later_returned,
                   std::index_sequence_for<G...>{});
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
  static_assert(sizeof...(G) >= 1, "pulse::pcall takes two or more calls: call a single one directly");
  constexpr std::size_t count = sizeof...(G);
  detail::latent_stack* stack = detail::this_thread_latent_stack();
  if constexpr (count > 1) {
    if (stack != nullptr) {
      detail::latent_reserve(*stack, count);  // may throw: before anything is constructed or recorded
    }
  }
  detail::call_outcome<detail::call_result_t<F>> first;
  std::tuple<detail::call_job<G>...> later{g...};

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
