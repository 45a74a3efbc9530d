// Vector operations for the fp32 kernel templates (common/f32-kernels.h), AVX2 +
// FMA: 8 lanes, vmaskmov loads and stores for partial vectors (they never touch
// the masked-off memory).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace avx2 {

struct F32Ops {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr size_t kDwPixels = 8;  // depthwise accumulators: 16 registers
  static constexpr size_t kDwReusePixels = 4;  // + up to 11 input vectors in registers
  static __m256i mask(size_t n) {
    static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
  }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, mask(n)); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V acc, V a, V b) { return _mm256_fmadd_ps(a, b, acc); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  // maxps/minps return the second operand when either is NaN: x goes second.
  static V min(V bound, V x) { return _mm256_min_ps(bound, x); }
  static V max(V bound, V x) { return _mm256_max_ps(bound, x); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_partial(float* p, V v, size_t n) { _mm256_maskstore_ps(p, mask(n), v); }
};

}  // namespace avx2
}  // namespace lowbit
