// Int8 depthwise convolution, AVX512-VNNI: 64 channels per register block, two
// kernels chosen when the weights are packed, and a rows kernel for stride and
// dilation 1 along W (see "rows kernel" below) whenever its int8 weights were
// packed too, except where the 3-column kernel (run_columns3) applies; for 3
// and 5 kernel columns the rows kernel's weights run the band kernel (see
// "band kernel"), which builds interleaved input in registers per chunk.
//
// t4 (every w' = w - w_zero_point fits int8, as symmetric int8 weights always
// do; whole blocks of 64 channels): four taps' 64-byte rows are interleaved
// (vpunpck{l,h}bw, then vpunpck{l,h}wd) so that each dword holds one
// channel's four taps, and one vpdpbusd per 16 channels multiplies them by the
// same channel's four weights: 64 channels x 4 taps in 8 shuffles and 4
// vpdpbusd, u8 x s8 products summed exactly into int32 (no saturation:
// vpdpbusd, not vpdpbusds). Kernel sizes are rounded up to 4 taps with padding
// taps of weight 0. The interleave leaves channel 16q + 4k + r in lane 4q + r
// of accumulator k, so the per-channel parameters are prepared in that order
// (finish_params) and the output is brought back to channel order by packing
// (vpackusdw/vpackuswb or the signed forms keep lane order within 128 bits).
// int8 activations are flipped to uint8 (x ^ 0x80 = x + 128), the +128 folded
// into the accumulators' start. Channels past the last whole block run i16.
// Two output pixels are interleaved (independent dependency chains, shared
// weight loads). For 3 kernel columns of <= 4 rows at stride and dilation 1
// along W (3x3 stride-1 layers), run_columns3 interleaves each input column
// once for the three output pixels that read it (every block, the last masked).
//
// i16 (any weights, e.g. uint8 weights with a zero point far from 128): each
// tap's 16 input bytes are widened to int32 lanes (vpmovzxbd / vpmovsxbd) and
// multiplied by w' held as the low int16 of an int32 lane whose high int16 is 0
// with vpmaddwd (lane = x_lo16 * w' + x_hi16 * 0 = x * w' exactly, |x * w'| <=
// 255^2), then vpaddd: with few vectors per block a fused vpdpwssd would chain
// every tap through one accumulator at its 4-5 cycle latency.
//
// Both: accumulators start at bias - x_zero_point * sum(w') (prepared per call),
// so the zero-point correction costs nothing per tap, and padded taps, which
// read a row of x_zero_point bytes, cancel out; int32 sums wrap like ref's.
// Output stage: lowbit::requantize_one lane for lane (output-stage-avx512vnni.h),
// HardSwish included (hardswish_steps, output-stage-avx512vnni.h).
#include <immintrin.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "../../common/dwconv-rows.h"
#include "lowbit/depthwise_s8.h"
#include "output-stage-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {
namespace {

constexpr size_t kBlock = 64;  // channels per block: 4 zmm accumulators
constexpr int kLayoutI16 = 0;  // [cp/64][taps][64] int32 lanes holding (uint16) w'
constexpr int kLayoutT4 = 1;   // whole blocks 4 taps per dword, the rest i16, + by column for 3-wide kernels (see pack)

// Where each part of the t4 layout starts in PackedDepthwise::data (bytes).
struct WeightOffsets {
  size_t tail;     // i16 weights of the channels past the last whole block
  size_t columns;  // whole blocks by kernel column, for 3 columns of <= 4 rows; else 0
  size_t end;
};

bool by_columns(size_t kh, size_t kw) { return kw == 3 && kh <= 4; }

WeightOffsets weight_offsets(size_t channels, size_t kh, size_t kw) {
  const size_t taps = kh * kw, groups = (taps + 3) / 4, full = channels / kBlock * kBlock;
  WeightOffsets o;
  o.tail = full * groups * 4;
  const size_t after_tail = o.tail + (full < channels ? taps * kBlock * sizeof(int32_t) : 0);
  const size_t padded = (channels + kBlock - 1) / kBlock * kBlock;
  o.columns = by_columns(kh, kw) ? after_tail : 0;
  o.end = after_tail + (by_columns(kh, kw) ? padded * kw * 4 : 0);
  return o;
}

int32_t weight_at(const void* w, bool w_signed, size_t i) {
  return w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
}

// ---- rows kernel (stride 1 and dilation 1 along W) -------------------------
//
// With unit stride and dilation along W, an NHWC output row is one vector of
// OW*C bytes, and tap (ky, kx) adds input row iy (padded with the zero point)
// shifted by (kx - pad_left)*C bytes, times a byte pattern w'[(byte) mod C]
// that repeats every lcm(64, C) bytes: no per-pixel walk, no masked lanes for
// small C. Each input row is interleaved once (per strip of the row) into
// "shift rows" S_m, whose dword j holds the padded row's bytes j + (4m+i)*C
// for i = 0..3 (kernel columns 4m..4m+3, weight 0 past kw) in t4 lane order;
// every output row that reads the input row reuses it. Per 64 output bytes a
// kernel row then costs ceil(kw/4) x 4 (load + vpdpbusd), whatever C is.
// Weights and per-channel parameters are laid out per 64-byte "phase" of the
// lcm(64, C) period (pack and finish_params).

constexpr size_t kRowsMaxKh = 16, kRowsMaxKw = 8;
constexpr size_t kRowsMaxWeightBytes = size_t{1} << 19;
constexpr size_t kStripChunks = 8;  // 64-byte output chunks per strip: S stays in L1/L2

// 64-byte phases in the lcm(64, C) period of the weight and parameter patterns.
size_t rows_phases(size_t channels) { return channels / std::gcd(channels, kBlock); }
size_t rows_column_groups(size_t kw) { return (kw + 3) / 4; }
size_t rows_weight_bytes(size_t channels, size_t kh, size_t kw) {
  return rows_phases(channels) * kh * rows_column_groups(kw) * 4 * kBlock;
}
// After the weights: int32 [phase][ky][64], the sum over kx of w' at (ky, kx)
// in t4 lane order (position 16k + 4q + r: channel (64*phase + 16q + 4k + r) mod C).
size_t rows_sum_bytes(size_t channels, size_t kh) { return rows_phases(channels) * kh * kBlock * sizeof(int32_t); }
bool rows_fit(size_t channels, size_t kh, size_t kw) {
  return kh <= kRowsMaxKh && kw <= kRowsMaxKw && rows_weight_bytes(channels, kh, kw) <= kRowsMaxWeightBytes;
}

// [phase][ky][m][k][64]: byte 4*(4q+r) + i of vector k holds w' of channel
// (64*phase + 16q + 4k + r) mod C at (ky, 4m + i), 0 for 4m + i >= kw.
void pack_rows(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
               const std::vector<int32_t>& zero_point, int8_t* dst) {
  const size_t phases = rows_phases(channels), groups = rows_column_groups(kw), taps = kh * kw;
  const auto zw = [&](size_t c) { return zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c]; };
  auto* sum = reinterpret_cast<int32_t*>(dst + rows_weight_bytes(channels, kh, kw));  // zero-filled
  for (size_t ph = 0; ph < phases; ++ph) {
    for (size_t ky = 0; ky < kh; ++ky) {
      for (size_t m = 0; m < groups; ++m) {
        for (size_t k = 0; k < 4; ++k) {
          int8_t* v = dst + (((ph * kh + ky) * groups + m) * 4 + k) * kBlock;
          for (size_t q = 0; q < 4; ++q) {
            for (size_t r = 0; r < 4; ++r) {
              const size_t c = (ph * kBlock + 16 * q + 4 * k + r) % channels;
              for (size_t i = 0; i < 4; ++i) {
                const size_t kx = 4 * m + i;
                const int32_t wv = kx < kw ? weight_at(w, w_signed, c * taps + ky * kw + kx) - zw(c) : 0;
                v[4 * (4 * q + r) + i] = static_cast<int8_t>(wv);
                sum[(ph * kh + ky) * kBlock + 16 * k + 4 * q + r] += wv;
              }
            }
          }
        }
      }
    }
  }
}

bool columns_for(const PackedDepthwise& w, const Conv2dGeometry& g);

