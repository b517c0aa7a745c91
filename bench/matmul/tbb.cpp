// oneTBB: per phase, three quadrant products as tasks and the fourth inline, then wait.
#include "matmul/matmul.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <stdexcept>

namespace {

void multiply(const double* a, const double* b, double* c, int n, int ld) {
  auto three_tasks_and_one_inline = [](auto&& p00, auto&& p01, auto&& p10, auto&& p11) {
    tbb::task_group group;
    group.run(p00);
    group.run(p01);
    group.run(p10);
    p11();
    group.wait();
  };
  pulse_bench::matmul_recursive(a, b, c, n, ld, three_tasks_and_one_inline);
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
