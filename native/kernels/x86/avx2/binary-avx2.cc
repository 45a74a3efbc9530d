// Binary kernels with AVX2: the XNOR-popcount GEMM tile (xor + nibble-lookup
// popcount), sign packing, BinaryConnect with float activations, and the
// output stage over int32 accumulators. See docs/binary.md.
//
// Tile: 4 rows x 8 channels, K in 64-bit words; one ymm holds word j of 4
// channels. Per row and word: vpxor, the two nibble lookups (vpand, vpsrlw,
// vpand, 2x vpshufb, vpaddb) and a vpaddb into byte counters, which are
// widened with vpsadbw (whose 64-bit lanes are exactly the channels) every 31
// words, before a byte could overflow.
#include <immintrin.h>

#include <cstring>

#include "lowbit/binary.h"
#include "../../common/binary-dispatch.h"

namespace lowbit {
namespace avx2 {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 8;
constexpr size_t kBwMr = 4;
constexpr size_t kBwNr = 16;
constexpr size_t kChunk = 31;  // words per byte-counter flush: 31 * 8 <= 255

// Lanes [0, valid) of 8 as an all-ones int mask vector.
inline __m256i lane_mask(size_t valid) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), idx);
}

inline __m256 transform(const BinaryOutput& os, __m256 x, size_t c) {
  return _mm256_add_ps(_mm256_mul_ps(x, _mm256_loadu_ps(os.alpha_data() + c)),
                       _mm256_loadu_ps(os.beta_data() + c));
}

inline __m256i quantize(const BinaryOutput& os, __m256 v) {
  const __m256 q0 = _mm256_div_ps(v, _mm256_set1_ps(os.y_scale));
  const __m256 lo = _mm256_set1_ps(static_cast<float>(-128 - os.y_zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(127 - os.y_zero_point));
  const __m256i zp = _mm256_set1_epi32(os.y_zero_point);
  const __m256 nan = _mm256_cmp_ps(q0, q0, _CMP_UNORD_Q);
  __m256 q = _mm256_blendv_ps(q0, lo, _mm256_cmp_ps(q0, lo, _CMP_LT_OQ));
  q = _mm256_blendv_ps(q, hi, _mm256_cmp_ps(q, hi, _CMP_GT_OQ));
  const __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(q), zp);
  return _mm256_blendv_epi8(i, zp, _mm256_castps_si256(nan));
}

// Stores up to 8 transformed values of channels [c, c + valid) into an output
// row; c is a multiple of 8 (bits: one whole output byte).
template <BinaryOutputKind kKind>
inline void store8(const BinaryOutput& os, __m256 x, size_t c, size_t valid, uint8_t* row) {
  const __m256 y = transform(os, x, c);
  if (kKind == BinaryOutputKind::kFloat32) {
    float* dst = reinterpret_cast<float*>(row) + c;
    if (valid >= 8) {
      _mm256_storeu_ps(dst, y);
    } else {
      _mm256_maskstore_ps(dst, lane_mask(valid), y);
    }
  } else if (kKind == BinaryOutputKind::kInt8) {
    const __m256i q = quantize(os, y);
    // int32 -> int8 lanes (values already within int8): pack and reorder.
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i b = _mm_packs_epi16(_mm_packs_epi32(lo, hi), _mm_setzero_si128());
    alignas(16) int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
    std::memcpy(row + c, tmp, valid >= 8 ? 8 : valid);
  } else {
    const __m256 lt = _mm256_cmp_ps(y, _mm256_loadu_ps(os.threshold_data() + c), _CMP_LT_OQ);
    const int bits = _mm256_movemask_ps(lt) & ((1 << (valid >= 8 ? 8 : valid)) - 1);
    row[c / 8] = static_cast<uint8_t>(bits);
  }
}

