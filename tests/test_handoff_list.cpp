// lib/sched/handoff_list.hpp: the list through which a worker hands tasks of its I/O completions to
// another. Covers: empty, then one producer's nodes taken oldest first; nodes pushed after a take
// come out in the next one; four producers pushing while the owner takes, every node taken exactly
// once and each producer's nodes in its own order (time-bounded stress, run under TSan as well).
#include "sched/handoff_list.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using pulse::detail::handoff_list;

struct node {
  node* next = nullptr;
  int producer = 0;
  int sequence = 0;
};

std::vector<int> sequences(node* chain) {
  std::vector<int> out;
  for (; chain != nullptr; chain = chain->next) {
    out.push_back(chain->sequence);
  }
  return out;
}

TEST_CASE("one producer: taken all at once, oldest first", "[handoff]") {
  handoff_list<node> list;
  CHECK(list.looks_empty());
  CHECK(list.take_all() == nullptr);
  std::vector<node> nodes(5);
  for (int i = 0; i < 5; ++i) {
    nodes[i].sequence = i;
    list.push(nodes[i]);
  }
  CHECK_FALSE(list.looks_empty());
  CHECK(sequences(list.take_all()) == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(list.looks_empty());
  list.push(nodes[3]);  // a node taken can be handed over again
  list.push(nodes[1]);
  CHECK(sequences(list.take_all()) == std::vector<int>{3, 1});
  CHECK(list.take_all() == nullptr);
}

TEST_CASE("four producers and a taking owner: every node once, each producer's in order", "[handoff]") {
  constexpr int producers = 4;
  constexpr int per_producer = 20000;
  handoff_list<node> list;
  std::vector<std::vector<node>> nodes(producers, std::vector<node>(per_producer));
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        nodes[p][i].producer = p;
        nodes[p][i].sequence = i;
        list.push(nodes[p][i]);
      }
      finished.fetch_add(1, std::memory_order_release);
    });
  }
  // Checked on this thread only (Catch2's assertions are not thread-safe).
  std::vector<int> next_expected(producers, 0);
  bool in_order = true;
  int taken = 0;
  while (true) {
    const bool all_pushed = finished.load(std::memory_order_acquire) == producers;
    for (node* chain = list.take_all(); chain != nullptr; chain = chain->next) {
      in_order = in_order && chain->sequence == next_expected[chain->producer];
      ++next_expected[chain->producer];
      ++taken;
    }
    if (all_pushed) {
      break;  // everything pushed before the flag was read is taken by now
    }
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  CHECK(in_order);
  CHECK(taken == producers * per_producer);
  CHECK(list.looks_empty());
}

}  // namespace
