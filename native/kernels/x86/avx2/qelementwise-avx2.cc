// Quantized Add / Mul rows and global-average-pool sums, 8 elements per step:
// the same float32 operations as ref in the same order (two products and a sum
// for Add, one product for Mul; no FMA), clamping before the conversion, and
// round half to even through cvtps (the default MXCSR rounding).
#include <immintrin.h>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace avx2 {
namespace {

inline __m256i load8(const void* p, size_t i, bool is_signed) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(p) + i));
  return is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

// 8 int32 lanes already within the output range -> 8 bytes.
inline void store8(void* p, size_t i, __m256i q, bool is_signed) {
  const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i q8 = is_signed ? _mm_packs_epi16(q16, q16) : _mm_packus_epi16(q16, q16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(p) + i), q8);
}

void binary_row(const QBinaryParams& p, const void* a, const void* b, size_t sb, void* out, size_t n) {
  const __m256i za = _mm256_set1_epi32(p.za), zb = _mm256_set1_epi32(p.zb), zy = _mm256_set1_epi32(p.zy);
  const __m256 fa = _mm256_set1_ps(p.fa), fb = _mm256_set1_ps(p.fb);
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
  const bool add = p.op == QBinaryOp::kAdd;
  // b a scalar: its difference from the zero point, broadcast.
  const __m256i db_scalar = _mm256_set1_epi32(sb == 0 && n > 0 ? qload(b, 0, p.b_signed) - p.zb : 0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i da = _mm256_sub_epi32(load8(a, i, p.a_signed), za);
    const __m256i db = sb == 0 ? db_scalar : _mm256_sub_epi32(load8(b, i, p.b_signed), zb);
    __m256 t;
    if (add) {
      t = _mm256_add_ps(_mm256_mul_ps(fa, _mm256_cvtepi32_ps(da)), _mm256_mul_ps(fb, _mm256_cvtepi32_ps(db)));
    } else {
      t = _mm256_mul_ps(fa, _mm256_cvtepi32_ps(_mm256_mullo_epi32(da, db)));
    }
    t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
    store8(out, i, _mm256_add_epi32(_mm256_cvtps_epi32(t), zy), p.out_signed);
  }
  if (i < n) {
    ref::qbinary_row(p, static_cast<const uint8_t*>(a) + i, static_cast<const uint8_t*>(b) + i * sb, sb,
                     static_cast<uint8_t*>(out) + i, n - i);
  }
}

void sum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  size_t j = 0;
  // 32 channels per pass: four int32 accumulators stay in registers down the pixels.
  for (; j + 32 <= c; j += 32) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t s = 0; s < spatial; ++s) {
      const size_t base = s * stride + j;
      s0 = _mm256_add_epi32(s0, load8(x, base, is_signed));
      s1 = _mm256_add_epi32(s1, load8(x, base + 8, is_signed));
      s2 = _mm256_add_epi32(s2, load8(x, base + 16, is_signed));
      s3 = _mm256_add_epi32(s3, load8(x, base + 24, is_signed));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j), s0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 8), s1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 16), s2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j + 24), s3);
  }
  for (; j + 8 <= c; j += 8) {
    __m256i s0 = _mm256_setzero_si256();
    for (size_t s = 0; s < spatial; ++s) s0 = _mm256_add_epi32(s0, load8(x, s * stride + j, is_signed));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j), s0);
  }
  if (j < c) ref::qsum_pixels(static_cast<const uint8_t*>(x) + j, is_signed, spatial, c - j, stride, acc + j);
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

extern const QElementwisePath kQElementwisePath = {Isa::kAvx2, binary_row, sum_pixels, sum_row};

}  // namespace avx2
}  // namespace lowbit
