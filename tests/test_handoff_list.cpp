// lib/sched/handoff_list.hpp: the list through which a worker hands tasks of its I/O completions to
// another. Covers: empty, then one producer's nodes taken oldest first; nodes pushed after a take
// come out in the next one; four producers pushing while the owner takes, every node taken exactly
// once and each producer's nodes in its own order; two takers at once, every node taken by exactly
// one (stress, run under TSan as well).
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

// `producers` threads, each pushing its own `per_producer` nodes (numbered in order) onto `list`.
class pushing_threads {
public:
  pushing_threads(handoff_list<node>& list, int producers, int per_producer)
      : m_nodes(producers, std::vector<node>(per_producer)) {
    for (int p = 0; p < producers; ++p) {
      m_threads.emplace_back([this, &list, p] {
        for (std::size_t i = 0; i < m_nodes[p].size(); ++i) {
          m_nodes[p][i].producer = p;
          m_nodes[p][i].sequence = static_cast<int>(i);
          list.push(m_nodes[p][i]);
        }
        m_finished.fetch_add(1, std::memory_order_release);
      });
    }
  }
  pushing_threads(const pushing_threads&) = delete;
  pushing_threads& operator=(const pushing_threads&) = delete;
  ~pushing_threads() { join(); }
  // Whether every node has been pushed; what was pushed before a true answer is visible after it.
  bool all_pushed() const { return m_finished.load(std::memory_order_acquire) == static_cast<int>(m_nodes.size()); }
  void join() {
    for (std::thread& thread : m_threads) {
      if (thread.joinable()) {
        thread.join();
      }
    }
  }

private:
  std::vector<std::vector<node>> m_nodes;
  std::atomic<int> m_finished{0};
  std::vector<std::thread> m_threads;
};

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
  pushing_threads pushers(list, producers, per_producer);
  // Checked on this thread only (Catch2's assertions are not thread-safe).
  std::vector<int> next_expected(producers, 0);
  bool in_order = true;
  int taken = 0;
  while (true) {
    const bool all_pushed = pushers.all_pushed();
    for (node* chain = list.take_all(); chain != nullptr; chain = chain->next) {
      in_order = in_order && chain->sequence == next_expected[chain->producer];
      ++next_expected[chain->producer];
      ++taken;
    }
    if (all_pushed) {
      break;  // everything pushed before the flag was read is taken by now
    }
  }
  pushers.join();
  CHECK(in_order);
  CHECK(taken == producers * per_producer);
  CHECK(list.looks_empty());
}

TEST_CASE("two takers at once: every node taken by exactly one of them", "[handoff]") {
  // Searching workers take from other workers' lists, so a list may have several takers.
  constexpr int producers = 2;
  constexpr int per_producer = 20000;
  handoff_list<node> list;
  pushing_threads pushers(list, producers, per_producer);
  // Each taker counts what it took per node; checked on this thread once both are done.
  auto take_until_all_pushed = [&](std::vector<std::vector<int>>& taken) {
    taken.assign(producers, std::vector<int>(per_producer, 0));
    while (true) {
      const bool all_pushed = pushers.all_pushed();
      for (node* chain = list.take_all(); chain != nullptr; chain = chain->next) {
        ++taken[chain->producer][chain->sequence];
      }
      if (all_pushed) {
        return;
      }
    }
  };
  std::vector<std::vector<int>> taken_there;
  std::thread other_taker([&] { take_until_all_pushed(taken_there); });
  std::vector<std::vector<int>> taken_here;
  take_until_all_pushed(taken_here);
  other_taker.join();
  pushers.join();
  int taken_once = 0;
  for (int p = 0; p < producers; ++p) {
    for (int i = 0; i < per_producer; ++i) {
      taken_once += taken_here[p][i] + taken_there[p][i] == 1 ? 1 : 0;
    }
  }
  CHECK(taken_once == producers * per_producer);
  CHECK(list.looks_empty());
}

}  // namespace
