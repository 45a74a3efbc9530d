// Int8 depthwise convolution, AVX-VNNI: the avx512vnni path's rows kernel on
// 256-bit vectors (see qs8-dwconv-c64-avx512vnni.cc), for stride and dilation
// 1 along W; every other geometry, and weights whose w - w_zero_point does not
// fit int8, run the avx2 kernels (whose layout `data` starts with).
//
// An NHWC output row is one vector of OW*C bytes; kernel row ky adds input row
// iy shifted by (kx - pad_left)*C bytes for each kx, times the byte pattern
// w'[(byte) mod C], which repeats every lcm(32, C) bytes ("phases" of 32
// bytes). Each input row is interleaved once per strip into shift rows S_m:
// dword j holds the row's bytes j + (4m + i)*C, i = 0..3 (kernel columns
// 4m..4m+3, weight 0 past kw; bytes outside the row are the zero point), in
// the lane order vpunpck leaves: vector k, 128-bit lane q, dword r holds
// position 16q + 4k + r of the 32-byte chunk. Then 32 output bytes cost, per
// kernel row inside the image, ceil(kw/4) x 4 (load + vpdpbusd). Kernel rows
// outside the image are skipped: their constant contribution (zero point x
// row sum of w') starts the accumulators. int8 activations are flipped to
// uint8 (x ^ 0x80 = x + 128), the +128 folded into the start. vpdpbusd sums
// u8 x s8 products exactly into int32 (no saturation), wrapping like ref.
// For 3 and 5 kernel columns the band kernel (below) runs instead of the
// strips of stored shift rows.
// Output stage: lowbit::requantize_one lane for lane (HardSwish included), as
// the avx2 kernels.
#include <immintrin.h>

#include <algorithm>
#include <numeric>
#include <cstring>
#include <vector>

#include "../../common/dwconv-rows.h"
#include "../avx2/dwconv-stage-ymm.h"
#include "../avx2/output-stage-ymm.h"
#include "lowbit/depthwise_s8.h"

