// QuantizeLinear / DequantizeLinear rows, 8 floats at a time. The same IEEE
// operations as ref (a true division, round half to even through the default
// MXCSR rounding, clamping before the conversion, NaN to the zero point).
#include <immintrin.h>

#include "lowbit/quantize.h"

namespace lowbit {
namespace avx2 {
namespace {

void quantize_row(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y) {
  const int32_t qmin = out_signed ? -128 : 0, qmax = out_signed ? 127 : 255;
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin - zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax - zero_point));
  const __m256i zp = _mm256_set1_epi32(zero_point);
  auto* out = static_cast<uint8_t*>(y);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    v = _mm256_andnot_ps(nan, v);  // NaN -> 0 -> the zero point
    const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zp);
    // Every lane is already in the output range: pack without saturation effects.
    const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128i q8 = out_signed ? _mm_packs_epi16(q16, q16) : _mm_packus_epi16(q16, q16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), q8);
  }
  if (i < n) ref::quantize_row(x + i, n - i, scale, zero_point, out_signed, out + i);
}

void dequantize_row(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const auto* in = static_cast<const uint8_t*>(x);
  const bool is_signed = x_type == ElementType::kInt8;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i));
    const __m256i q = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), s));
  }
  if (i < n) ref::dequantize_row(in + i, x_type, n - i, scale, zero_point, y + i);
}

}  // namespace

extern const QuantizePath kQuantizePath = {quantize_row, dequantize_row};

}  // namespace avx2
}  // namespace lowbit
