// int4 weight-only GEMM on AVX-512F: up to 8 rows x 16 columns per call (8 tiles
// of 16 for one row, 2 for two or three). One 16-byte load holds two k of a
// tile; vpmovzxbd widens the bytes to dwords, and vpermps over a 16-float table
// turns the low nibble (k) and, after a shift by 4, the high nibble (k + 1) into
// their values: 3 instructions for 32 weights. Each unpacked vector feeds MR
// rows. Lane j is column j: fma per k in order inside a block, then fma by the
// block's scale, as lowbit/int4_gemm.h prescribes.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
// GCC 12 false positive (PR 105593): its AVX-512 headers build results on a
// deliberately uninitialized _mm512_undefined_*() value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include "../../common/int4-gemm-driver.h"
#include "lowbit/int4_gemm.h"

namespace lowbit {
namespace avx512vnni {
namespace {

struct Avx512Int4Kernel {
  static constexpr size_t kMaxRows = 8;
  template <size_t MR>
  static constexpr size_t tiles_for() { return MR == 1 ? 8 : (MR <= 3 ? 2 : 1); }

  template <size_t MR, size_t NT>
  static void run(const Int4GemmArgs& args, size_t i0, size_t t0) {
    const PackedInt4Matrix& w = *args.w;
    // vpermps reads only the low 4 bits of each index lane: a nibble indexes
    // its own value, so a table lookup replaces sign extension and conversion.
    const __m512 kNibbleValues = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    const float* x[MR];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) x[r] = args.x + (i0 + r) * args.x_stride;
    const int8_t* tile[NT];
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) tile[t] = reinterpret_cast<const int8_t*>(w.tile_weights(t0 + t));

    __m512 total[MR][NT];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (size_t t = 0; t < NT; ++t) total[r][t] = _mm512_setzero_ps();

    for (size_t b = 0; b < w.blocks; ++b) {
      const size_t k0 = b * w.block, k1 = std::min(w.k, k0 + w.block);
      __m512 sum[MR][NT];
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
        for (size_t t = 0; t < NT; ++t) sum[r][t] = _mm512_setzero_ps();
      size_t k = k0;
      for (; k + 2 <= k1; k += 2) {
        __m512 w0[NT], w1[NT];
#pragma GCC unroll 16
        for (size_t t = 0; t < NT; ++t) {
          const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile[t] + k * 8)));
          w0[t] = _mm512_permutexvar_ps(v, kNibbleValues);
          w1[t] = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), kNibbleValues);
        }
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const __m512 xk = _mm512_set1_ps(x[r][k]);
#pragma GCC unroll 16
          for (size_t t = 0; t < NT; ++t) sum[r][t] = _mm512_fmadd_ps(xk, w0[t], sum[r][t]);
        }
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const __m512 xk = _mm512_set1_ps(x[r][k + 1]);
#pragma GCC unroll 16
          for (size_t t = 0; t < NT; ++t) sum[r][t] = _mm512_fmadd_ps(xk, w1[t], sum[r][t]);
        }
      }
      if (k < k1) {  // odd K: the last k is a low nibble alone
#pragma GCC unroll 16
        for (size_t t = 0; t < NT; ++t) {
          const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile[t] + k * 8)));
          const __m512 w0 = _mm512_permutexvar_ps(v, kNibbleValues);
#pragma GCC unroll 16
          for (size_t r = 0; r < MR; ++r) sum[r][t] = _mm512_fmadd_ps(_mm512_set1_ps(x[r][k]), w0, sum[r][t]);
        }
      }
#pragma GCC unroll 16
      for (size_t t = 0; t < NT; ++t) {
        const __m512 scale = _mm512_loadu_ps(w.tile_scales(t0 + t) + b * kInt4TileN);
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) total[r][t] = _mm512_fmadd_ps(sum[r][t], scale, total[r][t]);
      }
    }

    // max(lo, y) = lo > y ? lo : y and min(hi, y) = hi < y ? hi : y: the scalar
    // clamp's operand order, so NaN and -0 come out as in ref.
    const __m512 lo = _mm512_set1_ps(args.clamp_min), hi = _mm512_set1_ps(args.clamp_max);
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) {
      const size_t col = (t0 + t) * kInt4TileN;
      const size_t cols = std::min(kInt4TileN, w.n - col);
      const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
      const __m512 bias = _mm512_loadu_ps(w.tile_bias(t0 + t));
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
        __m512 y = _mm512_add_ps(total[r][t], bias);
        y = _mm512_min_ps(hi, _mm512_max_ps(lo, y));
        _mm512_mask_storeu_ps(args.y + (i0 + r) * args.y_stride + col, mask, y);
      }
    }
  }
};

void int4_gemm(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1) {
  Int4GemmDriver<Avx512Int4Kernel>::gemm(args, m0, m1, t0, t1);
}

}  // namespace

extern const Int4Path kInt4Path = {"avx512", [] { return cpu_supports(Isa::kAvx512Vnni); }, 8, &int4_gemm};

}  // namespace avx512vnni
}  // namespace lowbit
