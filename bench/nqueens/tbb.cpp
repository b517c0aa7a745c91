// oneTBB: a task_group per row, one task per safe column, then wait.
#include "checked_loop.hpp"
#include "nqueens/nqueens.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <array>
#include <numeric>

namespace {

using pulse_bench::nqueens_board;
using pulse_bench::nqueens_n;

long nqueens(int row, const nqueens_board& board) {
  if (row == nqueens_n) {
    return 1;
  }
  std::array<long, nqueens_n> counts{};
  tbb::task_group group;
  for (int col = 0; col < nqueens_n; ++col) {
    if (pulse_bench::nqueens_safe(board, row, col)) {
      nqueens_board next = board;
      next[row] = static_cast<char>(col);
      group.run([&counts, col, row, next] { counts[col] = nqueens(row + 1, next); });
    }
  }
  group.wait();
  return std::accumulate(counts.begin(), counts.end(), 0L);
}

void nqueens_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  pulse_bench::time_checked(state, "nqueens/tbb", pulse_bench::nqueens_expected,
                            [&] { return arena.execute([&] { return nqueens(0, nqueens_board{}); }); });
}

}  // namespace

BENCHMARK(nqueens_tbb)
    ->Name("nqueens/tbb")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