namespace lowbit {
namespace avx2 {
extern const DepthwisePath kDepthwisePath;
}
namespace avxvnni {
namespace {

using x86ymm::DwStage;
using x86ymm::requantize8;

constexpr size_t kChunk = 32;  // output bytes per accumulator set (4 ymm)
constexpr size_t kRowsMaxKh = 16, kRowsMaxKw = 8;
constexpr size_t kRowsMaxWeightBytes = size_t{1} << 19;
constexpr size_t kStripChunks = 16;  // chunks per strip: a strip's shift rows stay in L1

size_t phases_of(size_t channels) { return channels / std::gcd(channels, kChunk); }
size_t column_groups(size_t kw) { return (kw + 3) / 4; }
size_t weight_bytes(size_t channels, size_t kh, size_t kw) {
  return phases_of(channels) * kh * column_groups(kw) * 4 * kChunk;
}
// After the weights: int32 [phase][ky][32], sum over kx of w' at (ky, kx) in lane order.
size_t sum_bytes(size_t channels, size_t kh) { return phases_of(channels) * kh * kChunk * sizeof(int32_t); }

// Array position (8k + 4q + r) of a chunk position (16q + 4k + r).
inline size_t lane_slot(size_t pos) { return 8 * ((pos % 16) / 4) + 4 * (pos / 16) + pos % 4; }

int32_t weight_at(const void* w, bool w_signed, size_t i) {
  return w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
}

bool rows_for(const PackedDepthwise& w, const Conv2dGeometry& g) {
  return w.rows_offset != 0 && g.stride_w == 1 && g.dilation_w == 1;
}

// The avx2 layout, then (when every w' fits int8 and the pattern is small
// enough) [phase][ky][m][k][32]: byte 4*(4q+r) + i of vector k holds w' of
// channel (32*phase + 16q + 4k + r) mod C at (ky, 4m + i), 0 for 4m + i >= kw;
// then the row sums.
void pack(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
          const std::vector<int32_t>& zero_point, PackedDepthwise* out) {
  avx2::kDepthwisePath.pack(w, w_signed, channels, kh, kw, zero_point, out);
  // The avx2 path's per-pixel layout; its rows kernel's weights (from
  // rows_offset) run only for weights packed for avx2: dropped below.
  const size_t avx2_bytes = out->rows_offset != 0 ? out->rows_offset : out->data.size();
  out->rows_offset = 0;
  const size_t taps = kh * kw;
  const auto zw = [&](size_t c) { return zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c]; };
  bool fits_int8 = true;
  for (size_t i = 0; i < channels * taps && fits_int8; ++i) {
    const int32_t v = weight_at(w, w_signed, i) - zw(i / taps);
    fits_int8 = v >= -128 && v <= 127;
  }
  if (!fits_int8 || kh > kRowsMaxKh || kw > kRowsMaxKw || weight_bytes(channels, kh, kw) > kRowsMaxWeightBytes) return;
  const size_t base = (avx2_bytes + 63) / 64 * 64;
  AlignedBuffer data(base + weight_bytes(channels, kh, kw) + sum_bytes(channels, kh));
  std::memcpy(data.data(), out->data.data(), avx2_bytes);
  auto* dst = static_cast<int8_t*>(data.data()) + base;
  auto* sum = reinterpret_cast<int32_t*>(dst + weight_bytes(channels, kh, kw));
  const size_t phases = phases_of(channels), groups = column_groups(kw);
  for (size_t ph = 0; ph < phases; ++ph) {
    for (size_t ky = 0; ky < kh; ++ky) {
      for (size_t m = 0; m < groups; ++m) {
        for (size_t pos = 0; pos < kChunk; ++pos) {
          const size_t c = (ph * kChunk + pos) % channels, k = (pos % 16) / 4, q = pos / 16, r = pos % 4;
          int8_t* v = dst + (((ph * kh + ky) * groups + m) * 4 + k) * kChunk + 4 * (4 * q + r);
          for (size_t i = 0; i < 4; ++i) {
            const size_t kx = 4 * m + i;
            const int32_t wv = kx < kw ? weight_at(w, w_signed, c * taps + ky * kw + kx) - zw(c) : 0;
            v[i] = static_cast<int8_t>(wv);
            sum[(ph * kh + ky) * kChunk + lane_slot(pos)] += wv;
          }
        }
      }
    }
  }
  out->data = std::move(data);
  out->rows_offset = base;
}

// Per-channel arrays (cp values, natural order) -> [phase][32] in lane order.
// (Runs per prepared call: a running channel index, no divisions.)
template <class T>
void expand_to_phases(std::vector<T>& v, size_t channels) {
  const size_t n = phases_of(channels) * kChunk;
  std::vector<T> out(n);
  size_t c = 0;  // channel of byte position `at` of the period
  for (size_t at = 0; at < n; ++at) {
    out[at - at % kChunk + lane_slot(at % kChunk)] = v[c];
    if (++c == channels) c = 0;
  }
  v.swap(out);
}

void finish_params(const PackedDepthwise& w, bool x_signed, const Conv2dGeometry& g, DepthwiseParams* p) {
  if (!rows_for(w, g)) return;  // the avx2 kernels read natural order
  if (x_signed) {
    for (size_t c = 0; c < w.channels; ++c) {
      p->init[c] = static_cast<int32_t>(static_cast<uint32_t>(p->init[c]) - 128u * static_cast<uint32_t>(w.weight_sum[c]));
    }
  }
  expand_to_phases(p->init, w.channels);
  if (p->kind == DepthwiseOutput::kFp32) expand_to_phases(p->scale, w.channels);
  if (p->kind == DepthwiseOutput::kFixedpoint) {
    expand_to_phases(p->multiplier, w.channels);
    expand_to_phases(p->left_shift, w.channels);
    expand_to_phases(p->right_shift, w.channels);
    expand_to_phases(p->round_mask, w.channels);
  }
}

// Stores the 32 outputs of accumulators a[k] (lane q, dword r: position
// 16q + 4k + r; parameters at array positions c0 + 8k..) in order; only the
// first `valid` when fewer than 32. kHardSwish: s.hardswish is set (the
// kernels are instantiated for both, chosen per call in run).
template <bool kHardSwish>
__attribute__((always_inline)) inline void finish_chunk(const __m256i (&a)[4], const DwStage& s, size_t c0,
                                                        uint8_t* out, size_t valid) {
  alignas(32) uint8_t tail[kChunk * 4];
  const bool whole = valid == kChunk;
  if (s.kind == DepthwiseOutput::kInt32) {
    // Lane q of a[k] holds positions 16q + 4k .. +3: a 2x2 transpose of 128-bit lanes per pair.
    const __m256i o[4] = {_mm256_permute2x128_si256(a[0], a[1], 0x20), _mm256_permute2x128_si256(a[2], a[3], 0x20),
                          _mm256_permute2x128_si256(a[0], a[1], 0x31), _mm256_permute2x128_si256(a[2], a[3], 0x31)};
    auto* o32 = reinterpret_cast<__m256i*>(whole ? out : tail);
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; ++j) _mm256_storeu_si256(o32 + j, o[j]);
    if (!whole) std::memcpy(out, tail, valid * 4);
    return;
  }
  // Packs leave lane q of the result holding positions 16q .. 16q + 15 in order.
  __m256i r;
  if (s.fp32_late_clamp) {
    __m256i y[4];
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) {
      __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(a[k]), _mm256_loadu_ps(s.scale + c0 + 8 * k));
      if (kHardSwish) x = x86ymm::hardswish_steps(x, s.hardswish_k);
      y[k] = _mm256_add_epi32(_mm256_cvtps_epi32(x), s.zero_point);  // round half to even
    }
    const __m256i h01 = _mm256_packs_epi32(y[0], y[1]), h23 = _mm256_packs_epi32(y[2], y[3]);
    if (s.out_signed) {
      r = _mm256_packs_epi16(h01, h23);
      if (!s.full_range) r = _mm256_max_epi8(_mm256_min_epi8(r, s.qmax8), s.qmin8);
    } else {
      r = _mm256_packus_epi16(h01, h23);
      if (!s.full_range) r = _mm256_max_epu8(_mm256_min_epu8(r, s.qmax8), s.qmin8);
    }
  } else {
    // Low bytes (static_cast), then packs that keep 0..255.
    const __m256i byte = _mm256_set1_epi32(0xFF);
    __m256i y[4];
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) y[k] = _mm256_and_si256(requantize8<kHardSwish>(a[k], s, c0 + 8 * k), byte);
    r = _mm256_packus_epi16(_mm256_packus_epi32(y[0], y[1]), _mm256_packus_epi32(y[2], y[3]));
  }
  if (whole) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), r);
  } else {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tail), r);
    std::memcpy(out, tail, valid);
  }
}

