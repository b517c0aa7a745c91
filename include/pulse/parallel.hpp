// pulse::parallel_for and pulse::parallel_reduce: loops with no grain size.
//
//   co_await pulse::parallel_for(0, n, [&](std::size_t i) { out[i] = f(in[i]); });
//   double sum = co_await pulse::parallel_reduce(0, n, 0.0, [&](std::size_t i) { return x[i]; },
//                                                [](double a, double b) { return a + b; });
//
// A loop runs serially on the calling worker, asking every so many iterations whether its
// heartbeat is due (the count adapts so that this costs next to nothing). When it is, and the
// worker holds no older latent work (which would be promoted first, being bigger), the loop splits
// what remains in half and promotes the upper half, which an idle worker may take and split again.
// At the end the loop takes back the halves nobody took and waits for the others, running other
// work meanwhile. parallel_reduce combines partial results in index order, so `combine` needs only
// to be associative; the result is combine(init, map(first), ..., map(last - 1)).
// If iterations throw, the loop still finishes what was split off, then rethrows the exception of
// the lowest-indexed range that failed. Off the workers the loop simply runs serially.
// Bounds are any integers; indices are std::size_t, so a negative bound is a
// std::invalid_argument. As with `for (i = first; i < last; ++i)`, a range with first >= last is
// empty.
#pragma once

#include <pulse/detail/stack_job.hpp>

#include <algorithm>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace pulse {
namespace detail {

// A heartbeat halves the remaining range; a range can only be halved about 64 times.
inline constexpr std::size_t most_loop_splits = 64;
// The most stack a loop keeps for its split-off halves; beyond it (a large accumulator), they go
// to the heap, allocated at the first split.
inline constexpr std::size_t most_loop_split_stack_bytes = 16 * 1024;

template <std::integral I>
std::string loop_bound_text(I bound) {
  if constexpr (std::is_signed_v<I>) {
    return std::to_string(static_cast<long long>(bound));
  } else {
    return std::to_string(static_cast<unsigned long long>(bound));
  }
}

// A loop's bounds as indices. Out of line and cold: the throw stays off the loop's path.
template <std::integral First, std::integral Last>
[[noreturn, gnu::cold, gnu::noinline]] void throw_negative_loop_bound(const char* loop, First first, Last last) {
  throw std::invalid_argument(std::string(loop) + ": the range [" + loop_bound_text(first) + ", " +
                              loop_bound_text(last) + ") has a negative bound; indices are std::size_t");
}
template <std::integral I>
bool is_negative(I bound) noexcept {
  if constexpr (std::is_signed_v<I>) {
    return bound < 0;
  } else {
    return false;
  }
}
struct loop_bounds {
  std::size_t first;
  std::size_t last;
};
template <std::integral First, std::integral Last>
loop_bounds checked_loop_bounds(const char* loop, First first, Last last) {
  if (is_negative(first) || is_negative(last)) [[unlikely]] {
    throw_negative_loop_bound(loop, first, last);
  }
  return {static_cast<std::size_t>(first), static_cast<std::size_t>(last)};
}

// Runs [first, last) with `step(i, acc)`, splitting at heartbeats; returns this range's partial
// (starting from `seed`) combined with every split-off part in order.
template <typename Acc, typename Step, typename Combine, typename Seed>
Acc run_split_range(std::size_t first, std::size_t last, Seed&& seed, Step& step, Combine& combine);

template <typename Acc, typename Step, typename Combine>
class range_job final : public stack_job {
public:
  range_job(std::size_t first, std::size_t last, Step& step, Combine& combine) noexcept
      : stack_job(&run), m_first(first), m_last(last), m_step(step), m_combine(combine) {}

  void run_inline() noexcept {
    try {
      // A split-off range is never empty: its partial starts from its first element.
      result.emplace(run_split_range<Acc>(m_first + 1, m_last, m_step.first_of(m_first), m_step, m_combine));
    } catch (...) {
      error = std::current_exception();
    }
  }

