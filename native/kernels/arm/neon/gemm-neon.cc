// The plain-NEON GEMM path (Isa::kNeon): Armv8.0 ASIMD, every AArch64 CPU
// (Raspberry Pi 3/4 = Cortex-A53/A72). Tiling, row sums and K tails live in the
// shared driver (../common/gemm-driver.h), compiled here with this folder's flags.
#include "../common/gemm-driver.h"
#include "kernels-neon.h"

namespace lowbit {
namespace neon {
namespace {

struct Kernels {
  static constexpr size_t kMr = neon::kMr;
  static constexpr size_t kNr = neon::kNr;
  static constexpr size_t kKr = neon::kKr;
  static void gemm(const arm::GemmTile<kMr, kNr>& t) { qs8_gemm_4x4c16__neon_mull_padal(t); }
  static void gemv(const arm::GemmTile<1, kNr>& t) { qs8_gemv_1x4c16__neon_mull_padal(t); }
};
using Path = arm::PathEntryPoints<Kernels>;

}  // namespace

extern const GemmPath kGemmPath = {Isa::kNeon, kNr, kMr, Path::pack, Path::run};

}  // namespace neon
}  // namespace lowbit