// 32 bytes of an input row at byte offset `at` (possibly partly or wholly
// outside [0, row_bytes)): the bytes outside are the zero point.
__attribute__((always_inline)) inline __m256i load_padded(const uint8_t* row, ptrdiff_t at, ptrdiff_t row_bytes,
                                                          uint8_t zx) {
  if (at >= 0 && at + 32 <= row_bytes) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + at));
  alignas(32) uint8_t buf[32];
  std::memset(buf, zx, sizeof(buf));
  const ptrdiff_t lo = std::max<ptrdiff_t>(0, -at), hi = std::min<ptrdiff_t>(32, row_bytes - at);
  if (lo < hi) std::memcpy(buf + lo, row + at + lo, static_cast<size_t>(hi - lo));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(buf));
}

// Shift rows of one input row for output chunks [i0, i0 + chunks).
template <bool kSigned>
void build_shift_rows(const uint8_t* row, ptrdiff_t row_bytes, ptrdiff_t c, ptrdiff_t pad_left, size_t kw,
                      size_t i0, size_t chunks, uint8_t zx, uint8_t* s) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const size_t groups = column_groups(kw);
  for (size_t m = 0; m < groups; ++m) {
    // Columns past kw have weight 0: their bytes may be anything, so they are
    // not loaded (a copy of column 4m stands in).
    const size_t used = std::min<size_t>(4, kw - 4 * m);
    auto* dst = reinterpret_cast<__m256i*>(s + m * kStripChunks * 4 * kChunk);
    for (size_t i = 0; i < chunks; ++i, dst += 4) {
      const ptrdiff_t at = static_cast<ptrdiff_t>((i0 + i) * kChunk) + (static_cast<ptrdiff_t>(4 * m) - pad_left) * c;
      __m256i t[4];
      t[0] = load_padded(row, at, row_bytes, zx);
      if (kSigned) t[0] = _mm256_xor_si256(t[0], flip);
      if (used == 1) {
        // One column: byte 0 of dword (lane q, r) of vector k is byte 4k + r
        // of lane q (position 16q + 4k + r); in-lane byte shuffles do it.
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) {
          const __m256i pick = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(0x80808000u | (4 * k))),
                                                _mm256_set_epi32(3, 2, 1, 0, 3, 2, 1, 0));
          _mm256_store_si256(dst + k, _mm256_shuffle_epi8(t[0], pick));  // bytes 1..3 zeroed
        }
        continue;
      }
