// DynamicQuantizeLinear and the fused dynamic int8 GEMM, composed from the
// quantize-row and int8 GEMM paths (each already bit-identical to ref), so the
// result is the same on every ISA.
#include "lowbit/dynamic_quant.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lowbit/thread_pool.h"

namespace lowbit {

DynamicParams dynamic_params(const StatsPath& stats, const float* x, size_t n, ThreadPool* pool) {
  // The SIMD min/max of the calibration statistics (NaNs skipped; +inf/-inf
  // when there is no number), then the range widened to hold 0.
  float lo = 0.0f, hi = 0.0f;
  min_max(stats, x, n, &lo, &hi, pool);
  const float min = std::min(lo, 0.0f), max = std::max(hi, 0.0f);
  DynamicParams p;
  p.scale = (max - min) / 255.0f;
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) {
    // All zeros (or an infinite range, which has no useful uint8 form).
    p.scale = std::isfinite(p.scale) ? 0.0f : p.scale;
    p.zero_point = 0;
    return p;
  }
  const float zp = std::nearbyint(0.0f - min / p.scale);
  p.zero_point = static_cast<int32_t>(std::min(255.0f, std::max(0.0f, zp)));
  return p;
}

void dynamic_quantize_linear(const QuantizePath& path, const StatsPath& stats, const float* x, size_t n, uint8_t* y,
                             DynamicParams* params, ThreadPool* pool) {
  *params = dynamic_params(stats, x, n, pool);
  if (!(params->scale > 0.0f) || !std::isfinite(params->scale)) {
    std::fill(y, y + n, static_cast<uint8_t>(0));
    return;
  }
  path.quantize_row(x, n, params->scale, params->zero_point, false, y);
}

void dynamic_gemm(const GemmPath& gemm_path, const QuantizePath& quantize_path, const StatsPath& stats,
                  const DynamicGemmArgs& a, ThreadPool& pool) {
  const PackedMatrix& w = *a.w;
  const size_t m = a.m, n = w.n, k = w.k;
  if (m == 0) return;
  // Per-thread scratch: one Program may run on several threads at once.
  thread_local std::vector<uint8_t> xq;
  thread_local std::vector<int32_t> acc;
  xq.resize(m * k);
  acc.resize(m * n);
  DynamicParams p;
  dynamic_quantize_linear(quantize_path, stats, a.x, m * k, xq.data(), &p, &pool);
  GemmArgs g;
  g.m = m;
  g.a = xq.data();
  g.a_stride = k;
  g.a_signed = false;
  g.a_zero_point = p.zero_point;
  g.b = &w;
  g.c = acc.data();
  g.c_stride = n;
  gemm_parallel(gemm_path, g, pool);
  thread_local std::vector<float> scale;
  scale.resize(n);
  for (size_t j = 0; j < n; ++j) scale[j] = p.scale * a.w_scale[a.w_scale_count == 1 ? 0 : j];
  for (size_t i = 0; i < m; ++i) {
    const int32_t* row = acc.data() + i * n;
    float* out = a.out + i * n;
    if (a.bias != nullptr) {
      for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(row[j]) * scale[j] + a.bias[j];
    } else {
      for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(row[j]) * scale[j];
    }
  }
}

}  // namespace lowbit
