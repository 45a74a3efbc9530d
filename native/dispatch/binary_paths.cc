// The table of compiled binary kernel paths. Each path's translation unit is
// built with its own ISA flags and defines one BinaryPath; this file only looks
// them up, so no instruction is reached on a CPU that lacks it.
//
// Binary kernels need fewer ISA variants than the int8 GEMM: AVX-VNNI adds
// nothing to xor/popcount, so the avxvnni kernel path runs the AVX2 binary
// kernels; avx512vnni and amx run the AVX-512 VPOPCNTDQ kernels when the CPU
// has VPOPCNTDQ (Ice Lake and later, Zen 4) and the AVX2 ones otherwise
// (Cascade Lake); neondot runs the NEON ones.
#include "lowbit/binary.h"

namespace lowbit {

namespace ref { extern const BinaryPath kBinaryPath; }
#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const BinaryPath kBinaryPath; }
#endif
#if LOWBIT_HAVE_AVX512VPOPCNT
namespace avx512vpopcnt { extern const BinaryPath kBinaryPath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const BinaryPath kBinaryPath; }
#endif

const std::vector<const BinaryPath*>& binary_paths() {
  static const std::vector<const BinaryPath*> paths = {
      &ref::kBinaryPath,
#if LOWBIT_HAVE_AVX2
      &avx2::kBinaryPath,
#endif
#if LOWBIT_HAVE_AVX512VPOPCNT
      &avx512vpopcnt::kBinaryPath,
#endif
#if LOWBIT_HAVE_NEON
      &neon::kBinaryPath,
#endif
  };
  return paths;
}

const BinaryPath& binary_ref_path() { return ref::kBinaryPath; }

namespace {
// The first entry that is compiled and supported, else ref.
const BinaryPath& first_supported(std::initializer_list<const BinaryPath*> candidates) {
  for (const BinaryPath* p : candidates) {
    if (p != nullptr && p->supported()) return *p;
  }
  return ref::kBinaryPath;
}

#if LOWBIT_HAVE_AVX2
const BinaryPath* const kAvx2 = &avx2::kBinaryPath;
#else
const BinaryPath* const kAvx2 = nullptr;
#endif
#if LOWBIT_HAVE_AVX512VPOPCNT
const BinaryPath* const kAvx512 = &avx512vpopcnt::kBinaryPath;
#else
const BinaryPath* const kAvx512 = nullptr;
#endif
#if LOWBIT_HAVE_NEON
const BinaryPath* const kNeon = &neon::kBinaryPath;
#else
const BinaryPath* const kNeon = nullptr;
#endif
}  // namespace

const BinaryPath& binary_path_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
    case Isa::kAvxVnni: return first_supported({kAvx2});
    case Isa::kAvx512Vnni:
    case Isa::kAmx: return first_supported({kAvx512, kAvx2});
    case Isa::kNeon:
    case Isa::kNeonDot: return first_supported({kNeon});
    default: return ref::kBinaryPath;
  }
}

}  // namespace lowbit
