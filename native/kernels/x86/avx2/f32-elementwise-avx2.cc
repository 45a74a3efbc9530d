// Elementwise kernels with AVX2 + FMA: the shared vector code
// (../../common/f32-elementwise-impl.h) on 8-lane ymm, and an 8-bit table
// lookup with vpshufb.
#include <immintrin.h>

#include "../../common/f32-elementwise-impl.h"

namespace lowbit {
namespace avx2 {
namespace {

using V = simd::VecAvx2;

// out[i] = table[x[i]]: 16 vpshufb over the 16-byte pieces of the table. For
// piece k, idx = x - 16k; saturating idx + 0x70 keeps bit 7 clear (vpshufb
// reads table[idx & 15]) exactly when 0 <= idx < 16, and sets it (vpshufb
// writes 0) otherwise, so one piece answers each byte and the rest OR in zeros.
void lut8(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  __m256i pieces[16];
  for (int k = 0; k < 16; ++k) {
    pieces[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  }
  const __m256i bias = _mm256_set1_epi8(0x70), sixteen = _mm256_set1_epi8(16);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    __m256i r = _mm256_setzero_si256();
    for (int k = 0; k < 16; ++k) {
      r = _mm256_or_si256(r, _mm256_shuffle_epi8(pieces[k], _mm256_adds_epu8(idx, bias)));
      idx = _mm256_sub_epi8(idx, sixteen);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), r);
  }
  for (; i < n; ++i) out[i] = table[x[i]];
}

}  // namespace

extern const ElementwisePath kElementwisePath = {
    Isa::kAvx2, simd::binary_f32_rows<V>, ref::binary_s32_rows, simd::unary_f32<V>, lut8, simd::affine_f32<V>,
};

}  // namespace avx2
}  // namespace lowbit
