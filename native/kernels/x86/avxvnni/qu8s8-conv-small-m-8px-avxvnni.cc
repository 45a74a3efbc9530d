// Small-m int8 convolution (lowbit/conv_s8_small_m.h) on AVX-VNNI: 8 output
// pixels per ymm, one vpdpbusd per 4-byte K group and output channel with the
// channel's weight dword broadcast; 8 channels per pass over the gathered block.
#include "../avx2/conv-small-m-ymm.h"

namespace lowbit {
namespace avxvnni {
namespace {

template <size_t MP>
void run_mp(const SmallMArgs& a, size_t r0, size_t r1) {
  x86ymm::run_small_m<MP>(a, r0, r1, [](const uint8_t* gathered, const PackedSmallM& w, size_t c0, __m256i* acc) {
    constexpr size_t kChunk = MP < 8 ? MP : 8;
#pragma GCC unroll 8
    for (size_t j = 0; j < kChunk; ++j) acc[j] = _mm256_setzero_si256();
    const auto* wd = static_cast<const int32_t*>(w.w8.data()) + c0;
    for (size_t g = 0; g < w.groups; ++g, wd += MP) {
      const __m256i x = _mm256_load_si256(reinterpret_cast<const __m256i*>(gathered + g * 32));
#pragma GCC unroll 8
      for (size_t j = 0; j < kChunk; ++j) acc[j] = _mm256_dpbusd_avx_epi32(acc[j], x, _mm256_set1_epi32(wd[j]));
    }
  });
}

void run(const SmallMArgs& a, size_t r0, size_t r1) {
  x86::with_packed_channels(*a.w, [&](auto mp) { run_mp<decltype(mp)::value>(a, r0, r1); });
}

}  // namespace

extern const SmallMPath kSmallMPath = {Isa::kAvxVnni, run};

}  // namespace avxvnni
}  // namespace lowbit
