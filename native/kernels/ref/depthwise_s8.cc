// Reference depthwise path: the formula of lowbit/depthwise_s8.h evaluated one
// output at a time, (x - x_zero_point) * (w - w_zero_point) summed over the
// taps, then requantize_one. The SIMD paths must match it bit for bit.
#include <cstring>

#include "../common/dwconv-rows.h"
#include "lowbit/depthwise_s8.h"

namespace lowbit {
namespace ref {
namespace {

// Layout: int32 (w - w_zero_point), [channel][tap].
void pack(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
          const std::vector<int32_t>& zero_point, PackedDepthwise* out) {
  const size_t taps = kh * kw;
  out->data.resize(out->cp * taps * sizeof(int32_t));
  auto* dst = static_cast<int32_t*>(out->data.data());
  for (size_t c = 0; c < channels; ++c) {
    const int32_t zw = zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c];
    for (size_t t = 0; t < taps; ++t) {
      const size_t i = c * taps + t;
      const int32_t v = w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
      dst[i] = v - zw;
    }
  }
}

void run(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const DepthwiseParams& p = *a.params;
  const size_t c = a.c, taps = a.geometry.taps();
  const auto* wt = static_cast<const int32_t*>(a.weights->data.data());
  dwconv::for_each_pixel(a, r0, r1, [&](const uint8_t* const* tap, size_t index) {
    for (size_t ch = 0; ch < c; ++ch) {
      uint32_t acc = 0;  // wrapping int32 without undefined behaviour
      for (size_t t = 0; t < taps; ++t) {
        const int32_t xv = a.x_signed ? static_cast<int8_t>(tap[t][ch]) : static_cast<int32_t>(tap[t][ch]);
        acc += static_cast<uint32_t>((xv - p.x_zero_point) * wt[ch * taps + t]);
      }
      const int32_t v = static_cast<int32_t>(acc);
      const size_t at = index * c + ch;
      if (p.kind == DepthwiseOutput::kInt32) {
        static_cast<int32_t*>(a.out)[at] = v;
      } else if (p.out_signed) {
        static_cast<int8_t*>(a.out)[at] = static_cast<int8_t>(requantize_one(p.rq, v, ch));
      } else {
        static_cast<uint8_t*>(a.out)[at] = static_cast<uint8_t>(requantize_one(p.rq, v, ch));
      }
    }
  });
}

}  // namespace

extern const DepthwisePath kDepthwisePath = {Isa::kRef, 1, pack, run, nullptr};

}  // namespace ref
}  // namespace lowbit
