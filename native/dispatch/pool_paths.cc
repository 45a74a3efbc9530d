// The table of compiled pooling paths (see elementwise_paths.cc for the family
// rules: avxvnni -> avx2, amx -> avx512, neondot -> neon).
#include "lowbit/pool.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const PoolPath kPoolPath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512 { extern const PoolPath kPoolPath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const PoolPath kPoolPath; }
#endif

const PoolPath& pool_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      if (cpu_supports(Isa::kAvx2)) return avx2::kPoolPath;
      break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      if (cpu_supports(Isa::kAvx512Vnni)) return avx512::kPoolPath;
      break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      if (cpu_supports(Isa::kNeon)) return neon::kPoolPath;
      break;
#endif
    default: break;
  }
  return ref::kPoolPath;
}

}  // namespace lowbit
