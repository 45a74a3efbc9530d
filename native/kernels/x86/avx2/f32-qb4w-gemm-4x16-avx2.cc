// int4 weight-only GEMM on AVX2+FMA: up to 4 rows x 16 columns per call (2 tiles
// for one row). A tile's 16 columns are two ymm halves; each half's 8 bytes of a
// k pair load sign-extended (vpmovsxbd), an arithmetic shift by 4 gives the high
// nibble (k + 1) and shifts by 28 the low one (k), then vcvtdq2ps. Each unpacked
// vector feeds MR rows. Lane order of operations as lowbit/int4_gemm.h.
#include <immintrin.h>

#include <cstring>

#include "../../common/int4-gemm-driver.h"
#include "lowbit/int4_gemm.h"

namespace lowbit {
namespace avx2 {
namespace {

struct Avx2Int4Kernel {
  static constexpr size_t kMaxRows = 4;
  template <size_t MR>
  static constexpr size_t tiles_for() { return MR == 1 ? 2 : 1; }

  // The 8 columns of half h of a tile at k pair p, both k: low nibble in lo, high in hi.
  static inline void unpack(const int8_t* pair, size_t h, __m256* lo, __m256* hi) {
    const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(pair + 8 * h)));
    *lo = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(v, 28), 28));
    *hi = _mm256_cvtepi32_ps(_mm256_srai_epi32(v, 4));
  }

  template <size_t MR, size_t NT>
  static void run(const Int4GemmArgs& args, size_t i0, size_t t0) {
    constexpr size_t H = 2 * NT;  // ymm halves
    const PackedInt4Matrix& w = *args.w;
    const float* x[MR];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) x[r] = args.x + (i0 + r) * args.x_stride;
    const int8_t* tile[NT];
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) tile[t] = reinterpret_cast<const int8_t*>(w.tile_weights(t0 + t));

    __m256 total[MR][H];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (size_t h = 0; h < H; ++h) total[r][h] = _mm256_setzero_ps();

    for (size_t b = 0; b < w.blocks; ++b) {
      const size_t k0 = b * w.block, k1 = std::min(w.k, k0 + w.block);
      __m256 sum[MR][H];
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
        for (size_t h = 0; h < H; ++h) sum[r][h] = _mm256_setzero_ps();
      size_t k = k0;
      for (; k + 2 <= k1; k += 2) {
        __m256 w0[H], w1[H];
#pragma GCC unroll 16
        for (size_t h = 0; h < H; ++h) unpack(tile[h / 2] + k * 8, h % 2, &w0[h], &w1[h]);
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const __m256 xk = _mm256_broadcast_ss(x[r] + k);
#pragma GCC unroll 16
          for (size_t h = 0; h < H; ++h) sum[r][h] = _mm256_fmadd_ps(xk, w0[h], sum[r][h]);
        }
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const __m256 xk = _mm256_broadcast_ss(x[r] + k + 1);
#pragma GCC unroll 16
          for (size_t h = 0; h < H; ++h) sum[r][h] = _mm256_fmadd_ps(xk, w1[h], sum[r][h]);
        }
      }
      if (k < k1) {  // odd K: the last k is a low nibble alone
#pragma GCC unroll 16
        for (size_t h = 0; h < H; ++h) {
          __m256 w0, w1;
          unpack(tile[h / 2] + k * 8, h % 2, &w0, &w1);
#pragma GCC unroll 16
          for (size_t r = 0; r < MR; ++r) sum[r][h] = _mm256_fmadd_ps(_mm256_broadcast_ss(x[r] + k), w0, sum[r][h]);
        }
      }
#pragma GCC unroll 16
      for (size_t h = 0; h < H; ++h) {
        const __m256 scale = _mm256_loadu_ps(w.tile_scales(t0 + h / 2) + b * kInt4TileN + 8 * (h % 2));
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) total[r][h] = _mm256_fmadd_ps(sum[r][h], scale, total[r][h]);
      }
    }

    // max(lo, y) = lo > y ? lo : y and min(hi, y) = hi < y ? hi : y: the scalar
    // clamp's operand order, so NaN and -0 come out as in ref.
    const __m256 lo = _mm256_set1_ps(args.clamp_min), hi = _mm256_set1_ps(args.clamp_max);
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) {
      const size_t col = (t0 + t) * kInt4TileN;
      const size_t cols = std::min(kInt4TileN, w.n - col);
      const float* bias = w.tile_bias(t0 + t);
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
        float* y = args.y + (i0 + r) * args.y_stride + col;
        alignas(32) float out[kInt4TileN];
#pragma GCC unroll 16
        for (size_t h = 0; h < 2; ++h) {
          __m256 v = _mm256_add_ps(total[r][2 * t + h], _mm256_loadu_ps(bias + 8 * h));
          v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
          if (cols == kInt4TileN) {
            _mm256_storeu_ps(y + 8 * h, v);
          } else {
            _mm256_store_ps(out + 8 * h, v);
          }
        }
        if (cols != kInt4TileN) std::memcpy(y, out, cols * sizeof(float));
      }
    }
  }
};

void int4_gemm(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1) {
  Int4GemmDriver<Avx2Int4Kernel>::gemm(args, m0, m1, t0, t1);
}

}  // namespace

extern const Int4Path kInt4Path = {"avx2", [] { return cpu_supports(Isa::kAvx2); }, 4, &int4_gemm};

}  // namespace avx2
}  // namespace lowbit
