// Serial baseline: the same recursion and kernel as the parallel versions, as plain calls.
#include "matmul/matmul.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

void multiply(const double* a, const double* b, double* c, int n, int ld) {
  auto one_after_another = [](auto&& p00, auto&& p01, auto&& p10, auto&& p11) {
    p00();
    p01();
    p10();
    p11();
  };
  pulse_bench::matmul_recursive(a, b, c, n, ld, one_after_another);
}

void matmul_serial(benchmark::State& state) {
  const pulse_bench::matmul_inputs& in = pulse_bench::matmul_data();
  pulse_bench::matmul_matrix c(pulse_bench::matmul_offset_c);
  for (auto _ : state) {
    c.clear();  // C += A * B from zero; 2 MiB, well under 1% of the run
    multiply(in.a.data(), in.b.data(), c.data(), pulse_bench::matmul_n, pulse_bench::matmul_n);
    if (!pulse_bench::matmul_matches(c)) {
      throw std::logic_error("matmul/serial: wrong result");
    }
    benchmark::DoNotOptimize(c.data());
  }
}

}  // namespace

BENCHMARK(matmul_serial)->Name("matmul/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
