// QuantizeLinear / DequantizeLinear rows, 16 floats at a time, with the same
// IEEE operations as ref (see the AVX2 version for the reasoning).
// GCC 12's avx512fintrin.h passes _mm512_undefined_*() through conversion and
// masked intrinsics and then warns that it is uninitialized: a false alarm.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include "lowbit/quantize.h"

namespace lowbit {
namespace avx512vnni {
namespace {

void quantize_row(const float* x, size_t n, float scale, int32_t zero_point, bool out_signed, void* y) {
  const int32_t qmin = out_signed ? -128 : 0, qmax = out_signed ? 127 : 255;
  const __m512 s = _mm512_set1_ps(scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - zero_point));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  auto* out = static_cast<uint8_t*>(y);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
    const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    v = _mm512_maskz_mov_ps(ordered, v);  // NaN -> 0 -> the zero point
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
    const __m128i q8 = out_signed ? _mm512_cvtsepi32_epi8(q) : _mm512_cvtusepi32_epi8(q);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), q8);
  }
  if (i < n) ref::quantize_row(x + i, n - i, scale, zero_point, out_signed, out + i);
}

void dequantize_row(const void* x, ElementType x_type, size_t n, float scale, int32_t zero_point, float* y) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  const auto* in = static_cast<const uint8_t*>(x);
  const bool is_signed = x_type == ElementType::kInt8;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m512i q = is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zp)), s));
  }
  if (i < n) ref::dequantize_row(in + i, x_type, n - i, scale, zero_point, y + i);
}

}  // namespace

extern const QuantizePath kQuantizePath = {quantize_row, dequantize_row};

}  // namespace avx512vnni
}  // namespace lowbit
