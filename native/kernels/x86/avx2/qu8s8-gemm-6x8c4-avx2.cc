// u8/s8 x s8 -> int32 GEMM microkernel for AVX2, up to 6 rows x 8 columns,
// K grouped by 4, exact (no int16 saturation anywhere). B is the shared u8s8
// packing (B' int8); A keeps its own signedness, widened to int16.
//
// Per group of 4 K: 32 bytes of B (8 columns x 4 K), sign-extended to
// two ymm of int16 (columns 0-3 and 4-7, 4 K each); per row a 64-bit broadcast
// of 4 int16 A values, then vpmaddwd: lane 2j gets a0*b0 + a1*b1 and lane 2j+1
// gets a2*b2 + a3*b3 of column j. The two halves of each column are added once,
// at the end of the tile (vphaddd). Each B vector is widened once per group and
// used by 6 rows, so the loop is about 2 vpmaddwd + 2 vpaddd per 32 multiply-adds.
#include <cstring>

#include "gemm-avx2.h"

namespace lowbit {
namespace avx2 {
namespace {

using x86ymm::Columns;
using x86ymm::OutputStage;

// 4 K of one row as int16 (a0 a1 a2 a3), repeated in each 64-bit quarter of a ymm.
template <bool kWidened, bool kSignedA>
__attribute__((always_inline)) inline __m256i load_a(const uint8_t* p) {
  if (kWidened) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return _mm256_set1_epi64x(v);
  }
  int32_t v;
  std::memcpy(&v, p, 4);
  const __m128i bytes = _mm_set1_epi32(v);
  return kSignedA ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
}

// a: int16 rows (kWidened, K padded to 4, a_stride in bytes) or the 8-bit rows of A.
template <size_t MR, bool kWidened, bool kSignedA>
void gemm_mrx8c4(size_t k, const void* a_void, size_t a_stride, const int8_t* w, const int32_t* row_sum,
                 const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  const auto* a = static_cast<const uint8_t*>(a_void);
  constexpr size_t a_step = kWidened ? 8 : 4;  // bytes of A per group of 4 K
  const uint8_t* row[MR];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) row[r] = a + r * a_stride;
  // Accumulators typed as the int32 vectors they are: held as __m256i (int64
  // lanes), GCC 12's PRE keeps both views of each alive across the loop and
  // spills half of them.
  __v8si acc[MR][2];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = __v8si{};

  auto group = [&](size_t offset, const int8_t* wp, auto&& a_of) __attribute__((always_inline)) {
    // vpmovsxbw straight from memory: no vextracti128 on the shuffle ports.
    const __m256i b_lo = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp)));
    const __m256i b_hi = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp + 16)));
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      const __m256i va = a_of(row[r] + offset);
      acc[r][0] = (__v8si)_mm256_add_epi32((__m256i)acc[r][0], _mm256_madd_epi16(va, b_lo));
      acc[r][1] = (__v8si)_mm256_add_epi32((__m256i)acc[r][1], _mm256_madd_epi16(va, b_hi));
    }
  };
  auto a_full = [](const uint8_t* p) __attribute__((always_inline)) { return load_a<kWidened, kSignedA>(p); };

  const size_t groups = kWidened ? (k + 3) / 4 : k / 4;  // widened rows are zero-padded
  // Two groups per iteration: the loop overhead is not free next to 26 vector ops.
#pragma GCC unroll 2
  for (size_t g = 0; g < groups; ++g, w += 32) group(g * a_step, w, a_full);
  if (!kWidened && (k & 3)) {
    // Copy the 1-3 bytes left so nothing past the end of the row is read.
    const size_t tail = k & 3;
    auto a_tail = [tail](const uint8_t* p) __attribute__((always_inline)) {
      int32_t v = 0;
      std::memcpy(&v, p, tail);
      const __m128i bytes = _mm_set1_epi32(v);
      return kSignedA ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
    };
    group(groups * a_step, w, a_tail);
  }

  // [c0 c0' c1 c1' c2 c2' c3 c3'] + [c4 c4' ...] -> [c0 c1 c4 c5 | c2 c3 c6 c7] -> c0..c7.
  __m256i sum[MR][1];
#pragma GCC unroll 8
  for (size_t r = 0; r < MR; ++r) {
    sum[r][0] = _mm256_permute4x64_epi64(_mm256_hadd_epi32((__m256i)acc[r][0], (__m256i)acc[r][1]), 0xD8);
  }
  x86ymm::finish_tile<MR, 1>(sum, row_sum, cols, os, c, c_stride, cols_valid);
}

template <size_t MR>
void widened(size_t k, const void* a, size_t a_stride, const int8_t* w, const int32_t* row_sum,
             const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  gemm_mrx8c4<MR, true, false>(k, a, a_stride, w, row_sum, cols, os, c, c_stride, cols_valid);
}

template <size_t MR, bool kSignedA>
void raw(size_t k, const void* a, size_t a_stride, const int8_t* w, const int32_t* row_sum,
         const Columns& cols, const OutputStage& os, void* c, size_t c_stride, size_t cols_valid) {
  gemm_mrx8c4<MR, false, kSignedA>(k, a, a_stride, w, row_sum, cols, os, c, c_stride, cols_valid);
}

}  // namespace

const x86ymm::TileKernel kGemmWidenedMrx8c4[kMr + 1] = {
    nullptr, widened<1>, widened<2>, widened<3>, widened<4>, widened<5>, widened<6>};

const x86ymm::TileKernel kGemmMrx8c4[2][kMr + 1] = {
    {nullptr, raw<1, false>, raw<2, false>, raw<3, false>, raw<4, false>, raw<5, false>, raw<6, false>},
    {nullptr, raw<1, true>, raw<2, true>, raw<3, true>, raw<4, true>, raw<5, true>, raw<6, true>},
};

}  // namespace avx2
}  // namespace lowbit
