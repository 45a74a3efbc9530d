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

void gemm_parallel(const GemmPath& path, const GemmArgs& args, ThreadPool& pool) {
  const size_t m = args.m, n = args.b->n;
  const size_t threads = pool.threads();
  // Below ~64K multiply-adds a thread hand-off costs more than it saves.
  const size_t work = m * n * args.b->k;
  if (threads <= 1 || work < (size_t{1} << 16)) {
    path.run(args, 0, m, 0, n);
    return;
  }
  const size_t nr = path.nr, mr = path.mr;
  const size_t n_panels = (n + nr - 1) / nr;
  const size_t m_blocks = (m + mr - 1) / mr;
  // Split along N when there are enough column panels (each thread then streams
  // its own share of the weights), otherwise along M.
  if (n_panels >= threads || n_panels >= m_blocks) {
    const size_t tasks = n_panels < threads ? n_panels : threads;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t p0 = n_panels * t / tasks, p1 = n_panels * (t + 1) / tasks;
      const size_t n0 = p0 * nr, n1 = p1 * nr < n ? p1 * nr : n;
      if (n0 < n1) path.run(args, 0, m, n0, n1);
    });
  } else {
    const size_t tasks = m_blocks < threads ? m_blocks : threads;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t b0 = m_blocks * t / tasks, b1 = m_blocks * (t + 1) / tasks;
      const size_t m0 = b0 * mr, m1 = b1 * mr < m ? b1 * mr : m;
      if (m0 < m1) path.run(args, m0, m1, 0, n);
    });
  }
}

}  // namespace lowbit
