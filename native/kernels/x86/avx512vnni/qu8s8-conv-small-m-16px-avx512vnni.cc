// Small-m int8 convolution (lowbit/conv_s8_small_m.h) on AVX512-VNNI: 16
// output pixels per zmm, one accumulator per output channel (up to 16), one
// vpdpbusd per 4-byte K group and channel with the channel's weight dword
// broadcast. The output stage runs per channel on 16 pixels (the per-channel
// parameters are scalars broadcast), then a byte transpose writes NHWC.
//
// When a block's 16 pixels start an even number of bytes apart (stride_w * C
// even) and their kernel rows all lie within 128 bytes (the stem: 6 bytes
// apart, 9-byte rows), the gather is two 64-byte loads and one vpermt2w per
// 4-byte group straight into the vpdpbusd operand; otherwise the block is
// gathered through memory (conv-small-m-block.h).
#include "../common/conv-small-m-block.h"
#include "output-stage-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {
namespace {

// acc[j] += the block's 4-byte group a times channel j's weight dword.
template <size_t MP>
__attribute__((always_inline)) inline void dot_group(__m512i (&acc)[MP], __m512i a, const int32_t* wd) {
#pragma GCC unroll 16
  for (size_t j = 0; j < MP; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, _mm512_set1_epi32(wd[j]));
}

// The output stage of 16 pixels x MP channels (acc already holds init) and
// the NHWC store. kHardSwish: the fp32 stage applies HardSwish (decided per call).
template <size_t MP, bool kHardSwish>
__attribute__((always_inline)) inline void finish(__m512i (&acc)[MP], const SmallMParams& p, uint8_t* out,
                                                  size_t m, size_t valid) {
  __m128i bytes[MP];
  if (p.fp32) {
    const __m512 lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
    const __m512 k = _mm512_set1_ps(p.hardswish_k);
    const __m512i zp = _mm512_set1_epi32(p.zero_point);
#pragma GCC unroll 16
    for (size_t j = 0; j < MP; ++j) {
      __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_set1_ps(p.scale[j]));
      if (kHardSwish) x = hardswish_steps(x, k);  // output-stage-avx512vnni.h
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
      __m512i y = srdhm(_mm512_sllv_epi32(acc[j], _mm512_set1_epi32(p.left_shift[j])),
                        _mm512_set1_epi32(p.multiplier[j]));
      y = _mm512_add_epi32(rdbpot(y, _mm512_set1_epi32(p.right_shift[j]), _mm512_set1_epi32(p.round_mask[j])), zp);
      const __mmask16 below = _mm512_cmplt_epi32_mask(y, qmin);
      y = _mm512_mask_mov_epi32(_mm512_min_epi32(y, qmax), below, qmin);
      bytes[j] = _mm512_cvtepi32_epi8(y);
    }
  }
  x86::store_pixels<MP>(bytes, out, m, valid);
}

template <size_t MP, bool kHardSwish>
void run_gathered(const SmallMArgs& a, size_t r0, size_t r1) {
  const PackedSmallM& w = *a.w;
  const SmallMParams& p = *a.params;
  x86::for_each_pixel_block<16>(a, r0, r1, [&](const uint8_t* gathered, uint8_t* out, size_t valid) {
    __m512i acc[MP];
#pragma GCC unroll 16
    for (size_t j = 0; j < MP; ++j) acc[j] = _mm512_set1_epi32(p.init[j]);  // the correction and bias, wrapping
    const auto* wd = static_cast<const int32_t*>(w.w8.data());
    for (size_t g = 0; g < w.groups; ++g, wd += MP) dot_group<MP>(acc, _mm512_load_si512(gathered + g * 64), wd);
    finish<MP, kHardSwish>(acc, p, out, a.m, valid);
  });
}

// Whether run_permuted can take the call: pixels an even number of bytes apart,
// 16 pixels' kernel rows within two zmm.
bool permutable(const SmallMArgs& a) {
  const size_t step = a.stride_w * a.w->c;
  return step % 2 == 0 && 15 * step + 4 * a.w->nq <= 128;
}

