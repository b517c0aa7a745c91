// OpenMP tasks: one task per safe column, then taskwait.
#include "checked_loop.hpp"
#include "nqueens/nqueens.hpp"
#include "omp_root.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

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
  for (int col = 0; col < nqueens_n; ++col) {
    if (pulse_bench::nqueens_safe(board, row, col)) {
      nqueens_board next = board;
      next[row] = static_cast<char>(col);
#pragma omp task shared(counts) firstprivate(next)
      counts[col] = nqueens(row + 1, next);
    }
  }
#pragma omp taskwait
  return std::accumulate(counts.begin(), counts.end(), 0L);
}

void nqueens_omp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  pulse_bench::time_checked(state, "nqueens/omp", pulse_bench::nqueens_expected,
                            [&] { return pulse_bench::omp_root(threads, [&] { return nqueens(0, nqueens_board{}); }); });
}

}  // namespace

BENCHMARK(nqueens_omp)
    ->Name("nqueens/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
