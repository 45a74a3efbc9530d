// Int8 depthwise convolution, AVX2: the rows ("band") kernel for stride and
// dilation 1 along W and 3 or 5 kernel columns, on int16 pairs.
//
// An NHWC output row is one vector of OW*C bytes; kernel tap (ky, kx) adds
// input row iy shifted by (kx - pad_left)*C bytes times the byte pattern
// w'[(byte) mod C], which repeats every lcm(16, C) bytes ("phases" of 16
// bytes). Without VNNI, two kernel columns share an int32 lane: for each pair
// of columns (2m, 2m + 1), the 16 input bytes of both shifts are interleaved
// (vpunpck{l,h}bw) and widened to int16 pairs (vpmov{z,s}xbw), and vpmaddwd
// against int16 pairs of w' adds x(2m) w'(2m) + x(2m+1) w'(2m+1) to 8 output
// positions exactly (|x| <= 255, |w'| <= 255: no saturation, any weights).
// That is 2 taps per 16-bit multiply where the per-pixel kernel spends a
// vpmovzxbd, a vpmaddwd and a vpaddd on every tap of 8 channels, and small C
// fill whole vectors.
//
// kBandRows output rows of one image are computed together, 16 output bytes
// (two ymm of int32, natural order) at a time: each input row's pairs for a
// chunk are built once, in registers, and fed to every output row of the band
// that reads the row. Input rows are read from padded copies (zero point
// around them), so every load is a plain one. Kernel rows outside the image
// are skipped: their constant contribution (zero point x row sum of w') starts
// the accumulators, as do bias - x_zero_point * sum(w') (prepare_depthwise).
// Output stage: lowbit::requantize_one lane for lane (HardSwish included).
#include "dwconv-rows-avx2.h"

#include "../../common/dwconv-rows.h"

#include <immintrin.h>

#include <algorithm>
#include <numeric>
#include <cstring>
#include <vector>

#include "dwconv-stage-ymm.h"
#include "output-stage-ymm.h"

namespace lowbit {
namespace avx2 {
namespace {

using x86ymm::DwStage;
using x86ymm::requantize8;

constexpr size_t kChunk = 16;  // output bytes per accumulator pair (2 ymm of int32)
constexpr size_t kMaxKh = 16;
constexpr size_t kMaxWeightBytes = size_t{1} << 19;
constexpr size_t kBandRows = 3;  // 6 accumulators of the 16 ymm registers (4 was slower, 2 too)

size_t phases_of(size_t channels) { return channels / std::gcd(channels, kChunk); }
size_t pairs_of(size_t kw) { return (kw + 1) / 2; }
// [phase][ky][pair m][16] int32 lanes: low int16 w' at (ky, 2m), high at (ky, 2m + 1) (0 past kw).
size_t weight_bytes(size_t channels, size_t kh, size_t kw) {
  return phases_of(channels) * kh * pairs_of(kw) * kChunk * sizeof(int32_t);
}
// Then [phase][ky][16] int32: sum over kx of w' at (ky, kx).
size_t sum_bytes(size_t channels, size_t kh) { return phases_of(channels) * kh * kChunk * sizeof(int32_t); }

int32_t weight_at(const void* w, bool w_signed, size_t i) {
  return w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
}

// Per-channel arrays (cp values, natural order) -> [phase][16]: position p of
// phase ph holds channel (16*ph + p) mod C.
template <class T>
void expand_to_phases(std::vector<T>& v, size_t channels) {
  const size_t n = phases_of(channels) * kChunk;
  std::vector<T> out(n);
  size_t c = 0;
  for (size_t at = 0; at < n; ++at) {
    out[at] = v[c];
    if (++c == channels) c = 0;
  }
  v.swap(out);
}

// Stores the 16 outputs of a0 (positions 0..7) and a1 (8..15), parameters at
// array position c0; only the first `valid` when fewer than 16. kHardSwish:
// s.hardswish is set (the kernels are instantiated for both, per call).
template <bool kHardSwish>
__attribute__((always_inline)) inline void finish16(__m256i a0, __m256i a1, const DwStage& s, size_t c0, uint8_t* out,
                                                    size_t valid) {
  alignas(32) uint8_t tail[kChunk * 4];
  const bool whole = valid == kChunk;
  if (s.kind == DepthwiseOutput::kInt32) {
    auto* o = reinterpret_cast<__m256i*>(whole ? out : tail);
    _mm256_storeu_si256(o, a0);
    _mm256_storeu_si256(o + 1, a1);
    if (!whole) std::memcpy(out, tail, valid * 4);
    return;
  }
  // A 32-bit pack of (a0, a1) holds positions 0-3, 8-11 | 4-7, 12-15: the
  // qword permute restores the order before the 16-bit pack.
  __m128i r;
  if (s.fp32_late_clamp) {
    const auto round = [&](__m256i acc, size_t c) __attribute__((always_inline)) {
      __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(s.scale + c));
      if (kHardSwish) x = x86ymm::hardswish_steps(x, s.hardswish_k);
      return _mm256_add_epi32(_mm256_cvtps_epi32(x), s.zero_point);  // round half to even
    };
    const __m256i h = _mm256_permute4x64_epi64(_mm256_packs_epi32(round(a0, c0), round(a1, c0 + 8)), 0xD8);
    const __m128i lo = _mm256_castsi256_si128(h), hi = _mm256_extracti128_si256(h, 1);
    const __m128i qmin8 = _mm256_castsi256_si128(s.qmin8), qmax8 = _mm256_castsi256_si128(s.qmax8);
    if (s.out_signed) {
      r = _mm_packs_epi16(lo, hi);
      if (!s.full_range) r = _mm_max_epi8(_mm_min_epi8(r, qmax8), qmin8);
    } else {
      r = _mm_packus_epi16(lo, hi);
      if (!s.full_range) r = _mm_max_epu8(_mm_min_epu8(r, qmax8), qmin8);
    }
  } else {
    // Low bytes (static_cast), then packs that keep 0..255.
    const __m256i byte = _mm256_set1_epi32(0xFF);
    const __m256i y0 = _mm256_and_si256(requantize8<kHardSwish>(a0, s, c0), byte);
    const __m256i y1 = _mm256_and_si256(requantize8<kHardSwish>(a1, s, c0 + 8), byte);
    const __m256i h = _mm256_permute4x64_epi64(_mm256_packus_epi32(y0, y1), 0xD8);
    r = _mm_packus_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  }
  if (whole) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), r);
  } else {
    _mm_store_si128(reinterpret_cast<__m128i*>(tail), r);
    std::memcpy(out, tail, valid);
  }
}