  std::optional<Acc> result;
  std::exception_ptr error;
  bool stolen = false;

private:
  static void run(stack_job& self) noexcept { static_cast<range_job&>(self).run_inline(); }
  std::size_t m_first;
  std::size_t m_last;
  Step& m_step;
  Combine& m_combine;
};

// The iterations between two polls. Not inlined into run_split_range: there the accumulator lives
// across calls into the runtime, so GCC keeps it in a callee-saved general register and moves it
// to and from the vector unit in the middle of the loop (26% on a sum of doubles); here it stays in
// a vector register, as in a plain loop. On an exception `i` is lost, which is fine: the range
// rethrows and never resumes.
template <typename Step, typename Acc>
[[gnu::noinline]] Acc fold_range(Step& step, Acc acc, std::size_t first, std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    acc = step.fold(std::move(acc), i);
  }
  return acc;
}

template <typename Acc, typename Step, typename Combine, typename Seed>
Acc run_split_range(std::size_t first, std::size_t last, Seed&& seed, Step& step, Combine& combine) {
  using job = range_job<Acc, Step, Combine>;
  // Storage for the split-off halves; constructed in place as the loop splits.
  struct alignas(job) job_slot {
    unsigned char bytes[sizeof(job)];
  };
  constexpr bool slots_on_stack = sizeof(job_slot) * most_loop_splits <= most_loop_split_stack_bytes;
  std::conditional_t<slots_on_stack, job_slot[most_loop_splits], std::unique_ptr<job_slot[]>> storage;
  std::size_t splits = 0;
  auto split_at = [&](std::size_t index) -> job& { return *std::launder(reinterpret_cast<job*>(storage[index].bytes)); };
  // Whether there is room for one more split: only the heap storage can be missing (then the loop
  // just goes on serially).
  auto room_to_split = [&]() noexcept {
    if constexpr (!slots_on_stack) {
      if (storage == nullptr) {
        storage.reset(new (std::nothrow) job_slot[most_loop_splits]);
      }
      return storage != nullptr && splits < most_loop_splits;
    } else {
      return splits < most_loop_splits;
    }
  };

  Acc acc(std::forward<Seed>(seed));
  std::exception_ptr error;
  std::size_t i = first;
  std::size_t end = last;
  try {
    while (i < end) {
      const loop_poll poll = poll_heartbeat_for_loop();
      if (poll.split_now && end - i >= 2 && room_to_split()) {
        const std::size_t middle = i + (end - i) / 2;
        job& half = *::new (storage[splits].bytes) job(middle, end, step, combine);
        try {
          publish_job_promoted(half);  // split_now is only ever true on a worker
        } catch (...) {
          half.~job();  // not recorded anywhere: nothing to take back
          throw;
        }
        ++splits;
        end = middle;
      }
      // Not min(end, i + n): that wraps for a range that ends near SIZE_MAX.
      const std::size_t stop = i + std::min<std::size_t>(end - i, poll.iterations_until_next_poll);
      acc = fold_range(step, std::move(acc), i, stop);
      i = stop;
    }
  } catch (...) {
    error = std::current_exception();
  }
  // Newest split first: each comes back unless a thief took it. Splits happen only on a worker.
  latent_stack* const stack = splits != 0 ? this_thread_latent_stack() : nullptr;
  for (std::size_t k = splits; k-- > 0;) {
    job& half = split_at(k);
    if (reclaim_job(*stack, half)) {
      half.run_inline();
    } else {
      half.stolen = true;
    }
  }
  for (std::size_t k = splits; k-- > 0;) {
    if (split_at(k).stolen) {
      wait_for_job(split_at(k));
    }
  }
  struct destroy_splits {
    decltype(split_at)& at;
    std::size_t& count;
    ~destroy_splits() {
      for (std::size_t k = 0; k < count; ++k) {
        at(k).~job();
      }
    }
  } cleanup{split_at, splits};
  // The lowest range first: this one, then the halves from the last split (lowest) upward.
  std::exception_ptr first_error = error;
  for (std::size_t k = splits; k-- > 0 && !first_error;) {
    first_error = split_at(k).error;
  }
  if (!first_error) {
    for (std::size_t k = splits; k-- > 0;) {
      acc = combine(std::move(acc), std::move(*split_at(k).result));
    }
  }
  if (first_error) {
    std::rethrow_exception(first_error);
  }
  return acc;
}

