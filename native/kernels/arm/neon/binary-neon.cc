// Binary kernels with NEON (every AArch64 CPU): the XNOR-popcount GEMM tile
// (veor + vcnt), sign packing, BinaryConnect with float activations, and the
// output stage over int32 accumulators. See docs/binary.md.
//
// Tile: 4 rows x 16 channels, K in 32-bit units; one q register holds unit j
// of 4 channels, the row's unit is broadcast (ld1r). Per row and unit: veor,
// vcnt (bytes) and vpadal into 16-bit counters (two per channel), widened into
// 32-bit totals every 4095 units, before a 16-bit counter could overflow.
#include <arm_neon.h>

#include <cstring>

#include "lowbit/binary.h"
#include "../../common/binary-dispatch.h"

namespace lowbit {
namespace neon {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 16;
constexpr size_t kBwMr = 4;
constexpr size_t kBwNr = 16;
constexpr size_t kChunk = 4095;  // units per 16-bit flush: 4095 * 16 < 65536

inline float32x4_t transform(const BinaryOutput& os, float32x4_t x, size_t c) {
  return vaddq_f32(vmulq_f32(x, vld1q_f32(os.alpha_data() + c)), vld1q_f32(os.beta_data() + c));
}

inline int32x4_t quantize(const BinaryOutput& os, float32x4_t v) {
  const float32x4_t q0 = vdivq_f32(v, vdupq_n_f32(os.y_scale));
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(-128 - os.y_zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(127 - os.y_zero_point));
  const int32x4_t zp = vdupq_n_s32(os.y_zero_point);
  const uint32x4_t nan = vmvnq_u32(vceqq_f32(q0, q0));
  float32x4_t q = vbslq_f32(vcltq_f32(q0, lo), lo, q0);
  q = vbslq_f32(vcgtq_f32(q, hi), hi, q);
  const int32x4_t i = vaddq_s32(vcvtnq_s32_f32(q), zp);  // round half to even
  return vbslq_s32(nan, zp, i);
}

// Stores up to 16 transformed values x[0..4) of channels [c, c + valid) into an
// output row; c is a multiple of 16 (bits: two whole output bytes).
template <BinaryOutputKind kKind>
inline void store16(const BinaryOutput& os, const float32x4_t* x, size_t c, size_t valid, uint8_t* row) {
  alignas(16) float yf[16];
  alignas(16) int32_t yi[16];
  uint32_t bits = 0;
  const uint32x4_t weights = {1, 2, 4, 8};
  for (size_t v = 0; v < 4; ++v) {
    if (4 * v >= valid) break;
    const float32x4_t y = transform(os, x[v], c + 4 * v);
    if (kKind == BinaryOutputKind::kFloat32) {
      vst1q_f32(yf + 4 * v, y);
    } else if (kKind == BinaryOutputKind::kInt8) {
      vst1q_s32(yi + 4 * v, quantize(os, y));
    } else {
      const uint32x4_t lt = vcltq_f32(y, vld1q_f32(os.threshold_data() + c + 4 * v));
      bits |= vaddvq_u32(vandq_u32(lt, weights)) << (4 * v);
    }
  }
  const size_t count = valid < 16 ? valid : 16;
  if (kKind == BinaryOutputKind::kFloat32) {
    std::memcpy(reinterpret_cast<float*>(row) + c, yf, count * sizeof(float));
  } else if (kKind == BinaryOutputKind::kInt8) {
    for (size_t i = 0; i < count; ++i) reinterpret_cast<int8_t*>(row)[c + i] = static_cast<int8_t>(yi[i]);
  } else {
    bits &= count == 16 ? 0xFFFFu : (1u << count) - 1;
    row[c / 8] = static_cast<uint8_t>(bits);
    if (count > 8) row[c / 8 + 1] = static_cast<uint8_t>(bits >> 8);
  }
}

template <size_t M, BinaryOutputKind kKind>
void tile_impl(const BinaryTile& t) {
  const uint32_t* w = static_cast<const uint32_t*>(t.panel);
  const size_t seg_units = 2 * t.seg_words;
  uint32x4_t total[M][4];
  uint16x8_t acc[M][4];
  for (size_t r = 0; r < M; ++r) {
    for (size_t v = 0; v < 4; ++v) {
      total[r][v] = vdupq_n_u32(0);
      acc[r][v] = vdupq_n_u16(0);
    }
  }
  // 16-bit counters are widened every kChunk units of K, across segments.
  size_t since_flush = 0;
  for (size_t s = 0; s < t.segs; ++s) {
    const uint32_t* a[M];
    for (size_t r = 0; r < M; ++r) a[r] = reinterpret_cast<const uint32_t*>(t.rows[r * t.segs + s]);
    for (size_t j = 0; j < seg_units; ++j, w += kNr) {
      const uint32x4_t w0 = vld1q_u32(w), w1 = vld1q_u32(w + 4), w2 = vld1q_u32(w + 8), w3 = vld1q_u32(w + 12);
#pragma GCC unroll 4
      for (size_t r = 0; r < M; ++r) {
        const uint32x4_t b = vld1q_dup_u32(a[r] + j);
        acc[r][0] = vpadalq_u8(acc[r][0], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(b, w0))));
        acc[r][1] = vpadalq_u8(acc[r][1], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(b, w1))));
        acc[r][2] = vpadalq_u8(acc[r][2], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(b, w2))));
        acc[r][3] = vpadalq_u8(acc[r][3], vcntq_u8(vreinterpretq_u8_u32(veorq_u32(b, w3))));
      }
      if (++since_flush == kChunk) {
        since_flush = 0;
        for (size_t r = 0; r < M; ++r) {
          for (size_t v = 0; v < 4; ++v) {
            total[r][v] = vpadalq_u16(total[r][v], acc[r][v]);
            acc[r][v] = vdupq_n_u16(0);
          }
        }
      }
    }
  }
  for (size_t r = 0; r < M; ++r) {
    for (size_t v = 0; v < 4; ++v) total[r][v] = vpadalq_u16(total[r][v], acc[r][v]);
  }
  const int32x4_t ki = vdupq_n_s32(t.k_bits);
  for (size_t r = 0; r < M; ++r) {
    const int32_t* corr = t.corr != nullptr ? t.corr[r] : nullptr;
    alignas(16) int32_t cbuf[16] = {0};
    if (corr != nullptr) std::memcpy(cbuf, corr + t.n0, t.n * sizeof(int32_t));
    float32x4_t x[4];
    for (size_t v = 0; v < 4; ++v) {
      int32x4_t dot = vsubq_s32(ki, vshlq_n_s32(vreinterpretq_s32_u32(total[r][v]), 1));
      if (corr != nullptr) dot = vsubq_s32(dot, vld1q_s32(cbuf + 4 * v));
      x[v] = vcvtq_f32_s32(dot);
    }
    store16<kKind>(*t.os, x, t.n0, t.n, t.out + r * t.out_stride);
  }
}