// Popcount of each byte: two 16-entry lookups (one per nibble).
inline __m256i popcount_bytes(__m256i x, __m256i lut, __m256i low4) {
  const __m256i lo = _mm256_and_si256(x, low4);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

// The low 32 bits of each 64-bit lane of a and b, as 8 int32 (a's first).
inline __m256i narrow(__m256i a, __m256i b) {
  const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256i pa = _mm256_permutevar8x32_epi32(a, idx), pb = _mm256_permutevar8x32_epi32(b, idx);
  return _mm256_permute2x128_si256(pa, pb, 0x20);
}

template <size_t M, BinaryOutputKind kKind>
void tile_impl(const BinaryTile& t) {
  const __m256i* w = static_cast<const __m256i*>(t.panel);
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  __m256i total[M][2];
  for (size_t r = 0; r < M; ++r) total[r][0] = total[r][1] = zero;
  // Byte counters are flushed every kChunk words of K, across segments.
  __m256i bytes[M][2];
  for (size_t r = 0; r < M; ++r) bytes[r][0] = bytes[r][1] = zero;
  size_t since_flush = 0;
  for (size_t s = 0; s < t.segs; ++s) {
    const uint64_t* a[M];
    for (size_t r = 0; r < M; ++r) a[r] = t.rows[r * t.segs + s];
    for (size_t i = 0; i < t.seg_words; ++i, w += 2) {
      const __m256i w0 = _mm256_load_si256(w), w1 = _mm256_load_si256(w + 1);
#pragma GCC unroll 4
      for (size_t r = 0; r < M; ++r) {
        const __m256i b = _mm256_set1_epi64x(static_cast<long long>(a[r][i]));
        bytes[r][0] = _mm256_add_epi8(bytes[r][0], popcount_bytes(_mm256_xor_si256(b, w0), lut, low4));
        bytes[r][1] = _mm256_add_epi8(bytes[r][1], popcount_bytes(_mm256_xor_si256(b, w1), lut, low4));
      }
      if (++since_flush == kChunk) {
        since_flush = 0;
        for (size_t r = 0; r < M; ++r) {
          total[r][0] = _mm256_add_epi64(total[r][0], _mm256_sad_epu8(bytes[r][0], zero));
          total[r][1] = _mm256_add_epi64(total[r][1], _mm256_sad_epu8(bytes[r][1], zero));
          bytes[r][0] = bytes[r][1] = zero;
        }
      }
    }
  }
  for (size_t r = 0; r < M; ++r) {
    total[r][0] = _mm256_add_epi64(total[r][0], _mm256_sad_epu8(bytes[r][0], zero));
    total[r][1] = _mm256_add_epi64(total[r][1], _mm256_sad_epu8(bytes[r][1], zero));
  }
  const __m256i ki = _mm256_set1_epi32(t.k_bits);
  for (size_t r = 0; r < M; ++r) {
    __m256i dot = _mm256_sub_epi32(ki, _mm256_slli_epi32(narrow(total[r][0], total[r][1]), 1));
    const int32_t* corr = t.corr != nullptr ? t.corr[r] : nullptr;
    if (corr != nullptr) {
      dot = _mm256_sub_epi32(dot, _mm256_maskload_epi32(corr + t.n0, lane_mask(t.n)));
    }
    store8<kKind>(*t.os, _mm256_cvtepi32_ps(dot), t.n0, t.n, t.out + r * t.out_stride);
  }
}

void tile(const BinaryTile& t) {
  dispatch_rows_and_kind<4>(t.m, t.os->kind, [&](auto rows, auto kind) {
    tile_impl<decltype(rows)::value, decltype(kind)::value>(t);
  });
}

// x < 0 per lane: vcmpltps + vmovmskps, 8 values at a time.
void bitpack_f32(const float* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  const __m256 zero = _mm256_setzero_ps();
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    size_t i = 0;
    for (; i + 8 <= cols; i += 8) {
      const uint64_t m = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + i), zero, _CMP_LT_OQ)));
      o[i / 64] |= m << (i % 64);
    }
    for (; i < cols; ++i) {
      if (row[i] < 0.0f) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

// The sign bit of each int8 is its bit (vpmovmskb), 32 values at a time.
void bitpack_s8(const int8_t* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = x + r * cols;
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    size_t i = 0;
    for (; i + 32 <= cols; i += 32) {
      const uint64_t m = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i))));
      o[i / 64] |= m << (i % 64);
    }
    for (; i < cols; ++i) {
      if (row[i] < 0) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

// BinaryConnect, float activations: 4 rows x 16 channels; per k, each lane's
// weight bit is shifted into the float sign position (vpsllvd) and xor-ed onto
// the broadcast a[k], then added: each lane sums its channel in k order.
template <size_t M, BinaryOutputKind kKind>
void bw_tile_impl(const BinaryWeightTile& t) {
  const BinaryWeightMatrix& w = *t.w;
  const uint8_t* bits = static_cast<const uint8_t*>(w.bits.data()) + t.n0 / 8;
  const size_t row_bytes = w.n_words * 8;
  const __m256i shift0 = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
  const __m256i shift1 = _mm256_setr_epi32(23, 22, 21, 20, 19, 18, 17, 16);
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  __m256 acc[M][2];
  for (size_t r = 0; r < M; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < w.k; ++k) {
    uint16_t word;
    std::memcpy(&word, bits + k * row_bytes, 2);
    const __m256i wb = _mm256_set1_epi32(word);
    const __m256 s0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_sllv_epi32(wb, shift0), sign));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_sllv_epi32(wb, shift1), sign));
#pragma GCC unroll 4
    for (size_t r = 0; r < M; ++r) {
      const __m256 b = _mm256_set1_ps(t.a[r * t.a_stride + k]);
      acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_xor_ps(b, s0));
      acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_xor_ps(b, s1));
    }
  }
  for (size_t r = 0; r < M; ++r) {
    uint8_t* row = t.out + r * t.out_stride;
    store8<kKind>(*t.os, acc[r][0], t.n0, t.n, row);
    if (t.n > 8) store8<kKind>(*t.os, acc[r][1], t.n0 + 8, t.n - 8, row);
  }
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
    for (size_t c = 0; c < n; c += 8) {
      const size_t valid = n - c < 8 ? n - c : 8;
      const __m256i v = _mm256_maskload_epi32(acc + r * acc_stride + c, lane_mask(valid));
      store8<kKind>(os, _mm256_cvtepi32_ps(v), n0 + c, valid, out + r * out_stride);
    }
  }
}

void finish_s32(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                const BinaryOutput& os, uint8_t* out, size_t out_stride) {
  dispatch_output_kind(os.kind, [&](auto kind) {
    finish_kind<decltype(kind)::value>(acc, acc_stride, m, n0, n, os, out, out_stride);
  });
}

bool supported() { return cpu_features().avx2; }

}  // namespace

extern const BinaryPath kBinaryPath = {
    "avx2", kMr, kNr, 8, kBwMr, kBwNr, supported, tile, bitpack_f32, bitpack_s8, bw_tile, finish_s32,
};

}  // namespace avx2
}  // namespace lowbit
