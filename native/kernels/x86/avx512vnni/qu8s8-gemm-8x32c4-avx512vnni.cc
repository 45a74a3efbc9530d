// u8 x s8 -> int32 GEMM microkernel, up to 8 rows x 32 columns, K grouped by 4
// (vpdpbusd zmm). Per group of 4 K: two 64-byte loads of B (32 columns x 4 K),
// one 4-byte broadcast of A per row, and 2 vpdpbusd per row: 16 independent
// accumulators for 8 rows, enough to hide the instruction's latency at two per
// cycle, and only 10 loads for 16 multiply-adds. Tiles of fewer rows (the M
// tail) split K over two accumulator sets so they still have enough in flight.
#include <cstring>

#include "gemm-avx512vnni.h"
#include "output-stage-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {
namespace {

__attribute__((always_inline)) inline __m512i broadcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// KU accumulator sets, each summing every KU-th group of 4 K.
template <size_t MR, size_t KU, bool kSignedA>
void gemm_mrx32c4(size_t k, const uint8_t* a, size_t a_stride, const int8_t* w,
                  const int32_t* row_sum, const Columns& cols, const OutputStage& os, void* c,
                  size_t c_stride, size_t cols_valid) {
  const uint8_t* row[MR];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) row[r] = a + r * a_stride;
  __m512i acc[KU][MR][2];
#pragma GCC unroll 2
  for (size_t u = 0; u < KU; ++u)
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) acc[u][r][0] = acc[u][r][1] = _mm512_setzero_si512();
  // int8 A enters the unsigned operand as A + 128 (pack.h); the driver corrects for it.
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));

  auto step = [&](size_t u, size_t i, const int8_t* wp) __attribute__((always_inline)) {
    const __m512i b0 = _mm512_load_si512(wp);
    const __m512i b1 = _mm512_load_si512(wp + 64);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m512i va = broadcast4(row[r] + i);
      if (kSignedA) va = _mm512_xor_si512(va, flip);
      acc[u][r][0] = _mm512_dpbusd_epi32(acc[u][r][0], va, b0);
      acc[u][r][1] = _mm512_dpbusd_epi32(acc[u][r][1], va, b1);
    }
  };

  const size_t k_main = k & ~size_t{3};
  size_t i = 0;
#pragma GCC unroll 2
  for (; i + 4 * KU <= k_main; i += 4 * KU, w += 128 * KU) {
#pragma GCC unroll 2
    for (size_t u = 0; u < KU; ++u) step(u, i + 4 * u, w + 128 * u);
  }
  for (; i < k_main; i += 4, w += 128) step(0, i, w);
  if (k & 3) {
    // The last partial group: a masked load never touches bytes past the row
    // end (the last row of A may end at an unmapped page); B is zero there.
    const __mmask16 tail = static_cast<__mmask16>((1u << (k & 3)) - 1);
    const __m512i b0 = _mm512_load_si512(w);
    const __m512i b1 = _mm512_load_si512(w + 64);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m512i va = _mm512_broadcastd_epi32(_mm_maskz_loadu_epi8(tail, row[r] + k_main));
      if (kSignedA) va = _mm512_xor_si512(va, flip);
      acc[0][r][0] = _mm512_dpbusd_epi32(acc[0][r][0], va, b0);
      acc[0][r][1] = _mm512_dpbusd_epi32(acc[0][r][1], va, b1);
    }
  }
#pragma GCC unroll 2
  for (size_t u = 1; u < KU; ++u)
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      acc[0][r][0] = _mm512_add_epi32(acc[0][r][0], acc[u][r][0]);
      acc[0][r][1] = _mm512_add_epi32(acc[0][r][1], acc[u][r][1]);
    }
  finish_tile<MR>(acc[0], row_sum, cols, os, c, c_stride, cols_valid);
}

// Fewer than 5 rows leave fewer than 10 independent chains: split K in two.
template <size_t MR, bool kSignedA>
void tile(size_t k, const uint8_t* a, size_t a_stride, const int8_t* w, const int32_t* row_sum,
          const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  gemm_mrx32c4<MR, (MR <= 4 ? 2 : 1), kSignedA>(k, a, a_stride, w, row_sum, cols, os, c, c_stride,
                                                 cols_valid);
}

}  // namespace

const TileKernel kGemmMrx32c4[2][kMr + 1] = {
    {nullptr, nullptr, tile<2, false>, tile<3, false>, tile<4, false>, tile<5, false>,
     tile<6, false>, tile<7, false>, tile<8, false>},
    {nullptr, nullptr, tile<2, true>, tile<3, true>, tile<4, true>, tile<5, true>, tile<6, true>,
     tile<7, true>, tile<8, true>},
};

}  // namespace avx512vnni
}  // namespace lowbit