void tile(const BinaryTile& t) {
  dispatch_rows_and_kind<4>(t.m, t.os->kind, [&](auto rows, auto kind) {
    tile_impl<decltype(rows)::value, decltype(kind)::value>(t);
  });
}

// x < 0 per lane, 16 values at a time: compare, keep one weight bit per lane,
// add across lanes.
void bitpack_f32(const float* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  const uint32x4_t weights = {1, 2, 4, 8};
  const float32x4_t zero = vdupq_n_f32(0.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    size_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      uint64_t m = 0;
      for (size_t v = 0; v < 4; ++v) {
        const uint32x4_t lt = vcltq_f32(vld1q_f32(row + i + 4 * v), zero);
        m |= static_cast<uint64_t>(vaddvq_u32(vandq_u32(lt, weights))) << (4 * v);
      }
      o[i / 64] |= m << (i % 64);
    }
    for (; i < cols; ++i) {
      if (row[i] < 0.0f) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

void bitpack_s8(const int8_t* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  const uint8x16_t weights = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = x + r * cols;
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    size_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      const uint8x16_t neg = vandq_u8(vcltzq_s8(vld1q_s8(row + i)), weights);
      const uint64_t m = vaddv_u8(vget_low_u8(neg)) | (static_cast<uint64_t>(vaddv_u8(vget_high_u8(neg))) << 8);
      o[i / 64] |= m << (i % 64);
    }
    for (; i < cols; ++i) {
      if (row[i] < 0) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

// BinaryConnect, float activations: 4 rows x 16 channels; per k, each lane's
// weight bit is shifted into the float sign position and xor-ed onto the
// broadcast a[k], then added: each lane sums its channel in k order.
template <size_t M, BinaryOutputKind kKind>
void bw_tile_impl(const BinaryWeightTile& t) {
  const BinaryWeightMatrix& w = *t.w;
  const uint8_t* bits = static_cast<const uint8_t*>(w.bits.data()) + t.n0 / 8;
  const size_t row_bytes = w.n_words * 8;
  const int32x4_t shifts[4] = {{31, 30, 29, 28}, {27, 26, 25, 24}, {23, 22, 21, 20}, {19, 18, 17, 16}};
  const uint32x4_t sign = vdupq_n_u32(0x80000000u);
  float32x4_t acc[M][4];
  for (size_t r = 0; r < M; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < w.k; ++k) {
    uint16_t word;
    std::memcpy(&word, bits + k * row_bytes, 2);
    const uint32x4_t wb = vdupq_n_u32(word);
    uint32x4_t s[4];
    for (size_t v = 0; v < 4; ++v) s[v] = vandq_u32(vshlq_u32(wb, shifts[v]), sign);
#pragma GCC unroll 4
    for (size_t r = 0; r < M; ++r) {
      const uint32x4_t b = vreinterpretq_u32_f32(vdupq_n_f32(t.a[r * t.a_stride + k]));
      for (size_t v = 0; v < 4; ++v) acc[r][v] = vaddq_f32(acc[r][v], vreinterpretq_f32_u32(veorq_u32(b, s[v])));
    }
  }
  for (size_t r = 0; r < M; ++r) store16<kKind>(*t.os, acc[r], t.n0, t.n, t.out + r * t.out_stride);
}

void bw_tile(const BinaryWeightTile& t) {
  dispatch_rows_and_kind<4>(t.m, t.os->kind, [&](auto rows, auto kind) {
    bw_tile_impl<decltype(rows)::value, decltype(kind)::value>(t);
  });
}

template <BinaryOutputKind kKind>
void finish_kind(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                 const BinaryOutput& os, uint8_t* out, size_t out_stride) {
  for (size_t r = 0; r < m; ++r) {
    for (size_t c = 0; c < n; c += 16) {
      const size_t valid = n - c < 16 ? n - c : 16;
      alignas(16) int32_t buf[16] = {0};
      std::memcpy(buf, acc + r * acc_stride + c, valid * sizeof(int32_t));
      float32x4_t x[4];
      for (size_t v = 0; v < 4; ++v) x[v] = vcvtq_f32_s32(vld1q_s32(buf + 4 * v));
      store16<kKind>(os, x, n0 + c, valid, out + r * out_stride);
    }
  }
}

void finish_s32(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                const BinaryOutput& os, uint8_t* out, size_t out_stride) {
  dispatch_output_kind(os.kind, [&](auto kind) {
    finish_kind<decltype(kind)::value>(acc, acc_stride, m, n0, n, os, out, out_stride);
  });
}

bool supported() { return cpu_features().neon; }

}  // namespace

extern const BinaryPath kBinaryPath = {
    "neon", kMr, kNr, 4, kBwMr, kBwNr, supported, tile, bitpack_f32, bitpack_s8, bw_tile, finish_s32,
};

}  // namespace neon
}  // namespace lowbit
