// Serial baseline: plain recursion over the safe columns.
#include "nqueens/nqueens.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::nqueens_board;
using pulse_bench::nqueens_n;

[[gnu::noinline]] long nqueens(int row, const nqueens_board& board) {
  if (row == nqueens_n) {
    return 1;
  }
  long total = 0;
  for (int col = 0; col < nqueens_n; ++col) {
    if (pulse_bench::nqueens_safe(board, row, col)) {
      nqueens_board next = board;
      next[row] = static_cast<char>(col);
      total += nqueens(row + 1, next);
    }
  }
  return total;
}

void nqueens_serial(benchmark::State& state) {
  for (auto _ : state) {
    const long result = nqueens(0, nqueens_board{});
    if (result != pulse_bench::nqueens_expected) {
      throw std::logic_error("nqueens/serial: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(nqueens_serial)->Name("nqueens/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
