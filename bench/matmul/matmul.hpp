// matmul: C += A * B on 512 x 512 doubles by recursive divide and conquer. Each level splits the
// three matrices into quadrants and runs two phases of four independent quadrant products (one
// phase per half of the inner dimension; the four products of a phase write four different
// quadrants of C). 32 x 32 blocks are multiplied by a plain i-k-j loop. Coarse tasks and real
// floating-point work, where fib and skynet are all overhead.
//
// Row-major storage; every block is addressed by its top-left element and the leading dimension
// (the row stride) of the whole matrix.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>

namespace pulse_bench {

inline constexpr int matmul_n = 512;
inline constexpr int matmul_base = 32;  // blocks this size or smaller use matmul_kernel

// C += A * B for n x n blocks.
inline void matmul_kernel(const double* a, const double* b, double* c, int n, int ld) {
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < n; ++k) {
      const double aik = a[i * ld + k];
      for (int j = 0; j < n; ++j) {
        c[i * ld + j] += aik * b[k * ld + j];
      }
    }
  }
}

// The top-left element of quadrant (row, col) of a block whose quadrants are half x half.
template <typename T>
T* matmul_quadrant(T* block, int row, int col, int half, int ld) {
  return block + (static_cast<std::ptrdiff_t>(row) * ld + col) * half;
}

// The divide and conquer every plain-function implementation shares. In each of two phases k the
// four quadrant products C[i][j] += A[i][k] * B[k][j] are independent; run_four(p00, p01, p10, p11)
// runs them (as plain calls, tasks, ...) and returns once all four have finished. The coroutine
// version (pulse_fork.cpp) has the same shape with co_await pulse::fork.
template <typename RunFour>
void matmul_recursive(const double* a, const double* b, double* c, int n, int ld, RunFour& run_four) {
  if (n <= matmul_base) {
    matmul_kernel(a, b, c, n, ld);
    return;
  }
  const int h = n / 2;
  for (int k = 0; k < 2; ++k) {
    const auto product = [=, &run_four](int i, int j) {
      return [=, &run_four] {
        matmul_recursive(matmul_quadrant(a, i, k, h, ld), matmul_quadrant(b, k, j, h, ld),
                         matmul_quadrant(c, i, j, h, ld), h, ld, run_four);
      };
    };
    run_four(product(0, 0), product(0, 1), product(1, 0), product(1, 1));
  }
}

// Where each matrix starts, in bytes past a 4096-byte boundary. This decides the speed: with
// n = 512 a row is exactly 4 KiB, so element (i, j) of every row of a matrix has the same low 12
// address bits as element (k, j) of any other row, and if C and B also start at the same offset, the
// kernel's loads from B keep "4K-aliasing" its stores to C (the CPU's store-to-load check compares
// only the low 12 bits first): 50 ms instead of 25 for the serial run on our 2-CPU AMD EPYC VM.
// Left to malloc, the offset changed with the allocation history, and the result with it, from one
// benchmark to the next. Fixed offsets at least 1 KiB apart (a 32-wide base block spans 256 bytes)
// make it the same, and fast, for every implementation.
inline constexpr std::size_t matmul_offset_a = 1024;
inline constexpr std::size_t matmul_offset_b = 0;
inline constexpr std::size_t matmul_offset_c = 2048;

// An n x n row-major matrix of doubles, zeroed, starting `offset` bytes past a 4096-byte boundary.
class matmul_matrix {
public:
  static constexpr std::size_t elements = static_cast<std::size_t>(matmul_n) * matmul_n;

  explicit matmul_matrix(std::size_t offset)
      : m_block(static_cast<std::byte*>(std::aligned_alloc(4096, elements * sizeof(double) + 4096))) {
    if (!m_block) {
      throw std::bad_alloc();
    }
    m_data = reinterpret_cast<double*>(m_block.get() + offset);
    clear();
  }

  double* data() noexcept { return m_data; }
  const double* data() const noexcept { return m_data; }
  double& operator[](std::size_t index) noexcept { return m_data[index]; }
  double operator[](std::size_t index) const noexcept { return m_data[index]; }

  void clear() noexcept { std::fill_n(m_data, elements, 0.0); }

private:
  struct free_block {
    void operator()(std::byte* block) const noexcept { std::free(block); }
  };
  std::unique_ptr<std::byte, free_block> m_block;
  double* m_data = nullptr;
};

struct matmul_inputs {
  matmul_matrix a{matmul_offset_a};
  matmul_matrix b{matmul_offset_b};
  matmul_matrix expected{matmul_offset_c};  // A * B by a straightforward triple loop
};

// Built once per process, on the first call (which every benchmark makes before its timed loop).
inline const matmul_inputs& matmul_data() {
  static const matmul_inputs inputs = [] {
    matmul_inputs built;
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> value(-1.0, 1.0);
    std::generate_n(built.a.data(), matmul_matrix::elements, [&] { return value(random); });
    std::generate_n(built.b.data(), matmul_matrix::elements, [&] { return value(random); });
    for (int i = 0; i < matmul_n; ++i) {
      for (int k = 0; k < matmul_n; ++k) {
        for (int j = 0; j < matmul_n; ++j) {
          built.expected[i * matmul_n + j] += built.a[i * matmul_n + k] * built.b[k * matmul_n + j];
        }
      }
    }
    return built;
  }();
  return inputs;
}

// Compares 300 spread-out entries of `c` with the reference. The recursive versions add the
// products in another order, hence a relative tolerance rather than equality.
inline bool matmul_matches(const matmul_matrix& c) {
  const matmul_matrix& expected = matmul_data().expected;
  constexpr std::uint64_t size = static_cast<std::uint64_t>(matmul_n) * matmul_n;
  for (std::uint64_t sample = 0; sample < 300; ++sample) {
    // An odd multiplier modulo a power of two visits distinct indices, all over the matrix.
    const std::size_t index = static_cast<std::size_t>(sample * 2654435761ULL % size);
    if (!(std::abs(c[index] - expected[index]) <= 1e-9 * std::max(1.0, std::abs(expected[index])))) {
      return false;
    }
  }
  return true;
}

}  // namespace pulse_bench
