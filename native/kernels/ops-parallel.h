// Splitting a memory-bound operation (elementwise, pooling, data movement)
// over the thread pool: contiguous ranges of independent work items, so the
// split never changes a result. Small calls stay on the calling thread: a
// hand-off costs 5-30 us, about what 2^17 float operations take.
#pragma once

#include <cstddef>

#include "lowbit/thread_pool.h"

namespace lowbit {

// Elements per work item when one long row is cut into pieces.
constexpr size_t kElementwiseChunk = 16384;
// Below this much work (elements touched) one thread does it all.
constexpr size_t kParallelElements = size_t{1} << 17;
// Below this much work, workers that sleep are left asleep.
constexpr size_t kWakeElements = size_t{1} << 20;

// Calls f(i0, i1) over a partition of [0, items); `work` sizes the call.
template <typename F>
void parallel_ranges(ThreadPool* pool, size_t items, size_t work, const F& f) {
  if (items == 0) return;
  const size_t threads = pool == nullptr ? 1 : pool->threads();
  if (threads <= 1 || items <= 1 || work < kParallelElements) {
    f(size_t{0}, items);
    return;
  }
  const size_t want = threads * 4;
  const size_t tasks = items < want ? items : want;
  pool->parallel_for(
      tasks, [&](size_t t) { f(items * t / tasks, items * (t + 1) / tasks); }, work >= kWakeElements);
}

}  // namespace lowbit
