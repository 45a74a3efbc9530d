// Int8 depthwise convolution, NEON (armv8-a): 16 channels per register block.
//
// Each tap's 16 input bytes are widened to int16 (UXTL / SXTL) and multiplied by
// (w - w_zero_point) as int16 with SMLAL / SMLAL2 into int32 accumulators: every
// product is exact (|x * w'| <= 255 * 255) and the sums wrap like ref's.
// Accumulators start at bias - x_zero_point * sum(w') (prepared per call), so
// padded taps, which read a row of x_zero_point bytes, cancel out.
//
// Output stage: lowbit::requantize_one lane for lane, HardSwish included (see
// ../common/gemm-microkernel.h).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "../../common/dwconv-rows.h"
#include "../common/gemm-microkernel.h"
#include "lowbit/depthwise_s8.h"

namespace lowbit {
namespace neon {
namespace {

constexpr size_t kBlock = 16;

// Layout: [cp / 16][taps][16] int16 (w - w_zero_point).
void pack(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
          const std::vector<int32_t>& zero_point, PackedDepthwise* out) {
  const size_t taps = kh * kw;
  out->data.resize(out->cp * taps * sizeof(int16_t));
  auto* dst = static_cast<int16_t*>(out->data.data());
  for (size_t c = 0; c < channels; ++c) {
    const int32_t zw = zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c];
    for (size_t t = 0; t < taps; ++t) {
      const size_t i = c * taps + t;
      const int32_t v = w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
      dst[((c / kBlock) * taps + t) * kBlock + c % kBlock] = static_cast<int16_t>(v - zw);
    }
  }
}

// 16 bytes, or the first `valid` (< 16) of them without reading past.
LOWBIT_ARM_INLINE uint8x16_t load16(const uint8_t* p, size_t valid) {
  if (valid >= 16) return vld1q_u8(p);
  uint8_t tmp[16] = {};
  std::memcpy(tmp, p, valid);
  return vld1q_u8(tmp);
}

template <bool kSigned>
LOWBIT_ARM_INLINE void widen(uint8x16_t v, int16x8_t* lo, int16x8_t* hi) {
  if (kSigned) {
    const int8x16_t s = vreinterpretq_s8_u8(v);
    *lo = vmovl_s8(vget_low_s8(s));
    *hi = vmovl_high_s8(s);
  } else {
    *lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
    *hi = vreinterpretq_s16_u16(vmovl_high_u8(v));
  }
}

// kHardSwish must equal params.hardswish: chosen once per call (see run), so
// the plain stage has no HardSwish test in its loops. Not inlined: with four
// variants inlined into run, GCC spilled an accumulator in the tap loop.
template <bool kSigned, bool kHardSwish>
__attribute__((noinline)) void run_typed(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const DepthwiseParams& p = *a.params;
  const size_t c = a.c, taps = a.geometry.taps();
  arm::OutputStage os;
  os.kind = p.kind == DepthwiseOutput::kInt32 ? arm::OutputKind::kInt32
            : p.out_signed ? arm::OutputKind::kInt8 : arm::OutputKind::kUint8;
  os.mode = p.kind == DepthwiseOutput::kFixedpoint ? RequantMode::kFixedpoint : RequantMode::kFp32;
  os.zero_point = p.zero_point;
  os.qmin = p.qmin;
  os.qmax = p.qmax;
  os.lo = p.lo;
  os.hi = p.hi;
  os.hardswish = kHardSwish;
  os.hardswish_k = p.hardswish_k;
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const auto* w = static_cast<const int16_t*>(a.weights->data.data());
  auto* out = static_cast<uint8_t*>(a.out);
  dwconv::for_each_pixel(a, r0, r1, [&](const uint8_t* const* tap, size_t index) __attribute__((always_inline)) {
    uint8_t* o = out + index * c * out_bytes;
    for (size_t c0 = 0; c0 < c; c0 += kBlock) {
      const size_t valid = std::min(kBlock, c - c0);
      const int16_t* wb = w + (c0 / kBlock) * taps * kBlock;
      int32x4_t acc[4];
      for (size_t j = 0; j < 4; ++j) acc[j] = vld1q_s32(p.init.data() + c0 + 4 * j);
      for (size_t t = 0; t < taps; ++t) {
        int16x8_t lo, hi;
        widen<kSigned>(load16(tap[t] + c0, valid), &lo, &hi);
        const int16x8_t w0 = vld1q_s16(wb + t * kBlock), w1 = vld1q_s16(wb + t * kBlock + 8);
        acc[0] = vmlal_s16(acc[0], vget_low_s16(lo), vget_low_s16(w0));
        acc[1] = vmlal_high_s16(acc[1], lo, w0);
        acc[2] = vmlal_s16(acc[2], vget_low_s16(hi), vget_low_s16(w1));
        acc[3] = vmlal_high_s16(acc[3], hi, w1);
      }
      if (os.kind == arm::OutputKind::kInt32) {
        auto* oc = reinterpret_cast<int32_t*>(o + c0 * out_bytes);
        if (valid == kBlock) {
          for (size_t j = 0; j < 4; ++j) vst1q_s32(oc + 4 * j, acc[j]);
        } else {
          int32_t tmp[kBlock];
          for (size_t j = 0; j < 4; ++j) vst1q_s32(tmp + 4 * j, acc[j]);
          std::memcpy(oc, tmp, valid * sizeof(int32_t));
        }
        continue;
      }
      int32x4_t y[4];
      for (size_t j = 0; j < 4; ++j) {
        const size_t ch = c0 + 4 * j;
        y[j] = arm::requantize<kHardSwish>(acc[j], os, p.multiplier.data() + ch,
                                           p.left_shift.data() + ch, p.neg_right_shift.data() + ch,
                                           p.scale.data() + ch);
      }
      // XTN keeps the low bits: the reference's static_cast to uint8_t / int8_t.
      const int16x8_t h01 = vcombine_s16(vmovn_s32(y[0]), vmovn_s32(y[1]));
      const int16x8_t h23 = vcombine_s16(vmovn_s32(y[2]), vmovn_s32(y[3]));
      const int8x16_t bytes = vcombine_s8(vmovn_s16(h01), vmovn_s16(h23));
      auto* oc = reinterpret_cast<int8_t*>(o + c0);
      if (valid == kBlock) {
        vst1q_s8(oc, bytes);
      } else {
        int8_t tmp[kBlock];
        vst1q_s8(tmp, bytes);
        std::memcpy(oc, tmp, valid);
      }
    }
  });
}

void run(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const bool hardswish = a.params->hardswish;
  if (a.x_signed) {
    if (hardswish) run_typed<true, true>(a, r0, r1);
    else run_typed<true, false>(a, r0, r1);
  } else {
    if (hardswish) run_typed<false, true>(a, r0, r1);
    else run_typed<false, false>(a, r0, r1);
  }
}

}  // namespace

extern const DepthwisePath kDepthwisePath = {Isa::kNeon, kBlock, pack, run, nullptr};

}  // namespace neon
}  // namespace lowbit