// The rows kernel runs stride-1 rows, except where the column kernel applies
// (3 kernel columns, whole blocks of 64 channels): that one keeps each
// interleaved input column in registers for the 3 outputs that read it, which
// costs less than storing and reloading shift rows.
bool rows_for(const PackedDepthwise& w, const Conv2dGeometry& g) {
  return w.rows_offset != 0 && g.stride_w == 1 && g.dilation_w == 1 && !columns_for(w, g);
}

// Per-channel arrays (cp values, natural order) -> [phase][64] in t4 lane
// order: position 16k + 4q + r of a phase holds channel (64*phase + 16q + 4k + r) mod C.
// (Runs per prepared call: a running channel index, no divisions.)
template <class T>
void expand_to_phases(std::vector<T>& v, size_t channels) {
  const size_t n = rows_phases(channels) * kBlock;
  std::vector<T> out(n);
  size_t c = 0;  // channel of byte position `at` of the period
  for (size_t at = 0; at < n; ++at) {
    const size_t p = at % kBlock;  // position 16q + 4k + r -> slot 16k + 4q + r
    out[at - p + 16 * ((p / 4) % 4) + 4 * (p / 16) + p % 4] = v[c];
    if (++c == channels) c = 0;
  }
  v.swap(out);
}

// The byte size of `data` for a path layout of `base` bytes, with room for the
// rows kernel's weights after it when the weights fit int8 and the pattern is
// small enough (sets rows_offset; 0 otherwise).
size_t with_rows(PackedDepthwise* out, size_t base, bool fits_int8) {
  out->rows_offset = 0;
  if (!fits_int8 || !rows_fit(out->channels, out->kh, out->kw)) return base;
  out->rows_offset = (base + kBlock - 1) / kBlock * kBlock;
  return out->rows_offset + rows_weight_bytes(out->channels, out->kh, out->kw) + rows_sum_bytes(out->channels, out->kh);
}

void pack(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
          const std::vector<int32_t>& zero_point, PackedDepthwise* out) {
  const size_t taps = kh * kw;
  const auto zw = [&](size_t c) { return zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c]; };
  bool fits_int8 = true;
  for (size_t c = 0; c < channels && fits_int8; ++c) {
    for (size_t t = 0; t < taps; ++t) {
      const int32_t v = weight_at(w, w_signed, c * taps + t) - zw(c);
      if (v < -128 || v > 127) {
        fits_int8 = false;
        break;
      }
    }
  }
  if (fits_int8 && channels >= kBlock) {
    // Whole blocks of 64 channels: [channels/64][ceil(taps/4)][4 accumulators k]
    // [64 bytes], byte 4*(4q+r) + i of vector k of tap group g holding
    // w'[c0 + 16q + 4k + r][4g + i] (0 past the last tap). The last channels
    // (fewer than 64) follow in the i16 layout: the t4 kernel would spend a
    // whole block's work on them. For 3 kernel columns of at most 4 rows all
    // blocks (the last one padded with zero weights) follow once more by
    // column (run_columns3): [cp/64][3][4][64], byte 4*(4q+r) + ky of vector k
    // of column kx holding w'[c0 + 16q + 4k + r][ky][kx] (0 for ky >= kh).
    const size_t groups = (taps + 3) / 4, full = channels / kBlock * kBlock;
    const WeightOffsets at = weight_offsets(channels, kh, kw);
    out->layout = kLayoutT4;
    out->data.resize(with_rows(out, at.end, fits_int8));
    auto* dst = static_cast<int8_t*>(out->data.data());
    auto* tail = reinterpret_cast<int32_t*>(dst + at.tail);
    for (size_t c = 0; c < channels; ++c) {
      const size_t blk = c / kBlock, lane = c % kBlock, q = lane / 16, k = (lane / 4) % 4, r = lane % 4;
      for (size_t t = 0; t < taps; ++t) {
        const int32_t v = weight_at(w, w_signed, c * taps + t) - zw(c);
        const size_t byte = 4 * (4 * q + r);
        if (at.columns != 0) {  // column kx = t % kw, row ky = t / kw in byte ky
          dst[at.columns + ((blk * kw + t % kw) * 4 + k) * kBlock + byte + t / kw] = static_cast<int8_t>(v);
        }
        if (c < full) {
          dst[((blk * groups + t / 4) * 4 + k) * kBlock + byte + t % 4] = static_cast<int8_t>(v);
        } else {
          tail[t * kBlock + lane] = static_cast<int32_t>(static_cast<uint16_t>(v));
        }
      }
    }
  } else {
    out->layout = kLayoutI16;
    out->data.resize(with_rows(out, out->cp * taps * sizeof(int32_t), fits_int8));
    auto* dst = static_cast<int32_t*>(out->data.data());
    for (size_t c = 0; c < channels; ++c) {
      for (size_t t = 0; t < taps; ++t) {
        const int32_t v = weight_at(w, w_signed, c * taps + t) - zw(c);
        dst[((c / kBlock) * taps + t) * kBlock + c % kBlock] = static_cast<int32_t>(static_cast<uint16_t>(v));
      }
    }
  }
  if (out->rows_offset != 0) {
    pack_rows(w, w_signed, channels, kh, kw, zero_point, static_cast<int8_t*>(out->data.data()) + out->rows_offset);
  }
}

// t4: accumulator k, lane 4q + r holds channel 16q + 4k + r, so position
// 16k + 4q + r of every per-channel array of a block holds that channel (the
// map swaps q and k). int8 activations add 128 * sum(w') to the start.
// True when run() takes the column kernel for this geometry (all blocks in t4
// lane order) rather than t4 blocks plus an i16 tail (natural order there).
bool columns_for(const PackedDepthwise& w, const Conv2dGeometry& g) {
  return w.layout == kLayoutT4 && by_columns(g.kh, g.kw) && g.stride_w == 1 && g.dilation_w == 1;
}

void finish_params(const PackedDepthwise& w, bool x_signed, const Conv2dGeometry& g, DepthwiseParams* p) {
  if (rows_for(w, g)) {  // [phase][64] in t4 lane order; int8 x flipped to uint8 as in t4
    if (x_signed) {
      for (size_t c = 0; c < w.channels; ++c) {
        p->init[c] = static_cast<int32_t>(static_cast<uint32_t>(p->init[c]) - 128u * static_cast<uint32_t>(w.weight_sum[c]));
      }
    }
    // Only the arrays this output kind reads (neg_right_shift is ARM's).
    expand_to_phases(p->init, w.channels);
    if (p->kind == DepthwiseOutput::kFp32) expand_to_phases(p->scale, w.channels);
    if (p->kind == DepthwiseOutput::kFixedpoint) {
      expand_to_phases(p->multiplier, w.channels);
      expand_to_phases(p->left_shift, w.channels);
      expand_to_phases(p->right_shift, w.channels);
      expand_to_phases(p->round_mask, w.channels);
    }
    return;
  }
  if (w.layout != kLayoutT4) return;
  // Channels the t4 lane order applies to; the i16 tail keeps natural order.
  const size_t full = columns_for(w, g) ? w.cp : w.channels / kBlock * kBlock;
  if (x_signed) {
    for (size_t c = 0; c < std::min(full, w.channels); ++c) {
      p->init[c] = static_cast<int32_t>(static_cast<uint32_t>(p->init[c]) -
                                        128u * static_cast<uint32_t>(w.weight_sum[c]));
    }
  }
  const auto permute = [&](auto& v) {
    auto copy = v;
    for (size_t c0 = 0; c0 < full; c0 += kBlock) {
      for (size_t k = 0; k < 4; ++k) {
        for (size_t q = 0; q < 4; ++q) {
          for (size_t r = 0; r < 4; ++r) v[c0 + 16 * k + 4 * q + r] = copy[c0 + 16 * q + 4 * k + r];
        }
      }
    }
  };
  permute(p->init);
  permute(p->scale);
  permute(p->multiplier);
  permute(p->left_shift);
  permute(p->right_shift);
  permute(p->round_mask);
  permute(p->neg_right_shift);
}

inline __mmask16 lane_mask(size_t valid, size_t j) {
  const size_t first = 16 * j;
  if (valid >= first + 16) return 0xFFFF;
  return valid <= first ? 0 : static_cast<__mmask16>((1u << (valid - first)) - 1);
}

