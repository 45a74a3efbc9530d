// Dynamic quantization: activations quantized at run time from their own range
// (ONNX DynamicQuantizeLinear), and the fused int8 matrix product that
// onnxruntime's quantize_dynamic graphs express as
//   DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x_scale * w_scale) [-> Add(bias)].
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/gemm.h"
#include "lowbit/quantize.h"
#include "lowbit/stats.h"

namespace lowbit {

class ThreadPool;

// uint8 parameters of DynamicQuantizeLinear, in float32 as ONNX specifies:
//   lo = min(0, min(x)), hi = max(0, max(x)), scale = (hi - lo) / 255,
//   zero_point = saturate(round_half_even(0 - lo / scale)).
// NaNs are ignored when finding the range. An all-zero x gives scale 0 and
// zero point 0 (every output 0), where the formula would divide by zero.
struct DynamicParams {
  float scale = 0.0f;
  int32_t zero_point = 0;
};
DynamicParams dynamic_params(const StatsPath& stats, const float* x, size_t n, ThreadPool* pool);

// y = saturate(round_half_even(x / scale) + zero_point), uint8.
void dynamic_quantize_linear(const QuantizePath& path, const StatsPath& stats, const float* x, size_t n, uint8_t* y,
                             DynamicParams* params, ThreadPool* pool);

// out[m][n] = float(sum_k (xq[m][k] - zp) * w[k][n]) * (x_scale * w_scale[n]) (+ bias[n]),
// with xq, x_scale, zp from DynamicQuantizeLinear over the whole of x (per
// tensor, as onnxruntime does). w is int8 packed for `gemm` (zero point 0 or
// per column). The products x_scale * w_scale[n] are rounded to float32 first,
// then each output is one float32 multiply (and one add): the same operations,
// in the same order, as the unfused ONNX graph.
struct DynamicGemmArgs {
  size_t m = 0;
  const float* x = nullptr;
  const PackedMatrix* w = nullptr;
  const float* w_scale = nullptr;
  size_t w_scale_count = 0;  // 1 or n
  const float* bias = nullptr;  // n values, or nullptr
  float* out = nullptr;
};
void dynamic_gemm(const GemmPath& gemm_path, const QuantizePath& quantize_path, const StatsPath& stats,
                  const DynamicGemmArgs& args, ThreadPool& pool);

}  // namespace lowbit
