// Reference QuantizeLinear / DequantizeLinear with ONNX (and onnxruntime) semantics.
#include <cmath>

#include "lowbit/quantize.h"

namespace lowbit {
namespace ref {

void quantize_linear(const float* x, size_t outer, size_t channels, size_t inner,
                     const float* scale, size_t scale_count, const int32_t* zero_point,
                     size_t zero_point_count, bool out_signed, void* y) {
  const int32_t qmin = out_signed ? -128 : 0;
  const int32_t qmax = out_signed ? 127 : 255;
  size_t idx = 0;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const float s = scale[scale_count == 1 ? 0 : c];
      const int32_t zp = zero_point_count == 0 ? 0 : zero_point[zero_point_count == 1 ? 0 : c];
      // Divide (not multiply by a reciprocal): that is what ONNX specifies.
      const float lo = static_cast<float>(qmin - zp);
      const float hi = static_cast<float>(qmax - zp);
      for (size_t i = 0; i < inner; ++i, ++idx) {
        float v = x[idx] / s;
        int32_t q;
        if (std::isnan(v)) {
          q = zp;
        } else {
          v = v < lo ? lo : (v > hi ? hi : v);
          q = static_cast<int32_t>(std::nearbyint(v)) + zp;
        }
        if (out_signed) {
          static_cast<int8_t*>(y)[idx] = static_cast<int8_t>(q);
        } else {
          static_cast<uint8_t*>(y)[idx] = static_cast<uint8_t>(q);
        }
      }
    }
  }
}

void dequantize_linear(const void* x, ElementType x_type, size_t outer, size_t channels,
                       size_t inner, const float* scale, size_t scale_count,
                       const int32_t* zero_point, size_t zero_point_count, float* y) {
  size_t idx = 0;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const float s = scale[scale_count == 1 ? 0 : c];
      const int32_t zp = zero_point_count == 0 ? 0 : zero_point[zero_point_count == 1 ? 0 : c];
      for (size_t i = 0; i < inner; ++i, ++idx) {
        int32_t q;
        switch (x_type) {
          case ElementType::kInt8: q = static_cast<const int8_t*>(x)[idx]; break;
          case ElementType::kUint8: q = static_cast<const uint8_t*>(x)[idx]; break;
          default: q = static_cast<const int32_t*>(x)[idx]; break;
        }
        // int32 inputs: the subtraction wraps like onnxruntime's int32 arithmetic.
        const int32_t d = static_cast<int32_t>(static_cast<uint32_t>(q) - static_cast<uint32_t>(zp));
        y[idx] = static_cast<float>(d) * s;
      }
    }
  }
}

void quantize_row(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y) {
  const int32_t zp[1] = {zero_point};
  quantize_linear(x, 1, 1, n, &scale, 1, zp, 1, out_signed, y);
}

void dequantize_row(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y) {
  const int32_t zp[1] = {zero_point};
  dequantize_linear(x, x_type, 1, 1, n, &scale, 1, zp, 1, y);
}

}  // namespace ref
}  // namespace lowbit
