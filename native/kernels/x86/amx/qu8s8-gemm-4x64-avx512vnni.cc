// u8/s8 x s8 GEMM for a few rows (M = 1 .. kSmallM) with AVX512-VNNI, reading the
// AMX path's B' panels: a tile multiply costs about as much for one row as for 16,
// vpdpbusd costs per row. Up to 4 rows x 4 panels (64 columns) per step; one row
// keeps two accumulator sets (even / odd K quads) to hide the vpdpbusd latency.
//
// vpdpbusd is u8 x s8 only, so int8 A is flipped to A_eff = A XOR 0x80 = A + 128
// and the correction uses za_eff = za + 128 and row sums of A_eff (pack.h).
#include <cstring>

#include "amx-gemm-kernels.h"
#include "lowbit/pack.h"
#include "qu8s8-output-stage-avx512.h"

namespace lowbit {
namespace LOWBIT_AMX_NAMESPACE {
namespace {

constexpr size_t kRowsMax = 4;

// 4 bytes of A starting at k (bytes past `valid` read as zero: never past the row).
inline uint32_t a_quad(const uint8_t* row, size_t k, size_t valid) {
  uint32_t v = 0;
  std::memcpy(&v, row + k, valid);
  return v;
}

// acc: kPanels blocks of kRowsMax x 16 int32.
template <int kRows, int kPanels>
void multiply_rows(const uint8_t* a, size_t a_stride, size_t k, uint32_t flip, const int8_t* b,
                   size_t panel_bytes, int32_t* acc) {
  constexpr int kSets = kRows == 1 ? 2 : 1;  // independent chains per output vector
  __m512i c[kSets][kRows][kPanels];
#pragma GCC unroll 2
  for (int s = 0; s < kSets; ++s)
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < kPanels; ++j) c[s][r][j] = _mm512_setzero_si512();

  // -O2 does not unroll these constant loops by itself; unrolled, the
  // accumulators stay in registers.
  auto step = [&](int s, size_t q, const uint32_t* quads) {
    __m512i bv[kPanels];
#pragma GCC unroll 4
    for (int j = 0; j < kPanels; ++j) bv[j] = _mm512_load_si512(b + j * panel_bytes + q * 64);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(quads[r] ^ flip));
#pragma GCC unroll 4
      for (int j = 0; j < kPanels; ++j) c[s][r][j] = _mm512_dpbusd_epi32(c[s][r][j], av, bv[j]);
    }
  };
  const size_t full_quads = k / 4;
  uint32_t quads[kRows];
  size_t q = 0;
  for (; q + kSets <= full_quads; q += kSets) {
#pragma GCC unroll 2
    for (int s = 0; s < kSets; ++s) {
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) std::memcpy(&quads[r], a + r * a_stride + 4 * (q + s), 4);
      step(s, q + s, quads);
    }
  }
  for (; q < full_quads; ++q) {
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) std::memcpy(&quads[r], a + r * a_stride + 4 * q, 4);
    step(0, q, quads);
  }
  if (k % 4 != 0) {  // B' is zero past K, so the flipped padding bytes add nothing
    for (int r = 0; r < kRows; ++r) quads[r] = a_quad(a + r * a_stride, 4 * q, k % 4);
    step(0, q, quads);
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
    for (int j = 0; j < kPanels; ++j) {
      __m512i sum = c[0][r][j];
      if constexpr (kSets == 2) sum = _mm512_add_epi32(sum, c[1][r][j]);
      _mm512_store_si512(acc + (j * kRowsMax + r) * 16, sum);
    }
  }
}

using RowsFn = void (*)(const uint8_t*, size_t, size_t, uint32_t, const int8_t*, size_t, int32_t*);

// [rows - 1][0: one panel, 1: four panels]
constexpr RowsFn kRowsFns[kRowsMax][2] = {
    {multiply_rows<1, 1>, multiply_rows<1, 4>},
    {multiply_rows<2, 1>, multiply_rows<2, 4>},
    {multiply_rows<3, 1>, multiply_rows<3, 4>},
    {multiply_rows<4, 1>, multiply_rows<4, 4>},
};

}  // namespace

void qu8s8_gemm_4x64_avx512vnni(const GemmArgs& args, size_t m_begin, size_t m_end,
                                size_t n_begin, size_t n_end) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const PackedMatrix& b = *args.b;
  const size_t k = b.k;
  const size_t panel_bytes = packed_k(k, kKAlign) * kNr;
  const size_t panel_begin = n_begin / kNr;
  const size_t panel_end = (n_end + kNr - 1) / kNr;
  const auto* a = static_cast<const uint8_t*>(args.a);
  const auto* packed = static_cast<const int8_t*>(b.data.data());
  const uint32_t flip = args.a_signed ? 0x80808080u : 0u;
  const int32_t za_eff = args.a_signed ? args.a_zero_point + 128 : args.a_zero_point;
  const bool with_row_sums = OutputStage::needs_row_sums(b, n_begin, n_end);
  const OutputStage out(args, za_eff, n_end);

  alignas(64) int32_t acc[4 * kRowsMax * 16];
  int32_t row_sums[kRowsMax];
  for (size_t m0 = m_begin; m0 < m_end; m0 += kRowsMax) {
    const size_t rows = m_end - m0 < kRowsMax ? m_end - m0 : kRowsMax;
    const uint8_t* a_rows = a + m0 * args.a_stride;
    if (with_row_sums) row_sums_u8(a_rows, args.a_stride, rows, k, args.a_signed ? 0x80 : 0, row_sums);
    const int32_t* sums = with_row_sums ? row_sums : nullptr;
    size_t p = panel_begin;
    for (; p + 4 <= panel_end; p += 4) {
      kRowsFns[rows - 1][1](a_rows, args.a_stride, k, flip, packed + p * panel_bytes, panel_bytes, acc);
      for (size_t j = 0; j < 4; ++j) out.store(acc + j * kRowsMax * 16, rows, sums, m0, (p + j) * kNr);
    }
    for (; p < panel_end; ++p) {
      kRowsFns[rows - 1][0](a_rows, args.a_stride, k, flip, packed + p * panel_bytes, panel_bytes, acc);
      out.store(acc, rows, sums, m0, p * kNr);
    }
  }
}

}  // namespace LOWBIT_AMX_NAMESPACE
}  // namespace lowbit
