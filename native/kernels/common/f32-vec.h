// Thin float32 vector wrappers (AVX2, AVX-512, NEON) so that a kernel's logic
// is written once (f32-elementwise-impl.h, f32-pool-impl.h) and compiled in
// each ISA's own translation unit with that ISA's flags. Each wrapper only
// exists where the compiler targets its ISA.
//
// Semantics the kernels rely on, identical on every ISA:
//   max_gt(a, b) = a > b ? a : b   and   min_lt(a, b) = a < b ? a : b
// (the second operand on NaN or ties, like x86 maxps / minps), so a kernel
// matches the scalar ref definition bit for bit, signed zeros and NaN included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace lowbit {
namespace simd {

#if defined(__AVX2__) && defined(__FMA__)
struct VecAvx2 {
  using T = __m256;
  using M = __m256;  // all-ones lanes
  static constexpr size_t kN = 8;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T zero() { return _mm256_setzero_ps(); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T sqrt(T a) { return _mm256_sqrt_ps(a); }
  static T max_gt(T a, T b) { return _mm256_max_ps(a, b); }
  static T min_lt(T a, T b) { return _mm256_min_ps(a, b); }
  static M lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M isnan(T a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm256_blendv_ps(b, a, m); }
  static T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static T neg(T a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }
  static T floor(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static T ceil(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integer-valued n in [-126, 127].
  static T exp2i(T n) {
    const __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(i, 23));
  }
  // floor(n / 2) for integer-valued n (exact).
  static T half_floor(T n) { return floor(mul(n, set1(0.5f))); }
};
#endif

#if defined(__AVX512F__)
struct VecAvx512 {
  using T = __m512;
  using M = __mmask16;
  static constexpr size_t kN = 16;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T zero() { return _mm512_setzero_ps(); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T sqrt(T a) { return _mm512_sqrt_ps(a); }
  static T max_gt(T a, T b) { return _mm512_max_ps(a, b); }
  static T min_lt(T a, T b) { return _mm512_min_ps(a, b); }
  static M lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M isnan(T a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm512_mask_blend_ps(m, b, a); }
  static T abs(T a) { return _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_set1_epi32(INT32_MIN), _mm512_castps_si512(a))); }
  static T neg(T a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_set1_epi32(INT32_MIN), _mm512_castps_si512(a))); }
  static T floor(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static T ceil(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T exp2i(T n) {
    const __m512i i = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(i, 23));
  }
  static T half_floor(T n) { return floor(mul(n, set1(0.5f))); }
};
#endif

#if defined(__ARM_NEON) && defined(__aarch64__)
struct VecNeon {
  using T = float32x4_t;
  using M = uint32x4_t;
  static constexpr size_t kN = 4;
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static T set1(float v) { return vdupq_n_f32(v); }
  static T zero() { return vdupq_n_f32(0.0f); }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  static T sub(T a, T b) { return vsubq_f32(a, b); }
  static T mul(T a, T b) { return vmulq_f32(a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T fmadd(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  static T sqrt(T a) { return vsqrtq_f32(a); }
  // vmaxq/vminq propagate NaN and order signed zeros: select instead, to keep
  // the x86 (and ref) semantics.
  static T max_gt(T a, T b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static T min_lt(T a, T b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static M lt(T a, T b) { return vcltq_f32(a, b); }
  static M gt(T a, T b) { return vcgtq_f32(a, b); }
  static M isnan(T a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static T select(M m, T a, T b) { return vbslq_f32(m, a, b); }
  static T abs(T a) { return vabsq_f32(a); }
  static T neg(T a) { return vnegq_f32(a); }
  static T floor(T a) { return vrndmq_f32(a); }
  static T ceil(T a) { return vrndpq_f32(a); }
  static T round(T a) { return vrndnq_f32(a); }
  static T exp2i(T n) {
    const int32x4_t i = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(i, 23));
  }
  static T half_floor(T n) { return floor(mul(n, set1(0.5f))); }
};
#endif

// ---------------------------------------------------------------- vector math
// Approximations used by the SIMD paths (ref calls the C library). Measured
// against it in native/tests/test_elementwise.cc.

// exp(x): n = round(x log2 e), r = x - n ln 2 (Cody-Waite, two FMAs), e^r by
// the Cephes minimax polynomial, times 2^n applied as two halves so that
// results down to the denormals are rounded once. NaN stays NaN; overflow
// gives +inf, underflow 0.
template <class V>
inline typename V::T vexp(typename V::T x0) {
  using T = typename V::T;
  const T x = V::min_lt(V::max_gt(x0, V::set1(-110.0f)), V::set1(100.0f));
  const T n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  T r = V::fmadd(n, V::set1(-0.693359375f), x);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  const T n1 = V::half_floor(n);
  const T n2 = V::sub(n, n1);
  const T y = V::mul(V::mul(p, V::exp2i(n1)), V::exp2i(n2));
  return V::select(V::isnan(x0), x0, y);
}

// 1 / (1 + exp(-x)) from e = exp(-|x|) in (0, 1]: (x < 0 ? e : 1) / (1 + e).
template <class V>
inline typename V::T vsigmoid(typename V::T x) {
  using T = typename V::T;
  const T e = vexp<V>(V::neg(V::abs(x)));
  const T num = V::select(V::lt(x, V::zero()), e, V::set1(1.0f));
  const T y = V::div(num, V::add(V::set1(1.0f), e));
  return V::select(V::isnan(x), x, y);
}

// tanh(x): Eigen's rational approximation (degree 13 / 6) on [-7.9053, 7.9053],
// x itself for |x| < 0.0004.
template <class V>
inline typename V::T vtanh(typename V::T x0) {
  using T = typename V::T;
  const T bound = V::set1(7.90531110763549805f);
  const T x = V::min_lt(V::max_gt(x0, V::neg(bound)), bound);
  const T x2 = V::mul(x, x);
  T p = V::set1(-2.76076847742355e-16f);
  p = V::fmadd(p, x2, V::set1(2.00018790482477e-13f));
  p = V::fmadd(p, x2, V::set1(-8.60467152213735e-11f));
  p = V::fmadd(p, x2, V::set1(5.12229709037114e-08f));
  p = V::fmadd(p, x2, V::set1(1.48572235717979e-05f));
  p = V::fmadd(p, x2, V::set1(6.37261928875436e-04f));
  p = V::fmadd(p, x2, V::set1(4.89352455891786e-03f));
  p = V::mul(p, x);
  T q = V::set1(1.19825839466702e-06f);
  q = V::fmadd(q, x2, V::set1(1.18534705686654e-04f));
  q = V::fmadd(q, x2, V::set1(2.26843463243900e-03f));
  q = V::fmadd(q, x2, V::set1(4.89352518554385e-03f));
  const T y = V::div(p, q);
  const typename V::M tiny = V::lt(V::abs(x0), V::set1(0.0004f));
  return V::select(V::isnan(x0), x0, V::select(tiny, x0, y));
}

}  // namespace simd
}  // namespace lowbit