// parallel_for as a reduction over nothing.
template <typename Body>
struct for_step {
  Body& body;
  std::monostate first_of(std::size_t i) {
    body(i);
    return {};
  }
  std::monostate fold(std::monostate, std::size_t i) {
    body(i);
    return {};
  }
};
struct ignore_combine {
  std::monostate operator()(std::monostate, std::monostate) const noexcept { return {}; }
};

template <typename T, typename Map, typename Combine>
struct reduce_step {
  Map& map;
  Combine& combine;
  T first_of(std::size_t i) { return map(i); }
  T fold(T acc, std::size_t i) { return combine(std::move(acc), map(i)); }
};

}  // namespace detail

template <typename Body>
class [[nodiscard("co_await the loop: on its own it runs nothing")]] parallel_for_awaitable {
public:
  parallel_for_awaitable(std::size_t first, std::size_t last, Body body) : m_first(first), m_last(last), m_body(std::move(body)) {}
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() {
    if (m_first >= m_last) {
      return;
    }
    detail::for_step<Body> step{m_body};
    detail::ignore_combine combine;
    detail::run_split_range<std::monostate>(m_first, m_last, std::monostate{}, step, combine);
  }

private:
  std::size_t m_first;
  std::size_t m_last;
  Body m_body;
};

// Calls body(i) for every i in [first, last), potentially in parallel; see the top of this header.
template <std::integral First, std::integral Last, typename Body>
  requires std::is_invocable_v<Body&, std::size_t>
parallel_for_awaitable<std::decay_t<Body>> parallel_for(First first, Last last, Body&& body) {
  const detail::loop_bounds bounds = detail::checked_loop_bounds("pulse::parallel_for", first, last);
  return {bounds.first, bounds.last, std::forward<Body>(body)};
}

template <typename T, typename Map, typename Combine>
class [[nodiscard("co_await the loop: on its own it runs nothing")]] parallel_reduce_awaitable {
public:
  parallel_reduce_awaitable(std::size_t first, std::size_t last, T init, Map map, Combine combine)
      : m_first(first), m_last(last), m_init(std::move(init)), m_map(std::move(map)), m_combine(std::move(combine)) {}
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() {
    detail::reduce_step<T, Map, Combine> step{m_map, m_combine};
    return detail::run_split_range<T>(m_first, std::max(m_first, m_last), std::move(m_init), step, m_combine);
  }

private:
  std::size_t m_first;
  std::size_t m_last;
  T m_init;
  Map m_map;
  Combine m_combine;
};

// combine(init, map(first), ..., map(last - 1)), potentially in parallel; see the top of this header.
template <typename T, std::integral First, std::integral Last, typename Map, typename Combine>
  requires std::is_invocable_r_v<T, Map&, std::size_t> && std::is_invocable_r_v<T, Combine&, T, T>
parallel_reduce_awaitable<T, std::decay_t<Map>, std::decay_t<Combine>> parallel_reduce(First first, Last last, T init,
                                                                                          Map&& map, Combine&& combine) {
  const detail::loop_bounds bounds = detail::checked_loop_bounds("pulse::parallel_reduce", first, last);
  return {bounds.first, bounds.last, std::move(init), std::forward<Map>(map), std::forward<Combine>(combine)};
}

}  // namespace pulse
