// A floor for per-node latent-work bookkeeping, not a runtime: the least a heartbeat pcall must do
// at every node, on one thread, written the way Spice does it (the worker's context passed as a
// parameter, a job list threaded through the callers' frames). At each inner node: record the right
// subtree as a job (its argument, its state, a link to the previous job; the list's top), test the
// heartbeat flag, recurse left, unlink the job and test whether a heartbeat promoted it. No thief
// exists, so a promoted job just runs here; but the heartbeat tick is out of line and walks the
// list, so the compiler must keep every store. pulse::pcall does all of this and more (a thread_local
// to find the worker, an entry array a signal handler can promote from, the fork counter), so its
// time over serial can only be larger: this is what says how low a per-node pcall can go on a
// given tree, whatever its runtime.
#pragma once

#include "tree_sum/tree_sum.hpp"

#include <atomic>

namespace pulse_bench {

struct floor_job {
  const tree_node* subtree;
  floor_job* previous;
  int state;  // 0 latent, 1 promoted by a heartbeat
};

struct floor_worker {
  floor_job* top = nullptr;
  std::atomic<bool> heartbeat_due{false};  // set by nobody here: a heartbeat runtime's flag
  long promotions = 0;
};

// Promotes the oldest latent job, as a heartbeat would.
[[gnu::noinline, gnu::cold]] inline void floor_heartbeat(floor_worker& worker) {
  worker.heartbeat_due.store(false, std::memory_order_relaxed);
  floor_job* oldest = nullptr;
  for (floor_job* job = worker.top; job != nullptr; job = job->previous) {
    if (job->state == 0) {
      oldest = job;
    }
  }
  if (oldest != nullptr) {
    oldest->state = 1;
    ++worker.promotions;
  }
}

long floor_tree_sum(floor_worker& worker, const tree_node* node);

// A promoted job coming back: a runtime would take it from its deque, or wait for the thief that
// did; with no thief here it is taken back and run.
[[gnu::noinline, gnu::cold]] inline long floor_take_back_promoted(floor_worker& worker, const floor_job& job) {
  --worker.promotions;
  return floor_tree_sum(worker, job.subtree);
}

inline long floor_tree_sum(floor_worker& worker, const tree_node* node) {
  if (node->left == nullptr) {
    return node->value;
  }
  floor_job job{node->right, worker.top, 0};
  worker.top = &job;
  if (worker.heartbeat_due.load(std::memory_order_relaxed)) [[unlikely]] {
    floor_heartbeat(worker);
  }
  const long left = floor_tree_sum(worker, node->left);
  worker.top = job.previous;
  const long right = job.state != 0 ? floor_take_back_promoted(worker, job) : floor_tree_sum(worker, job.subtree);
  return node->value + left + right;
}

}  // namespace pulse_bench
