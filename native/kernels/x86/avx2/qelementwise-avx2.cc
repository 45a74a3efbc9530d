// Quantized Add / Mul rows and global-average-pool sums on AVX2: the same
// float32 operations as ref in the same order (two products and a sum for
// Add; an exact product of the differences, then one product for Mul; no
// FMA), clamping before the conversion, round half to even through cvtps (the
// default MXCSR rounding). 32 elements per step, packed to bytes at once; the
// tail runs the same vector code on a copy, so it rounds identically.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace avx2 {
namespace {

inline __m256i load8(const void* p, size_t i, bool is_signed) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(p) + i));
  return is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

struct Consts {
  __m256i za, zb, zy;
  __m256 fa, fb, lo, hi;
  explicit Consts(const QBinaryParams& p)
      : za(_mm256_set1_epi32(p.za)), zb(_mm256_set1_epi32(p.zb)), zy(_mm256_set1_epi32(p.zy)),
        fa(_mm256_set1_ps(p.fa)), fb(_mm256_set1_ps(p.fb)), lo(_mm256_set1_ps(p.lo)), hi(_mm256_set1_ps(p.hi)) {}
};

// t from a's differences and b's terms (qbinary_one_prepared), then the quantized int32.
// kClamp false (QBinaryParams::float_clamp): the saturating packs clamp instead.
template <bool kAdd, bool kClamp>
inline __m256i finish(const Consts& k, __m256i a, __m256 b_term) {
  const __m256 da = _mm256_cvtepi32_ps(_mm256_sub_epi32(a, k.za));
  __m256 t = kAdd ? _mm256_add_ps(_mm256_mul_ps(k.fa, da), b_term) : _mm256_mul_ps(k.fa, _mm256_mul_ps(da, b_term));
  if (kClamp) t = _mm256_min_ps(_mm256_max_ps(t, k.lo), k.hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(t), k.zy);
}

template <bool kAdd>
inline __m256 term_of(const Consts& k, __m256i b) {
  const __m256 db = _mm256_cvtepi32_ps(_mm256_sub_epi32(b, k.zb));
  return kAdd ? _mm256_mul_ps(k.fb, db) : db;
}

// 4 x 8 int32 (each within the output range after saturation) -> 32 bytes in order.
inline void store32(uint8_t* out, __m256i q0, __m256i q1, __m256i q2, __m256i q3, bool out_signed) {
  const __m256i p01 = _mm256_packs_epi32(q0, q1), p23 = _mm256_packs_epi32(q2, q3);
  const __m256i b = out_signed ? _mm256_packs_epi16(p01, p23) : _mm256_packus_epi16(p01, p23);
  const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), ordered);
}

inline void store8(uint8_t* out, __m256i q, bool out_signed) {
  const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i q8 = out_signed ? _mm_packs_epi16(q16, q16) : _mm_packus_epi16(q16, q16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), q8);
}

// B(i) gives b's terms for elements i..i+7.
template <bool kAdd, bool kClamp, typename B>
void run_clamp(const QBinaryParams& p, const uint8_t* a, uint8_t* out, size_t n, const B& b_terms) {
  const Consts k(p);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i q0 = finish<kAdd, kClamp>(k, load8(a, i, p.a_signed), b_terms(i));
    const __m256i q1 = finish<kAdd, kClamp>(k, load8(a, i + 8, p.a_signed), b_terms(i + 8));
    const __m256i q2 = finish<kAdd, kClamp>(k, load8(a, i + 16, p.a_signed), b_terms(i + 16));
    const __m256i q3 = finish<kAdd, kClamp>(k, load8(a, i + 24, p.a_signed), b_terms(i + 24));
    store32(out + i, q0, q1, q2, q3, p.out_signed);
  }
  for (; i + 8 <= n; i += 8) store8(out + i, finish<kAdd, kClamp>(k, load8(a, i, p.a_signed), b_terms(i)), p.out_signed);
  if (i < n) {
    // The last 1..7: the same vector code on a zero-padded copy.
    uint8_t a_tail[8] = {}, out_tail[8];
    std::memcpy(a_tail, a + i, n - i);
    store8(out_tail, finish<kAdd, kClamp>(k, load8(a_tail, 0, p.a_signed), b_terms(i)), p.out_signed);
    std::memcpy(out + i, out_tail, n - i);
  }
}

template <bool kAdd, typename B>
void run(const QBinaryParams& p, const uint8_t* a, uint8_t* out, size_t n, const B& b_terms) {
  if (p.float_clamp) run_clamp<kAdd, true>(p, a, out, n, b_terms);
  else run_clamp<kAdd, false>(p, a, out, n, b_terms);
}

