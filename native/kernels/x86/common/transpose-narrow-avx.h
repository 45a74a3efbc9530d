// Transposes with a narrow side on a dense destination or source: NCHW ->
// NHWC with few channels (kN source rows interleaved into dst[kN * c + r]) and
// NHWC -> NCHW with few channels (a dense source of kN columns split into kN
// destination rows). Bytes for kN = 2..7: each step moves 16 * kN bytes as kN
// xmm vectors, every output vector gathered from the kN inputs with pshufb.
// 32-bit for kN = 2, 3 (wider sides go to 4x4 tiles): 8 * kN elements per
// step, gathered with cross-lane permutes and blends. Index masks are
// computed at compile time; the last step is moved back to end at the edge
// and overlaps the previous one (same values written twice). Pure data
// movement: bit-exact; reads only the elements it moves.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace x86 {
namespace narrow {

// Masks[out][in][k]: the byte of input vector `in` that lands in byte k of
// output vector `out`, or 0x80 (zero: another input fills it). Interleave:
// output byte p = 16 out + k is column p / kN of row p % kN. Split: output
// `out` is column out of the 16 rows, source byte k * kN + out.
template <size_t kN, bool kInterleave>
constexpr std::array<std::array<std::array<uint8_t, 16>, kN>, kN> masks() {
  std::array<std::array<std::array<uint8_t, 16>, kN>, kN> m{};
  for (size_t out = 0; out < kN; ++out) {
    for (size_t in = 0; in < kN; ++in) {
      for (size_t k = 0; k < 16; ++k) {
        size_t byte = 0x80;
        if (kInterleave) {
          const size_t p = 16 * out + k;
          if (p % kN == in) byte = p / kN;
        } else {
          const size_t p = k * kN + out;
          if (p / 16 == in) byte = p % 16;
        }
        m[out][in][k] = static_cast<uint8_t>(byte);
      }
    }
  }
  return m;
}

template <size_t kN, bool kInterleave>
struct Masks {
  static constexpr auto value = masks<kN, kInterleave>();
};

// out[o] = OR over inputs of pshufb(x[in], mask[o][in]). The loops are
// unrolled so x and out stay in registers (-O2 would not peel them).
template <size_t kN, bool kInterleave>
inline void shuffle(const __m128i* x, __m128i* out) {
  constexpr auto& m = Masks<kN, kInterleave>::value;
#pragma GCC unroll 8
  for (size_t o = 0; o < kN; ++o) {
    __m128i acc = _mm_shuffle_epi8(x[0], _mm_loadu_si128(reinterpret_cast<const __m128i*>(m[o][0].data())));
#pragma GCC unroll 8
    for (size_t in = 1; in < kN; ++in) {
      acc = _mm_or_si128(acc, _mm_shuffle_epi8(x[in], _mm_loadu_si128(reinterpret_cast<const __m128i*>(m[o][in].data()))));
    }
    out[o] = acc;
  }
}

// dst[kN * c + r] = src[r * ss + c], r < kN; cols >= 16.
template <size_t kN>
inline void interleave(const uint8_t* src, size_t ss, uint8_t* dst, size_t cols) {
  __m128i x[kN], y[kN];
  for (size_t c0 = 0; c0 < cols; c0 += 16) {
    const size_t c = c0 + 16 <= cols ? c0 : cols - 16;
#pragma GCC unroll 8
    for (size_t r = 0; r < kN; ++r) x[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * ss + c));
    shuffle<kN, true>(x, y);
#pragma GCC unroll 8
    for (size_t o = 0; o < kN; ++o) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + kN * c + 16 * o), y[o]);
  }
}

// dst[c * ds + r] = src[kN * r + c], c < kN; rows >= 16.
template <size_t kN>
inline void split(const uint8_t* src, uint8_t* dst, size_t ds, size_t rows) {
  __m128i x[kN], y[kN];
  for (size_t r0 = 0; r0 < rows; r0 += 16) {
    const size_t r = r0 + 16 <= rows ? r0 : rows - 16;
#pragma GCC unroll 8
    for (size_t i = 0; i < kN; ++i) x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + kN * r + 16 * i));
    shuffle<kN, false>(x, y);
#pragma GCC unroll 8
    for (size_t c = 0; c < kN; ++c) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + c * ds + r), y[c]);
  }
}

// The 32-bit version: idx[out][in][k] is the lane of input `in` that lands
// in lane k of output `out`, sel[out][in][k] is all ones where it does.
template <size_t kN, bool kInterleave>
struct Masks32 {
  std::array<std::array<std::array<int32_t, 8>, kN>, kN> idx{}, sel{};
  constexpr Masks32() {
    for (size_t out = 0; out < kN; ++out) {
      for (size_t in = 0; in < kN; ++in) {
        for (size_t k = 0; k < 8; ++k) {
          const size_t p = kInterleave ? 8 * out + k : k * kN + out;
          const bool hit = kInterleave ? p % kN == in : p / 8 == in;
          const size_t lane = kInterleave ? p / kN : p % 8;
          idx[out][in][k] = hit ? static_cast<int32_t>(lane) : 0;
          sel[out][in][k] = hit ? -1 : 0;
        }
      }
    }
  }
};

