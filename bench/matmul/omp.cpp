// OpenMP tasks: per phase, three quadrant products as tasks and the fourth inline, then taskwait.
#include "matmul/matmul.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::matmul_quadrant;

void multiply(const double* a, const double* b, double* c, int n, int ld) {
  if (n <= pulse_bench::matmul_base) {
    pulse_bench::matmul_kernel(a, b, c, n, ld);
    return;
  }
  const int h = n / 2;
  // C[i][j] += A[i][k] * B[k][j] on quadrants, for the phase k.
  const auto product = [=](int k, int i, int j) {
    return multiply(matmul_quadrant(a, i, k, h, ld), matmul_quadrant(b, k, j, h, ld), matmul_quadrant(c, i, j, h, ld),
                    h, ld);
  };
  for (int k = 0; k < 2; ++k) {
#pragma omp task
    product(k, 0, 0);
#pragma omp task
    product(k, 0, 1);
#pragma omp task
    product(k, 1, 0);
    product(k, 1, 1);
#pragma omp taskwait
  }
}

void matmul_omp(benchmark::State& state) {
  const pulse_bench::matmul_inputs& in = pulse_bench::matmul_data();
  pulse_bench::matmul_matrix c(pulse_bench::matmul_offset_c);
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    c.clear();  // C += A * B from zero; 2 MiB, well under 1% of the run
#pragma omp parallel num_threads(threads)
#pragma omp single
    multiply(in.a.data(), in.b.data(), c.data(), pulse_bench::matmul_n, pulse_bench::matmul_n);
    if (!pulse_bench::matmul_matches(c)) {
      throw std::logic_error("matmul/omp: wrong result");
    }
    benchmark::DoNotOptimize(c.data());
  }
}

}  // namespace

BENCHMARK(matmul_omp)
    ->Name("matmul/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
