// A persistent pool of worker threads for splitting one kernel call into tiles.
// Threads are created once (and again only when the count changes), never per call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace lowbit {

// While one is alive on a thread, parallel_for calls made from that thread run
// inline: for runs that already own a core each (a batch split across threads),
// where handing tiles to the shared workers would only oversubscribe the cores.
class InlineScope {
 public:
  InlineScope();
  ~InlineScope();
  InlineScope(const InlineScope&) = delete;
  InlineScope& operator=(const InlineScope&) = delete;

 private:
  bool saved_;
};

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The threads a parallel_for called from this thread spreads over (the caller
  // works too): 1 inside an InlineScope, so kernels tile for one core there.
  size_t threads() const;
  // The pool's size, wherever it is asked from.
  size_t size() const { return workers_.size() + 1; }
  // Workers blocked waiting for a call (not spinning, not working).
  size_t sleeping_workers();

  // Runs task(0..count-1), each index exactly once, spread over the workers and
  // the calling thread (indices are handed out one at a time, so a worker that
  // starts late does fewer); returns when all are done. If another call is using
  // the pool (a second thread calling in), this one runs inline on its own thread.
  // After a call, workers spin for a short while (when there is a core for each
  // thread) before sleeping, so back-to-back calls skip the wake-up latency.
  // wake_sleeping = false (for short calls): leave workers that are asleep
  // asleep, since waking one costs the caller 5-35 us and the worker starts
  // 10-100 us later, longer than a short call lasts; the caller and the spinning
  // workers do the work. Unless calls come back to back (the previous one ended
  // moments ago): then they are woken, and spin through the calls that follow.
  // after: what the workers do once this call is done. kSpin suits kernel
  // tiles (the next layer calls again within microseconds). kSleep suits a call
  // that hands each thread a whole run (a batch split): the next call is far
  // off, and a spinning worker holds a core that the event loop or a libuv
  // worker needs. The kernel does not preempt a spinner for a thread it wakes
  // on that core, so a libuv worker queued behind one waited up to 2.5 ms.
  enum class After { kSpin, kSleep };
  void parallel_for(size_t count, const std::function<void(size_t)>& task, bool wake_sleeping = true,
                    After after = After::kSpin);

 private:
  // Per worker: the core it went to sleep on (-1 while awake), and whether a
  // caller narrowed its affinity to wake it elsewhere.
  struct WorkerSlot {
    std::atomic<int> cpu{-1};
    std::atomic<bool> steered{false};
  };

  void worker_loop(WorkerSlot& slot);
  void drain();
  bool spin_for_work(size_t seen) const;
  static int current_cpu();
  void steer_sleepers_off_this_cpu();
  void restore_affinity();

  std::vector<std::thread> workers_;
  std::unique_ptr<WorkerSlot[]> slots_;
  std::mutex busy_;           // one parallel_for at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> finished_{0};
  size_t generation_ = 0;
  std::atomic<size_t> published_{0};  // generation_, readable without the mutex (spinning)
  size_t active_workers_ = 0;
  size_t sleeping_ = 0;               // workers blocked on wake_
  bool spin_ = false;                 // one core per thread: spinning costs no one
  After after_ = After::kSpin;        // the latest call's, read by workers under mutex_
  int64_t last_end_ns_ = 0;           // when the last parallel_for returned (under busy_)
  bool stop_ = false;
#if defined(__linux__)
  cpu_set_t affinity_;
  bool has_affinity_ = false;
#endif
};

// The process-wide pool the ops use. set_threads(0) means one per core.
ThreadPool& default_thread_pool();
void set_threads(size_t n);
size_t hardware_threads();

}  // namespace lowbit
