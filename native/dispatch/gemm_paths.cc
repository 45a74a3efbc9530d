// The table of compiled GEMM paths. Each ISA's translation unit is built with its
// own flags and registers one GemmPath; this file only looks them up, so no
// ISA-specific instruction is ever reached on a CPU that lacks it.
#include "lowbit/gemm.h"

#include "lowbit/thread_pool.h"

namespace lowbit {

namespace ref { extern const GemmPath kGemmPath; }
#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const GemmPath kGemmPath; }
#endif
#if LOWBIT_HAVE_AVXVNNI
namespace avxvnni { extern const GemmPath kGemmPath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const GemmPath kGemmPath; }
#endif
#if LOWBIT_HAVE_AMX
namespace amx { extern const GemmPath kGemmPath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const GemmPath kGemmPath; }
#endif
#if LOWBIT_HAVE_NEONDOT
namespace neondot { extern const GemmPath kGemmPath; }
#endif

const GemmPath* gemm_path(Isa isa) {
  switch (isa) {
    case Isa::kRef: return &ref::kGemmPath;
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2: return &avx2::kGemmPath;
#endif
#if LOWBIT_HAVE_AVXVNNI
    case Isa::kAvxVnni: return &avxvnni::kGemmPath;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni: return &avx512vnni::kGemmPath;
#endif
#if LOWBIT_HAVE_AMX
    case Isa::kAmx: return &amx::kGemmPath;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon: return &neon::kGemmPath;
#endif
#if LOWBIT_HAVE_NEONDOT
    case Isa::kNeonDot: return &neondot::kGemmPath;
#endif
    default: return nullptr;
  }
}

void pack_matrix(const GemmPath& path, const void* b, bool b_signed, size_t k, size_t n,
                 size_t b_stride, const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  out->isa = path.isa;
  out->k = k;
  out->n = n;
  out->b_signed = b_signed;
  out->zero_point = zero_point;
  path.pack(b, b_signed, k, n, b_stride, zero_point, out);
}

void gemm(const GemmPath& path, const GemmArgs& args) {
  path.run(args, 0, args.m, 0, args.b->n);
}

namespace {
// A path's rough single-core speed, in multiply-adds per microsecond, to turn a
// call's size into time (x86: measured at 512^3 on the project's AMD EPYC,
// Zen 5; ARM: the order of a Cortex-A72 and an A76). Only the thresholds below use it.
double macs_per_us(Isa isa) {
  switch (isa) {
    case Isa::kAvx2: return 8e4;
    case Isa::kAvxVnni: return 2e5;
    case Isa::kAvx512Vnni: return 4e5;
    case Isa::kAmx: return 4e5;  // not timed on hardware: at least the VNNI rate
    case Isa::kNeon: return 1.5e4;
    case Isa::kNeonDot: return 5e4;
    default: return 2e3;  // ref
  }
}
// Calls shorter than this run on the calling thread alone: handing work to a
// worker costs a few microseconds even when it is spinning.
constexpr double kMinParallelUs = 10;
// Calls shorter than this leave workers that are asleep asleep (unless calls
// come back to back, see ThreadPool::parallel_for): on a VM, waking one costs
// the caller ~30 us and the worker starts ~80 us later.
constexpr double kMinWakeUs = 150;
// Tasks per thread. The pool hands tasks out one at a time, so a thread that
// starts late (woken from sleep) or shares its core with another process does
// fewer of them, instead of the whole call waiting for its one big share.
constexpr size_t kTasksPerThread = 4;
}  // namespace

void gemm_parallel(const GemmPath& path, const GemmArgs& args, ThreadPool& pool) {
  const size_t m = args.m, n = args.b->n;
  const size_t threads = pool.threads();
  const double us = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(args.b->k) /
                    macs_per_us(path.isa);
  if (threads <= 1 || us < kMinParallelUs) {
    path.run(args, 0, m, 0, n);
    return;
  }
  const size_t nr = path.nr, mr = path.mr;
  const size_t n_panels = (n + nr - 1) / nr;
  const size_t m_blocks = (m + mr - 1) / mr;
  const size_t want = threads * kTasksPerThread;
  const bool wake = us >= kMinWakeUs;
  // Split along M when there are row tiles enough for every thread: each task
  // reads its own rows of A once and writes whole rows of C, and the packed
  // weights, shared, are read from cache by each core (at 1024^3 on 2 cores:
  // 1.97x one thread, against 1.88x for two column halves). With few rows
  // (GEMV, small batches) split along N: each task streams its own share of
  // the weights. Any split gives the same result: every output element is
  // computed by exactly one tile, the same way.
  if (m_blocks >= 2 * threads || m_blocks >= n_panels) {
    const size_t tasks = m_blocks < want ? m_blocks : want;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t b0 = m_blocks * t / tasks, b1 = m_blocks * (t + 1) / tasks;
      const size_t m0 = b0 * mr, m1 = b1 * mr < m ? b1 * mr : m;
      if (m0 < m1) path.run(args, m0, m1, 0, n);
    }, wake);
  } else {
    const size_t tasks = n_panels < want ? n_panels : want;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t p0 = n_panels * t / tasks, p1 = n_panels * (t + 1) / tasks;
      const size_t n0 = p0 * nr, n1 = p1 * nr < n ? p1 * nr : n;
      if (n0 < n1) path.run(args, 0, m, n0, n1);
    }, wake);
  }
}

}  // namespace lowbit
