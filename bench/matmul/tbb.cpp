// oneTBB: per phase, three quadrant products as tasks and the fourth inline, then wait.
#include "matmul/matmul.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

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
    tbb::task_group group;
    group.run([=] { product(k, 0, 0); });
    group.run([=] { product(k, 0, 1); });
    group.run([=] { product(k, 1, 0); });
    product(k, 1, 1);
    group.wait();
  }
}

void matmul_tbb(benchmark::State& state) {
  const pulse_bench::matmul_inputs& in = pulse_bench::matmul_data();
  pulse_bench::matmul_matrix c(pulse_bench::matmul_offset_c);
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  for (auto _ : state) {
    c.clear();  // C += A * B from zero; 2 MiB, well under 1% of the run
    arena.execute([&] { multiply(in.a.data(), in.b.data(), c.data(), pulse_bench::matmul_n, pulse_bench::matmul_n); });
    if (!pulse_bench::matmul_matches(c)) {
      throw std::logic_error("matmul/tbb: wrong result");
    }
    benchmark::DoNotOptimize(c.data());
  }
}

}  // namespace

BENCHMARK(matmul_tbb)
    ->Name("matmul/tbb")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
