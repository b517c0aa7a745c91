// Relacy model check of lib/sched/chase_lev_deque.hpp: push/pop/steal races under the C++ memory
// model, with memory tracking (use after free, leaks) on the ring reclamation.
// Scenarios, each run for PULSE_MODEL_ITERATIONS (default 100,000) random schedules:
//  - last_element: owner pushes one element and pops it while a thief steals; exactly one wins.
//  - owner_and_thieves: owner pushes and pops several, two thieves steal; every element is taken
//    exactly once.
//  - growth: a 2-slot ring grows twice while thieves steal: elements survive the copy, retired
//    rings are freed only when no thief reads them (Relacy reports any access to freed memory).
#include "sched/chase_lev_deque.hpp"

#include <cstdio>
#include <cstdlib>

#include "relacy_atomics.hpp"  // last: see its header comment

namespace {

using model_deque = pulse::detail::chase_lev_deque<int, pulse_model::relacy_atomics>;
using pulse::detail::take_status;

// Counts, per value, how many threads took it: each must be taken exactly once.
template <int values>
struct taken_counts {
  rl::var<int> count[values + 1];
  taken_counts() {
    for (auto& c : count) {
      c($) = 0;
    }
  }
  void take(int value) {
    RL_ASSERT(value >= 1 && value <= values);
    count[value]($) = count[value]($) + 1;
  }
  void check_each_once() {
    for (int v = 1; v <= values; ++v) {
      RL_ASSERT(count[v]($) == 1);
    }
  }
};

struct last_element : rl::test_suite<last_element, 2> {
  model_deque* deque = nullptr;
  rl::atomic<int> owner_got;
  rl::atomic<int> thief_got;

  void before() {
    deque = new model_deque(2);
    owner_got($) = 0;
    thief_got($) = 0;
  }
  void thread(unsigned index) {
    if (index == 0) {
      deque->push(1);
      const auto r = deque->pop();
      if (r) {
        owner_got($).store(r.value, rl::mo_relaxed);
      }
    } else {
      const auto r = deque->steal();
      if (r) {
        thief_got($).store(r.value, rl::mo_relaxed);
      }
    }
  }
  void after() {
    // Exactly one of them has the element: never both, never neither (the owner only fails if the
    // thief won the CAS, and the thief only fails if the owner did or it saw an empty deque).
    const int owner = owner_got($).load(rl::mo_relaxed);
    const int thief = thief_got($).load(rl::mo_relaxed);
    RL_ASSERT(owner + thief == 1);
    delete deque;
  }
};

// The owner pushes `pushes` values into a deque of `capacity` slots (popping one after every
// `pop_every` pushes, 0 for never), then drains it; each of two thieves tries `steals` times. Every
// value must be taken exactly once: whatever no thief took, the owner did.
template <int pushes, int capacity, int pop_every, int steals>
struct owner_and_thieves : rl::test_suite<owner_and_thieves<pushes, capacity, pop_every, steals>, 3> {
  model_deque* deque = nullptr;
  taken_counts<pushes>* taken = nullptr;

  void before() {
    deque = new model_deque(capacity);
    taken = new taken_counts<pushes>();
  }
  void thread(unsigned index) {
    if (index == 0) {
      for (int v = 1; v <= pushes; ++v) {
        deque->push(v);
        if (pop_every != 0 && v % pop_every == 0) {
          if (const auto r = deque->pop()) {
            taken->take(r.value);
          }
        }
      }
      while (true) {
        const auto r = deque->pop();
        if (r.status == take_status::empty) {
          break;
        }
        if (r) {
          taken->take(r.value);
        }
      }
    } else {
      for (int attempt = 0; attempt < steals; ++attempt) {
        if (const auto r = deque->steal()) {
          taken->take(r.value);
        }
      }
    }
  }
  void after() {
    taken->check_each_once();
    delete taken;
    delete deque;
  }
};

// Pops racing steals on a roomy ring.
using pops_and_steals = owner_and_thieves<4, 8, 2, 3>;
// A 2-slot ring grows twice (2 -> 4 -> 8) while thieves read it: elements survive the copy, and a
// retired ring is freed only when no thief reads it (Relacy reports any access to freed memory).
using growth = owner_and_thieves<6, 2, 0, 2>;

template <typename Scenario>
bool check(const char* name, int iterations) {
  rl::test_params params;
  params.iteration_count = iterations;
  params.search_type = rl::random_scheduler_type;
  params.output_history = true;
  std::printf("%s: %d iterations\n", name, iterations);
  std::fflush(stdout);
  const bool passed = rl::simulate<Scenario>(params);
  if (!passed) {
    std::printf("%s FAILED: %s at iteration %llu\n", name, rl::test_result_str(params.test_result),
                static_cast<unsigned long long>(params.stop_iteration));
  }
  return passed;
}

}  // namespace

int main() {
  const char* env = std::getenv("PULSE_MODEL_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 100'000;
  bool ok = true;
  ok = check<last_element>("last_element", iterations) && ok;
  ok = check<pops_and_steals>("pops_and_steals", iterations) && ok;
  ok = check<growth>("growth", iterations) && ok;
  std::printf("%s\n", ok ? "all scenarios passed" : "FAILED");
  return ok ? 0 : 1;
}