template <bool kAdd>
void binary_row_typed(const QBinaryParams& p, const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n) {
  const Consts k(p);
  // b's bytes past n are never read: its tail is copied like a's.
  auto terms = [&](size_t i) {
    if (i + 8 <= n) return term_of<kAdd>(k, load8(b, i, p.b_signed));
    uint8_t tail[8] = {};
    std::memcpy(tail, b + i, n - i);
    return term_of<kAdd>(k, load8(tail, 0, p.b_signed));
  };
  run<kAdd>(p, a, out, n, terms);
}

void binary_row(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n) {
  const auto* in = static_cast<const uint8_t*>(a);
  const auto* bb = static_cast<const uint8_t*>(b);
  auto* dst = static_cast<uint8_t*>(out);
  if (p.op == QBinaryOp::kAdd) binary_row_typed<true>(p, in, bb, dst, n);
  else binary_row_typed<false>(p, in, bb, dst, n);
}

void binary_row_prepared(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out, size_t n) {
  const auto* in = static_cast<const uint8_t*>(a);
  auto* dst = static_cast<uint8_t*>(out);
  if (st == 0) {
    const __m256 t = _mm256_set1_ps(b_terms[0]);
    auto terms = [&](size_t) { return t; };
    if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
    else run<false>(p, in, dst, n, terms);
    return;
  }
  auto terms = [&](size_t i) {
    if (i + 8 <= n) return _mm256_loadu_ps(b_terms + i);
    float tail[8] = {};
    std::memcpy(tail, b_terms + i, (n - i) * sizeof(float));
    return _mm256_loadu_ps(tail);
  };
  if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
  else run<false>(p, in, dst, n, terms);
}

// 16 bytes widened to int16.
inline __m256i load16w(const uint8_t* p, bool is_signed) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return is_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

// int16 lanes added to two int32 accumulators (8 lanes each, in order).
inline void widen_add(__m256i v16, __m256i* lo, __m256i* hi) {
  *lo = _mm256_add_epi32(*lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v16)));
  *hi = _mm256_add_epi32(*hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v16, 1)));
}

void sum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  const auto* in = static_cast<const uint8_t*>(x);
  // 128 pixels of 8-bit values sum within int16 (|sum| <= 128 * 255 = 32640):
  // 32 channels per pass in int16 registers, widened to int32 every 128 pixels.
  constexpr size_t kPixels16 = 128;
  size_t j = 0;
  for (; j + 32 <= c; j += 32) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t s0_pixel = 0; s0_pixel < spatial; s0_pixel += kPixels16) {
      const size_t s1_pixel = std::min(spatial, s0_pixel + kPixels16);
      __m256i h0 = _mm256_setzero_si256(), h1 = h0;
      for (size_t s = s0_pixel; s < s1_pixel; ++s) {
        h0 = _mm256_add_epi16(h0, load16w(in + s * stride + j, is_signed));
        h1 = _mm256_add_epi16(h1, load16w(in + s * stride + j + 16, is_signed));
      }
      widen_add(h0, &s0, &s1);
      widen_add(h1, &s2, &s3);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j), s0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 8), s1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 16), s2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 24), s3);
  }
  for (; j + 8 <= c; j += 8) {
    __m256i s0 = _mm256_setzero_si256();
    for (size_t s = 0; s < spatial; ++s) s0 = _mm256_add_epi32(s0, load8(in, s * stride + j, is_signed));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j), s0);
  }
  if (j < c) ref::qsum_pixels(in + j, is_signed, spatial, c - j, stride, acc + j);
}

int32_t sum_row(const void* x, bool is_signed, size_t n) {
  // vpsadbw sums 8 unsigned bytes into a 64-bit lane exactly; int8 is read as
  // byte ^ 0x80 (value + 128) and corrected by 128 per element.
  const auto* in = static_cast<const uint8_t*>(x);
  const __m256i flip = _mm256_set1_epi8(is_signed ? static_cast<char>(0x80) : 0);
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), flip);
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
  }
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  int64_t total = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
  if (is_signed) total -= 128 * static_cast<int64_t>(i);
  return static_cast<int32_t>(total) + (i < n ? ref::qsum_row(in + i, is_signed, n - i) : 0);
}

}  // namespace

extern const QElementwisePath kQElementwisePath = {Isa::kAvx2, binary_row, binary_row_prepared, sum_pixels, sum_row};

}  // namespace avx2
}  // namespace lowbit
