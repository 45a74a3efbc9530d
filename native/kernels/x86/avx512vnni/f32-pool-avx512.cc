// Pooling channel-row kernels with AVX-512 (F + BW): float max / average on
// zmm (../../common/f32-pool-impl.h), byte max with vpmaxub / vpmaxsb.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 avx512fintrin.h false alarm
#include <immintrin.h>

#include "../../common/f32-pool-impl.h"

namespace lowbit {
namespace avx512 {
namespace {

inline __m512i load(const void* p) { return _mm512_loadu_si512(p); }
inline void store(void* p, __m512i v) { _mm512_storeu_si512(p, v); }

void max_u8(const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out) {
  simd::max_bytes<uint8_t, __m512i, 64>(rows, taps, c, out, load, store,
                                        [](__m512i a, __m512i b) { return _mm512_max_epu8(a, b); });
}
void max_s8(const int8_t* const* rows, size_t taps, size_t c, int8_t* out) {
  simd::max_bytes<int8_t, __m512i, 64>(rows, taps, c, out, load, store,
                                       [](__m512i a, __m512i b) { return _mm512_max_epi8(a, b); });
}

}  // namespace

extern const PoolPath kPoolPath = {Isa::kAvx512Vnni, simd::max_f32<simd::VecAvx512>, max_u8, max_s8,
                                   simd::avg_f32<simd::VecAvx512>};

}  // namespace avx512
}  // namespace lowbit
