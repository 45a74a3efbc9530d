// The output stage the 256-bit depthwise rows kernels share (x86/avx2 and
// x86/avxvnni qs8-dwconv-rows-*.cc): the run's requantization parameters read
// into registers once, and requantize_one (lowbit/requantize.h) on 8 lanes,
// bit for bit. AVX2 instructions only; internal linkage (each path compiles
// its own copy with its own flags).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "lowbit/depthwise_s8.h"
#include "output-stage-ymm.h"

namespace lowbit {
namespace x86ymm {
namespace {

// The output stage of one run, read into locals once (byte stores may alias anything).
struct DwStage {
  DepthwiseOutput kind;
  const float* scale;
  const int32_t* multiplier;
  const int32_t* left_shift;
  const int32_t* right_shift;
  const int32_t* round_mask;
  // fp32 mode with every scale <= 0.5 and qmin <= qmax inside the output type:
  // |acc * scale| <= 2^30, so round(x) + zero point cannot overflow, and
  // clamp(round(x) + zp, qmin, qmax) = round(clamp(x, lo, hi)) + zp (lo, hi
  // integers, rounding monotonic): the float clamp moves after the saturating
  // packs, as a byte min/max (none for the whole type range). As avx512vnni's.
  bool fp32_late_clamp = false;
  bool out_signed, full_range;
  __m256 lo, hi;
  __m256i zero_point, qmin, qmax;
  __m256i qmin8, qmax8;  // bytes (the low 128 bits for 16-byte stores)
  // fp32: hardswish_steps (lowbit/requantize.h) between the scaling and the
  // clamp; it keeps |x| <= |acc * scale|, so the late clamp above stays exact.
  // (Last: the fields above keep their offsets.)
  bool hardswish;
  __m256 hardswish_k;

  explicit DwStage(const DepthwiseParams& p)
      : kind(p.kind), scale(p.scale.data()), multiplier(p.multiplier.data()), left_shift(p.left_shift.data()),
        right_shift(p.right_shift.data()), round_mask(p.round_mask.data()), out_signed(p.out_signed),
        full_range(p.out_signed ? p.qmin == -128 && p.qmax == 127 : p.qmin == 0 && p.qmax == 255),
        lo(_mm256_set1_ps(p.lo)), hi(_mm256_set1_ps(p.hi)), zero_point(_mm256_set1_epi32(p.zero_point)),
        qmin(_mm256_set1_epi32(p.qmin)), qmax(_mm256_set1_epi32(p.qmax)),
        qmin8(_mm256_set1_epi8(static_cast<char>(p.qmin))), qmax8(_mm256_set1_epi8(static_cast<char>(p.qmax))),
        hardswish(p.kind == DepthwiseOutput::kFp32 && p.hardswish), hardswish_k(_mm256_set1_ps(p.hardswish_k)) {
    const bool in_range = p.out_signed ? p.qmin >= -128 && p.qmax <= 127 : p.qmin >= 0 && p.qmax <= 255;
    if (kind == DepthwiseOutput::kFp32 && in_range && p.qmin <= p.qmax) {
      // Padded channels have scale 0 (prepare_depthwise).
      fp32_late_clamp = std::all_of(p.scale.begin(), p.scale.end(), [](float v) { return v <= 0.5f; });
    }
  }

  // f(std::true_type) when HardSwish applies, else f(std::false_type): the
  // decision once per call, each variant of the kernels without a test.
  template <class F>
  __attribute__((always_inline)) auto with_hardswish(F&& f) const {
    return hardswish ? f(std::true_type{}) : f(std::false_type{});
  }
};

// requantize_one (bias already in the accumulator) on 8 lanes whose
// parameters start at array position c, clamped to [qmin, qmax]; kHardSwish
// (fp32 only): s.hardswish is set (see DwStage::with_hardswish).
template <bool kHardSwish = false>
__attribute__((always_inline)) inline __m256i requantize8(__m256i acc, const DwStage& s, size_t c) {
  if (s.kind == DepthwiseOutput::kFp32) {
    __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(s.scale + c));
    if (kHardSwish) x = x86ymm::hardswish_steps(x, s.hardswish_k);
    // x < lo ? lo : (x > hi ? hi : x), NaN-faithful: vminps(hi, x) returns x unless hi < x.
    x = _mm256_blendv_ps(_mm256_min_ps(s.hi, x), s.lo, _mm256_cmp_ps(x, s.lo, _CMP_LT_OQ));
    return _mm256_add_epi32(_mm256_cvtps_epi32(x), s.zero_point);  // round half to even
  }
  const auto ld = [](const int32_t* q) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)); };
  __m256i y = srdhm(_mm256_sllv_epi32(acc, ld(s.left_shift + c)), ld(s.multiplier + c));
  y = _mm256_add_epi32(rdbpot(y, ld(s.right_shift + c), ld(s.round_mask + c)), s.zero_point);
  // y < qmin ? qmin : (y > qmax ? qmax : y), exact even for qmin > qmax.
  return _mm256_blendv_epi8(_mm256_min_epi32(y, s.qmax), s.qmin, _mm256_cmpgt_epi32(s.qmin, y));
}

}  // namespace
}  // namespace x86ymm
}  // namespace lowbit