// The output stage of one run, read into locals once: the kernels store
// through byte pointers, which may alias anything, so fields read through
// DepthwiseParams would be reloaded after every store.
struct Stage {
  DepthwiseOutput kind;
  bool out_signed;
  bool in_range;  // [qmin, qmax] lies inside the output type: saturating packs are exact
  const int32_t* init;
  const float* scale;
  const int32_t* multiplier;
  const int32_t* left_shift;
  const int32_t* right_shift;
  const int32_t* round_mask;
  // fp32 mode with every scale <= 0.5 and qmin <= qmax inside the type: since
  // |acc * scale| <= 2^30, round(x) + zero point cannot overflow, and
  // clamp(round(x) + zp, qmin, qmax) = round(clamp(x, lo, hi)) + zp (lo and hi
  // are integers, rounding is monotonic), so the float clamp moves after the
  // saturating packs, as a byte min/max (none for the whole type range).
  bool fp32_late_clamp;
  bool full_range;
  __m512 lo, hi;
  __m512i zero_point, qmin, qmax;
  __m512i qmin8, qmax8;
  // fp32 with HardSwish (see run): hardswish_steps (lowbit/requantize.h)
  // between the scaling and the clamp. It keeps |x| <= |acc * scale|, so the
  // late clamp stays exact. (Last: the fields above keep their offsets.)
  __m512 hardswish_k;

  explicit Stage(const DepthwiseParams& p)
      : kind(p.kind), out_signed(p.out_signed),
        in_range(p.out_signed ? p.qmin >= -128 && p.qmax <= 127 : p.qmin >= 0 && p.qmax <= 255),
        init(p.init.data()), scale(p.scale.data()), multiplier(p.multiplier.data()),
        left_shift(p.left_shift.data()), right_shift(p.right_shift.data()), round_mask(p.round_mask.data()),
        fp32_late_clamp(false),
        full_range(p.out_signed ? p.qmin == -128 && p.qmax == 127 : p.qmin == 0 && p.qmax == 255),
        lo(_mm512_set1_ps(p.lo)), hi(_mm512_set1_ps(p.hi)), zero_point(_mm512_set1_epi32(p.zero_point)),
        qmin(_mm512_set1_epi32(p.qmin)), qmax(_mm512_set1_epi32(p.qmax)),
        qmin8(_mm512_set1_epi8(static_cast<char>(p.qmin))), qmax8(_mm512_set1_epi8(static_cast<char>(p.qmax))),
        hardswish_k(_mm512_set1_ps(p.hardswish_k)) {
    if (kind == DepthwiseOutput::kFp32 && in_range && p.qmin <= p.qmax) {
      // Padded channels have scale 0 (prepare_depthwise).
      fp32_late_clamp = std::all_of(p.scale.begin(), p.scale.end(), [](float v) { return v <= 0.5f; });
    }
  }
};

// requantize_one (without the bias, already in the accumulator) on 16 lanes
// whose parameters start at position c of the prepared arrays; the result is
// clamped to [qmin, qmax], so its low byte is the output. kHardSwish (fp32
// only): s.hardswish is set (the kernels are instantiated for both, see run).
template <bool kHardSwish = false>
__attribute__((always_inline)) inline __m512i requantize16(__m512i acc, const Stage& s, size_t c) {
  if (s.kind == DepthwiseOutput::kFp32) {
    __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(s.scale + c));
    if (kHardSwish) x = hardswish_steps(x, s.hardswish_k);
    // x < lo ? lo : (x > hi ? hi : x), exact for NaN and for lo > hi too:
    // vminps(hi, x) returns x unless hi < x.
    const __mmask16 below = _mm512_cmp_ps_mask(x, s.lo, _CMP_LT_OQ);
    x = _mm512_mask_mov_ps(_mm512_min_ps(s.hi, x), below, s.lo);
    return _mm512_add_epi32(_mm512_cvtps_epi32(x), s.zero_point);  // round half to even
  }
  __m512i y = srdhm(_mm512_sllv_epi32(acc, _mm512_loadu_si512(s.left_shift + c)), _mm512_loadu_si512(s.multiplier + c));
  y = _mm512_add_epi32(rdbpot(y, _mm512_loadu_si512(s.right_shift + c), _mm512_loadu_si512(s.round_mask + c)),
                       s.zero_point);
  // y < qmin ? qmin : (y > qmax ? qmax : y), exact even for qmin > qmax.
  const __mmask16 below = _mm512_cmplt_epi32_mask(y, s.qmin);
  return _mm512_mask_mov_epi32(_mm512_min_epi32(y, s.qmax), below, s.qmin);
}

// The low bytes of 16 int32 lanes (truncation, as static_cast<uint8_t / int8_t>),
// narrowed in a register, then stored (masked in a tail).
__attribute__((always_inline)) inline void store_bytes(int8_t* out, __mmask16 mask, __m512i y, bool masked) {
  const __m128i bytes = _mm512_cvtepi32_epi8(y);
  if (masked) _mm_mask_storeu_epi8(out, mask, bytes);
  else _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
}

// ---- t4 kernel ---------------------------------------------------------------

// The end of a t4 block: accumulator k, lane 4q + r holds channel
// 16q + 4k + r of the block at c0; stores the 64 outputs in channel order.
// kTail: only the first `valid` channels are stored.
// kHardSwish: p.hardswish is set (every kernel is instantiated for both, chosen
// per call in run).
template <bool kHardSwish, bool kTail = false>
__attribute__((always_inline)) inline void finish_t4(__m512i a0, __m512i a1, __m512i a2, __m512i a3,
                                                     const Stage& p, size_t c0, uint8_t* out, size_t valid = kBlock) {
  const __mmask64 mask = kTail ? (~uint64_t{0}) >> (64 - valid) : ~uint64_t{0};
  if (p.kind == DepthwiseOutput::kInt32) {
    // Accumulator k, 128-bit lane q holds channels 16q + 4k .. 16q + 4k + 3:
    // output vector q, lane k. A 4x4 transpose of 128-bit lanes.
    const __m512i v0 = _mm512_shuffle_i32x4(a0, a1, 0x44), v1 = _mm512_shuffle_i32x4(a0, a1, 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(a2, a3, 0x44), v3 = _mm512_shuffle_i32x4(a2, a3, 0xEE);
    auto* o32 = reinterpret_cast<int32_t*>(out);
    const __m512i o[4] = {_mm512_shuffle_i32x4(v0, v2, 0x88), _mm512_shuffle_i32x4(v0, v2, 0xDD),
                          _mm512_shuffle_i32x4(v1, v3, 0x88), _mm512_shuffle_i32x4(v1, v3, 0xDD)};
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; ++j) {
      if (kTail) _mm512_mask_storeu_epi32(o32 + 16 * j, lane_mask(valid, j), o[j]);
      else _mm512_storeu_si512(o32 + 16 * j, o[j]);
    }
    return;
  }
  // Lane q of a pack of y0..y3 holds y0[4q..4q+3], y1[4q..], y2[4q..], y3[4q..]:
  // channels 16q .. 16q + 15 in order.
  if (p.fp32_late_clamp) {
    const auto round = [&](__m512i acc, size_t c) __attribute__((always_inline)) {
      __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(p.scale + c));
      if (kHardSwish) x = hardswish_steps(x, p.hardswish_k);
      return _mm512_add_epi32(_mm512_cvtps_epi32(x), p.zero_point);  // round half to even
    };
    const __m512i h01 = _mm512_packs_epi32(round(a0, c0), round(a1, c0 + 16));
    const __m512i h23 = _mm512_packs_epi32(round(a2, c0 + 32), round(a3, c0 + 48));
    __m512i r;
    if (p.out_signed) {
      r = _mm512_packs_epi16(h01, h23);
      if (!p.full_range) r = _mm512_max_epi8(_mm512_min_epi8(r, p.qmax8), p.qmin8);
    } else {
      r = _mm512_packus_epi16(h01, h23);
      if (!p.full_range) r = _mm512_max_epu8(_mm512_min_epu8(r, p.qmax8), p.qmin8);
    }
    if (kTail) _mm512_mask_storeu_epi8(out, mask, r);
    else _mm512_storeu_si512(out, r);
    return;
  }
  // Saturating packs keep the values of a clamp inside the output type;
  // otherwise the low bytes (static_cast) are taken first, as values in [0, 255].
  const __m512i y0 = requantize16<kHardSwish>(a0, p, c0), y1 = requantize16<kHardSwish>(a1, p, c0 + 16);
  const __m512i y2 = requantize16<kHardSwish>(a2, p, c0 + 32), y3 = requantize16<kHardSwish>(a3, p, c0 + 48);
  __m512i r;
  if (p.in_range && p.out_signed) {
    r = _mm512_packs_epi16(_mm512_packs_epi32(y0, y1), _mm512_packs_epi32(y2, y3));
  } else if (p.in_range) {
    r = _mm512_packus_epi16(_mm512_packus_epi32(y0, y1), _mm512_packus_epi32(y2, y3));
  } else {
    const __m512i byte = _mm512_set1_epi32(0xFF);
    r = _mm512_packus_epi16(_mm512_packus_epi32(_mm512_and_si512(y0, byte), _mm512_and_si512(y1, byte)),
                            _mm512_packus_epi32(_mm512_and_si512(y2, byte), _mm512_and_si512(y3, byte)));
  }
  if (kTail) _mm512_mask_storeu_epi8(out, mask, r);
  else _mm512_storeu_si512(out, r);
}

