// Vector operations for the fp32 kernel templates (common/f32-kernels.h), AVX-512F:
// 16 lanes, masked loads and stores for partial vectors.
#pragma once

// GCC 12 reports _mm512_undefined_ps() inside _mm512_max_ps/_mm512_min_ps as
// "may be used uninitialized" (a false positive fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstddef>

namespace lowbit {
namespace avx512vnni {

struct F32Ops {
  using V = __m512;
  static constexpr size_t kLanes = 16;
  static constexpr size_t kDwPixels = 16;  // depthwise accumulators: 32 registers
  static constexpr size_t kDwReusePixels = 8;  // + up to 19 input vectors in registers
  static __mmask16 mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V acc, V a, V b) { return _mm512_fmadd_ps(a, b, acc); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // maxps/minps return the second operand when either is NaN: x goes second.
  static V min(V bound, V x) { return _mm512_min_ps(bound, x); }
  static V max(V bound, V x) { return _mm512_max_ps(bound, x); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_partial(float* p, V v, size_t n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

// The same at 256 bits (AVX-512VL), for an 8-channel tail after 16-channel
// blocks: full registers instead of half-masked 512-bit ones.
struct F32Ops256 {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr size_t kDwPixels = 16;
  static constexpr size_t kDwReusePixels = 8;
  static __mmask8 mask(size_t n) { return static_cast<__mmask8>((1u << n) - 1); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_partial(const float* p, size_t n) { return _mm256_maskz_loadu_ps(mask(n), p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V acc, V a, V b) { return _mm256_fmadd_ps(a, b, acc); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V min(V bound, V x) { return _mm256_min_ps(bound, x); }
  static V max(V bound, V x) { return _mm256_max_ps(bound, x); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_partial(float* p, V v, size_t n) { _mm256_mask_storeu_ps(p, mask(n), v); }
};

}  // namespace avx512vnni
}  // namespace lowbit
