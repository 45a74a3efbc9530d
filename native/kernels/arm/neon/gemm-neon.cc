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
  static void gemm(const arm::GemmTile<kMr, kNr>& t) { qs8_gemm_4x4c16__neon_mull_padal(t); }
  static void gemv(const arm::GemmTile<1, kNr>& t) { qs8_gemv_1x4c16__neon_mull_padal(t); }
};

void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  arm::pack_panels<kNr, kKr>(b, b_signed, k, n, b_stride, zero_point, out);
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  arm::run_gemm<Kernels>(args, m_begin, m_end, n_begin, n_end);
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kNeon, kNr, kMr, pack, run};

}  // namespace neon
}  // namespace lowbit