// One whole block of 64 channels at c0 of one output pixel.
template <bool kSigned, bool kHardSwish>
__attribute__((always_inline)) inline void block_t4(const uint8_t* const* tap, size_t taps, size_t c0,
                                                    const int8_t* w, const Stage& p, uint8_t* out) {
  // vpdpbusd through inline asm: with the intrinsic, GCC 12 copies every
  // accumulator through another register each step, on its dependency chain.
  const auto dpbusd = [](__m512i& acc, __m512i x, const int8_t* wv) __attribute__((always_inline)) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "m"(*reinterpret_cast<const __m512i*>(wv)));
  };
  __m512i a0 = _mm512_loadu_si512(p.init + c0);
  __m512i a1 = _mm512_loadu_si512(p.init + c0 + 16);
  __m512i a2 = _mm512_loadu_si512(p.init + c0 + 32);
  __m512i a3 = _mm512_loadu_si512(p.init + c0 + 48);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (size_t t = 0; t < taps; t += 4, w += 4 * kBlock) {
    // Taps past the last (the kernel size rounded up to 4) are the padding row
    // (see dwconv-rows.h), against weights 0.
    __m512i x[4];
#pragma GCC unroll 4
    for (size_t i = 0; i < 4; ++i) {
      x[i] = _mm512_loadu_si512(tap[t + i] + c0);
      if (kSigned) x[i] = _mm512_xor_si512(x[i], flip);  // x + 128, as uint8
    }
    // Byte i of dword 4q+r of the k-th vector: tap t+i of channel 16q + 4k + r.
    const __m512i lo01 = _mm512_unpacklo_epi8(x[0], x[1]), hi01 = _mm512_unpackhi_epi8(x[0], x[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(x[2], x[3]), hi23 = _mm512_unpackhi_epi8(x[2], x[3]);
    dpbusd(a0, _mm512_unpacklo_epi16(lo01, lo23), w);
    dpbusd(a1, _mm512_unpackhi_epi16(lo01, lo23), w + kBlock);
    dpbusd(a2, _mm512_unpacklo_epi16(hi01, hi23), w + 2 * kBlock);
    dpbusd(a3, _mm512_unpackhi_epi16(hi01, hi23), w + 3 * kBlock);
  }
  finish_t4<kHardSwish>(a0, a1, a2, a3, p, c0, out);
}

// block_t4 for two output pixels at once (taps ta and tb, outputs oa and ob):
// two independent sets of dependency chains in flight, and every weight
// vector loaded once for both.
template <bool kSigned, bool kHardSwish>
__attribute__((always_inline)) inline void block_t4x2(const uint8_t* const* ta, const uint8_t* const* tb, size_t taps,
                                                      size_t c0, const int8_t* w, const Stage& p, uint8_t* oa,
                                                      uint8_t* ob) {
  const auto dpbusd = [](__m512i& acc, __m512i x, __m512i wv) __attribute__((always_inline)) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(wv));
  };
  __m512i a0 = _mm512_loadu_si512(p.init + c0);
  __m512i a1 = _mm512_loadu_si512(p.init + c0 + 16);
  __m512i a2 = _mm512_loadu_si512(p.init + c0 + 32);
  __m512i a3 = _mm512_loadu_si512(p.init + c0 + 48);
  __m512i b0 = a0, b1 = a1, b2 = a2, b3 = a3;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (size_t t = 0; t < taps; t += 4, w += 4 * kBlock) {
    __m512i x[4], y[4];
#pragma GCC unroll 4
    for (size_t i = 0; i < 4; ++i) {
      x[i] = _mm512_loadu_si512(ta[t + i] + c0);
      y[i] = _mm512_loadu_si512(tb[t + i] + c0);
      if (kSigned) {
        x[i] = _mm512_xor_si512(x[i], flip);
        y[i] = _mm512_xor_si512(y[i], flip);
      }
    }
    const __m512i w0 = _mm512_load_si512(w), w1 = _mm512_load_si512(w + kBlock);
    const __m512i w2 = _mm512_load_si512(w + 2 * kBlock), w3 = _mm512_load_si512(w + 3 * kBlock);
    const __m512i xl01 = _mm512_unpacklo_epi8(x[0], x[1]), xh01 = _mm512_unpackhi_epi8(x[0], x[1]);
    const __m512i xl23 = _mm512_unpacklo_epi8(x[2], x[3]), xh23 = _mm512_unpackhi_epi8(x[2], x[3]);
    const __m512i yl01 = _mm512_unpacklo_epi8(y[0], y[1]), yh01 = _mm512_unpackhi_epi8(y[0], y[1]);
    const __m512i yl23 = _mm512_unpacklo_epi8(y[2], y[3]), yh23 = _mm512_unpackhi_epi8(y[2], y[3]);
    dpbusd(a0, _mm512_unpacklo_epi16(xl01, xl23), w0);
    dpbusd(b0, _mm512_unpacklo_epi16(yl01, yl23), w0);
    dpbusd(a1, _mm512_unpackhi_epi16(xl01, xl23), w1);
    dpbusd(b1, _mm512_unpackhi_epi16(yl01, yl23), w1);
    dpbusd(a2, _mm512_unpacklo_epi16(xh01, xh23), w2);
    dpbusd(b2, _mm512_unpacklo_epi16(yh01, yh23), w2);
    dpbusd(a3, _mm512_unpackhi_epi16(xh01, xh23), w3);
    dpbusd(b3, _mm512_unpackhi_epi16(yh01, yh23), w3);
  }
  finish_t4<kHardSwish>(a0, a1, a2, a3, p, c0, oa);
  finish_t4<kHardSwish>(b0, b1, b2, b3, p, c0, ob);
}

// ---- i16 kernel --------------------------------------------------------------

// One block of up to 16*NV channels starting at c0 of one output pixel; with
// kTail the last vector holds fewer than 16 valid channels (masked loads: never
// past the end of the input), else every load is a plain one.
template <bool kSigned, size_t NV, bool kTail, bool kHardSwish>
__attribute__((always_inline)) inline void block_i16(const uint8_t* const* tap, size_t taps, size_t c0,
                                                     const int32_t* w, const Stage& p,
                                                     size_t valid, void* out) {
  __m512i acc[NV];
  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (size_t j = 0; j < NV; ++j) {
    acc[j] = _mm512_loadu_si512(p.init + c0 + 16 * j);
    mask[j] = lane_mask(valid, j);
  }
  for (size_t t = 0; t < taps; ++t) {
    const uint8_t* x = tap[t] + c0;
    const int32_t* wt = w + t * kBlock;
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) {
      const __m128i bytes = kTail && j + 1 == NV ? _mm_maskz_loadu_epi8(mask[j], x + 16 * j)
                                                 : _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16 * j));
      const __m512i xv = kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
      acc[j] = _mm512_add_epi32(acc[j], _mm512_madd_epi16(xv, _mm512_load_si512(wt + 16 * j)));
    }
  }
  if (p.kind == DepthwiseOutput::kInt32) {
    auto* o = static_cast<int32_t*>(out);
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) {
      if (kTail && j + 1 == NV) _mm512_mask_storeu_epi32(o + 16 * j, mask[j], acc[j]);
      else _mm512_storeu_si512(o + 16 * j, acc[j]);
    }
    return;
  }
  auto* o = static_cast<int8_t*>(out);
#pragma GCC unroll 4
  for (size_t j = 0; j < NV; ++j) {
    store_bytes(o + 16 * j, mask[j], requantize16<kHardSwish>(acc[j], p, c0 + 16 * j), kTail && j + 1 == NV);
  }
}

