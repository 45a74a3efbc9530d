// Int8 depthwise convolution, AVX2: 32 channels per register block; for 3 or
// 5 kernel columns at stride and dilation 1 along W, the rows kernel of
// qs8-dwconv-rows-avx2.cc (int16 pairs of kernel columns) when the weights
// were packed for this path.
//
// Each tap's 8 input bytes are widened to int32 lanes (vpmovzxbd / vpmovsxbd)
// and multiplied by (w - w_zero_point) held as the low int16 of an int32 lane
// whose high int16 is 0, with vpmaddwd: lane = x_lo16 * w' + x_hi16 * 0, exactly
// x * w' (no int16 saturation anywhere: vpmaddubsw is not used). The int32 sums
// wrap like ref's. Accumulators start at bias - x_zero_point * sum(w'), so padded
// taps (which read a row of x_zero_point bytes) cancel out.
//
// Output stage: lowbit::requantize_one lane for lane (see output-stage-ymm.h),
// HardSwish included (dwconv-stage-ymm.h).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "../../common/dwconv-rows.h"
#include "dwconv-rows-avx2.h"
#include "dwconv-stage-ymm.h"
#include "lowbit/depthwise_s8.h"
#include "output-stage-ymm.h"

namespace lowbit {
namespace avx2 {
namespace {

using x86ymm::lane_mask;
using x86ymm::narrow_to_bytes;
using x86ymm::rdbpot;
using x86ymm::srdhm;
using x86ymm::store_bytes;

constexpr size_t kBlock = 32;  // channels per block: 4 ymm accumulators

// Layout: [cp / 32][taps][32] int32 lanes holding (uint16)(w - w_zero_point),
// then, for 3 or 5 kernel columns, the rows kernel's (dwconv-rows-avx2.h).
void pack(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
          const std::vector<int32_t>& zero_point, PackedDepthwise* out) {
  const size_t taps = kh * kw;
  const size_t base = (out->cp * taps * sizeof(int32_t) + 63) / 64 * 64, rows = rows16_bytes(channels, kh, kw);
  out->rows_offset = rows != 0 ? base : 0;
  out->data.resize(rows != 0 ? base + rows : out->cp * taps * sizeof(int32_t));
  auto* dst = static_cast<int32_t*>(out->data.data());
  for (size_t c = 0; c < channels; ++c) {
    const int32_t zw = zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c];
    for (size_t t = 0; t < taps; ++t) {
      const size_t i = c * taps + t;
      const int32_t v = w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
      dst[((c / kBlock) * taps + t) * kBlock + c % kBlock] = static_cast<int32_t>(static_cast<uint16_t>(v - zw));
    }
  }
  if (rows != 0) {
    pack_rows16(w, w_signed, channels, kh, kw, zero_point, static_cast<uint8_t*>(out->data.data()) + base);
  }
}

void finish_params(const PackedDepthwise& w, bool, const Conv2dGeometry& g, DepthwiseParams* p) {
  finish_params_rows16(w, g, p);
}

// 8 bytes, or the first `valid` (< 8) of them without reading past.
inline __m128i load8(const uint8_t* p, size_t valid) {
  if (valid >= 8) return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  uint64_t v = 0;
  std::memcpy(&v, p, valid);
  return _mm_cvtsi64_si128(static_cast<long long>(v));
}

// kHardSwish: the fp32 stage applies HardSwish (decided per call, see run).
template <bool kSigned, size_t NV, bool kHardSwish>
__attribute__((always_inline)) inline void block(const uint8_t* const* tap, size_t taps, size_t c0,
                                                 const int32_t* w, const DepthwiseParams& p,
                                                 size_t valid, void* out) {
  __m256i acc[NV];
#pragma GCC unroll 4
  for (size_t j = 0; j < NV; ++j) {
    acc[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.init.data() + c0 + 8 * j));
  }
  const bool full = valid == 8 * NV;
  for (size_t t = 0; t < taps; ++t) {
    const uint8_t* x = tap[t] + c0;
    const int32_t* wt = w + t * kBlock;
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) {
      const __m128i bytes = full || j + 1 < NV ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + 8 * j))
                                               : load8(x + 8 * j, valid - 8 * j);
      const __m256i xv = kSigned ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
      const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt + 8 * j));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(xv, wv));
    }
  }
  switch (p.kind) {
    case DepthwiseOutput::kInt32: {
      auto* o = static_cast<int32_t*>(out);
#pragma GCC unroll 4
      for (size_t j = 0; j < NV; ++j) {
        if (full || j + 1 < NV) _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8 * j), acc[j]);
        else _mm256_maskstore_epi32(o + 8 * j, lane_mask(valid - 8 * j), acc[j]);
      }
      return;
    }
    case DepthwiseOutput::kFp32: {
      auto* o = static_cast<int8_t*>(out);
      const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
      const __m256i zp = _mm256_set1_epi32(p.zero_point);
      const __m256 k = _mm256_set1_ps(p.hardswish_k);
#pragma GCC unroll 4
      for (size_t j = 0; j < NV; ++j) {
        __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[j]), _mm256_loadu_ps(p.scale.data() + c0 + 8 * j));
        if (kHardSwish) x = x86ymm::hardswish_steps(x, k);
        // x < lo ? lo : (x > hi ? hi : x), NaN-faithful: vminps(hi, x) returns x unless hi < x.
        const __m256 below = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
        x = _mm256_blendv_ps(_mm256_min_ps(hi, x), lo, below);
        const __m256i y = _mm256_add_epi32(_mm256_cvtps_epi32(x), zp);  // round half to even
        store_bytes(o + 8 * j, narrow_to_bytes(y), valid - 8 * j);
      }
      return;
    }
    case DepthwiseOutput::kFixedpoint: {
      auto* o = static_cast<int8_t*>(out);
      const __m256i zp = _mm256_set1_epi32(p.zero_point);
      const __m256i qmin = _mm256_set1_epi32(p.qmin), qmax = _mm256_set1_epi32(p.qmax);
#pragma GCC unroll 4
      for (size_t j = 0; j < NV; ++j) {
        const size_t c = c0 + 8 * j;
        const auto ld = [](const int32_t* q) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)); };
        __m256i y = srdhm(_mm256_sllv_epi32(acc[j], ld(p.left_shift.data() + c)), ld(p.multiplier.data() + c));
        y = _mm256_add_epi32(rdbpot(y, ld(p.right_shift.data() + c), ld(p.round_mask.data() + c)), zp);
        // y < qmin ? qmin : (y > qmax ? qmax : y), exact even for qmin > qmax.
        y = _mm256_blendv_epi8(_mm256_min_epi32(y, qmax), qmin, _mm256_cmpgt_epi32(qmin, y));
        store_bytes(o + 8 * j, narrow_to_bytes(y), valid - 8 * j);
      }
      return;
    }
  }
}

