// pulse::fork of the four quadrant products of each phase.
#include "matmul/matmul.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::matmul_quadrant;

pulse::task<void> multiply(const double* a, const double* b, double* c, int n, int ld) {
  if (n <= pulse_bench::matmul_base) {
    pulse_bench::matmul_kernel(a, b, c, n, ld);
    co_return;
  }
  const int h = n / 2;
  // C[i][j] += A[i][k] * B[k][j] on quadrants, for the phase k.
  // Not a coroutine itself: it returns the task of a call to multiply, which copies the arguments.
  const auto product = [=](int k, int i, int j) {
    return multiply(matmul_quadrant(a, i, k, h, ld), matmul_quadrant(b, k, j, h, ld), matmul_quadrant(c, i, j, h, ld),
                    h, ld);
  };
  for (int k = 0; k < 2; ++k) {
    co_await pulse::fork(product(k, 0, 0), product(k, 0, 1), product(k, 1, 0), product(k, 1, 1));
  }
}

void matmul_pulse_fork(benchmark::State& state) {
  const pulse_bench::matmul_inputs& in = pulse_bench::matmul_data();
  pulse_bench::matmul_matrix c(pulse_bench::matmul_offset_c);
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    c.clear();  // C += A * B from zero; 2 MiB, well under 1% of the run
    pulse::sync_wait(rt, multiply(in.a.data(), in.b.data(), c.data(), pulse_bench::matmul_n, pulse_bench::matmul_n));
    if (!pulse_bench::matmul_matches(c)) {
      throw std::logic_error("matmul/pulse_fork: wrong result");
    }
    benchmark::DoNotOptimize(c.data());
  }
}

}  // namespace

BENCHMARK(matmul_pulse_fork)
    ->Name("matmul/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
