// Quantized Add / Mul rows and global-average-pool sums, 8 elements per step:
// the same float32 operations as ref in the same order (separate vmulq and
// vaddq, never vfmaq), clamping, then round half to even with vcvtnq.
#include <arm_neon.h>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace neon {
namespace {

// 8 bytes widened to int16 (exact for int8 and uint8).
inline int16x8_t load8(const void* p, size_t i, bool is_signed) {
  const auto* in = static_cast<const uint8_t*>(p) + i;
  return is_signed ? vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(in))) : vreinterpretq_s16_u16(vmovl_u8(vld1_u8(in)));
}

inline float32x4_t requant_lane(float32x4_t t, float32x4_t lo, float32x4_t hi) {
  return vminq_f32(vmaxq_f32(t, lo), hi);  // t is never NaN: the factors are finite
}

void binary_row(const QBinaryParams& p, const void* a, const void* b, size_t sb, void* out, size_t n) {
  const int32x4_t za = vdupq_n_s32(p.za), zb = vdupq_n_s32(p.zb), zy = vdupq_n_s32(p.zy);
  const float32x4_t fa = vdupq_n_f32(p.fa), fb = vdupq_n_f32(p.fb);
  const float32x4_t lo = vdupq_n_f32(p.lo), hi = vdupq_n_f32(p.hi);
  const bool add = p.op == QBinaryOp::kAdd;
  const int32x4_t db_scalar = vdupq_n_s32(sb == 0 && n > 0 ? qload(b, 0, p.b_signed) - p.zb : 0);
  auto* dst = static_cast<uint8_t*>(out);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t wa = load8(a, i, p.a_signed);
    const int32x4_t da[2] = {vsubq_s32(vmovl_s16(vget_low_s16(wa)), za), vsubq_s32(vmovl_s16(vget_high_s16(wa)), za)};
    int32x4_t db[2] = {db_scalar, db_scalar};
    if (sb != 0) {
      const int16x8_t wb = load8(b, i, p.b_signed);
      db[0] = vsubq_s32(vmovl_s16(vget_low_s16(wb)), zb);
      db[1] = vsubq_s32(vmovl_s16(vget_high_s16(wb)), zb);
    }
    int32x4_t q[2];
    for (int h = 0; h < 2; ++h) {
      float32x4_t t;
      if (add) {
        t = vaddq_f32(vmulq_f32(fa, vcvtq_f32_s32(da[h])), vmulq_f32(fb, vcvtq_f32_s32(db[h])));
      } else {
        t = vmulq_f32(fa, vcvtq_f32_s32(vmulq_s32(da[h], db[h])));
      }
      q[h] = vaddq_s32(vcvtnq_s32_f32(requant_lane(t, lo, hi)), zy);
    }
    // In range already: narrowing keeps every value.
    const int16x8_t q16 = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
    if (p.out_signed) vst1_s8(reinterpret_cast<int8_t*>(dst + i), vmovn_s16(q16));
    else vst1_u8(dst + i, vmovn_u16(vreinterpretq_u16_s16(q16)));
  }
  if (i < n) {
    ref::qbinary_row(p, static_cast<const uint8_t*>(a) + i, static_cast<const uint8_t*>(b) + i * sb, sb, dst + i,
                     n - i);
  }
}

void sum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  size_t j = 0;
  for (; j + 16 <= c; j += 16) {
    int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
    for (size_t s = 0; s < spatial; ++s) {
      const size_t base = s * stride + j;
      const int16x8_t w0 = load8(x, base, is_signed), w1 = load8(x, base + 8, is_signed);
      s0 = vaddw_s16(s0, vget_low_s16(w0));
      s1 = vaddw_s16(s1, vget_high_s16(w0));
      s2 = vaddw_s16(s2, vget_low_s16(w1));
      s3 = vaddw_s16(s3, vget_high_s16(w1));
    }
    vst1q_s32(acc + j, s0);
    vst1q_s32(acc + j + 4, s1);
    vst1q_s32(acc + j + 8, s2);
    vst1q_s32(acc + j + 12, s3);
  }
  for (; j + 8 <= c; j += 8) {
    int32x4_t s0 = vdupq_n_s32(0), s1 = s0;
    for (size_t s = 0; s < spatial; ++s) {
      const int16x8_t w = load8(x, s * stride + j, is_signed);
      s0 = vaddw_s16(s0, vget_low_s16(w));
      s1 = vaddw_s16(s1, vget_high_s16(w));
    }
    vst1q_s32(acc + j, s0);
    vst1q_s32(acc + j + 4, s1);
  }
  if (j < c) ref::qsum_pixels(static_cast<const uint8_t*>(x) + j, is_signed, spatial, c - j, stride, acc + j);
}

int32_t sum_row(const void* x, bool is_signed, size_t n) {
  const auto* in = static_cast<const uint8_t*>(x);
  int32x4_t acc = vdupq_n_s32(0);
  size_t i = 0;
  // Pairwise widening adds: 16 bytes -> 8 int16 -> accumulated into int32 (exact).
  for (; i + 16 <= n; i += 16) {
    const int16x8_t pairs = is_signed ? vpaddlq_s8(vld1q_s8(reinterpret_cast<const int8_t*>(in + i)))
                                      : vreinterpretq_s16_u16(vpaddlq_u8(vld1q_u8(in + i)));
    acc = vpadalq_s16(acc, pairs);
  }
  return vaddvq_s32(acc) + (i < n ? ref::qsum_row(in + i, is_signed, n - i) : 0);
}

}  // namespace

extern const QElementwisePath kQElementwisePath = {Isa::kNeon, binary_row, sum_pixels, sum_row};

}  // namespace neon
}  // namespace lowbit