// Pair m (kernel columns 2m, 2m + 1; the second past KW has weight 0) of one
// padded input row for the 16 output bytes at `at`: s0 positions 0..7, s1 8..15.
template <bool kSigned, size_t KW, size_t M>
__attribute__((always_inline)) inline void band_pair(const uint8_t* row, ptrdiff_t at, ptrdiff_t c, __m256i& s0,
                                                     __m256i& s1) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at + static_cast<ptrdiff_t>(2 * M) * c));
  const __m128i b = 2 * M + 1 < KW
                        ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + at + static_cast<ptrdiff_t>(2 * M + 1) * c))
                        : a;
  const __m128i lo = _mm_unpacklo_epi8(a, b), hi = _mm_unpackhi_epi8(a, b);
  s0 = kSigned ? _mm256_cvtepi8_epi16(lo) : _mm256_cvtepu8_epi16(lo);
  s1 = kSigned ? _mm256_cvtepi8_epi16(hi) : _mm256_cvtepu8_epi16(hi);
}

struct RowsScratch {
  AlignedBuffer starts;  // [pattern of outside kernel rows][phase][16]
  std::vector<uint32_t> patterns;
  AlignedBuffer padded;  // padded copies of a band's input rows
};

inline RowsScratch& rows_scratch() {
  thread_local RowsScratch scratch;
  return scratch;
}

