// Elementwise kernels with AVX-512 (F + BW): the shared vector code
// (../../common/f32-elementwise-impl.h) on 16-lane zmm, and an 8-bit table
// lookup (vpermi2b where the CPU has AVX512-VBMI, else masked vpshufb).
// GCC 12's avx512fintrin.h passes _mm512_undefined_ps() through unmasked
// max/min/roundscale and then warns that it is uninitialized: a false alarm.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "../../common/f32-elementwise-impl.h"
#include "lowbit/cpu.h"
#include "lowbit/elementwise.h"

namespace lowbit {
namespace avx512 {

// out[i] = table[x[i]] with AVX512-VBMI: vpermi2b looks 64 bytes up in a
// 128-byte table (index bits 0-6), once per half of the table, and bit 7
// picks the half: 3 instructions per 64 bytes.
__attribute__((target("avx512vbmi"))) void lut8_vbmi(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, v, t1), high = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_storeu_si512(out + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high));
  }
  if (i < n) {
    const __mmask64 m = (~uint64_t{0}) >> (64 - (n - i));
    const __m512i v = _mm512_maskz_loadu_epi8(m, x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, v, t1), high = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_mask_storeu_epi8(out + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low, high));
  }
}

// out[i] = table[x[i]] without VBMI (e.g. Cascade Lake): for each 16-byte
// piece k of the table, the bytes whose high nibble is k take vpshufb(piece k,
// low nibble) under a byte mask.
void lut8_bw(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  __m512i pieces[16];
  for (int k = 0; k < 16; ++k) {
    pieces[k] = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  }
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(x + i);
    const __m512i lo = _mm512_and_si512(v, nibble);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
    __m512i r = _mm512_setzero_si512();
    for (int k = 0; k < 16; ++k) {
      const __mmask64 m = _mm512_cmpeq_epi8_mask(hi, _mm512_set1_epi8(static_cast<char>(k)));
      r = _mm512_mask_shuffle_epi8(r, m, pieces[k], lo);
    }
    _mm512_storeu_si512(out + i, r);
  }
  for (; i < n; ++i) out[i] = table[x[i]];
}

namespace {

using V = simd::VecAvx512;

void lut8(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  static const bool vbmi = cpu_features().avx512vbmi;
  if (vbmi) lut8_vbmi(table, x, out, n);
  else lut8_bw(table, x, out, n);
}

}  // namespace

extern const ElementwisePath kElementwisePath = {
    Isa::kAvx512Vnni, simd::binary_f32_rows<V>, ref::binary_s32_rows, simd::unary_f32<V>, lut8, simd::affine_f32<V>,
};

}  // namespace avx512
}  // namespace lowbit
