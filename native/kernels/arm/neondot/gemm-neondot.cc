// The dot-product GEMM path (Isa::kNeonDot): Armv8.2 SDOT, chosen only when
// HWCAP_ASIMDDP is set (Raspberry Pi 5 = Cortex-A76; not Pi 3/4). Tiling, row
// sums and K tails live in the shared driver (../common/gemm-driver.h),
// compiled here with this folder's flags.
#include "../common/gemm-driver.h"
#include "kernels-neondot.h"

namespace lowbit {
namespace neondot {
namespace {

struct Kernels {
  static constexpr size_t kMr = neondot::kMr;
  static constexpr size_t kNr = neondot::kNr;
  static constexpr size_t kKr = neondot::kKr;
  static void gemm(const arm::GemmTile<kMr, kNr>& t) { qs8_gemm_4x16c4__neondot(t); }
  static void gemv(const arm::GemmTile<1, kNr>& t) { qs8_gemv_1x16c4__neondot(t); }
};
using Path = arm::PathEntryPoints<Kernels>;

}  // namespace

extern const GemmPath kGemmPath = {Isa::kNeonDot, kNr, kMr, Path::pack, Path::run};

}  // namespace neondot
}  // namespace lowbit
