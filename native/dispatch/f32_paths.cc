// The table of compiled fp32 paths, B packing, and the GEMM driver that splits
// a call into tiles over the thread pool. Each path's kernels live in its ISA's
// translation units; this file only looks them up, so no ISA-specific
// instruction is reached on a CPU that lacks it.
#include <algorithm>
#include <cstring>

#include "lowbit/gemm_f32.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

namespace ref { extern const F32Path kF32Path; }
#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const F32Path kF32Path; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const F32Path kF32Path; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const F32Path kF32Path; }
#endif

const std::vector<const F32Path*>& f32_paths() {
  static const std::vector<const F32Path*> paths = {
      &ref::kF32Path,
#if LOWBIT_HAVE_AVX2
      &avx2::kF32Path,
#endif
#if LOWBIT_HAVE_AVX512VNNI
      &avx512vnni::kF32Path,
#endif
#if LOWBIT_HAVE_NEON
      &neon::kF32Path,
#endif
  };
  return paths;
}

const F32Path& f32_ref_path() { return ref::kF32Path; }

namespace {
const F32Path* supported_or_null(const F32Path* p) { return p != nullptr && p->supported() ? p : nullptr; }
}  // namespace

const F32Path& f32_path_for(Isa isa) {
  const F32Path* p = nullptr;
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni: p = supported_or_null(&avx2::kF32Path); break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx: p = supported_or_null(&avx512vnni::kF32Path); break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot: p = supported_or_null(&neon::kF32Path); break;
#endif
    default: break;
  }
  return p != nullptr ? *p : ref::kF32Path;
}

void pack_f32_matrix(const F32Path& path, const float* b, size_t k, size_t n, size_t row_stride,
                     size_t col_stride, const float* bias, PackedF32Matrix* out) {
  out->k = k;
  out->n = n;
  out->nr = path.nr;
  out->has_bias = bias != nullptr;
  const size_t panels = (n + path.nr - 1) / path.nr;
  out->data.resize(std::max<size_t>(1, panels * path.nr * k) * sizeof(float));
  out->bias.resize(panels * path.nr * sizeof(float));
  auto* dst = static_cast<float*>(out->data.data());
  for (size_t p = 0; p < panels; ++p) {
    const size_t width = out->panel_width(p), col0 = p * path.nr;
    const size_t cols = std::min(n - col0, width);
    float* panel = dst + p * path.nr * k;
    for (size_t x = 0; x < k; ++x) {
      for (size_t j = 0; j < cols; ++j) panel[x * width + j] = b[x * row_stride + (col0 + j) * col_stride];
    }
  }
  if (bias != nullptr) std::memcpy(out->bias.data(), bias, n * sizeof(float));
}

namespace {
// Below this many multiply-adds (~20 us on one avx512 core) one thread is done
// before a second could help: handing work to a worker costs 5-30 us.
constexpr size_t kMinParallelWork = size_t{1} << 20;
// Below this many (~300 us), workers that are asleep are left asleep (waking
// one costs the caller ~30 us on a VM); workers still spinning do help.
constexpr size_t kMinWakeWork = size_t{1} << 24;
constexpr size_t kTasksPerThread = 4;
}  // namespace

void gemm_f32(const F32Path& path, const F32GemmArgs& args, ThreadPool* pool) {
  const size_t m = args.m, n = args.b->n;
  if (m == 0 || n == 0) return;
  const size_t threads = pool != nullptr ? pool->threads() : 1;
  const size_t work = m * n * args.b->k;
  if (threads <= 1 || work < kMinParallelWork) {
    path.gemm(args, 0, m, 0, n);
    return;
  }
  const size_t nr = path.nr, mr = path.mr;
  const size_t n_panels = (n + nr - 1) / nr;
  const size_t m_blocks = (m + mr - 1) / mr;
  const size_t want = threads * kTasksPerThread;
  const bool wake = work >= kMinWakeWork;
  // Split along M when there are row tiles enough (each task reads its own rows
  // of A once and the shared packed weights from cache); along N for few rows.
  // Every output element is computed by one tile, the same way, either way.
  if (m_blocks >= 2 * threads || m_blocks >= n_panels) {
    const size_t tasks = std::min(m_blocks, want);
    pool->parallel_for(tasks, [&](size_t t) {
      const size_t b0 = m_blocks * t / tasks, b1 = m_blocks * (t + 1) / tasks;
      const size_t m0 = b0 * mr, m1 = std::min(m, b1 * mr);
      if (m0 < m1) path.gemm(args, m0, m1, 0, n);
    }, wake);
  } else {
    const size_t tasks = std::min(n_panels, want);
    pool->parallel_for(tasks, [&](size_t t) {
      const size_t p0 = n_panels * t / tasks, p1 = n_panels * (t + 1) / tasks;
      const size_t n0 = p0 * nr, n1 = std::min(n, p1 * nr);
      if (n0 < n1) path.gemm(args, 0, m, n0, n1);
    }, wake);
  }
}

}  // namespace lowbit