template <bool kSigned, bool kHardSwish>
void run_typed(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const DepthwiseParams& p = *a.params;
  const size_t c = a.c, taps = a.geometry.taps();
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const auto* w = static_cast<const int32_t*>(a.weights->data.data());
  auto* out = static_cast<uint8_t*>(a.out);
  dwconv::for_each_pixel(a, r0, r1, [&](const uint8_t* const* tap, size_t index) __attribute__((always_inline)) {
    uint8_t* o = out + index * c * out_bytes;
    for (size_t c0 = 0; c0 < c; c0 += kBlock) {
      const size_t valid = std::min(kBlock, c - c0);
      const int32_t* wb = w + (c0 / kBlock) * taps * kBlock;
      void* oc = o + c0 * out_bytes;
      switch ((valid + 7) / 8) {
        case 4: block<kSigned, 4, kHardSwish>(tap, taps, c0, wb, p, valid, oc); break;
        case 3: block<kSigned, 3, kHardSwish>(tap, taps, c0, wb, p, valid, oc); break;
        case 2: block<kSigned, 2, kHardSwish>(tap, taps, c0, wb, p, valid, oc); break;
        default: block<kSigned, 1, kHardSwish>(tap, taps, c0, wb, p, valid, oc); break;
      }
    }
  });
}

void run(const DepthwiseArgs& a, size_t r0, size_t r1) {
  if (rows16_for(*a.weights, a.geometry)) {
    run_rows16(a, r0, r1);
    return;
  }
  // HardSwish or not, decided once per call: two variants of the kernels.
  const bool hardswish = a.params->kind == DepthwiseOutput::kFp32 && a.params->hardswish;
  if (a.x_signed) {
    if (hardswish) run_typed<true, true>(a, r0, r1);
    else run_typed<true, false>(a, r0, r1);
  } else {
    if (hardswish) run_typed<false, true>(a, r0, r1);
    else run_typed<false, false>(a, r0, r1);
  }
}

}  // namespace

extern const DepthwisePath kDepthwisePath = {Isa::kAvx2, kBlock, pack, run, finish_params};

}  // namespace avx2
}  // namespace lowbit