// One block of `valid` (<= 64) channels at c0 in the i16 layout at w.
template <bool kSigned, bool kHardSwish>
__attribute__((always_inline)) inline void any_block_i16(const uint8_t* const* tap, size_t taps, size_t c0,
                                                         const int32_t* w, const Stage& p, size_t valid, void* out) {
  const bool tail = valid % 16 != 0;
  switch ((valid + 15) / 16 * 2 + tail) {
    case 8: block_i16<kSigned, 4, false, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 9: block_i16<kSigned, 4, true, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 6: block_i16<kSigned, 3, false, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 7: block_i16<kSigned, 3, true, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 4: block_i16<kSigned, 2, false, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 5: block_i16<kSigned, 2, true, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    case 2: block_i16<kSigned, 1, false, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
    default: block_i16<kSigned, 1, true, kHardSwish>(tap, taps, c0, w, p, valid, out); break;
  }
}

template <bool kSigned, bool kHardSwish>
void run_i16(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const Stage p(*a.params);
  const size_t c = a.c, taps = a.geometry.taps();
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const auto* w = static_cast<const int32_t*>(a.weights->data.data());
  auto* out = static_cast<uint8_t*>(a.out);
  dwconv::for_each_pixel(a, r0, r1, [&](const uint8_t* const* tap, size_t index) __attribute__((always_inline)) {
    uint8_t* o = out + index * c * out_bytes;
    for (size_t c0 = 0; c0 < c; c0 += kBlock) {
      any_block_i16<kSigned, kHardSwish>(tap, taps, c0, w + (c0 / kBlock) * taps * kBlock, p,
                                         std::min(kBlock, c - c0), o + c0 * out_bytes);
    }
  });
}

// 3 kernel columns of at most 4 rows, stride and dilation 1 along W (3x3
// stride-1 depthwise layers, the common case): each input column's taps
// (rows) of a block are interleaved once, into the 4 vectors vpdpbusd reads,
// and serve the 3 output pixels whose windows cover that column, each with the
// weights of its kx; the last three interleaved columns stay in registers
// while the output row is swept. A third of the shuffles and loads of the
// per-pixel t4 kernel. Whole blocks only.
// One block (c0, `valid` channels; kTail: fewer than 64, masked loads and
// stores) of one output row of run_columns3.
template <bool kSigned, bool kTail, bool kHardSwish>
__attribute__((always_inline)) inline void columns3_block(const uint8_t* const* rows, const ptrdiff_t* step, size_t c0,
                                                          size_t valid, ptrdiff_t w, ptrdiff_t pl, size_t ow,
                                                          const int8_t* wb, const Stage& p, __m512i outside,
                                                          uint8_t* o, size_t out_stride) {
  const __mmask64 mask = kTail ? (~uint64_t{0}) >> (64 - valid) : ~uint64_t{0};
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const auto dpbusd = [](__m512i& acc, __m512i x4, const int8_t* wv) __attribute__((always_inline)) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x4), "m"(*reinterpret_cast<const __m512i*>(wv)));
  };
  struct Column {
    __m512i v[4];
  };
  const auto column = [&](ptrdiff_t ix) __attribute__((always_inline)) {
    Column col;
    if (ix < 0 || ix >= w) {
      col.v[0] = col.v[1] = col.v[2] = col.v[3] = outside;
      return col;
    }
    __m512i t[4];
#pragma GCC unroll 4
    for (size_t i = 0; i < 4; ++i) {
      const uint8_t* src = rows[i] + ix * step[i] + c0;
      t[i] = kTail ? _mm512_maskz_loadu_epi8(mask, src) : _mm512_loadu_si512(src);
      if (kSigned) t[i] = _mm512_xor_si512(t[i], flip);
    }
    const __m512i lo01 = _mm512_unpacklo_epi8(t[0], t[1]), hi01 = _mm512_unpackhi_epi8(t[0], t[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(t[2], t[3]), hi23 = _mm512_unpackhi_epi8(t[2], t[3]);
    col.v[0] = _mm512_unpacklo_epi16(lo01, lo23);
    col.v[1] = _mm512_unpackhi_epi16(lo01, lo23);
    col.v[2] = _mm512_unpacklo_epi16(hi01, hi23);
    col.v[3] = _mm512_unpackhi_epi16(hi01, hi23);
    return col;
  };
  // Output pixel ox reads input columns ox - pl, ox - pl + 1, ox - pl + 2.
  Column c0v = column(-pl), c1v = column(1 - pl);
  for (size_t ox = 0; ox < ow; ++ox, o += out_stride) {
    const Column c2v = column(static_cast<ptrdiff_t>(ox) + 2 - pl);
    __m512i a0 = _mm512_loadu_si512(p.init + c0);
    __m512i a1 = _mm512_loadu_si512(p.init + c0 + 16);
    __m512i a2 = _mm512_loadu_si512(p.init + c0 + 32);
    __m512i a3 = _mm512_loadu_si512(p.init + c0 + 48);
    dpbusd(a0, c0v.v[0], wb);
    dpbusd(a1, c0v.v[1], wb + kBlock);
    dpbusd(a2, c0v.v[2], wb + 2 * kBlock);
    dpbusd(a3, c0v.v[3], wb + 3 * kBlock);
    dpbusd(a0, c1v.v[0], wb + 4 * kBlock);
    dpbusd(a1, c1v.v[1], wb + 5 * kBlock);
    dpbusd(a2, c1v.v[2], wb + 6 * kBlock);
    dpbusd(a3, c1v.v[3], wb + 7 * kBlock);
    dpbusd(a0, c2v.v[0], wb + 8 * kBlock);
    dpbusd(a1, c2v.v[1], wb + 9 * kBlock);
    dpbusd(a2, c2v.v[2], wb + 10 * kBlock);
    dpbusd(a3, c2v.v[3], wb + 11 * kBlock);
    finish_t4<kHardSwish, kTail>(a0, a1, a2, a3, p, c0, o, valid);
    c0v = c1v;
    c1v = c2v;
  }
}

// 3 kernel columns of at most 4 rows, stride and dilation 1 along W (3x3
// stride-1 depthwise layers, the common case): each input column's taps
// (rows) of a block are interleaved once, into the 4 vectors vpdpbusd reads,
// and serve the 3 output pixels whose windows cover that column, each with the
// weights of its kx; the last three interleaved columns stay in registers
// while an output row is swept. A third of the shuffles and loads of the
// per-pixel t4 kernel; every block, the last one masked.
template <bool kSigned, bool kHardSwish>
void run_columns3(const DepthwiseArgs& a, size_t r0, size_t r1, const Stage& p, const int8_t* wcol) {
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, c = a.c, ow = a.ow, full = c / kBlock * kBlock;
  const ptrdiff_t w = static_cast<ptrdiff_t>(a.w), pl = static_cast<ptrdiff_t>(g.pad_left);
  const ptrdiff_t sc = static_cast<ptrdiff_t>(c);
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const auto* x = static_cast<const uint8_t*>(a.x);
  const uint8_t* pad = a.params->padding_row.data();
  auto* out = static_cast<uint8_t*>(a.out);
  // A column outside the image: every tap reads the zero point.
  const uint8_t zx = static_cast<uint8_t>(a.params->x_zero_point);
  const __m512i outside = _mm512_set1_epi8(static_cast<char>(kSigned ? zx ^ 0x80 : zx));
  for (size_t row = r0; row < r1; ++row) {
    const size_t b = row / a.oh, oy = row % a.oh;
    // Rows past kh (up to 4) and rows outside the image read the padding row.
    const uint8_t* rows[4];
    ptrdiff_t step[4];  // bytes per input column: 0 for the padding row
    for (size_t i = 0; i < 4; ++i) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * g.stride_h + i * g.dilation_h) - static_cast<ptrdiff_t>(g.pad_top);
      const bool inside = i < kh && iy >= 0 && iy < static_cast<ptrdiff_t>(a.h);
      rows[i] = inside ? x + ((static_cast<ptrdiff_t>(b) * static_cast<ptrdiff_t>(a.h) + iy) * w) * sc : pad;
      step[i] = inside ? sc : 0;
    }
    uint8_t* o = out + row * ow * c * out_bytes;
    for (size_t c0 = 0; c0 < full; c0 += kBlock) {
      columns3_block<kSigned, false, kHardSwish>(rows, step, c0, kBlock, w, pl, ow, wcol + c0 * 3 * 4, p,
                                                 outside, o + c0 * out_bytes, c * out_bytes);
    }
    if (full < c) {
      columns3_block<kSigned, true, kHardSwish>(rows, step, full, c - full, w, pl, ow, wcol + full * 3 * 4, p,
                                                outside, o + full * out_bytes, c * out_bytes);
    }
  }
}