// NQ: the groups per kernel row when known at compile time (1..4), else 0.
template <size_t MP, size_t NQ, bool kHardSwish>
void run_permuted(const SmallMArgs& a, size_t r0, size_t r1) {
  const PackedSmallM& w = *a.w;
  const SmallMParams& p = *a.params;
  const size_t step = a.stride_w * w.c, nq = NQ != 0 ? NQ : w.nq;
  // Word indices into the 128-byte window: pixel p's group q is the dword at
  // byte step*p + 4q, words (step*p)/2 + 2q and the next one.
  alignas(64) uint16_t index[32][32];
  for (size_t q = 0; q < nq; ++q) {
    for (size_t px = 0; px < 16; ++px) {
      index[q][2 * px] = static_cast<uint16_t>(step * px / 2 + 2 * q);
      index[q][2 * px + 1] = static_cast<uint16_t>(step * px / 2 + 2 * q + 1);
    }
  }
  auto* out = static_cast<uint8_t*>(a.out);
  for (size_t r = r0; r < r1; ++r) {
    const size_t b = r / a.oh, oy = r % a.oh;
    const uint8_t* row0 = a.padded + (b * a.hp + oy * a.stride_h) * a.pitch;
    uint8_t* out_row = out + r * a.ow * a.m;
    for (size_t ox0 = 0; ox0 < a.ow; ox0 += 16) {
      __m512i acc[MP];
#pragma GCC unroll 16
      for (size_t j = 0; j < MP; ++j) acc[j] = _mm512_set1_epi32(p.init[j]);  // the correction and bias, wrapping
      const auto* wd = static_cast<const int32_t*>(w.w8.data());
#pragma GCC unroll 4
      for (size_t ky = 0; ky < w.kh; ++ky) {
        // Pixels past the row's end read the padded image's slack: computed, never stored.
        const uint8_t* base = row0 + ky * a.dilation_h * a.pitch + ox0 * step;
        const __m512i lo = _mm512_loadu_si512(base), hi = _mm512_loadu_si512(base + 64);
#pragma GCC unroll 4
        for (size_t q = 0; q < nq; ++q) {
          dot_group<MP>(acc, _mm512_permutex2var_epi16(lo, _mm512_load_si512(index[q]), hi), wd + q * MP);
        }
        wd += nq * MP;
      }
      finish<MP, kHardSwish>(acc, p, out_row + ox0 * a.m, a.m, a.ow - ox0 < 16 ? a.ow - ox0 : 16);
    }
  }
}

template <size_t MP, bool kHardSwish>
void run_stage(const SmallMArgs& a, size_t r0, size_t r1) {
  if (!permutable(a)) return run_gathered<MP, kHardSwish>(a, r0, r1);
  switch (a.w->nq) {
    case 1: return run_permuted<MP, 1, kHardSwish>(a, r0, r1);
    case 2: return run_permuted<MP, 2, kHardSwish>(a, r0, r1);
    case 3: return run_permuted<MP, 3, kHardSwish>(a, r0, r1);
    case 4: return run_permuted<MP, 4, kHardSwish>(a, r0, r1);
    default: return run_permuted<MP, 0, kHardSwish>(a, r0, r1);
  }
}

template <size_t MP>
void run_mp(const SmallMArgs& a, size_t r0, size_t r1) {
  // HardSwish or not, decided once per call: two variants of the kernels.
  if (a.params->fp32 && a.params->hardswish) run_stage<MP, true>(a, r0, r1);
  else run_stage<MP, false>(a, r0, r1);
}

void run(const SmallMArgs& a, size_t r0, size_t r1) {
  x86::with_packed_channels(*a.w, [&](auto mp) { run_mp<decltype(mp)::value>(a, r0, r1); });
}

}  // namespace

extern const SmallMPath kSmallMPath = {Isa::kAvx512Vnni, run};

}  // namespace avx512vnni
}  // namespace lowbit
