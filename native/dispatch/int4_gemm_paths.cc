// The table of compiled int4 GEMM paths and the driver that splits a call over
// the thread pool. The packed layout is the same for every path, so a matrix
// packed once runs on whichever path is active.
#include <algorithm>

#include "lowbit/int4_gemm.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

namespace ref { extern const Int4Path kInt4Path; }
#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const Int4Path kInt4Path; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const Int4Path kInt4Path; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const Int4Path kInt4Path; }
#endif

const std::vector<const Int4Path*>& int4_paths() {
  static const std::vector<const Int4Path*> paths = {
      &ref::kInt4Path,
#if LOWBIT_HAVE_AVX2
      &avx2::kInt4Path,
#endif
#if LOWBIT_HAVE_AVX512VNNI
      &avx512vnni::kInt4Path,
#endif
#if LOWBIT_HAVE_NEON
      &neon::kInt4Path,
#endif
  };
  return paths;
}

namespace {
const Int4Path* supported_or_null(const Int4Path* p) { return p != nullptr && p->supported() ? p : nullptr; }
}  // namespace

const Int4Path& int4_path_for(Isa isa) {
  const Int4Path* p = nullptr;
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni: p = supported_or_null(&avx2::kInt4Path); break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx: p = supported_or_null(&avx512vnni::kInt4Path); break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot: p = supported_or_null(&neon::kInt4Path); break;
#endif
    default: break;
  }
  return p != nullptr ? *p : ref::kInt4Path;
}

namespace {
// Same thresholds as gemm_f32 (f32_paths.cc): below ~1M multiply-adds a second
// thread costs more than it saves; below ~16M sleeping workers stay asleep.
constexpr size_t kMinParallelWork = size_t{1} << 20;
constexpr size_t kMinWakeWork = size_t{1} << 24;
constexpr size_t kTasksPerThread = 4;
}  // namespace

void int4_gemm(const Int4Path& path, const Int4GemmArgs& args, ThreadPool* pool) {
  const size_t m = args.m, n = args.w->n;
  if (m == 0 || n == 0) return;
  const size_t tiles = args.w->tiles();
  const size_t threads = pool != nullptr ? pool->threads() : 1;
  const size_t work = m * n * std::max<size_t>(1, args.w->k);
  if (threads <= 1 || work < kMinParallelWork) {
    path.gemm(args, 0, m, 0, tiles);
    return;
  }
  // Tiles first (each task streams its own weights once, the memory-bound
  // GEMV case); rows too when there are fewer tiles than tasks wanted.
  const size_t want = threads * kTasksPerThread;
  const size_t tile_tasks = std::min(tiles, want);
  const size_t row_blocks = (m + path.mr - 1) / path.mr;
  const size_t row_tasks = std::min(row_blocks, std::max<size_t>(1, want / tile_tasks));
  pool->parallel_for(tile_tasks * row_tasks, [&](size_t task) {
    const size_t tt = task % tile_tasks, rt = task / tile_tasks;
    const size_t t0 = tiles * tt / tile_tasks, t1 = tiles * (tt + 1) / tile_tasks;
    const size_t m0 = std::min(m, row_blocks * rt / row_tasks * path.mr);
    const size_t m1 = std::min(m, row_blocks * (rt + 1) / row_tasks * path.mr);
    if (t0 < t1 && m0 < m1) path.gemm(args, m0, m1, t0, t1);
  }, work >= kMinWakeWork);
}

}  // namespace lowbit