template <size_t kN, bool kInterleave>
struct Masks32Value {
  static constexpr Masks32<kN, kInterleave> value{};
};

template <size_t kN, bool kInterleave>
inline void shuffle32(const __m256* x, __m256* out) {
  constexpr auto& m = Masks32Value<kN, kInterleave>::value;
#pragma GCC unroll 8
  for (size_t o = 0; o < kN; ++o) {
    __m256 acc = _mm256_permutevar8x32_ps(x[0], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.idx[o][0].data())));
#pragma GCC unroll 8
    for (size_t in = 1; in < kN; ++in) {
      const __m256 v =
          _mm256_permutevar8x32_ps(x[in], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.idx[o][in].data())));
      acc = _mm256_blendv_ps(acc, v, _mm256_loadu_ps(reinterpret_cast<const float*>(m.sel[o][in].data())));
    }
    out[o] = acc;
  }
}

// dst[kN * c + r] = src[r * ss + c], r < kN; cols >= 8.
template <size_t kN>
inline void interleave32(const uint32_t* src, size_t ss, uint32_t* dst, size_t cols) {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  __m256 x[kN], y[kN];
  for (size_t c0 = 0; c0 < cols; c0 += 8) {
    const size_t c = c0 + 8 <= cols ? c0 : cols - 8;
#pragma GCC unroll 8
    for (size_t r = 0; r < kN; ++r) x[r] = _mm256_loadu_ps(s + r * ss + c);
    shuffle32<kN, true>(x, y);
#pragma GCC unroll 8
    for (size_t o = 0; o < kN; ++o) _mm256_storeu_ps(d + kN * c + 8 * o, y[o]);
  }
}

// dst[c * ds + r] = src[kN * r + c], c < kN; rows >= 8.
template <size_t kN>
inline void split32(const uint32_t* src, uint32_t* dst, size_t ds, size_t rows) {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  __m256 x[kN], y[kN];
  for (size_t r0 = 0; r0 < rows; r0 += 8) {
    const size_t r = r0 + 8 <= rows ? r0 : rows - 8;
#pragma GCC unroll 8
    for (size_t i = 0; i < kN; ++i) x[i] = _mm256_loadu_ps(s + kN * r + 8 * i);
    shuffle32<kN, false>(x, y);
#pragma GCC unroll 8
    for (size_t c = 0; c < kN; ++c) _mm256_storeu_ps(d + c * ds + r, y[c]);
  }
}

}  // namespace narrow

// 2..7 dense rows (ds == rows) with cols >= 16, or 2..7 dense columns
// (ss == cols) with rows >= 16; false for anything else.
inline bool transpose_narrow_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds, size_t rows, size_t cols) {
  if (ds == rows && rows >= 2 && rows <= 7 && cols >= 16) {
    switch (rows) {
      case 2: narrow::interleave<2>(src, ss, dst, cols); return true;
      case 3: narrow::interleave<3>(src, ss, dst, cols); return true;
      case 4: narrow::interleave<4>(src, ss, dst, cols); return true;
      case 5: narrow::interleave<5>(src, ss, dst, cols); return true;
      case 6: narrow::interleave<6>(src, ss, dst, cols); return true;
      default: narrow::interleave<7>(src, ss, dst, cols); return true;
    }
  }
  if (ss == cols && cols >= 2 && cols <= 7 && rows >= 16) {
    switch (cols) {
      case 2: narrow::split<2>(src, dst, ds, rows); return true;
      case 3: narrow::split<3>(src, dst, ds, rows); return true;
      case 4: narrow::split<4>(src, dst, ds, rows); return true;
      case 5: narrow::split<5>(src, dst, ds, rows); return true;
      case 6: narrow::split<6>(src, dst, ds, rows); return true;
      default: narrow::split<7>(src, dst, ds, rows); return true;
    }
  }
  return false;
}

// 32-bit: 2 or 3 dense rows (ds == rows) with cols >= 8, 2 or 3 dense columns
// (ss == cols) with rows >= 8; false for anything else.
inline bool transpose_narrow_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows,
                                size_t cols) {
  if (ds == rows && (rows == 2 || rows == 3) && cols >= 8) {
    if (rows == 2) narrow::interleave32<2>(src, ss, dst, cols);
    else narrow::interleave32<3>(src, ss, dst, cols);
    return true;
  }
  if (ss == cols && (cols == 2 || cols == 3) && rows >= 8) {
    if (cols == 2) narrow::split32<2>(src, dst, ds, rows);
    else narrow::split32<3>(src, dst, ds, rows);
    return true;
  }
  return false;
}

}  // namespace x86
}  // namespace lowbit