#pragma GCC unroll 3
      for (size_t j = 1; j < 4; ++j) {
        if (j < used) {
          t[j] = load_padded(row, at + static_cast<ptrdiff_t>(j) * c, row_bytes, zx);
          if (kSigned) t[j] = _mm256_xor_si256(t[j], flip);
        } else {
          t[j] = t[0];
        }
      }
      const __m256i lo01 = _mm256_unpacklo_epi8(t[0], t[1]), hi01 = _mm256_unpackhi_epi8(t[0], t[1]);
      const __m256i lo23 = _mm256_unpacklo_epi8(t[2], t[3]), hi23 = _mm256_unpackhi_epi8(t[2], t[3]);
      _mm256_store_si256(dst, _mm256_unpacklo_epi16(lo01, lo23));
      _mm256_store_si256(dst + 1, _mm256_unpackhi_epi16(lo01, lo23));
      _mm256_store_si256(dst + 2, _mm256_unpacklo_epi16(hi01, hi23));
      _mm256_store_si256(dst + 3, _mm256_unpackhi_epi16(hi01, hi23));
    }
  }
}

struct RowsScratch {
  AlignedBuffer buffer;
  std::vector<int64_t> key;
  AlignedBuffer starts;  // [pattern of outside kernel rows][phase][32]
  AlignedBuffer padded;  // the band kernel's padded input rows
  std::vector<uint32_t> patterns;
};

inline RowsScratch& rows_scratch() {
  thread_local RowsScratch scratch;
  return scratch;
}

// Two consecutive chunks at once (two sets of independent accumulator chains).
template <size_t NCH, bool kHardSwish>
__attribute__((always_inline)) inline void rows_chunks(const uint8_t* const* srow, const size_t* inside,
                                                       size_t n_inside, size_t groups, const int8_t* wrows,
                                                       size_t wphase, const int32_t* start, size_t phases,
                                                       const DwStage& p, size_t i, size_t at, size_t* phase,
                                                       uint8_t* o, size_t row_out, size_t out_bytes) {
  __m256i acc[NCH][4];
  const int8_t* wv[NCH];
  size_t ph[NCH];
#pragma GCC unroll 2
  for (size_t j = 0; j < NCH; ++j) {
    ph[j] = *phase;
    if (++*phase == phases) *phase = 0;
    wv[j] = wrows + ph[j] * wphase;
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) {
      acc[j][k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(start + ph[j] * kChunk + 8 * k));
    }
  }
  const size_t row_weights = groups * 4 * kChunk;
  for (size_t u = 0; u < n_inside; ++u) {
    for (size_t m = 0; m < groups; ++m) {
      const uint8_t* sv = srow[u] + (m * kStripChunks + i) * 4 * kChunk;
#pragma GCC unroll 2
      for (size_t j = 0; j < NCH; ++j) {
        const int8_t* w = wv[j] + inside[u] * row_weights + m * 4 * kChunk;
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) {
          acc[j][k] = _mm256_dpbusd_avx_epi32(acc[j][k],
                                              _mm256_load_si256(reinterpret_cast<const __m256i*>(sv + (4 * j + k) * kChunk)),
                                              _mm256_load_si256(reinterpret_cast<const __m256i*>(w + k * kChunk)));
        }
      }
    }
  }
