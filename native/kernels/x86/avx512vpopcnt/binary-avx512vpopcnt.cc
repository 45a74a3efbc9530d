// Binary kernels with AVX-512 VPOPCNTDQ (Ice Lake and later, Zen 4): the
// XNOR-popcount GEMM tile, sign packing, BinaryConnect with float activations,
// and the output stage over int32 accumulators. See docs/binary.md.
//
// Tile: 6 rows x 64 channels, K in 32-bit units. Weights are packed so that
// one zmm holds unit j of 16 channels; the unit of a row is broadcast
// (vpbroadcastd from memory, a load-port uop), and each of the 24 accumulators
// takes vpxord + vpopcntd + vpaddd per unit: the instruction mix of the
// machine's popcount peak, with no horizontal reduction at all.
#include <immintrin.h>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
// GCC 12 false positive (PR 105593): its AVX-512 headers build results on a
// deliberately uninitialized _mm512_undefined_*() value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstring>

#include "lowbit/binary.h"
#include "../../common/binary-dispatch.h"

namespace lowbit {
namespace avx512vpopcnt {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 64;
constexpr size_t kBwMr = 4;
constexpr size_t kBwNr = 64;

__mmask16 lanes(size_t valid) {
  return valid >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
}

// v = alpha * x + beta for channels [c, c + 16) (two roundings, as specified).
inline __m512 transform(const BinaryOutput& os, __m512 x, size_t c) {
  return _mm512_add_ps(_mm512_mul_ps(x, _mm512_load_ps(os.alpha_data() + c)),
                       _mm512_load_ps(os.beta_data() + c));
}

// ONNX QuantizeLinear to int8 of 16 values, lane for lane as binary_quantize.
inline __m512i quantize(const BinaryOutput& os, __m512 v) {
  const __m512 q0 = _mm512_div_ps(v, _mm512_set1_ps(os.y_scale));
  const __m512 lo = _mm512_set1_ps(static_cast<float>(-128 - os.y_zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(127 - os.y_zero_point));
  const __m512i zp = _mm512_set1_epi32(os.y_zero_point);
  const __mmask16 nan = _mm512_cmp_ps_mask(q0, q0, _CMP_UNORD_Q);
  __m512 q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q0, lo, _CMP_LT_OQ), q0, lo);
  q = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(q, hi, _CMP_GT_OQ), q, hi);
  const __m512i i = _mm512_add_epi32(_mm512_cvtps_epi32(q), zp);
  return _mm512_mask_blend_epi32(nan, i, zp);
}

// Writes the output stage of up to M rows x 64 channels [n0, n0 + n) (n0 a
// multiple of 64: bits go out as one whole word per row); x(r, v) gives the 16
// float32 values of row r, channels n0 + 16v ... n0 + 16v + 15. Channel blocks
// outside, rows inside: each block's parameters are loaded once.
template <BinaryOutputKind kKind, size_t M, typename X>
inline void emit_rows(const BinaryOutput& os, size_t m, size_t n0, size_t n, uint8_t* out, size_t stride,
                      const X& x) {
  uint64_t bits[M] = {};
  for (size_t v = 0; v < 4; ++v) {
    if (16 * v >= n) break;
    const size_t c = n0 + 16 * v;
    const __mmask16 valid = lanes(n - 16 * v);
    const __m512 alpha = _mm512_load_ps(os.alpha_data() + c);
    const __m512 beta = _mm512_load_ps(os.beta_data() + c);
    const __m512 thr = _mm512_load_ps(os.threshold_data() + c);
    for (size_t r = 0; r < M; ++r) {
      if (r >= m) break;
      const __m512 y = _mm512_add_ps(_mm512_mul_ps(x(r, v), alpha), beta);
      uint8_t* row = out + r * stride;
      if (kKind == BinaryOutputKind::kFloat32) {
        _mm512_mask_storeu_ps(reinterpret_cast<float*>(row) + c, valid, y);
      } else if (kKind == BinaryOutputKind::kInt8) {
        _mm512_mask_cvtepi32_storeu_epi8(row + c, valid, quantize(os, y));
      } else {
        bits[r] |= static_cast<uint64_t>(_mm512_mask_cmp_ps_mask(valid, y, thr, _CMP_LT_OQ)) << (16 * v);
      }
    }
  }
  if (kKind == BinaryOutputKind::kBits) {
    for (size_t r = 0; r < m && r < M; ++r) std::memcpy(out + r * stride + n0 / 8, &bits[r], 8);
  }
}

// The accumulators are named variables (not an array, which GCC 12 spills):
// row r's four are acc<r>0..acc<r>3; rows past M are compiled out.
#define LOWBIT_ROW_DECL(r) \
  __m512i acc##r##0 = _mm512_setzero_si512(), acc##r##1 = acc##r##0, acc##r##2 = acc##r##0, acc##r##3 = acc##r##0;
