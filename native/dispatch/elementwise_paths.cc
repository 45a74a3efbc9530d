// The table of compiled elementwise kernel paths. Each ISA's translation unit
// is built with its own flags; this file only picks one, so no instruction is
// reached on a CPU that lacks it. Float elementwise kernels need no VNNI:
// avxvnni runs the AVX2 kernels, amx the AVX-512 ones, neondot the NEON ones.
#include "lowbit/elementwise.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const ElementwisePath kElementwisePath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512 { extern const ElementwisePath kElementwisePath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const ElementwisePath kElementwisePath; }
#endif

const ElementwisePath& elementwise_ref_path() { return ref::kElementwisePath; }

const ElementwisePath& elementwise_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      if (cpu_supports(Isa::kAvx2)) return avx2::kElementwisePath;
      break;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      if (cpu_supports(Isa::kAvx512Vnni)) return avx512::kElementwisePath;
      break;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      if (cpu_supports(Isa::kNeon)) return neon::kElementwisePath;
      break;
#endif
    default: break;
  }
  return ref::kElementwisePath;
}

}  // namespace lowbit
