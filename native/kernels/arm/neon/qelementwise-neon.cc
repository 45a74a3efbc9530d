// Quantized Add / Mul rows and global-average-pool sums, 8 elements per step:
// the same float32 operations as ref in the same order (separate vmulq and
// vaddq, never vfmaq), clamping, then round half to even with vcvtnq. The
// tail runs the same vector code on a copy, so it rounds identically.
#include <arm_neon.h>

#include <cstring>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace neon {
namespace {

// 8 bytes widened to int16 (exact for int8 and uint8).
inline int16x8_t load8(const void* p, size_t i, bool is_signed) {
  const auto* in = static_cast<const uint8_t*>(p) + i;
  return is_signed ? vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(in))) : vreinterpretq_s16_u16(vmovl_u8(vld1_u8(in)));
}

struct Consts {
  int32x4_t za, zb, zy;
  float32x4_t fa, fb, lo, hi;
  explicit Consts(const QBinaryParams& p)
      : za(vdupq_n_s32(p.za)), zb(vdupq_n_s32(p.zb)), zy(vdupq_n_s32(p.zy)), fa(vdupq_n_f32(p.fa)),
        fb(vdupq_n_f32(p.fb)), lo(vdupq_n_f32(p.lo)), hi(vdupq_n_f32(p.hi)) {}
};

// Four lanes of qbinary_one_prepared (t is never NaN: the factors are finite).
template <bool kAdd>
inline int32x4_t quantized(const Consts& k, int32x4_t a, float32x4_t b_term) {
  const float32x4_t da = vcvtq_f32_s32(vsubq_s32(a, k.za));
  const float32x4_t t = kAdd ? vaddq_f32(vmulq_f32(k.fa, da), b_term) : vmulq_f32(k.fa, vmulq_f32(da, b_term));
  return vaddq_s32(vcvtnq_s32_f32(vminq_f32(vmaxq_f32(t, k.lo), k.hi)), k.zy);
}

template <bool kAdd>
inline float32x4_t term_of(const Consts& k, int32x4_t b) {
  const float32x4_t db = vcvtq_f32_s32(vsubq_s32(b, k.zb));
  return kAdd ? vmulq_f32(k.fb, db) : db;
}

// Eight lanes in the output range -> 8 bytes.
inline void store8(uint8_t* out, int32x4_t q0, int32x4_t q1, bool out_signed) {
  const int16x8_t q16 = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
  if (out_signed) vst1_s8(reinterpret_cast<int8_t*>(out), vmovn_s16(q16));
  else vst1_u8(out, vmovn_u16(vreinterpretq_u16_s16(q16)));
}

// B(i, h) gives b's terms for elements i + 4h .. i + 4h + 3.
template <bool kAdd, typename B>
void run(const QBinaryParams& p, const uint8_t* a, uint8_t* out, size_t n, const B& b_terms) {
  const Consts k(p);
  auto step = [&](const uint8_t* src, size_t i, uint8_t* dst) {
    const int16x8_t wa = load8(src, 0, p.a_signed);
    const int32x4_t q0 = quantized<kAdd>(k, vmovl_s16(vget_low_s16(wa)), b_terms(i, 0));
    const int32x4_t q1 = quantized<kAdd>(k, vmovl_s16(vget_high_s16(wa)), b_terms(i, 1));
    store8(dst, q0, q1, p.out_signed);
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) step(a + i, i, out + i);
  if (i < n) {
    // The last 1..7: the same vector code on a zero-padded copy.
    uint8_t a_tail[8] = {}, out_tail[8];
    std::memcpy(a_tail, a + i, n - i);
    step(a_tail, i, out_tail);
    std::memcpy(out + i, out_tail, n - i);
  }
}

template <bool kAdd>
void binary_row_typed(const QBinaryParams& p, const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n) {
  const Consts k(p);
  auto terms = [&](size_t i, int h) {
    uint8_t tail[8] = {};
    const uint8_t* src = b + i;
    if (i + 8 > n) {
      std::memcpy(tail, b + i, n - i);
      src = tail;
    }
    const int16x8_t wb = load8(src, 0, p.b_signed);
    return term_of<kAdd>(k, vmovl_s16(h == 0 ? vget_low_s16(wb) : vget_high_s16(wb)));
  };
  run<kAdd>(p, a, out, n, terms);
}

void binary_row(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n) {
  const auto* in = static_cast<const uint8_t*>(a);
  const auto* bb = static_cast<const uint8_t*>(b);
  auto* dst = static_cast<uint8_t*>(out);
  if (p.op == QBinaryOp::kAdd) binary_row_typed<true>(p, in, bb, dst, n);
  else binary_row_typed<false>(p, in, bb, dst, n);
}

void binary_row_prepared(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out, size_t n) {
  const auto* in = static_cast<const uint8_t*>(a);
  auto* dst = static_cast<uint8_t*>(out);
  if (st == 0) {
    const float32x4_t t = vdupq_n_f32(b_terms[0]);
    auto terms = [&](size_t, int) { return t; };
    if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
    else run<false>(p, in, dst, n, terms);
    return;
  }
  auto terms = [&](size_t i, int h) {
    const size_t at = i + 4 * static_cast<size_t>(h);
    if (at + 4 <= n) return vld1q_f32(b_terms + at);
    float tail[4] = {};
    if (at < n) std::memcpy(tail, b_terms + at, (n - at) * sizeof(float));
    return vld1q_f32(tail);
  };
  if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
  else run<false>(p, in, dst, n, terms);
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

extern const QElementwisePath kQElementwisePath = {Isa::kNeon, binary_row, binary_row_prepared, sum_pixels, sum_row};

}  // namespace neon
}  // namespace lowbit