template <bool kSigned, bool kHardSwish>
void run_t4(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const Stage p(*a.params);
  const Conv2dGeometry& g = a.geometry;
  const size_t c = a.c, taps = g.taps(), groups = (taps + 3) / 4;
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const auto* w = static_cast<const int8_t*>(a.weights->data.data());
  const WeightOffsets at = weight_offsets(c, g.kh, g.kw);
  const size_t full = c / kBlock * kBlock;
  const auto* tail_w = reinterpret_cast<const int32_t*>(w + at.tail);
  auto* out = static_cast<uint8_t*>(a.out);
  if (columns_for(*a.weights, g)) {
    run_columns3<kSigned, kHardSwish>(a, r0, r1, p, w + at.columns);
    return;
  }
  const size_t stride = c * out_bytes;
  dwconv::for_each_pixel_pair(
      a, r0, r1,
      [&](const uint8_t* const* ta, const uint8_t* const* tb, size_t index) __attribute__((always_inline)) {
        uint8_t* o = out + index * stride;
        for (size_t c0 = 0; c0 < full; c0 += kBlock) {
          block_t4x2<kSigned, kHardSwish>(ta, tb, taps, c0, w + c0 * groups * 4, p, o + c0 * out_bytes,
                                          o + stride + c0 * out_bytes);
        }
        if (full < c) {
          any_block_i16<kSigned, kHardSwish>(ta, taps, full, tail_w, p, c - full, o + full * out_bytes);
          any_block_i16<kSigned, kHardSwish>(tb, taps, full, tail_w, p, c - full, o + stride + full * out_bytes);
        }
      },
      [&](const uint8_t* const* tap, size_t index) __attribute__((always_inline)) {
        uint8_t* o = out + index * stride;
        for (size_t c0 = 0; c0 < full; c0 += kBlock) {
          block_t4<kSigned, kHardSwish>(tap, taps, c0, w + c0 * groups * 4, p, o + c0 * out_bytes);
        }
        if (full < c) {
          any_block_i16<kSigned, kHardSwish>(tap, taps, full, tail_w, p, c - full, o + full * out_bytes);
        }
      });
}

// Thread-local shift rows: one slot per kernel row plus the all-padding row,
// each [groups][kStripChunks][4][64] bytes; keys say which input row (image
// b, row iy as b*h + iy) a slot holds for the current strip.
struct RowsScratch {
  AlignedBuffer buffer;
  std::vector<int64_t> key;
  // Accumulator starts (init plus the corrections of the kernel rows outside
  // the image) per pattern of outside rows met in one run: [pattern][phase][64].
  AlignedBuffer starts;
  std::vector<uint32_t> patterns;
};

inline RowsScratch& rows_scratch() {
  thread_local RowsScratch scratch;
  return scratch;
}

// 64 bytes of an input row at byte offset `at` (may lie partly or wholly
// outside [0, row_bytes)): the bytes outside are the zero point.
__attribute__((always_inline)) inline __m512i load_padded(const uint8_t* row, ptrdiff_t at, ptrdiff_t row_bytes,
                                                          __m512i zx) {
  if (at >= 0 && at + 64 <= row_bytes) return _mm512_loadu_si512(row + at);
  const ptrdiff_t lo = std::max<ptrdiff_t>(0, -at), hi = std::min<ptrdiff_t>(64, row_bytes - at);
  if (lo >= hi) return zx;
  const __mmask64 mask = ((~uint64_t{0}) >> (64 - (hi - lo))) << lo;
  // Masked-off bytes are never read (no fault past either end of x).
  return _mm512_mask_loadu_epi8(zx, mask, reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(row) + at));
}

// Shift rows of one input row (inside the image) for output chunks [i0, i0 + chunks).
template <bool kSigned>
void build_shift_rows(const uint8_t* row, ptrdiff_t row_bytes, ptrdiff_t c, ptrdiff_t pad_left, size_t kw,
                      size_t i0, size_t chunks, __m512i zx, uint8_t* s) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const size_t groups = rows_column_groups(kw);
  for (size_t m = 0; m < groups; ++m) {
    // Columns past kw have weight 0: their bytes may be anything, so they are
    // not loaded (a copy of column 4m stands in).
    const size_t used = std::min<size_t>(4, kw - 4 * m);
    __m512i* dst = reinterpret_cast<__m512i*>(s + m * kStripChunks * 4 * kBlock);
    for (size_t i = 0; i < chunks; ++i, dst += 4) {
      const ptrdiff_t at = static_cast<ptrdiff_t>((i0 + i) * kBlock) + (static_cast<ptrdiff_t>(4 * m) - pad_left) * c;
      __m512i t[4];
      t[0] = load_padded(row, at, row_bytes, zx);
      if (kSigned) t[0] = _mm512_xor_si512(t[0], flip);
      if (used == 1) {
        // One column: byte 0 of dword (lane q, r) of vector k is byte 4k + r
        // of lane q (position 16q + 4k + r); in-lane byte shuffles do it.
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) {
          const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(0x80808000u | (4 * k))),
                                                _mm512_set_epi32(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0));
          _mm512_store_si512(dst + k, _mm512_shuffle_epi8(t[0], pick));  // bytes 1..3 zeroed
        }
        continue;
      }
#pragma GCC unroll 3
      for (size_t j = 1; j < 4; ++j) {
        if (j < used) {
          t[j] = load_padded(row, at + static_cast<ptrdiff_t>(j) * c, row_bytes, zx);
          if (kSigned) t[j] = _mm512_xor_si512(t[j], flip);
        } else {
          t[j] = t[0];
        }
      }
      const __m512i lo01 = _mm512_unpacklo_epi8(t[0], t[1]), hi01 = _mm512_unpackhi_epi8(t[0], t[1]);
      const __m512i lo23 = _mm512_unpacklo_epi8(t[2], t[3]), hi23 = _mm512_unpackhi_epi8(t[2], t[3]);
      _mm512_store_si512(dst, _mm512_unpacklo_epi16(lo01, lo23));
      _mm512_store_si512(dst + 1, _mm512_unpackhi_epi16(lo01, lo23));
      _mm512_store_si512(dst + 2, _mm512_unpacklo_epi16(hi01, hi23));
      _mm512_store_si512(dst + 3, _mm512_unpackhi_epi16(hi01, hi23));
    }
  }
}

// ---- band kernel (the rows kernel for 3 and 5 kernel columns) ---------------
//
// The rows kernel's weights and parameters (per 64-byte phase, t4 lane order)
// without stored shift rows: kBandRows output rows of one image are computed
// together, 64 output bytes at a time, and each input row's interleaved
// columns for that chunk are built in registers once and fed to every output
// row of the band that reads it (with that row's ky). Nothing is stored but
// the outputs, the accumulators stay in registers (the strip kernel's NCH x 4
// arrays indexed in runtime loops spilled every vpdpbusd), and a kernel row
// costs ceil(kw/4) x 4 vpdpbusd with the weights as memory operands.


// The t4-interleaved input columns of one input row (inside the image) for the
// 64 output bytes at byte `at` of the output row (kernel column kx reads
// input byte at + (kx - pad_left) * C): s[m][k] as the rows kernel's S_m.
template <bool kSigned, size_t KW>
__attribute__((always_inline)) inline void band_columns(const uint8_t* row, ptrdiff_t at, ptrdiff_t row_bytes,
                                                        ptrdiff_t c, __m512i zx, __m512i (&s)[(KW + 3) / 4][4]) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
#pragma GCC unroll 2
  for (size_t m = 0; m < (KW + 3) / 4; ++m) {
    const size_t used = std::min<size_t>(4, KW - 4 * m);  // columns past kw: weight 0, any bytes
    const ptrdiff_t am = at + static_cast<ptrdiff_t>(4 * m) * c;
    __m512i t[4];
    t[0] = load_padded(row, am, row_bytes, zx);
    if (kSigned) t[0] = _mm512_xor_si512(t[0], flip);
    if (used == 1) {
      // Byte 0 of dword (lane q, r) of vector k is byte 4k + r of lane q.
#pragma GCC unroll 4
      for (size_t k = 0; k < 4; ++k) {
        const __m512i pick = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(0x80808000u | (4 * k))),
                                              _mm512_set_epi32(3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0));
        s[m][k] = _mm512_shuffle_epi8(t[0], pick);
      }
      continue;
    }