#pragma GCC unroll 2
  for (size_t j = 0; j < NCH; ++j) {
    const size_t done = (at + j) * kChunk;
    finish_chunk<kHardSwish>(acc[j], p, ph[j] * kChunk, o + j * kChunk * out_bytes,
                             std::min(kChunk, row_out - done));
  }
}

// ---- band kernel (3 and 5 kernel columns) -----------------------------------
//
// As the avx512vnni band kernel: kBandRows output rows of one image, 32 output
// bytes at a time; each input row's interleaved columns for a chunk are built
// in registers, one group of 4 columns at a time, and fed to every row of the
// band that reads the input row. Nothing is stored but the outputs (the strip
// kernel above stores and reloads shift rows).

// Group M (kernel columns 4M..4M+3, those past KW weight 0) of one input row
// for the 32 output bytes at byte `at` of the output row; `row` is the input
// row's padded copy (zero point around it), so every load is a plain one.
template <bool kSigned, size_t KW, size_t M>
__attribute__((always_inline)) inline void band_group(const uint8_t* row, ptrdiff_t at, ptrdiff_t c, __m256i (&s)[4]) {
  const auto load = [&](ptrdiff_t from) __attribute__((always_inline)) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + from));
  };
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  constexpr size_t used = KW - 4 * M < 4 ? KW - 4 * M : 4;
  const ptrdiff_t am = at + static_cast<ptrdiff_t>(4 * M) * c;
  __m256i t[4];
  t[0] = load(am);
  if (kSigned) t[0] = _mm256_xor_si256(t[0], flip);
  if (used == 1) {
    // Byte 0 of dword (lane q, r) of vector k is byte 4k + r of lane q.
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) {
      const __m256i pick = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(0x80808000u | (4 * k))),
                                            _mm256_set_epi32(3, 2, 1, 0, 3, 2, 1, 0));
      s[k] = _mm256_shuffle_epi8(t[0], pick);
    }
    return;
  }
#pragma GCC unroll 3
  for (size_t j = 1; j < 4; ++j) {
    if (j < used) {
      t[j] = load(am + static_cast<ptrdiff_t>(j) * c);
      if (kSigned) t[j] = _mm256_xor_si256(t[j], flip);
    } else {
      t[j] = t[0];
    }
  }
  const __m256i lo01 = _mm256_unpacklo_epi8(t[0], t[1]), hi01 = _mm256_unpackhi_epi8(t[0], t[1]);
  const __m256i lo23 = _mm256_unpacklo_epi8(t[2], t[3]), hi23 = _mm256_unpackhi_epi8(t[2], t[3]);
  s[0] = _mm256_unpacklo_epi16(lo01, lo23);
  s[1] = _mm256_unpackhi_epi16(lo01, lo23);
  s[2] = _mm256_unpacklo_epi16(hi01, hi23);
  s[3] = _mm256_unpackhi_epi16(hi01, hi23);
}

