// ONNX QuantizeLinear / DequantizeLinear over a [outer x channels x inner] block:
// parameters are indexed by channel (per axis) or shared (one value).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lowbit {

enum class ElementType : int { kFloat32 = 0, kInt8 = 1, kUint8 = 2, kInt32 = 3 };

namespace ref {

// y = saturate(round_half_even(x / scale) + zero_point); NaN maps to zero_point.
void quantize_linear(const float* x, size_t outer, size_t channels, size_t inner,
                     const float* scale, size_t scale_count, const int32_t* zero_point,
                     size_t zero_point_count, bool out_signed, void* y);

// y = (x - zero_point) * scale, in float32. x is int8, uint8 or int32.
void dequantize_linear(const void* x, ElementType x_type, size_t outer, size_t channels,
                       size_t inner, const float* scale, size_t scale_count,
                       const int32_t* zero_point, size_t zero_point_count, float* y);

}  // namespace ref
}  // namespace lowbit
