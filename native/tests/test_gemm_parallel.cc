// gemm_parallel over thread pools of 1 to 5 threads gives the single-threaded
// result bit for bit on every path (splits along M and along N, int32 and
// requantized output), and the pool runs every index exactly once whether its
// workers are spinning, asleep, or busy with another caller.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "harness.h"
#include "lowbit/gemm.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

struct Problem {
  size_t m, n, k;
};

// Above the parallel threshold (~10 us on a path; 2^22 multiply-adds on
// avx512vnni), some above the wake threshold (~150 us; 2^26 on avx512vnni);
// few rows (N split) and many rows (M split) for 2..5 threads.
const Problem kProblems[] = {
    {520, 530, 250},   // 69M: M split, wakes sleeping workers
    {33, 777, 300},    // 7.7M: 5 row tiles of 8: M split at 2 threads, N split at 3+
    {1, 4096, 1100},   // GEMV: N split
    {7, 1000, 700},    // one row tile: N split, short last panel
    {300, 64, 1000},   // two column panels: M split
    {1024, 96, 700},   // 69M, narrow N
};

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& x : v) x = static_cast<uint8_t>(byte(rng()));
  return v;
}

}  // namespace

TEST(gemm_parallel_identical_for_any_thread_count) {
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (size_t t = 2; t <= 5; ++t) pools.push_back(std::make_unique<ThreadPool>(t));
  for (auto isa : isas_under_test()) {
    const GemmPath* path = gemm_path(isa);
    for (const Problem& p : kProblems) {
      // The scalar reference is slow: keep it to the smaller problems.
      if (isa == Isa::kRef && p.m * p.n * p.k > (size_t{1} << 24)) continue;
      for (int variant = 0; variant < 2; ++variant) {
        const bool requant = variant == 1;
        const bool a_signed = variant == 1;
        const std::vector<uint8_t> a = random_bytes(p.m * p.k), b = random_bytes(p.k * p.n);
        std::vector<int32_t> zb(p.n);
        for (size_t j = 0; j < p.n; ++j) zb[j] = static_cast<int32_t>(j % 7) - 3;  // per column: row sums run
        PackedMatrix packed;
        pack_matrix(*path, b.data(), true, p.k, p.n, p.n, zb, &packed);
        Requantization rq;
        rq.mode = RequantMode::kFp32;
        rq.scale.assign(p.n, 0.0f);
        for (size_t j = 0; j < p.n; ++j) rq.scale[j] = 1.0f / static_cast<float>(64 * p.k + 13 * j);
        rq.zero_point = 3;
        rq.qmin = -128;
        rq.qmax = 127;
        rq.out_signed = true;

        GemmArgs g;
        g.m = p.m;
        g.a = a.data();
        g.a_stride = p.k;
        g.a_signed = a_signed;
        g.a_zero_point = a_signed ? -5 : 129;
        g.b = &packed;
        g.rq = requant ? &rq : nullptr;
        g.c_stride = p.n;
        const size_t bytes = p.m * p.n * (requant ? 1 : 4);
        std::vector<uint8_t> want(bytes), got(bytes);
        g.c = want.data();
        gemm(*path, g);
        for (auto& pool : pools) {
          // Twice: once after a pause (workers asleep), once right after (spinning).
          for (int round = 0; round < 2; ++round) {
            if (round == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
            std::memset(got.data(), 0xA5, bytes);
            g.c = got.data();
            gemm_parallel(*path, g, *pool);
            if (std::memcmp(got.data(), want.data(), bytes) != 0) {
              size_t i = 0;
              while (got[i] == want[i]) ++i;
              record_failure(__FILE__, __LINE__,
                             std::string(isa_name(isa)) + " m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
                                 " k=" + std::to_string(p.k) + (requant ? " requantized" : " int32") + ", " +
                                 std::to_string(pool->threads()) + " threads: first difference at byte " +
                                 std::to_string(i));
            }
          }
        }
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(thread_pool_runs_every_index_once) {
  for (size_t threads : {2, 3, 8}) {  // 8 > cores on small machines: no spinning
    ThreadPool pool(threads);
    for (int call = 0; call < 200; ++call) {
      const size_t count = 1 + static_cast<size_t>(call % 37);
      std::vector<std::atomic<int>> hits(count);
      for (auto& h : hits) h.store(0);
      pool.parallel_for(count, [&](size_t i) { hits[i].fetch_add(1); }, call % 3 != 0);
      for (size_t i = 0; i < count; ++i) CHECK_EQ(hits[i].load(), 1);
      // Now and then let the workers fall asleep between calls.
      if (call % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      RETURN_IF_FAILED();
    }
  }
}

#if defined(__linux__)
// A whole-run call (After::kSleep) wakes a sleeping worker away from the
// caller's core, so the two halves run side by side; the worker gets its full
// affinity back before the call returns, and every index still runs once.
TEST(thread_pool_whole_run_calls_wake_workers_on_another_core) {
  cpu_set_t all;
  CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
  if (CPU_COUNT(&all) < 2) return;  // one core: nothing to steer
  // (Made before the caller is pinned: its worker and its idea of the allowed cores are all of them.)
  ThreadPool pool(2);
  // The caller stays on one core, so "another core" is well defined even on a
  // busy machine where the scheduler would move it.
  const int caller_cpu = sched_getcpu();
  cpu_set_t here;
  CPU_ZERO(&here);
  CPU_SET(caller_cpu, &here);
  CHECK(pthread_setaffinity_np(pthread_self(), sizeof here, &here) == 0);
  {
    const std::thread::id me = std::this_thread::get_id();
    int worked = 0;
    for (int round = 0; round < 20; ++round) {
      // The worker asleep (its spin after the last call over), as between two requests.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (pool.sleeping_workers() < 1 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      // (A CI host once kept the worker from reaching its sleep for 2 s: such a
      // round says nothing about waking, and is left out.)
      if (pool.sleeping_workers() < 1) continue;
      std::atomic<int> worker_cpu{-1};
      std::vector<std::atomic<int>> hits(2);
      for (auto& h : hits) h.store(0);
      pool.parallel_for(2, [&](size_t i) {
        hits[i].fetch_add(1);
        if (std::this_thread::get_id() != me) worker_cpu.store(sched_getcpu());
        // Long enough (busy) that the caller cannot take both halves before the worker wakes
        // (a wake-up from a long sleep took over 0.5 ms here).
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(3);
        while (std::chrono::steady_clock::now() < end) {
        }
      }, true, ThreadPool::After::kSleep);
      CHECK_EQ(hits[0].load(), 1);
      CHECK_EQ(hits[1].load(), 1);
      // Without the steering the worker ran behind the caller, on its core, in about half the rounds.
      // Whenever the worker took a half, it ran it on another core. (Now and then the
      // host leaves the other vCPU off for milliseconds and the caller does both.)
      if (worker_cpu.load() >= 0) {
        ++worked;
        CHECK(worker_cpu.load() != caller_cpu);
      }
      // The next call (kernel tiles) finds the worker with its whole affinity again.
      std::atomic<bool> restored{true};
      pool.parallel_for(64, [&](size_t) {
        if (std::this_thread::get_id() == me) return;
        cpu_set_t mine;
        if (pthread_getaffinity_np(pthread_self(), sizeof mine, &mine) != 0 || !CPU_EQUAL(&mine, &all)) restored.store(false);
      });
      CHECK(restored.load());
      RETURN_IF_FAILED();
    }
    // A host that never let the worker sleep, or take a half, tells nothing either way.
    if (worked == 0) skip("the worker never slept and then took a half of a call here");
  }
  CHECK(pthread_setaffinity_np(pthread_self(), sizeof all, &all) == 0);
}
#endif

TEST(thread_pool_second_caller_runs_inline) {
  ThreadPool pool(2);
  std::atomic<size_t> total{0};
  auto caller = [&] {
    for (int call = 0; call < 300; ++call) pool.parallel_for(5, [&](size_t i) { total.fetch_add(i + 1); });
  };
  std::thread other(caller);
  caller();
  other.join();
  CHECK_EQ(total.load(), size_t{2 * 300 * 15});
}

TEST(thread_pool_inline_scope_keeps_tasks_on_the_calling_thread) {
  ThreadPool pool(3);
  const std::thread::id me = std::this_thread::get_id();
  std::vector<std::thread::id> ran(64);
  {
    InlineScope scope;
    {
      InlineScope nested;  // nesting keeps it on
    }
    // Kernels size their tiles from threads(): one core here, the whole pool outside.
    CHECK(pool.threads() == 1);
    CHECK(pool.size() == 3);
    pool.parallel_for(ran.size(), [&](size_t i) {
      // Long enough that the workers would take some of the indices.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      ran[i] = std::this_thread::get_id();
    });
  }
  for (const auto& id : ran) CHECK(id == me);
  CHECK(pool.threads() == 3);
  // Out of the scope the pool splits again: some index runs on a worker.
  std::vector<std::thread::id> split(64);
  pool.parallel_for(split.size(), [&](size_t i) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    split[i] = std::this_thread::get_id();
  });
  bool worker = false;
  for (const auto& id : split) worker = worker || id != me;
  CHECK(worker);
}
