// OpenMP tasks: one task per safe column, then taskwait.
#include "nqueens/nqueens.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <stdexcept>

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
  long total = 0;
  for (const long count : counts) {
    total += count;
  }
  return total;
}

void nqueens_omp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    long result = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
    result = nqueens(0, nqueens_board{});
    if (result != pulse_bench::nqueens_expected) {
      throw std::logic_error("nqueens/omp: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(nqueens_omp)
    ->Name("nqueens/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
