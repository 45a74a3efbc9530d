// u8 x s8 -> int32 GEMM microkernel, up to 6 rows x 16 columns, K grouped by 4
// (AVX-VNNI vpdpbusd ymm). Per group of 4 K: two 32-byte loads of B (16
// columns x 4 K), one 4-byte broadcast of A per row, two vpdpbusd per row. With
// only 16 ymm registers, 6 rows (12 accumulators) is the largest tile that
// leaves room for B, the broadcast and the int8 sign flip. Smaller tiles (the
// M tail, and M = 1 for batch-1 latency) split K over several accumulator
// sets so that enough independent vpdpbusd chains are in flight.
#include <cstring>

#include "gemm-avxvnni.h"

namespace lowbit {
namespace avxvnni {
namespace {

using x86ymm::Columns;
using x86ymm::OutputStage;

__attribute__((always_inline)) inline __m256i broadcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// The last 1-3 bytes of a row, zero-extended to 4 and broadcast.
inline __m256i broadcast_tail(const uint8_t* p, size_t n) {
  int32_t v = 0;
  std::memcpy(&v, p, n);
  return _mm256_set1_epi32(v);
}

template <size_t MR, size_t KU, bool kSignedA>
void gemm_mrx16c4(size_t k, const void* a_void, size_t a_stride, const int8_t* w, const int32_t* row_sum,
                  const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  const auto* a = static_cast<const uint8_t*>(a_void);
  const uint8_t* row[MR];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) row[r] = a + r * a_stride;
  __m256i acc[KU][MR][2];
#pragma GCC unroll 4
  for (size_t u = 0; u < KU; ++u)
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) acc[u][r][0] = acc[u][r][1] = _mm256_setzero_si256();
  // int8 A enters the unsigned operand as A + 128 (pack.h); the driver corrects for it.
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));

  auto group = [&](size_t u, size_t i, const int8_t* wp) __attribute__((always_inline)) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp + 32));
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m256i va = broadcast4(row[r] + i);
      if (kSignedA) va = _mm256_xor_si256(va, flip);
      acc[u][r][0] = _mm256_dpbusd_avx_epi32(acc[u][r][0], va, b0);
      acc[u][r][1] = _mm256_dpbusd_avx_epi32(acc[u][r][1], va, b1);
    }
  };

  const size_t k_main = k & ~size_t{3};
  size_t i = 0;
#pragma GCC unroll 2
  for (; i + 4 * KU <= k_main; i += 4 * KU, w += 64 * KU) {
#pragma GCC unroll 4
    for (size_t u = 0; u < KU; ++u) group(u, i + 4 * u, w + 64 * u);
  }
  for (; i < k_main; i += 4, w += 64) group(KU - 1, i, w);
  if (k & 3) {
    // The last partial group: copy the 1-3 bytes left, so that nothing past the
    // end of the row is read (B is zero there, so the padding is irrelevant).
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32));
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m256i va = broadcast_tail(row[r] + k_main, k & 3);
      if (kSignedA) va = _mm256_xor_si256(va, flip);
      acc[0][r][0] = _mm256_dpbusd_avx_epi32(acc[0][r][0], va, b0);
      acc[0][r][1] = _mm256_dpbusd_avx_epi32(acc[0][r][1], va, b1);
    }
  }
#pragma GCC unroll 4
  for (size_t u = 1; u < KU; ++u)
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      acc[0][r][0] = _mm256_add_epi32(acc[0][r][0], acc[u][r][0]);
      acc[0][r][1] = _mm256_add_epi32(acc[0][r][1], acc[u][r][1]);
    }
  x86ymm::finish_tile<MR, 2>(acc[0], row_sum, cols, os, c, c_stride, cols_valid);
}

// Fewer rows, fewer independent chains: 1 row uses 4 accumulator sets (8
// chains), 2-3 rows use 2 (8-12 chains).
template <size_t MR, bool kSignedA>
void tile(size_t k, const void* a, size_t a_stride, const int8_t* w, const int32_t* row_sum,
          const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  constexpr size_t ku = MR == 1 ? 4 : MR <= 3 ? 2 : 1;
  gemm_mrx16c4<MR, ku, kSignedA>(k, a, a_stride, w, row_sum, cols, os, c, c_stride, cols_valid);
}

}  // namespace

const x86ymm::TileKernel kGemmMrx16c4[2][kMr + 1] = {
    {nullptr, tile<1, false>, tile<2, false>, tile<3, false>, tile<4, false>, tile<5, false>, tile<6, false>},
    {nullptr, tile<1, true>, tile<2, true>, tile<3, true>, tile<4, true>, tile<5, true>, tile<6, true>},
};

}  // namespace avxvnni
}  // namespace lowbit