#pragma GCC unroll 3
    for (size_t j = 1; j < 4; ++j) {
      if (j < used) {
        t[j] = load_padded(row, am + static_cast<ptrdiff_t>(j) * c, row_bytes, zx);
        if (kSigned) t[j] = _mm512_xor_si512(t[j], flip);
      } else {
        t[j] = t[0];
      }
    }
    const __m512i lo01 = _mm512_unpacklo_epi8(t[0], t[1]), hi01 = _mm512_unpackhi_epi8(t[0], t[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(t[2], t[3]), hi23 = _mm512_unpackhi_epi8(t[2], t[3]);
    s[m][0] = _mm512_unpacklo_epi16(lo01, lo23);
    s[m][1] = _mm512_unpackhi_epi16(lo01, lo23);
    s[m][2] = _mm512_unpacklo_epi16(hi01, hi23);
    s[m][3] = _mm512_unpackhi_epi16(hi01, hi23);
  }
}

// Output rows [r0, r1) of the band kernel; start_of(r) gives row r's
// accumulator starts [phase][64] (init plus the constant contribution of its
// kernel rows outside the image, which are not read).
// Not inlined: with the HardSwish variants GCC inlined some band kernels into
// run_rows and not the others, 2-4% slower on small layers; out of line they
// measure as fast as before or faster.
template <bool kSigned, size_t KW, size_t kBandRows, bool kHardSwish, class StartOf>
__attribute__((noinline)) void run_band(const DepthwiseArgs& a, size_t r0, size_t r1, const Stage& p,
                                        StartOf&& start_of) {
  constexpr size_t G = (KW + 3) / 4;
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, c = a.c, phases = rows_phases(c);
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const size_t row_out = a.ow * c, chunks = (row_out + kBlock - 1) / kBlock;
  const ptrdiff_t row_in = static_cast<ptrdiff_t>(a.w * c), sc = static_cast<ptrdiff_t>(c);
  const ptrdiff_t pl = static_cast<ptrdiff_t>(g.pad_left);
  const auto* x = static_cast<const uint8_t*>(a.x);
  auto* out = static_cast<uint8_t*>(a.out);
  const __m512i zx = _mm512_set1_epi8(static_cast<char>(a.params->x_zero_point));
  const int8_t* wrows = static_cast<const int8_t*>(a.weights->data.data()) + a.weights->rows_offset;
  const size_t wphase = kh * G * 4 * kBlock, wrow = G * 4 * kBlock;
  const auto dpbusd = [](__m512i& acc, __m512i xv, const int8_t* wv) __attribute__((always_inline)) {
    acc = _mm512_dpbusd_epi32(acc, xv, _mm512_load_si512(wv));
  };
  for (size_t r = r0; r < r1;) {
    const size_t b = r / a.oh, oy0 = r % a.oh;
    const size_t nb = std::min({kBandRows, r1 - r, a.oh - oy0});
    // Rows past nb repeat the last one (computed, not stored).
    const int32_t* start[kBandRows];
    uint8_t* orow[kBandRows];
    for (size_t j = 0; j < kBandRows; ++j) {
      const size_t jj = std::min(j, nb - 1);
      start[j] = start_of(r + jj);
      orow[j] = out + (r + jj) * row_out * out_bytes;
    }
    // The input rows the band reads, each with the ky of every band row that
    // reads it (-1: none).
    const uint8_t* in_row[kBandRows * kRowsMaxKh];
    int32_t ky_of[kBandRows * kRowsMaxKh][kBandRows];
    const size_t n_in = dwconv::band_input_rows<kBandRows>(a, x, static_cast<size_t>(row_in), b, oy0, nb, in_row, ky_of);
    size_t phase = 0;
    for (size_t i = 0; i < chunks; ++i) {
      __m512i acc[kBandRows][4];
#pragma GCC unroll 4
      for (size_t j = 0; j < kBandRows; ++j) {
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) acc[j][k] = _mm512_loadu_si512(start[j] + phase * kBlock + 16 * k);
      }
      const int8_t* wph = wrows + phase * wphase;
      const ptrdiff_t at = static_cast<ptrdiff_t>(i * kBlock) - pl * sc;
      for (size_t u = 0; u < n_in; ++u) {
        __m512i s[G][4];
        band_columns<kSigned, KW>(in_row[u], at, row_in, sc, zx, s);
#pragma GCC unroll 4
        for (size_t j = 0; j < kBandRows; ++j) {
          const int32_t ky = ky_of[u][j];
          if (ky >= 0) {
            const int8_t* wv = wph + static_cast<size_t>(ky) * wrow;
#pragma GCC unroll 2
            for (size_t m = 0; m < G; ++m) {
#pragma GCC unroll 4
              for (size_t k = 0; k < 4; ++k) dpbusd(acc[j][k], s[m][k], wv + (m * 4 + k) * kBlock);
            }
          }
        }
      }
      const size_t done = i * kBlock;
#pragma GCC unroll 4
      for (size_t j = 0; j < kBandRows; ++j) {
        if (j < nb) {
          uint8_t* o = orow[j] + done * out_bytes;
          const __m512i(&v)[4] = acc[j];
          if (done + kBlock <= row_out) finish_t4<kHardSwish>(v[0], v[1], v[2], v[3], p, phase * kBlock, o);
          else finish_t4<kHardSwish, true>(v[0], v[1], v[2], v[3], p, phase * kBlock, o, row_out - done);
        }
      }
      if (++phase == phases) phase = 0;
    }
    r += nb;
  }
}

// What rows_chunks reads for one output row of a strip.
struct RowsChunk {
  const uint8_t* const* srow;  // shift rows of the kernel rows inside the image
  const size_t* inside;        // those kernel rows' ky
  size_t n_inside;
  const int32_t* start;        // accumulator starts [phase][64] of this output row
  size_t kh, groups, phases;
  const int8_t* wrows;
  size_t wphase;               // weight bytes per phase
  size_t row_out, out_bytes;
};

// NCH consecutive 64-byte output chunks (strip chunk i, row chunk `at`, the
// first at *phase): NCH x 4 independent accumulator chains, so vpdpbusd's
// latency hides behind the other chunks' work. Kernel rows outside the image
// are not read: their constant contribution is in the start.
template <size_t NCH, bool kHardSwish>
__attribute__((always_inline)) inline void rows_chunks(const RowsChunk& rc, const Stage& p, size_t i, size_t at,
                                                       size_t* phase, uint8_t* o) {
  // The intrinsic: the asm form of block_t4 keeps arrays of accumulators in memory.
  const auto dpbusd = [](__m512i& acc, const uint8_t* xv, const int8_t* wv) __attribute__((always_inline)) {
    acc = _mm512_dpbusd_epi32(acc, _mm512_load_si512(xv), _mm512_load_si512(wv));
  };
  __m512i acc[NCH][4];
  const int8_t* wv[NCH];
  size_t ph[NCH];
#pragma GCC unroll 4
  for (size_t j = 0; j < NCH; ++j) {
    ph[j] = *phase;
    if (++*phase == rc.phases) *phase = 0;
    wv[j] = rc.wrows + ph[j] * rc.wphase;
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) acc[j][k] = _mm512_loadu_si512(rc.start + ph[j] * kBlock + 16 * k);
  }
  const size_t row_weights = rc.groups * 4 * kBlock;
  for (size_t u = 0; u < rc.n_inside; ++u) {
    const size_t wky = rc.inside[u] * row_weights;
    for (size_t m = 0; m < rc.groups; ++m) {
      const uint8_t* sv = rc.srow[u] + (m * kStripChunks + i) * 4 * kBlock;
#pragma GCC unroll 4
      for (size_t j = 0; j < NCH; ++j) {
        const int8_t* w = wv[j] + wky + m * 4 * kBlock;
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; ++k) dpbusd(acc[j][k], sv + (4 * j + k) * kBlock, w + k * kBlock);
      }
    }
  }
#pragma GCC unroll 4
  for (size_t j = 0; j < NCH; ++j) {
    const size_t done = (at + j) * kBlock;
    uint8_t* oj = o + j * kBlock * rc.out_bytes;
    const __m512i(&v)[4] = acc[j];
    if (done + kBlock <= rc.row_out) finish_t4<kHardSwish>(v[0], v[1], v[2], v[3], p, ph[j] * kBlock, oj);
    else finish_t4<kHardSwish, true>(v[0], v[1], v[2], v[3], p, ph[j] * kBlock, oj, rc.row_out - done);
  }
}

