// Small-m int8 convolution (lowbit/conv_s8_small_m.h) on AVX512-VNNI: 16
// output pixels per zmm, one accumulator per output channel (up to 16), one
// vpdpbusd per 4-byte K group and channel with the channel's weight dword
// broadcast. The output stage runs per channel on 16 pixels (the per-channel
// parameters are scalars broadcast), then a byte transpose writes NHWC.
#include "../common/conv-small-m-block.h"
#include "output-stage-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {
namespace {

template <size_t MP>
__attribute__((always_inline)) inline void block(const uint8_t* gathered, const PackedSmallM& w,
                                                 const SmallMParams& p, uint8_t* out, size_t m, size_t valid) {
  __m512i acc[MP];
#pragma GCC unroll 16
  for (size_t j = 0; j < MP; ++j) acc[j] = _mm512_setzero_si512();
  const auto* wd = static_cast<const int32_t*>(w.w8.data());
  for (size_t g = 0; g < w.groups; ++g, wd += MP) {
    const __m512i a = _mm512_load_si512(gathered + g * 64);
#pragma GCC unroll 16
    for (size_t j = 0; j < MP; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, _mm512_set1_epi32(wd[j]));
  }
  __m128i bytes[MP];
  if (p.fp32) {
    const __m512 lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
    const __m512i zp = _mm512_set1_epi32(p.zero_point);
#pragma GCC unroll 16
    for (size_t j = 0; j < MP; ++j) {
      const __m512i v = _mm512_add_epi32(acc[j], _mm512_set1_epi32(p.init[j]));
      __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(p.scale[j]));
      // x < lo ? lo : (x > hi ? hi : x), NaN-faithful as the GEMM's output stage.
      const __mmask16 below = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
      x = _mm512_mask_mov_ps(_mm512_min_ps(hi, x), below, lo);
      bytes[j] = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(x), zp));  // truncating
    }
  } else {
    const __m512i zp = _mm512_set1_epi32(p.zero_point);
    const __m512i qmin = _mm512_set1_epi32(p.qmin), qmax = _mm512_set1_epi32(p.qmax);
#pragma GCC unroll 16
    for (size_t j = 0; j < MP; ++j) {
      const __m512i v = _mm512_add_epi32(acc[j], _mm512_set1_epi32(p.init[j]));
      __m512i y = srdhm(_mm512_sllv_epi32(v, _mm512_set1_epi32(p.left_shift[j])),
                        _mm512_set1_epi32(p.multiplier[j]));
      y = _mm512_add_epi32(rdbpot(y, _mm512_set1_epi32(p.right_shift[j]), _mm512_set1_epi32(p.round_mask[j])), zp);
      const __mmask16 below = _mm512_cmplt_epi32_mask(y, qmin);
      y = _mm512_mask_mov_epi32(_mm512_min_epi32(y, qmax), below, qmin);
      bytes[j] = _mm512_cvtepi32_epi8(y);
    }
  }
  x86::store_pixels<MP>(bytes, out, m, valid);
}

template <size_t MP>
void run_mp(const SmallMArgs& a, size_t r0, size_t r1) {
  const PackedSmallM& w = *a.w;
  const SmallMParams& p = *a.params;
  x86::for_each_pixel_block<16>(a, r0, r1, [&](const uint8_t* gathered, uint8_t* out, size_t valid) {
    block<MP>(gathered, w, p, out, a.m, valid);
  });
}

void run(const SmallMArgs& a, size_t r0, size_t r1) {
  switch (a.w->mp) {
    case 4: return run_mp<4>(a, r0, r1);
    case 8: return run_mp<8>(a, r0, r1);
    default: return run_mp<16>(a, r0, r1);
  }
}

}  // namespace

extern const SmallMPath kSmallMPath = {Isa::kAvx512Vnni, run};

}  // namespace avx512vnni
}  // namespace lowbit
