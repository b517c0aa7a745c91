// OpenMP's way to start a task tree: `root` on one thread of a team of `threads`, whose other
// threads take the tasks it creates. Only for files built with OpenMP.
#pragma once

namespace pulse_bench {

template <typename Root>
auto omp_root(int threads, Root&& root) {
  decltype(root()) result{};
#pragma omp parallel num_threads(threads)
#pragma omp single
  result = root();
  return result;
}

}  // namespace pulse_bench
