// A persistent pool of worker threads for splitting one kernel call into tiles.
// Threads are created once (and again only when the count changes), never per call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lowbit {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t threads() const { return workers_.size() + 1; }  // the caller works too

  // Runs task(0..count-1), each index exactly once, spread over the workers and
  // the calling thread; returns when all are done. If another call is using the
  // pool (a second thread calling in), this one runs inline on its own thread.
  void parallel_for(size_t count, const std::function<void(size_t)>& task);

 private:
  void worker_loop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex busy_;           // one parallel_for at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> finished_{0};
  size_t generation_ = 0;
  size_t active_workers_ = 0;
  bool stop_ = false;
};

// The process-wide pool the ops use. set_threads(0) means one per core.
ThreadPool& default_thread_pool();
void set_threads(size_t n);
size_t hardware_threads();

}  // namespace lowbit
