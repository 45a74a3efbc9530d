// Pooling channel-row kernels with AVX2: float max / average on ymm
// (../../common/f32-pool-impl.h), byte max with vpmaxub / vpmaxsb.
#include <immintrin.h>

#include "../../common/f32-pool-impl.h"

namespace lowbit {
namespace avx2 {
namespace {

inline __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline void store(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

void max_u8(const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out) {
  simd::max_bytes<uint8_t, __m256i, 32>(rows, taps, c, out, load, store,
                                        [](__m256i a, __m256i b) { return _mm256_max_epu8(a, b); });
}
void max_s8(const int8_t* const* rows, size_t taps, size_t c, int8_t* out) {
  simd::max_bytes<int8_t, __m256i, 32>(rows, taps, c, out, load, store,
                                       [](__m256i a, __m256i b) { return _mm256_max_epi8(a, b); });
}

}  // namespace

extern const PoolPath kPoolPath = {Isa::kAvx2, simd::max_f32<simd::VecAvx2>, max_u8, max_s8,
                                   simd::avg_f32<simd::VecAvx2>};

}  // namespace avx2
}  // namespace lowbit
