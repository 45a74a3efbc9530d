// Quantized Add / Mul rows and global-average-pool sums on AVX-512, 16
// elements per step with the same float32 operations as ref in the same order
// (see the AVX2 version); tails use masked loads and stores, and the
// conversion to 8 bits saturates (vpmovsdb / vpmovusdb) after the clamp, so it
// never changes a value.
// GCC 12's avx512fintrin.h passes _mm512_undefined_*() through the widening
// and conversion intrinsics and then warns that it is uninitialized: a false alarm.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <algorithm>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace avx512 {
namespace {

inline __m512i widen(__m128i v, bool is_signed) {
  return is_signed ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

inline __m128i load16(const uint8_t* p, __mmask16 m) { return _mm_maskz_loadu_epi8(m, p); }

struct Consts {
  __m512i za, zb, zy;
  __m512 fa, fb, lo, hi;
  explicit Consts(const QBinaryParams& p)
      : za(_mm512_set1_epi32(p.za)), zb(_mm512_set1_epi32(p.zb)), zy(_mm512_set1_epi32(p.zy)),
        fa(_mm512_set1_ps(p.fa)), fb(_mm512_set1_ps(p.fb)), lo(_mm512_set1_ps(p.lo)), hi(_mm512_set1_ps(p.hi)) {}
};

// kClamp false (QBinaryParams::float_clamp): the saturating conversion clamps instead.
template <bool kAdd, bool kClamp>
inline __m128i quantized(const QBinaryParams& p, const Consts& k, __m512i a, __m512 b_term) {
  const __m512 da = _mm512_cvtepi32_ps(_mm512_sub_epi32(a, k.za));
  __m512 t = kAdd ? _mm512_add_ps(_mm512_mul_ps(k.fa, da), b_term) : _mm512_mul_ps(k.fa, _mm512_mul_ps(da, b_term));
  if (kClamp) t = _mm512_min_ps(_mm512_max_ps(t, k.lo), k.hi);
  __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), k.zy);
  // vpmovusdb reads int32 as unsigned: negatives must become 0 first.
  if (!kClamp && !p.out_signed) q = _mm512_max_epi32(q, _mm512_setzero_si512());
  return p.out_signed ? _mm512_cvtsepi32_epi8(q) : _mm512_cvtusepi32_epi8(q);
}

template <bool kAdd>
inline __m512 term_of(const Consts& k, __m512i b) {
  const __m512 db = _mm512_cvtepi32_ps(_mm512_sub_epi32(b, k.zb));
  return kAdd ? _mm512_mul_ps(k.fb, db) : db;
}

// B(i, mask) gives b's terms for elements i..i+15 (masked lanes beyond n).
template <bool kAdd, bool kClamp, typename B>
void run_clamp(const QBinaryParams& p, const uint8_t* a, uint8_t* out, size_t n, const B& b_terms) {
  const Consts k(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), quantized<kAdd, kClamp>(p, k, widen(va, p.a_signed), b_terms(i, 0xFFFF)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m128i q = quantized<kAdd, kClamp>(p, k, widen(load16(a + i, m), p.a_signed), b_terms(i, m));
    _mm_mask_storeu_epi8(out + i, m, q);
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
  run<kAdd>(p, a, out, n, [&](size_t i, __mmask16 m) { return term_of<kAdd>(k, widen(load16(b + i, m), p.b_signed)); });
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
    const __m512 t = _mm512_set1_ps(b_terms[0]);
    auto terms = [&](size_t, __mmask16) { return t; };
    if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
    else run<false>(p, in, dst, n, terms);
    return;
  }
  auto terms = [&](size_t i, __mmask16 m) { return _mm512_maskz_loadu_ps(m, b_terms + i); };
  if (p.op == QBinaryOp::kAdd) run<true>(p, in, dst, n, terms);
  else run<false>(p, in, dst, n, terms);
}

void sum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  const auto* in = static_cast<const uint8_t*>(x);
  // 128 pixels sum within int16 (see the AVX2 version): 64 channels per pass.
  constexpr size_t kPixels16 = 128;
  size_t j = 0;
  for (; j + 64 <= c; j += 64) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t p0 = 0; p0 < spatial; p0 += kPixels16) {
      const size_t p1 = std::min(spatial, p0 + kPixels16);
      __m512i h0 = _mm512_setzero_si512(), h1 = h0;
      for (size_t s = p0; s < p1; ++s) {
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + s * stride + j));
        const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + s * stride + j + 32));
        h0 = _mm512_add_epi16(h0, is_signed ? _mm512_cvtepi8_epi16(v0) : _mm512_cvtepu8_epi16(v0));
        h1 = _mm512_add_epi16(h1, is_signed ? _mm512_cvtepi8_epi16(v1) : _mm512_cvtepu8_epi16(v1));
      }
      s0 = _mm512_add_epi32(s0, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(h0)));
      s1 = _mm512_add_epi32(s1, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(h0, 1)));
      s2 = _mm512_add_epi32(s2, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(h1)));
      s3 = _mm512_add_epi32(s3, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(h1, 1)));
    }
    _mm512_storeu_si512(acc + j, s0);
    _mm512_storeu_si512(acc + j + 16, s1);
    _mm512_storeu_si512(acc + j + 32, s2);
    _mm512_storeu_si512(acc + j + 48, s3);
  }
  for (; j < c; j += 16) {
    // 16 channels, or the last 1..15 under a mask.
    const __mmask16 m = c - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (c - j)) - 1);
    __m512i s0 = _mm512_setzero_si512();
    for (size_t s = 0; s < spatial; ++s) s0 = _mm512_add_epi32(s0, widen(load16(in + s * stride + j, m), is_signed));
    _mm512_mask_storeu_epi32(acc + j, m, s0);
  }
}

int32_t sum_row(const void* x, bool is_signed, size_t n) {
  // vpsadbw on value + 128 for int8, corrected once (see the AVX2 version).
  const auto* in = static_cast<const uint8_t*>(x);
  const __m512i flip = _mm512_set1_epi8(is_signed ? static_cast<char>(0x80) : 0);
  __m512i acc = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(in + i), flip);
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
  }
  int64_t total = _mm512_reduce_add_epi64(acc);
  if (is_signed) total -= 128 * static_cast<int64_t>(i);
  return static_cast<int32_t>(total) + (i < n ? ref::qsum_row(in + i, is_signed, n - i) : 0);
}

}  // namespace

extern const QElementwisePath kQElementwisePath = {Isa::kAvx512Vnni, binary_row, binary_row_prepared, sum_pixels, sum_row};

}  // namespace avx512
}  // namespace lowbit
