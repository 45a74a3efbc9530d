// Vector operations for the fp32 kernel templates (common/f32-kernels.h), NEON
// (armv8-a): 4 lanes; partial vectors go through a small stack buffer, since
// NEON has no masked load or store.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstring>

namespace lowbit {
namespace neon {

struct F32Ops {
  using V = float32x4_t;
  static constexpr size_t kLanes = 4;
  static constexpr size_t kDwPixels = 16;  // depthwise accumulators: 32 registers
  static constexpr size_t kDwReusePixels = 8;  // + up to 19 input vectors in registers
  static V set1(float x) { return vdupq_n_f32(x); }
  static V load(const float* p) { return vld1q_f32(p); }
  static V load_partial(const float* p, size_t n) {
    float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(tmp, p, n * sizeof(float));
    return vld1q_f32(tmp);
  }
  static V broadcast(const float* p) { return vld1q_dup_f32(p); }
  static V fma(V acc, V a, V b) { return vfmaq_f32(acc, a, b); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  // fmin/fmax propagate NaN from either operand.
  static V min(V bound, V x) { return vminq_f32(bound, x); }
  static V max(V bound, V x) { return vmaxq_f32(bound, x); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static void store_partial(float* p, V v, size_t n) {
    float tmp[4];
    vst1q_f32(tmp, v);
    std::memcpy(p, tmp, n * sizeof(float));
  }
};

}  // namespace neon
}  // namespace lowbit
