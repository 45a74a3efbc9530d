// The AMX GEMM path: shared u8 x s8 panel packing sized for AMX tiles, AMX tiles
// for blocks of rows, AVX512-VNNI for a few rows (where a tile multiply would be
// mostly empty rows).
#include "amx-gemm-kernels.h"
#include "lowbit/pack.h"

namespace lowbit {
namespace LOWBIT_AMX_NAMESPACE {
namespace {

void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  pack_u8s8_panels(b, b_signed, k, n, b_stride, zero_point, kNr, kKr, kKAlign, out);
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  if (m_end - m_begin <= kSmallM) {
    qu8s8_gemm_4x64_avx512vnni(args, m_begin, m_end, n_begin, n_end);
  } else {
    qu8s8_gemm_32x32_amx(args, m_begin, m_end, n_begin, n_end);
  }
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kAmx, kNr, 32, pack, run};

}  // namespace LOWBIT_AMX_NAMESPACE
}  // namespace lowbit
