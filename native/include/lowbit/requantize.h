// The output stage of an int8 kernel: int32 accumulator -> 8-bit value.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/fixedpoint.h"

namespace lowbit {

enum class RequantMode : int { kFp32 = 0, kFixedpoint = 1 };

// Prepared once per layer (like XNNPACK's microparams), used by every call.
// Per-tensor when the parameter vectors hold one value, per channel otherwise.
struct Requantization {
  RequantMode mode = RequantMode::kFp32;
  std::vector<float> scale;          // fp32 mode
  std::vector<int32_t> multiplier;   // fixedpoint mode: Q31, [0, 2^31 - 1]
  std::vector<int32_t> shift;        // fixedpoint mode: [-31, 30], positive = left
  std::vector<int32_t> bias;         // optional, added to the accumulator first (wrapping)
  int32_t zero_point = 0;
  int32_t qmin = 0;                  // output clamp, in the output domain
  int32_t qmax = 255;                // (ReLU / ReLU6 are expressed as a range)
  bool out_signed = false;
  // fp32 mode only: HardSwish between the scaling and the clamp, for a Conv
  // whose output is quantized after its HardSwish. x = acc * scale is the
  // output in steps of y_scale, so hardswish(x * y_scale) / y_scale =
  // x * clamp(x * k + 1/2, 0, 1) with k = y_scale / 6 (hardswish_k).
  bool hardswish = false;
  float hardswish_k = 0.0f;

  // Number of channels the parameters describe (1 = per tensor).
  size_t channels() const {
    const size_t p = mode == RequantMode::kFp32 ? scale.size() : multiplier.size();
    return p > bias.size() ? p : bias.size();
  }
};

// HardSwish of a value in output steps (see Requantization::hardswish), in
// this order, each operation one float32 rounding (no FMA): t = x * k;
// t = t + 1/2; t = min(t, 1); t = max(t, 0); x * t. The binding keeps
// |acc * scale| finite, so x * t is never inf * 0.
inline float hardswish_steps(float x, float k) {
  float t = x * k;
  t = t + 0.5f;
  t = t > 1.0f ? 1.0f : t;
  t = t < 0.0f ? 0.0f : t;
  return x * t;
}

// One value, channel c. This is the definition every path must match.
inline int32_t requantize_one(const Requantization& rq, int32_t acc, size_t c) {
  if (!rq.bias.empty()) {
    acc = fixedpoint::wrapping_add(acc, rq.bias[rq.bias.size() == 1 ? 0 : c]);
  }
  if (rq.mode == RequantMode::kFp32) {
    const float s = rq.scale[rq.scale.size() == 1 ? 0 : c];
    // ONNX QLinear*: acc * scale in float32, clamp, round half to even, add zero point.
    float x = static_cast<float>(acc) * s;
    if (rq.hardswish) x = hardswish_steps(x, rq.hardswish_k);
    const float lo = static_cast<float>(rq.qmin - rq.zero_point);
    const float hi = static_cast<float>(rq.qmax - rq.zero_point);
    x = x < lo ? lo : (x > hi ? hi : x);
    return static_cast<int32_t>(std::nearbyint(x)) + rq.zero_point;
  }
  const size_t i = rq.multiplier.size() == 1 ? 0 : c;
  int32_t y = fixedpoint::multiply_by_quantized_multiplier(acc, rq.multiplier[i], rq.shift[i]);
  y = fixedpoint::wrapping_add(y, rq.zero_point);
  return y < rq.qmin ? rq.qmin : (y > rq.qmax ? rq.qmax : y);
}

}  // namespace lowbit
