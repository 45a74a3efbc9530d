// The table of compiled GEMM paths. Each ISA's translation unit is built with its
// own flags and registers one GemmPath; this file only looks them up, so no
// ISA-specific instruction is ever reached on a CPU that lacks it.
#include "lowbit/gemm.h"

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

}  // namespace lowbit
