// int4 weight-only GEMM on NEON (AArch64): up to 4 rows x 16 columns per call (2
// tiles for one row). One 16-byte load holds two k of a tile; a signed shift
// right by 4 gives the high nibble (k + 1), shift left then right the low one
// (k); two widenings (s8 -> s16 -> s32) and scvtf make four q registers of
// columns. Each unpacked vector feeds MR rows. Lane order as lowbit/int4_gemm.h.
#include <arm_neon.h>

#include <cstring>

#include "../../common/int4-gemm-driver.h"
#include "lowbit/int4_gemm.h"

namespace lowbit {
namespace neon {
namespace {

// 16 int8 values -> 4 x 4 floats (columns 0-3, 4-7, 8-11, 12-15).
inline void to_floats(int8x16_t v, float32x4_t* out) {
  const int16x8_t a = vmovl_s8(vget_low_s8(v)), b = vmovl_s8(vget_high_s8(v));
  out[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(a)));
  out[1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(a)));
  out[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(b)));
  out[3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(b)));
}

struct NeonInt4Kernel {
  static constexpr size_t kMaxRows = 4;
  template <size_t MR>
  static constexpr size_t tiles_for() { return MR == 1 ? 2 : 1; }

  template <size_t MR, size_t NT>
  static void run(const Int4GemmArgs& args, size_t i0, size_t t0) {
    constexpr size_t Q = 4 * NT;  // q registers of columns
    const PackedInt4Matrix& w = *args.w;
    const float* x[MR];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) x[r] = args.x + (i0 + r) * args.x_stride;
    const int8_t* tile[NT];
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) tile[t] = reinterpret_cast<const int8_t*>(w.tile_weights(t0 + t));

    float32x4_t total[MR][Q];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (size_t q = 0; q < Q; ++q) total[r][q] = vdupq_n_f32(0.0f);

    for (size_t b = 0; b < w.blocks; ++b) {
      const size_t k0 = b * w.block, k1 = std::min(w.k, k0 + w.block);
      float32x4_t sum[MR][Q];
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
        for (size_t q = 0; q < Q; ++q) sum[r][q] = vdupq_n_f32(0.0f);
      size_t k = k0;
      for (; k + 2 <= k1; k += 2) {
        float32x4_t w0[Q], w1[Q];
#pragma GCC unroll 16
        for (size_t t = 0; t < NT; ++t) {
          const int8x16_t v = vld1q_s8(tile[t] + k * 8);
          to_floats(vshrq_n_s8(vshlq_n_s8(v, 4), 4), w0 + 4 * t);
          to_floats(vshrq_n_s8(v, 4), w1 + 4 * t);
        }
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const float xk = x[r][k];
#pragma GCC unroll 16
          for (size_t q = 0; q < Q; ++q) sum[r][q] = vfmaq_n_f32(sum[r][q], w0[q], xk);
        }
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) {
          const float xk = x[r][k + 1];
#pragma GCC unroll 16
          for (size_t q = 0; q < Q; ++q) sum[r][q] = vfmaq_n_f32(sum[r][q], w1[q], xk);
        }
      }
      if (k < k1) {  // odd K: the last k is a low nibble alone
#pragma GCC unroll 16
        for (size_t t = 0; t < NT; ++t) {
          float32x4_t w0[4];
          to_floats(vshrq_n_s8(vshlq_n_s8(vld1q_s8(tile[t] + k * 8), 4), 4), w0);
#pragma GCC unroll 16
          for (size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
            for (size_t q = 0; q < 4; ++q) sum[r][4 * t + q] = vfmaq_n_f32(sum[r][4 * t + q], w0[q], x[r][k]);
        }
      }
#pragma GCC unroll 16
      for (size_t q = 0; q < Q; ++q) {
        const float32x4_t scale = vld1q_f32(w.tile_scales(t0 + q / 4) + b * kInt4TileN + 4 * (q % 4));
#pragma GCC unroll 16
        for (size_t r = 0; r < MR; ++r) total[r][q] = vfmaq_f32(total[r][q], sum[r][q], scale);
      }
    }

    // Compare and select, as the scalar clamp (vmax/vmin would turn -0 into +0
    // against a +0 bound).
    const float32x4_t lo = vdupq_n_f32(args.clamp_min), hi = vdupq_n_f32(args.clamp_max);
#pragma GCC unroll 16
    for (size_t t = 0; t < NT; ++t) {
      const size_t col = (t0 + t) * kInt4TileN;
      const size_t cols = std::min(kInt4TileN, w.n - col);
      const float* bias = w.tile_bias(t0 + t);
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
        float out[kInt4TileN];
#pragma GCC unroll 16
        for (size_t q = 0; q < 4; ++q) {
          float32x4_t v = vaddq_f32(total[r][4 * t + q], vld1q_f32(bias + 4 * q));
          v = vbslq_f32(vcltq_f32(v, lo), lo, v);
          v = vbslq_f32(vcgtq_f32(v, hi), hi, v);
          vst1q_f32(out + 4 * q, v);
        }
        std::memcpy(args.y + (i0 + r) * args.y_stride + col, out, cols * sizeof(float));
      }
    }
  }
};

void int4_gemm(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1) {
  Int4GemmDriver<NeonInt4Kernel>::gemm(args, m0, m1, t0, t1);
}

}  // namespace

extern const Int4Path kInt4Path = {"neon", [] { return cpu_supports(Isa::kNeon); }, 4, &int4_gemm};

}  // namespace neon
}  // namespace lowbit