template <bool kSigned, size_t KW, size_t RB, bool kHardSwish, class StartOf>
void run_band(const DepthwiseArgs& a, size_t r0, size_t r1, const DwStage& p, StartOf&& start_of) {
  constexpr size_t NP = (KW + 1) / 2;
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, c = a.c, phases = phases_of(c);
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const size_t row_out = a.ow * c, chunks = (row_out + kChunk - 1) / kChunk;
  const ptrdiff_t row_in = static_cast<ptrdiff_t>(a.w * c), sc = static_cast<ptrdiff_t>(c);
  const ptrdiff_t pl = static_cast<ptrdiff_t>(g.pad_left);
  const auto* x = static_cast<const uint8_t*>(a.x);
  auto* out = static_cast<uint8_t*>(a.out);
  const auto zx = static_cast<uint8_t>(a.params->x_zero_point);
  const auto* wrows = reinterpret_cast<const int8_t*>(static_cast<const uint8_t*>(a.weights->data.data()) +
                                                      a.weights->rows_offset);
  const size_t wrow = NP * kChunk * sizeof(int32_t), wphase = kh * wrow;
  AlignedBuffer& pad = rows_scratch().padded;
  // Byte pl*C + j of a padded copy is byte j of the row; the zero point
  // around it up to the last load's end.
  const size_t padded_bytes = (chunks * kChunk + (KW - 1) * c + kChunk + 63) / 64 * 64;
  for (size_t r = r0; r < r1;) {
    const size_t b = r / a.oh, oy0 = r % a.oh;
    const size_t nb = std::min({RB, r1 - r, a.oh - oy0});
    const int32_t* start[RB];
    uint8_t* orow[RB];
    for (size_t j = 0; j < RB; ++j) {
      const size_t jj = std::min(j, nb - 1);  // rows past nb: computed, not stored
      start[j] = start_of(r + jj);
      orow[j] = out + (r + jj) * row_out * out_bytes;
    }
    const uint8_t* in_row[RB * kMaxKh];
    int32_t ky_of[RB * kMaxKh][RB];
    const size_t n_in = dwconv::band_input_rows<RB>(a, x, static_cast<size_t>(row_in), b, oy0, nb, in_row, ky_of);
    dwconv::pad_input_rows(in_row, n_in, static_cast<size_t>(row_in), static_cast<size_t>(pl) * c, padded_bytes, zx, &pad);
    size_t phase = 0;
    for (size_t i = 0; i < chunks; ++i) {
      __m256i acc[RB][2];
#pragma GCC unroll 4
      for (size_t j = 0; j < RB; ++j) {
        acc[j][0] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(start[j] + phase * kChunk));
        acc[j][1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(start[j] + phase * kChunk + 8));
      }
      const int8_t* wph = wrows + phase * wphase;
      const ptrdiff_t at = static_cast<ptrdiff_t>(i * kChunk);
      const auto feed = [&](__m256i s0, __m256i s1, size_t u, size_t m) __attribute__((always_inline)) {
#pragma GCC unroll 4
        for (size_t j = 0; j < RB; ++j) {
          const int32_t ky = ky_of[u][j];
          if (ky >= 0) {
            const auto* wv = reinterpret_cast<const __m256i*>(wph + static_cast<size_t>(ky) * wrow + m * kChunk * 4);
            acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_madd_epi16(s0, _mm256_load_si256(wv)));
            acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_madd_epi16(s1, _mm256_load_si256(wv + 1)));
          }
        }
      };
      for (size_t u = 0; u < n_in; ++u) {
        __m256i s0, s1;
        band_pair<kSigned, KW, 0>(in_row[u], at, sc, s0, s1);
        feed(s0, s1, u, 0);
        if (NP > 1) {
          band_pair<kSigned, KW, 1>(in_row[u], at, sc, s0, s1);
          feed(s0, s1, u, 1);
        }
        if (NP > 2) {
          band_pair<kSigned, KW, NP - 1>(in_row[u], at, sc, s0, s1);
          feed(s0, s1, u, NP - 1);
        }
      }
      const size_t done = i * kChunk;
#pragma GCC unroll 4
      for (size_t j = 0; j < RB; ++j) {
        if (j < nb) {
          finish16<kHardSwish>(acc[j][0], acc[j][1], p, phase * kChunk, orow[j] + done * out_bytes,
                               std::min(kChunk, row_out - done));
        }
      }
      if (++phase == phases) phase = 0;
    }
    r += nb;
  }
}