// Output rows [r0, r1); start_of(r): row r's accumulator starts [phase][32].
// Not inlined: with the HardSwish variants GCC inlined some band kernels into
// run_rows and not the others, 2-4% slower on small layers; out of line they
// measure as fast as before or faster.
template <bool kSigned, size_t KW, size_t kBandRows, bool kHardSwish, class StartOf>
__attribute__((noinline)) void run_band(const DepthwiseArgs& a, size_t r0, size_t r1, const DwStage& p,
                                        StartOf&& start_of) {
  constexpr size_t G = (KW + 3) / 4;
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, c = a.c, phases = phases_of(c);
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const size_t row_out = a.ow * c, chunks = (row_out + kChunk - 1) / kChunk;
  const ptrdiff_t row_in = static_cast<ptrdiff_t>(a.w * c), sc = static_cast<ptrdiff_t>(c);
  const ptrdiff_t pl = static_cast<ptrdiff_t>(g.pad_left);
  const auto* x = static_cast<const uint8_t*>(a.x);
  auto* out = static_cast<uint8_t*>(a.out);
  const auto zx = static_cast<uint8_t>(a.params->x_zero_point);
  const int8_t* wrows = static_cast<const int8_t*>(a.weights->data.data()) + a.weights->rows_offset;
  const size_t wphase = kh * G * 4 * kChunk, wrow = G * 4 * kChunk;
  AlignedBuffer& pad = rows_scratch().padded;
  for (size_t r = r0; r < r1;) {
    const size_t b = r / a.oh, oy0 = r % a.oh;
    const size_t nb = std::min({kBandRows, r1 - r, a.oh - oy0});
    const int32_t* start[kBandRows];
    uint8_t* orow[kBandRows];
    for (size_t j = 0; j < kBandRows; ++j) {
      const size_t jj = std::min(j, nb - 1);  // rows past nb: computed, not stored
      start[j] = start_of(r + jj);
      orow[j] = out + (r + jj) * row_out * out_bytes;
    }
    // The input rows the band reads, with the ky of every band row reading
    // each (-1: none), as padded copies (no byte-masked loads on AVX2).
    const uint8_t* in_row[kBandRows * kRowsMaxKh];
    int32_t ky_of[kBandRows * kRowsMaxKh][kBandRows];
    const size_t n_in = dwconv::band_input_rows<kBandRows>(a, x, static_cast<size_t>(row_in), b, oy0, nb, in_row, ky_of);
    const size_t padded_bytes = (chunks * kChunk + (KW - 1) * c + kChunk + 63) / 64 * 64;
    dwconv::pad_input_rows(in_row, n_in, static_cast<size_t>(row_in), static_cast<size_t>(pl) * c, padded_bytes, zx, &pad);
    size_t phase = 0;
    for (size_t i = 0; i < chunks; ++i) {
      __m256i acc[kBandRows][4];
#pragma GCC unroll 4
      for (size_t j = 0; j < kBandRows; ++j) {
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) {
          acc[j][k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(start[j] + phase * kChunk + 8 * k));
        }
      }
      const int8_t* wph = wrows + phase * wphase;
      const ptrdiff_t at = static_cast<ptrdiff_t>(i * kChunk);
      // One column group at a time: 4 registers of interleaved input live.
      const auto feed = [&](const __m256i (&s)[4], size_t u, size_t m) __attribute__((always_inline)) {
#pragma GCC unroll 4
        for (size_t j = 0; j < kBandRows; ++j) {
          const int32_t ky = ky_of[u][j];
          if (ky >= 0) {
            const int8_t* wv = wph + static_cast<size_t>(ky) * wrow + m * 4 * kChunk;
#pragma GCC unroll 4
            for (size_t k = 0; k < 4; ++k) {
              acc[j][k] = _mm256_dpbusd_avx_epi32(acc[j][k], s[k],
                                                  _mm256_load_si256(reinterpret_cast<const __m256i*>(wv + k * kChunk)));
            }
          }
        }
      };
      for (size_t u = 0; u < n_in; ++u) {
        __m256i s[4];
        band_group<kSigned, KW, 0>(in_row[u], at, sc, s);
        feed(s, u, 0);
        if (G > 1) {
          band_group<kSigned, KW, G - 1>(in_row[u], at, sc, s);
          feed(s, u, G - 1);
        }
      }
      const size_t done = i * kChunk;
#pragma GCC unroll 4
      for (size_t j = 0; j < kBandRows; ++j) {
        if (j < nb) {
          finish_chunk<kHardSwish>(acc[j], p, phase * kChunk, orow[j] + done * out_bytes,
                                   std::min(kChunk, row_out - done));
        }
      }
      if (++phase == phases) phase = 0;
    }
    r += nb;
  }
}

