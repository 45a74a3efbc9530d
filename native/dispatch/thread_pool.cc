#include "lowbit/thread_pool.h"

#include <chrono>
#include <memory>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWBIT_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define LOWBIT_CPU_RELAX() asm volatile("yield" ::: "memory")
#else
#define LOWBIT_CPU_RELAX() ((void)0)
#endif

namespace lowbit {

namespace {
// How long an idle worker (and a caller waiting for its workers) polls before
// blocking. Waking a sleeping thread costs 10-100 us on a VM (futex + IPI to a
// halted vCPU), as much as a whole 256^3 GEMM; layers of a network and benchmark
// loops call again well within this window.
constexpr std::chrono::microseconds kSpin{100};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  // Spinning is free only when no thread of the pool waits for a core.
  spin_ = threads <= hardware_threads();
#if defined(__linux__)
  has_affinity_ = sched_getaffinity(0, sizeof affinity_, &affinity_) == 0;
#endif
  slots_ = std::make_unique<WorkerSlot[]>(threads > 1 ? threads - 1 : 0);
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(slots_[i - 1]); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ++generation_;
    published_.store(generation_, std::memory_order_release);  // ends any spin
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain() {
  for (;;) {
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= count_) return;
    (*task_)(i);
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

// Polls for a call newer than `seen` for up to kSpin; true if one came.
bool ThreadPool::spin_for_work(size_t seen) const {
  if (!spin_) return false;
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (published_.load(std::memory_order_acquire) != seen) return true;
      LOWBIT_CPU_RELAX();
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

void ThreadPool::worker_loop(WorkerSlot& slot) {
  size_t seen = 0;
  After after = After::kSpin;
  for (;;) {
    if (after == After::kSpin) spin_for_work(seen);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!stop_ && generation_ == seen) {
        ++sleeping_;
        slot.cpu.store(current_cpu(), std::memory_order_relaxed);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        --sleeping_;
      }
      if (stop_) return;
      seen = generation_;
      after = after_;
      slot.cpu.store(-1, std::memory_order_relaxed);
      ++active_workers_;
    }
    drain();
    if (slot.steered.exchange(false)) restore_affinity();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_workers_;
    }
    done_.notify_all();
  }
}

namespace {
thread_local bool t_inline = false;
}  // namespace

InlineScope::InlineScope() : saved_(t_inline) { t_inline = true; }
InlineScope::~InlineScope() { t_inline = saved_; }

size_t ThreadPool::threads() const { return t_inline ? 1 : size(); }

size_t ThreadPool::sleeping_workers() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sleeping_;
}

void ThreadPool::parallel_for(size_t count, const std::function<void(size_t)>& task, bool wake_sleeping, After after) {
  if (t_inline) {
    for (size_t i = 0; i < count; ++i) task(i);
    return;
  }
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (count <= 1 || workers_.empty() || !busy.owns_lock()) {
    for (size_t i = 0; i < count; ++i) task(i);
    return;
  }
  // Back to back: this call starts within two spin windows of the last one's end.
  if (!wake_sleeping && now_ns() - last_end_ns_ < 2 * std::chrono::nanoseconds(kSpin).count()) wake_sleeping = true;
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // A worker may still be leaving drain() of an earlier call (one that woke
    // after that call was done): the counters are reset only when none is in it,
    // so every worker reads this call's task under the mutex.
    done_.wait(lock, [&] { return active_workers_ == 0; });
    task_ = &task;
    count_ = count;
    after_ = after;
    next_.store(0);
    finished_.store(0);
    ++generation_;
    published_.store(generation_, std::memory_order_release);
    // A worker counted here is blocked (or about to block) on wake_; the others
    // are spinning or busy and will see the new generation by themselves.
    wake = wake_sleeping && sleeping_ > 0;
  }
  if (wake) {
    if (after == After::kSleep) steer_sleepers_off_this_cpu();
    wake_.notify_all();
  }
  drain();
  if (spin_) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    while (finished_.load(std::memory_order_acquire) != count) {
      for (int i = 0; i < 64; ++i) LOWBIT_CPU_RELAX();
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
  }
  // Wait for every index to finish and every worker to leave drain(), so the
  // next call may reset the counters safely.
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return finished_.load() == count_ && active_workers_ == 0; });
  task_ = nullptr;
  last_end_ns_ = now_ns();
}

// The kernel wakes a thread on the core it last ran on when that core is idle,
// else on the waker's. A worker that last ran on the caller's core lands behind
// the caller (seen on this 2-vCPU VM, whose cores share no cache level in the
// scheduler's view, so it does not look for an idle sibling): it waited until
// the caller's whole part was done, 0.6-1.5 ms, while the other core idled.
// For a whole-run call, sleeping workers are woken with this core taken out of
// their affinity, and put it back once their share of the call is done.
#if defined(__linux__)
int ThreadPool::current_cpu() { return sched_getcpu(); }
void ThreadPool::steer_sleepers_off_this_cpu() {
  if (!has_affinity_ || CPU_COUNT(&affinity_) < 2) return;
  const int here = sched_getcpu();
  if (here < 0 || !CPU_ISSET(here, &affinity_)) return;
  cpu_set_t elsewhere = affinity_;
  CPU_CLR(here, &elsewhere);
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (slots_[i].cpu.load(std::memory_order_relaxed) < 0) continue;  // awake: already placed
    if (pthread_setaffinity_np(workers_[i].native_handle(), sizeof elsewhere, &elsewhere) == 0) slots_[i].steered.store(true);
  }
}
void ThreadPool::restore_affinity() { pthread_setaffinity_np(pthread_self(), sizeof affinity_, &affinity_); }
#else
int ThreadPool::current_cpu() { return -1; }
void ThreadPool::steer_sleepers_off_this_cpu() {}
void ThreadPool::restore_affinity() {}
#endif

size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

namespace {
std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;
}  // namespace

ThreadPool& default_thread_pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(hardware_threads());
  return *g_pool;
}

void set_threads(size_t n) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_pool = std::make_unique<ThreadPool>(n == 0 ? hardware_threads() : n);
}

}  // namespace lowbit
