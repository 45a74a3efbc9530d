// Quantized Add / Mul rows and global-average-pool sums, 16 elements per step,
// with the same float32 operations as ref in the same order (see the AVX2
// version); the conversion to 8 bits saturates (vpmovsdb / vpmovusdb) after
// the clamp, so it never changes a value.
#include <immintrin.h>

#include "lowbit/qelementwise.h"

namespace lowbit {
namespace avx512 {
namespace {

inline __m512i load16(const void* p, size_t i, bool is_signed) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(p) + i));
  return is_signed ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

void binary_row(const QBinaryParams& p, const void* a, const void* b, size_t sb, void* out, size_t n) {
  const __m512i za = _mm512_set1_epi32(p.za), zb = _mm512_set1_epi32(p.zb), zy = _mm512_set1_epi32(p.zy);
  const __m512 fa = _mm512_set1_ps(p.fa), fb = _mm512_set1_ps(p.fb);
  const __m512 lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
  const bool add = p.op == QBinaryOp::kAdd;
  const __m512i db_scalar = _mm512_set1_epi32(sb == 0 && n > 0 ? qload(b, 0, p.b_signed) - p.zb : 0);
  auto* dst = static_cast<uint8_t*>(out);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i da = _mm512_sub_epi32(load16(a, i, p.a_signed), za);
    const __m512i db = sb == 0 ? db_scalar : _mm512_sub_epi32(load16(b, i, p.b_signed), zb);
    __m512 t;
    if (add) {
      t = _mm512_add_ps(_mm512_mul_ps(fa, _mm512_cvtepi32_ps(da)), _mm512_mul_ps(fb, _mm512_cvtepi32_ps(db)));
    } else {
      t = _mm512_mul_ps(fa, _mm512_cvtepi32_ps(_mm512_mullo_epi32(da, db)));
    }
    t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), zy);
    const __m128i q8 = p.out_signed ? _mm512_cvtsepi32_epi8(q) : _mm512_cvtusepi32_epi8(q);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), q8);
  }
  if (i < n) {
    ref::qbinary_row(p, static_cast<const uint8_t*>(a) + i, static_cast<const uint8_t*>(b) + i * sb, sb, dst + i,
                     n - i);
  }
}

void sum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  size_t j = 0;
  for (; j + 64 <= c; j += 64) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t s = 0; s < spatial; ++s) {
      const size_t base = s * stride + j;
      s0 = _mm512_add_epi32(s0, load16(x, base, is_signed));
      s1 = _mm512_add_epi32(s1, load16(x, base + 16, is_signed));
      s2 = _mm512_add_epi32(s2, load16(x, base + 32, is_signed));
      s3 = _mm512_add_epi32(s3, load16(x, base + 48, is_signed));
    }
    _mm512_storeu_si512(acc + j, s0);
    _mm512_storeu_si512(acc + j + 16, s1);
    _mm512_storeu_si512(acc + j + 32, s2);
    _mm512_storeu_si512(acc + j + 48, s3);
  }
  for (; j + 16 <= c; j += 16) {
    __m512i s0 = _mm512_setzero_si512();
    for (size_t s = 0; s < spatial; ++s) s0 = _mm512_add_epi32(s0, load16(x, s * stride + j, is_signed));
    _mm512_storeu_si512(acc + j, s0);
  }
  if (j < c) ref::qsum_pixels(static_cast<const uint8_t*>(x) + j, is_signed, spatial, c - j, stride, acc + j);
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

extern const QElementwisePath kQElementwisePath = {Isa::kAvx512Vnni, binary_row, sum_pixels, sum_row};

}  // namespace avx512
}  // namespace lowbit
