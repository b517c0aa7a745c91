// pulse::fork_all over the safe columns of each row.
#include "checked_loop.hpp"
#include "nqueens/nqueens.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using pulse_bench::nqueens_board;
using pulse_bench::nqueens_n;

// The board by value: each child's frame holds its own copy.
pulse::task<long> nqueens(int row, nqueens_board board) {
  if (row == nqueens_n) {
    co_return 1;
  }
  std::vector<pulse::task<long>> children;
  children.reserve(nqueens_n);
  for (int col = 0; col < nqueens_n; ++col) {
    if (pulse_bench::nqueens_safe(board, row, col)) {
      nqueens_board next = board;
      next[row] = static_cast<char>(col);
      children.push_back(nqueens(row + 1, next));
    }
  }
  const std::vector<long> counts = co_await pulse::fork_all(std::move(children));
  long total = 0;
  for (const long count : counts) {
    total += count;
  }
  co_return total;
}

void nqueens_pulse_fork(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  pulse_bench::time_checked(state, "nqueens/pulse_fork", pulse_bench::nqueens_expected, [&] { return pulse::sync_wait(rt, nqueens(0, nqueens_board{})); });
}

}  // namespace

BENCHMARK(nqueens_pulse_fork)
    ->Name("nqueens/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