#define LOWBIT_ROW_STEP(r)                                                                      \
  if constexpr (M > r) {                                                                        \
    const __m512i b = _mm512_set1_epi32(static_cast<int>(a##r[j]));                              \
    acc##r##0 = _mm512_add_epi32(acc##r##0, _mm512_popcnt_epi32(_mm512_xor_si512(b, w0)));       \
    acc##r##1 = _mm512_add_epi32(acc##r##1, _mm512_popcnt_epi32(_mm512_xor_si512(b, w1)));       \
    acc##r##2 = _mm512_add_epi32(acc##r##2, _mm512_popcnt_epi32(_mm512_xor_si512(b, w2)));       \
    acc##r##3 = _mm512_add_epi32(acc##r##3, _mm512_popcnt_epi32(_mm512_xor_si512(b, w3)));       \
  }
#define LOWBIT_ROW_SAVE(r)                         \
  if constexpr (M > r) {                           \
    _mm512_store_si512(pop[r] + 0, acc##r##0);     \
    _mm512_store_si512(pop[r] + 16, acc##r##1);    \
    _mm512_store_si512(pop[r] + 32, acc##r##2);    \
    _mm512_store_si512(pop[r] + 48, acc##r##3);    \
  }

template <size_t M, BinaryOutputKind kKind>
void tile_impl(const BinaryTile& t) {
  static_assert(M >= 1 && M <= 6, "rows per tile");
  const __m512i* w = static_cast<const __m512i*>(t.panel);
  const size_t seg_units = 2 * t.seg_words;
  const size_t segs = t.segs;
  const uint64_t* const* rows = t.rows;

  LOWBIT_ROW_DECL(0) LOWBIT_ROW_DECL(1) LOWBIT_ROW_DECL(2) LOWBIT_ROW_DECL(3) LOWBIT_ROW_DECL(4) LOWBIT_ROW_DECL(5)
  for (size_t s = 0; s < segs; ++s) {
    const uint32_t* a0 = reinterpret_cast<const uint32_t*>(rows[s]);
    const uint32_t* a1 = reinterpret_cast<const uint32_t*>(rows[(M > 1 ? 1 : 0) * segs + s]);
    const uint32_t* a2 = reinterpret_cast<const uint32_t*>(rows[(M > 2 ? 2 : 0) * segs + s]);
    const uint32_t* a3 = reinterpret_cast<const uint32_t*>(rows[(M > 3 ? 3 : 0) * segs + s]);
    const uint32_t* a4 = reinterpret_cast<const uint32_t*>(rows[(M > 4 ? 4 : 0) * segs + s]);
    const uint32_t* a5 = reinterpret_cast<const uint32_t*>(rows[(M > 5 ? 5 : 0) * segs + s]);
    (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
    for (size_t j = 0; j < seg_units; ++j, w += 4) {
      const __m512i w0 = _mm512_load_si512(w + 0);
      const __m512i w1 = _mm512_load_si512(w + 1);
      const __m512i w2 = _mm512_load_si512(w + 2);
      const __m512i w3 = _mm512_load_si512(w + 3);
      LOWBIT_ROW_STEP(0) LOWBIT_ROW_STEP(1) LOWBIT_ROW_STEP(2) LOWBIT_ROW_STEP(3) LOWBIT_ROW_STEP(4) LOWBIT_ROW_STEP(5)
    }
  }
  alignas(64) int32_t pop[M][64];
  LOWBIT_ROW_SAVE(0) LOWBIT_ROW_SAVE(1) LOWBIT_ROW_SAVE(2) LOWBIT_ROW_SAVE(3) LOWBIT_ROW_SAVE(4) LOWBIT_ROW_SAVE(5)

  // dot = K - 2 * popcount: exact in float32 (integers below 2^24), so one
  // fused multiply-add computes it; with a zero-padding correction, in int32.
  const __m512 kf = _mm512_set1_ps(static_cast<float>(t.k_bits));
  const __m512 two = _mm512_set1_ps(2.0f);
  if (t.corr == nullptr) {
    emit_rows<kKind, M>(*t.os, M, t.n0, t.n, t.out, t.out_stride, [&](size_t r, size_t v) {
      return _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(pop[r] + 16 * v)), two, kf);
    });
  } else {
    const __m512i ki = _mm512_set1_epi32(t.k_bits);
    emit_rows<kKind, M>(*t.os, M, t.n0, t.n, t.out, t.out_stride, [&](size_t r, size_t v) {
      const __m512i p = _mm512_load_si512(pop[r] + 16 * v);
      const int32_t* corr = t.corr[r];
      if (corr == nullptr) return _mm512_fnmadd_ps(_mm512_cvtepi32_ps(p), two, kf);
      const __m512i cv = _mm512_maskz_loadu_epi32(lanes(t.n - 16 * v), corr + t.n0 + 16 * v);
      return _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_sub_epi32(ki, _mm512_slli_epi32(p, 1)), cv));
    });
  }
}

#undef LOWBIT_ROW_DECL
#undef LOWBIT_ROW_STEP
#undef LOWBIT_ROW_SAVE

void tile(const BinaryTile& t) {
  dispatch_rows_and_kind<6>(t.m, t.os->kind, [&](auto rows, auto kind) {
    tile_impl<decltype(rows)::value, decltype(kind)::value>(t);
  });
}

// x < 0 per lane, 64 values per output word (masked loads past the end).
void bitpack_f32(const float* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  const __m512 zero = _mm512_setzero_ps();
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    for (size_t wi = 0; wi < words; ++wi) {
      uint64_t word = 0;
      for (size_t v = 0; v < 4; ++v) {
        const size_t i = wi * 64 + 16 * v;
        if (i >= cols) break;
        const __mmask16 valid = lanes(cols - i);
        const __m512 xv = _mm512_maskz_loadu_ps(valid, row + i);
        word |= static_cast<uint64_t>(_mm512_mask_cmp_ps_mask(valid, xv, zero, _CMP_LT_OQ)) << (16 * v);
      }
      out[r * words + wi] = word;
    }
  }
}

// The sign bit of each int8 is its bit (vpmovb2m).
void bitpack_s8(const int8_t* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = x + r * cols;
    for (size_t wi = 0; wi < words; ++wi) {
      const size_t i = wi * 64;
      const size_t valid = cols - i;
      const __mmask64 m = valid >= 64 ? ~__mmask64{0} : (__mmask64{1} << valid) - 1;
      out[r * words + wi] = _mm512_movepi8_mask(_mm512_maskz_loadu_epi8(m, row + i));
    }
  }
}

// BinaryConnect, float activations: 4 rows x 64 channels; per k, the sign of
// a[k] is flipped in the lanes whose weight bit is set (xor with a sign mask), then
// added: each lane sums its channel in k order, exactly as the scalar loop.
template <size_t M, BinaryOutputKind kKind>
void bw_tile_impl(const BinaryWeightTile& t) {
  const BinaryWeightMatrix& w = *t.w;
  const uint8_t* bits = static_cast<const uint8_t*>(w.bits.data()) + t.n0 / 8;
  const size_t row_bytes = w.n_words * 8;
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  __m512 acc[M][4];
#pragma GCC unroll 8
  for (size_t r = 0; r < M; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
  for (size_t k = 0; k < w.k; ++k) {
    uint64_t word;
    std::memcpy(&word, bits + k * row_bytes, 8);
    // The sign bit in the lanes whose weight is -1, shared by the rows.
    const __m512i s0 = _mm512_maskz_mov_epi32(static_cast<__mmask16>(word), sign);
    const __m512i s1 = _mm512_maskz_mov_epi32(static_cast<__mmask16>(word >> 16), sign);
    const __m512i s2 = _mm512_maskz_mov_epi32(static_cast<__mmask16>(word >> 32), sign);
    const __m512i s3 = _mm512_maskz_mov_epi32(static_cast<__mmask16>(word >> 48), sign);
#pragma GCC unroll 8
    for (size_t r = 0; r < M; ++r) {
      const __m512i b = _mm512_castps_si512(_mm512_set1_ps(t.a[r * t.a_stride + k]));
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_castsi512_ps(_mm512_xor_si512(b, s0)));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_castsi512_ps(_mm512_xor_si512(b, s1)));
      acc[r][2] = _mm512_add_ps(acc[r][2], _mm512_castsi512_ps(_mm512_xor_si512(b, s2)));
      acc[r][3] = _mm512_add_ps(acc[r][3], _mm512_castsi512_ps(_mm512_xor_si512(b, s3)));
    }
  }
  emit_rows<kKind, M>(*t.os, M, t.n0, t.n, t.out, t.out_stride, [&](size_t r, size_t v) { return acc[r][v]; });
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
    const int32_t* row = acc + r * acc_stride;
    for (size_t c = 0; c < n; c += 64) {
      const size_t count = n - c < 64 ? n - c : 64;
      emit_rows<kKind, 1>(os, 1, n0 + c, count, out + r * out_stride, out_stride, [&](size_t, size_t v) {
        return _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(lanes(count - 16 * v), row + c + 16 * v));
      });
    }
  }
}

void finish_s32(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                const BinaryOutput& os, uint8_t* out, size_t out_stride) {
  dispatch_output_kind(os.kind, [&](auto kind) {
    finish_kind<decltype(kind)::value>(acc, acc_stride, m, n0, n, os, out, out_stride);
  });
}

bool supported() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vpopcntdq;
}

}  // namespace

extern const BinaryPath kBinaryPath = {
    "avx512vpopcnt", kMr, kNr, 4, kBwMr, kBwNr, supported, tile, bitpack_f32, bitpack_s8, bw_tile, finish_s32,
};

}  // namespace avx512vpopcnt
}  // namespace lowbit
