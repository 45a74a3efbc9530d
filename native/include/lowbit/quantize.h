// ONNX QuantizeLinear / DequantizeLinear over a [outer x channels x inner] block:
// parameters are indexed by channel (per axis) or shared (one value).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/cpu.h"

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

// One contiguous row with one scale and zero point: the inner loop of the
// block functions above, vectorised per ISA, bit-identical to ref.
void quantize_row(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y);
void dequantize_row(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y);

}  // namespace ref

struct QuantizePath {
  void (*quantize_row)(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y);
  // x_type int8 or uint8 (int32 rows use ref).
  void (*dequantize_row)(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y);
};

// The row kernels for a kernel path (a path without its own uses the closest one).
const QuantizePath& quantize_path(Isa isa);

// The block functions over a path's row kernels.
void quantize_linear(const QuantizePath& path, const float* x, size_t outer, size_t channels, size_t inner,
                     const float* scale, size_t scale_count, const int32_t* zero_point, size_t zero_point_count,
                     bool out_signed, void* y);
void dequantize_linear(const QuantizePath& path, const void* x, ElementType x_type, size_t outer, size_t channels,
                       size_t inner, const float* scale, size_t scale_count, const int32_t* zero_point,
                       size_t zero_point_count, float* y);

}  // namespace lowbit
