// Small-m int8 convolution (lowbit/conv_s8_small_m.h) on AVX2: 8 output pixels
// per ymm. vpmaddubsw's int16 pair sums would saturate (255 * 128 * 2 > 32767),
// so each 4-byte K group of the block is split by vpshufb into two vectors of
// zero-extended int16 pairs (bytes 0-1 and 2-3 of every pixel), and vpmaddwd
// multiplies them by the channel's int16 weight pairs: exact, 2 vpmaddwd and
// 2 vpaddd per group and channel.
#include "conv-small-m-ymm.h"

namespace lowbit {
namespace avx2 {
namespace {

template <size_t MP>
void run_mp(const SmallMArgs& a, size_t r0, size_t r1) {
  x86ymm::run_small_m<MP>(a, r0, r1, [](const uint8_t* gathered, const PackedSmallM& w, size_t c0, __m256i* acc) {
    constexpr size_t kChunk = MP < 8 ? MP : 8;
    const __m256i pair_lo = _mm256_setr_epi8(0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1,  //
                                             0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1);
    const __m256i pair_hi = _mm256_setr_epi8(2, -1, 3, -1, 6, -1, 7, -1, 10, -1, 11, -1, 14, -1, 15, -1,  //
                                             2, -1, 3, -1, 6, -1, 7, -1, 10, -1, 11, -1, 14, -1, 15, -1);
#pragma GCC unroll 8
    for (size_t j = 0; j < kChunk; ++j) acc[j] = _mm256_setzero_si256();
    // [group][mp][4 int16]: dword 2j is channel j's first pair, 2j + 1 its second.
    const auto* wd = static_cast<const int32_t*>(w.w16.data()) + 2 * c0;
    for (size_t g = 0; g < w.groups; ++g, wd += 2 * MP) {
      const __m256i x = _mm256_load_si256(reinterpret_cast<const __m256i*>(gathered + g * 32));
      const __m256i lo = _mm256_shuffle_epi8(x, pair_lo), hi = _mm256_shuffle_epi8(x, pair_hi);
#pragma GCC unroll 8
      for (size_t j = 0; j < kChunk; ++j) {
        const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_set1_epi32(wd[2 * j])),
                                           _mm256_madd_epi16(hi, _mm256_set1_epi32(wd[2 * j + 1])));
        acc[j] = _mm256_add_epi32(acc[j], s);
      }
    }
  });
}

void run(const SmallMArgs& a, size_t r0, size_t r1) {
  x86::with_packed_channels(*a.w, [&](auto mp) { run_mp<decltype(mp)::value>(a, r0, r1); });
}

}  // namespace

extern const SmallMPath kSmallMPath = {Isa::kAvx2, run};

}  // namespace avx2
}  // namespace lowbit