template <bool kSigned>
void run_typed(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const DwStage p(*a.params);
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, c = a.c, phases = phases_of(c);
  const auto* wrows = static_cast<const uint8_t*>(a.weights->data.data()) + a.weights->rows_offset;
  RowsScratch& rs = rows_scratch();
  // Accumulator starts per pattern of outside kernel rows, once per run: a
  // kernel row outside the image reads the zero point in every column, adding
  // zx * sum_kx w' (wrapping, as ref's sums).
  dwconv::outside_row_patterns(a, r0, r1, &rs.patterns);
  const size_t pattern_ints = phases * kChunk;
  if (rs.starts.size() < rs.patterns.size() * pattern_ints * sizeof(int32_t)) {
    rs.starts.resize(rs.patterns.size() * pattern_ints * sizeof(int32_t));
  }
  auto* starts = static_cast<int32_t*>(rs.starts.data());
  const int32_t* init = a.params->init.data();
  const auto zx = static_cast<uint32_t>(a.params->x_zero_point);
  const auto* row_sum = reinterpret_cast<const int32_t*>(wrows + weight_bytes(c, kh, g.kw));  // [phase][ky][16]
  for (size_t q = 0; q < rs.patterns.size(); ++q) {
    auto* st = reinterpret_cast<uint32_t*>(starts + q * pattern_ints);
    for (size_t i = 0; i < pattern_ints; ++i) st[i] = static_cast<uint32_t>(init[i]);
    for (size_t ky = 0; ky < kh; ++ky) {
      if (((rs.patterns[q] >> ky) & 1) == 0) continue;
      for (size_t ph = 0; ph < phases; ++ph) {
        const int32_t* rsum = row_sum + (ph * kh + ky) * kChunk;
        uint32_t* sp = st + ph * kChunk;
        for (size_t pos = 0; pos < kChunk; ++pos) sp[pos] += static_cast<uint32_t>(rsum[pos]) * zx;
      }
    }
  }
  const auto start_of = [&](size_t r) __attribute__((always_inline)) {
    const uint32_t mask = dwconv::outside_rows_mask(a, r % a.oh);
    return mask == 0 ? init
                     : starts + (std::find(rs.patterns.begin(), rs.patterns.end(), mask) - rs.patterns.begin()) *
                                    pattern_ints;
  };
  // HardSwish or not, decided once per call (two variants of the kernels).
  p.with_hardswish([&](auto hardswish) {
    constexpr bool kHs = decltype(hardswish)::value;
    // Images of 1 or 2 output rows: no band rows computed only to be dropped.
    if (a.oh <= 2) {
      if (g.kw == 3) run_band<kSigned, 3, 2, kHs>(a, r0, r1, p, start_of);
      else run_band<kSigned, 5, 2, kHs>(a, r0, r1, p, start_of);
    } else if (g.kw == 3) {
      run_band<kSigned, 3, kBandRows, kHs>(a, r0, r1, p, start_of);
    } else {
      run_band<kSigned, 5, kBandRows, kHs>(a, r0, r1, p, start_of);
    }
  });
}

}  // namespace

bool rows16_for(const PackedDepthwise& w, const Conv2dGeometry& g) {
  return w.isa == Isa::kAvx2 && w.rows_offset != 0 && g.stride_w == 1 && g.dilation_w == 1 &&
         (g.kw == 3 || g.kw == 5);
}

size_t rows16_bytes(size_t channels, size_t kh, size_t kw) {
  if ((kw != 3 && kw != 5) || kh > kMaxKh || weight_bytes(channels, kh, kw) > kMaxWeightBytes) return 0;
  return weight_bytes(channels, kh, kw) + sum_bytes(channels, kh);
}

void pack_rows16(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
                 const std::vector<int32_t>& zero_point, uint8_t* dst) {
  const size_t phases = phases_of(channels), np = pairs_of(kw), taps = kh * kw;
  const auto zw = [&](size_t c) { return zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c]; };
  auto* wt = reinterpret_cast<int32_t*>(dst);
  auto* sum = reinterpret_cast<int32_t*>(dst + weight_bytes(channels, kh, kw));
  for (size_t ph = 0; ph < phases; ++ph) {
    for (size_t pos = 0; pos < kChunk; ++pos) {
      const size_t c = (ph * kChunk + pos) % channels;
      for (size_t ky = 0; ky < kh; ++ky) {
        const auto wv = [&](size_t kx) { return kx < kw ? weight_at(w, w_signed, c * taps + ky * kw + kx) - zw(c) : 0; };
        int32_t s = 0;
        for (size_t m = 0; m < np; ++m) {
          const int32_t w0 = wv(2 * m), w1 = wv(2 * m + 1);
          wt[((ph * kh + ky) * np + m) * kChunk + pos] =
              static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(w0)) |
                                   (static_cast<uint32_t>(static_cast<uint16_t>(w1)) << 16));
          s += w0 + w1;
        }
        sum[(ph * kh + ky) * kChunk + pos] = s;
      }
    }
  }
}

void finish_params_rows16(const PackedDepthwise& w, const Conv2dGeometry& g, DepthwiseParams* p) {
  if (!rows16_for(w, g)) return;  // the per-pixel kernels read natural channel order
  expand_to_phases(p->init, w.channels);
  if (p->kind == DepthwiseOutput::kFp32) expand_to_phases(p->scale, w.channels);
  if (p->kind == DepthwiseOutput::kFixedpoint) {
    expand_to_phases(p->multiplier, w.channels);
    expand_to_phases(p->left_shift, w.channels);
    expand_to_phases(p->right_shift, w.channels);
    expand_to_phases(p->round_mask, w.channels);
  }
}

void run_rows16(const DepthwiseArgs& a, size_t r0, size_t r1) {
  if (a.x_signed) run_typed<true>(a, r0, r1);
  else run_typed<false>(a, r0, r1);
}

}  // namespace avx2
}  // namespace lowbit