template <bool kSigned, bool kHardSwish>
void run_rows(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const DwStage p(*a.params);
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, groups = column_groups(g.kw), c = a.c, phases = phases_of(c);
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const size_t row_out = a.ow * c, chunks = (row_out + kChunk - 1) / kChunk;
  const ptrdiff_t row_in = static_cast<ptrdiff_t>(a.w * c);
  const auto* x = static_cast<const uint8_t*>(a.x);
  auto* out = static_cast<uint8_t*>(a.out);
  const auto zx = static_cast<uint8_t>(a.params->x_zero_point);
  const auto* wrows = static_cast<const int8_t*>(a.weights->data.data()) + a.weights->rows_offset;
  const size_t wphase = kh * groups * 4 * kChunk;

  RowsScratch& rs = rows_scratch();
  // Accumulator starts per pattern of outside kernel rows, once per run.
  dwconv::outside_row_patterns(a, r0, r1, &rs.patterns);
  const size_t pattern_ints = phases * kChunk;
  if (rs.starts.size() < rs.patterns.size() * pattern_ints * sizeof(int32_t)) {
    rs.starts.resize(rs.patterns.size() * pattern_ints * sizeof(int32_t));
  }
  auto* starts = static_cast<int32_t*>(rs.starts.data());
  const int32_t* init = a.params->init.data();
  // A kernel row outside the image reads the (flipped) zero point in every
  // column: it adds zx' * sum_kx w' (wrapping, as ref's sums).
  const uint32_t zx_flipped = static_cast<uint32_t>(a.params->x_zero_point + (kSigned ? 128 : 0));
  const auto* row_sum = reinterpret_cast<const int32_t*>(wrows + weight_bytes(c, kh, g.kw));  // [phase][ky][32]
  // (Loops the compiler vectorizes: this runs on every call.)
  for (size_t q = 0; q < rs.patterns.size(); ++q) {
    auto* st = reinterpret_cast<uint32_t*>(starts + q * pattern_ints);
    for (size_t i = 0; i < pattern_ints; ++i) st[i] = static_cast<uint32_t>(init[i]);
    for (size_t ky = 0; ky < kh; ++ky) {
      if (((rs.patterns[q] >> ky) & 1) == 0) continue;
      for (size_t ph = 0; ph < phases; ++ph) {
        const int32_t* rsum = row_sum + (ph * kh + ky) * kChunk;
        uint32_t* sp = st + ph * kChunk;
        for (size_t pos = 0; pos < kChunk; ++pos) sp[pos] += static_cast<uint32_t>(rsum[pos]) * zx_flipped;
      }
    }
  }

  if (g.kw == 3 || g.kw == 5) {
    const auto start_of = [&](size_t r) __attribute__((always_inline)) {
      const uint32_t mask = dwconv::outside_rows_mask(a, r % a.oh);
      return mask == 0 ? init
                       : starts + (std::find(rs.patterns.begin(), rs.patterns.end(), mask) - rs.patterns.begin()) *
                                      pattern_ints;
    };
    // 3 band rows: 12 accumulators of the 16 ymm registers (a group of
    // interleaved input lives in the others); 2 for images of at most 2 output rows.
    if (a.oh <= 2) {
      if (g.kw == 3) run_band<kSigned, 3, 2, kHardSwish>(a, r0, r1, p, start_of);
      else run_band<kSigned, 5, 2, kHardSwish>(a, r0, r1, p, start_of);
    } else if (g.kw == 3) {
      run_band<kSigned, 3, 3, kHardSwish>(a, r0, r1, p, start_of);
    } else {
      run_band<kSigned, 5, 3, kHardSwish>(a, r0, r1, p, start_of);
    }
    return;
  }
  const size_t slot_bytes = groups * kStripChunks * 4 * kChunk;
  if (rs.buffer.size() < kh * slot_bytes) rs.buffer.resize(kh * slot_bytes);
  rs.key.resize(kh);
  auto* sbase = static_cast<uint8_t*>(rs.buffer.data());
  const uint8_t* srow[kRowsMaxKh];
  size_t inside[kRowsMaxKh], slot_of[kRowsMaxKh];
  int64_t want[kRowsMaxKh];

  for (size_t i0 = 0; i0 < chunks; i0 += kStripChunks) {
    const size_t n_chunks = std::min(kStripChunks, chunks - i0);
    std::fill(rs.key.begin(), rs.key.end(), -1);
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / a.oh, oy = r % a.oh;
      const uint32_t mask = dwconv::outside_rows_mask(a, oy);
      const int32_t* start =
          mask == 0 ? init
                    : starts + (std::find(rs.patterns.begin(), rs.patterns.end(), mask) - rs.patterns.begin()) * pattern_ints;
      // The shift rows of the kernel rows inside the image: reuse a slot that
      // holds one, build the others into slots this output row does not read.
      size_t n_inside = 0;
      bool used[kRowsMaxKh] = {};
      for (size_t ky = 0; ky < kh; ++ky) {
        if ((mask >> ky) & 1) continue;
        const size_t u = n_inside++;
        inside[u] = ky;
        want[u] = static_cast<int64_t>(b * a.h + oy * g.stride_h + ky * g.dilation_h - g.pad_top);
        slot_of[u] = kh;
        for (size_t s = 0; s < kh; ++s) {
          if (rs.key[s] == want[u]) {
            slot_of[u] = s;
            used[s] = true;
            break;
          }
        }
      }
      for (size_t u = 0; u < n_inside; ++u) {
        if (slot_of[u] == kh) {
          size_t s = 0;
          while (used[s]) ++s;  // fewer than kh slots are taken
          used[s] = true;
          slot_of[u] = s;
          rs.key[s] = want[u];
          build_shift_rows<kSigned>(x + static_cast<size_t>(want[u]) * a.w * c, row_in, static_cast<ptrdiff_t>(c),
                                    static_cast<ptrdiff_t>(g.pad_left), g.kw, i0, n_chunks, zx,
                                    sbase + s * slot_bytes);
        }
        srow[u] = sbase + slot_of[u] * slot_bytes;
      }
      uint8_t* o = out + (r * row_out + i0 * kChunk) * out_bytes;
      size_t phase = i0 % phases, i = 0;
      for (; i + 2 <= n_chunks; i += 2) {
        rows_chunks<2, kHardSwish>(srow, inside, n_inside, groups, wrows, wphase, start, phases, p, i, i0 + i, &phase,
                       o + i * kChunk * out_bytes, row_out, out_bytes);
      }
      for (; i < n_chunks; ++i) {
        rows_chunks<1, kHardSwish>(srow, inside, n_inside, groups, wrows, wphase, start, phases, p, i, i0 + i, &phase,
                       o + i * kChunk * out_bytes, row_out, out_bytes);
      }
    }
  }
}

void run(const DepthwiseArgs& a, size_t r0, size_t r1) {
  // HardSwish or not, decided once per call: two variants of the kernels.
  const bool hardswish = a.params->kind == DepthwiseOutput::kFp32 && a.params->hardswish;
  if (!rows_for(*a.weights, a.geometry)) {
    avx2::kDepthwisePath.run(a, r0, r1);
  } else if (a.x_signed) {
    if (hardswish) run_rows<true, true>(a, r0, r1);
    else run_rows<true, false>(a, r0, r1);
  } else {
    if (hardswish) run_rows<false, true>(a, r0, r1);
    else run_rows<false, false>(a, r0, r1);
  }
}

}  // namespace

extern const DepthwisePath kDepthwisePath = {Isa::kAvxVnni, kChunk, pack, run, finish_params};

}  // namespace avxvnni
}  // namespace lowbit