template <bool kSigned, bool kHardSwish>
void run_rows(const DepthwiseArgs& a, size_t r0, size_t r1) {
  const Stage p(*a.params);
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, groups = rows_column_groups(g.kw), c = a.c;
  const size_t out_bytes = p.kind == DepthwiseOutput::kInt32 ? 4 : 1;
  const size_t row_out = a.ow * c, chunks = (row_out + kBlock - 1) / kBlock;
  const ptrdiff_t row_in = static_cast<ptrdiff_t>(a.w * c);
  const auto* x = static_cast<const uint8_t*>(a.x);
  auto* out = static_cast<uint8_t*>(a.out);
  const __m512i zx = _mm512_set1_epi8(static_cast<char>(a.params->x_zero_point));

  RowsScratch& rs = rows_scratch();
  const size_t slot_bytes = groups * kStripChunks * 4 * kBlock;
  if (rs.buffer.size() < kh * slot_bytes) rs.buffer.resize(kh * slot_bytes);
  rs.key.resize(kh);
  auto* sbase = static_cast<uint8_t*>(rs.buffer.data());
  const uint8_t* srow[kRowsMaxKh];
  size_t inside[kRowsMaxKh], slot_of[kRowsMaxKh];
  const size_t phases = rows_phases(c);
  RowsChunk rc{srow, inside, 0, p.init, kh, groups, phases,
               static_cast<const int8_t*>(a.weights->data.data()) + a.weights->rows_offset,
               kh * groups * 4 * kBlock, row_out, out_bytes};

  // Accumulator starts per pattern of outside kernel rows, once per run (the
  // top and bottom rows of an image: a few patterns).
  dwconv::outside_row_patterns(a, r0, r1, &rs.patterns);
  const size_t pattern_ints = phases * kBlock;
  if (rs.starts.size() < rs.patterns.size() * pattern_ints * sizeof(int32_t)) {
    rs.starts.resize(rs.patterns.size() * pattern_ints * sizeof(int32_t));
  }
  auto* starts = static_cast<int32_t*>(rs.starts.data());
  // A kernel row outside the image reads the zero point (+128 for int8
  // activations, flipped) in every column: it adds zx' * sum_kx w' (wrapping).
  const __m512i zx_flipped = _mm512_set1_epi32(a.params->x_zero_point + (kSigned ? 128 : 0));
  const auto* row_sum = reinterpret_cast<const int32_t*>(rc.wrows + rows_weight_bytes(c, kh, g.kw));  // [phase][ky][64]
  for (size_t q = 0; q < rs.patterns.size(); ++q) {
    for (size_t ph = 0; ph < phases; ++ph) {
      for (size_t k = 0; k < 4; ++k) {
        __m512i sum = _mm512_setzero_si512();
        for (size_t ky = 0; ky < kh; ++ky) {
          if ((rs.patterns[q] >> ky) & 1) {
            sum = _mm512_add_epi32(sum, _mm512_loadu_si512(row_sum + (ph * kh + ky) * kBlock + 16 * k));
          }
        }
        const __m512i v = _mm512_add_epi32(_mm512_loadu_si512(p.init + ph * kBlock + 16 * k),
                                           _mm512_mullo_epi32(sum, zx_flipped));
        _mm512_store_si512(starts + q * pattern_ints + ph * kBlock + 16 * k, v);
      }
    }
  }

  if (g.kw == 3 || g.kw == 5) {
    const auto start_of = [&](size_t r) __attribute__((always_inline)) {
      const uint32_t mask = dwconv::outside_rows_mask(a, r % a.oh);
      return mask == 0 ? p.init
                       : starts + (std::find(rs.patterns.begin(), rs.patterns.end(), mask) - rs.patterns.begin()) *
                                      pattern_ints;
    };
    // Images of 1 or 2 output rows: no band rows computed only to be dropped.
    if (a.oh <= 2) {
      if (g.kw == 3) run_band<kSigned, 3, 2, kHardSwish>(a, r0, r1, p, start_of);
      else run_band<kSigned, 5, 2, kHardSwish>(a, r0, r1, p, start_of);
    } else if (g.kw == 3) {
      run_band<kSigned, 3, 4, kHardSwish>(a, r0, r1, p, start_of);
    } else {
      run_band<kSigned, 5, 3, kHardSwish>(a, r0, r1, p, start_of);
    }
    return;
  }
  for (size_t i0 = 0; i0 < chunks; i0 += kStripChunks) {
    const size_t n_chunks = std::min(kStripChunks, chunks - i0);
    std::fill(rs.key.begin(), rs.key.end(), -1);
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / a.oh, oy = r % a.oh;
      // The shift rows of this output row's kernel rows inside the image:
      // reuse a slot that holds one, build the others into slots no kernel
      // row of this output row needs.
      rc.n_inside = 0;
      const uint32_t mask = dwconv::outside_rows_mask(a, oy);
      rc.start = mask == 0 ? p.init
                           : starts + (std::find(rs.patterns.begin(), rs.patterns.end(), mask) - rs.patterns.begin()) *
                                          pattern_ints;
      bool used[kRowsMaxKh] = {};
      int64_t want[kRowsMaxKh];
      for (size_t ky = 0; ky < kh; ++ky) {
        const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<ptrdiff_t>(g.pad_top);
        if (iy < 0 || iy >= static_cast<ptrdiff_t>(a.h)) continue;
        const size_t u = rc.n_inside++;
        inside[u] = ky;
        want[u] = static_cast<int64_t>(b * a.h) + iy;
        slot_of[u] = kh;
        for (size_t s = 0; s < kh; ++s) {
          if (rs.key[s] == want[u]) {
            slot_of[u] = s;
            used[s] = true;
            break;
          }
        }
      }
      for (size_t u = 0; u < rc.n_inside; ++u) {
        if (slot_of[u] == kh) {
          size_t s = 0;
          while (used[s]) ++s;  // fewer than kh slots are taken
          used[s] = true;
          slot_of[u] = s;
          rs.key[s] = want[u];
          const uint8_t* row = x + static_cast<size_t>(want[u]) * a.w * c;
          build_shift_rows<kSigned>(row, row_in, static_cast<ptrdiff_t>(c), static_cast<ptrdiff_t>(g.pad_left),
                                    g.kw, i0, n_chunks, zx, sbase + s * slot_bytes);
        }
        srow[u] = sbase + slot_of[u] * slot_bytes;
      }
      uint8_t* o = out + (r * row_out + i0 * kBlock) * out_bytes;
      size_t phase = i0 % phases, i = 0;
      for (; i + 4 <= n_chunks; i += 4) {
        rows_chunks<4, kHardSwish>(rc, p, i, i0 + i, &phase, o + i * kBlock * out_bytes);
      }
      for (; i < n_chunks; ++i) rows_chunks<1, kHardSwish>(rc, p, i, i0 + i, &phase, o + i * kBlock * out_bytes);
    }
  }
}

template <bool kHardSwish>
void run_stage(const DepthwiseArgs& a, size_t r0, size_t r1) {
  if (rows_for(*a.weights, a.geometry)) {
    if (a.x_signed) run_rows<true, kHardSwish>(a, r0, r1);
    else run_rows<false, kHardSwish>(a, r0, r1);
    return;
  }
  if (a.weights->layout == kLayoutT4) {
    if (a.x_signed) run_t4<true, kHardSwish>(a, r0, r1);
    else run_t4<false, kHardSwish>(a, r0, r1);
  } else {
    if (a.x_signed) run_i16<true, kHardSwish>(a, r0, r1);
    else run_i16<false, kHardSwish>(a, r0, r1);
  }
}

void run(const DepthwiseArgs& a, size_t r0, size_t r1) {
  // HardSwish or not, decided once per call: two variants of every kernel.
  if (a.params->kind == DepthwiseOutput::kFp32 && a.params->hardswish) run_stage<true>(a, r0, r1);
  else run_stage<false>(a, r0, r1);
}

}  // namespace

extern const DepthwisePath kDepthwisePath = {Isa::kAvx512Vnni, kBlock, pack, run, finish_params};

}  // namespace avx512vnni
}  // namespace lowbit
