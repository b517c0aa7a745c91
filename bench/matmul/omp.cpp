// OpenMP tasks: per phase, three quadrant products as tasks and the fourth inline, then taskwait.
#include "matmul/matmul.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

void multiply(const double* a, const double* b, double* c, int n, int ld) {
  // shared: the closures live in this frame, which the taskwait outlives.
  auto three_tasks_and_one_inline = [](auto&& p00, auto&& p01, auto&& p10, auto&& p11) {
#pragma omp task shared(p00)
    p00();
#pragma omp task shared(p01)
    p01();
#pragma omp task shared(p10)
    p10();
    p11();
#pragma omp taskwait
  };
  pulse_bench::matmul_recursive(a, b, c, n, ld, three_tasks_and_one_inline);
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
