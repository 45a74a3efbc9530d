// QuantizeLinear / DequantizeLinear rows, 4 floats at a time: a true division,
// clamping, round half to even with vcvtnq, NaN to the zero point; as ref.
#include <arm_neon.h>

#include "lowbit/quantize.h"

namespace lowbit {
namespace neon {
namespace {

void quantize_row(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y) {
  const int32_t qmin = out_signed ? -128 : 0, qmax = out_signed ? 127 : 255;
  const float32x4_t s = vdupq_n_f32(scale);
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(qmin - zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(qmax - zero_point));
  const int32x4_t zp = vdupq_n_s32(zero_point);
  auto* out = static_cast<uint8_t*>(y);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int32x4_t q[2];
    for (int h = 0; h < 2; ++h) {
      float32x4_t v = vdivq_f32(vld1q_f32(x + i + 4 * h), s);
      const uint32x4_t ordered = vceqq_f32(v, v);
      v = vminq_f32(vmaxq_f32(v, lo), hi);
      v = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), ordered));  // NaN -> 0
      q[h] = vaddq_s32(vcvtnq_s32_f32(v), zp);
    }
    const int16x8_t q16 = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
    if (out_signed) vst1_s8(reinterpret_cast<int8_t*>(out + i), vmovn_s16(q16));
    else vst1_u8(out + i, vmovn_u16(vreinterpretq_u16_s16(q16)));
  }
  if (i < n) ref::quantize_row(x + i, n - i, scale, zero_point, out_signed, out + i);
}

void dequantize_row(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y) {
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t zp = vdupq_n_s32(zero_point);
  const auto* in = static_cast<const uint8_t*>(x);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t w = x_type == ElementType::kInt8 ? vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(in + i)))
                                                     : vreinterpretq_s16_u16(vmovl_u8(vld1_u8(in + i)));
    const int32x4_t a = vsubq_s32(vmovl_s16(vget_low_s16(w)), zp);
    const int32x4_t b = vsubq_s32(vmovl_s16(vget_high_s16(w)), zp);
    vst1q_f32(y + i, vmulq_f32(vcvtq_f32_s32(a), s));
    vst1q_f32(y + i + 4, vmulq_f32(vcvtq_f32_s32(b), s));
  }
  if (i < n) ref::dequantize_row(in + i, x_type, n - i, scale, zero_point, y + i);
}

}  // namespace

extern const QuantizePath kQuantizePath = {quantize_row, dequantize_row};

}  // namespace neon
}  // namespace lowbit
