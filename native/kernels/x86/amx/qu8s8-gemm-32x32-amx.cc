// u8/s8 x s8 GEMM on AMX-INT8, 32x32 outputs per step: 2x2 accumulator tiles,
// so each A tile and each B tile loaded serves two tile multiplies.
//
// Tiles (palette 1):
//   tmm0 tmm1   C rows 0-15,  panels p, p+1   (16 x 16 int32)
//   tmm2 tmm3   C rows 16-31, panels p, p+1
//   tmm4 tmm5   A rows 0-15 / 16-31, 64 bytes of K each, read from A in place
//   tmm6 tmm7   B' panels p / p+1, one 64-deep slice each (16 K-quads x 16 cols x 4)
// int8 A is multiplied as is with tdpbssd (B' is int8 on every path), uint8 A with
// tdpbusd; the zero-point correction then uses A's own domain (za, raw row sums).
//
// The output stage of one block runs after the next block's tile multiplies are
// issued (accumulators double-buffered on the stack): the AMX unit works while
// the vector units correct and requantize.
//
// Tails: N is free (panels are zero-padded to 16 columns; the output stage masks
// the store). M: a 2nd tile configuration with fewer rows, loaded once for the
// last block, so no row past m_end is ever read. K: the last partial 64 bytes of
// each A row are staged into a zero-padded buffer (B' is zero-padded in K), so no
// tile load reads past the end of a row.
#include <cstring>

#include "amx-gemm-kernels.h"
#include "lowbit/pack.h"
#include "qu8s8-output-stage-avx512.h"

namespace lowbit {
namespace LOWBIT_AMX_NAMESPACE {
namespace {

using amx_tiles::TileConfig;

constexpr size_t kMr = 32;
constexpr size_t kTileBytes = 16 * 64;

// Rows of the top (tmm0, tmm1, tmm4) and bottom (tmm2, tmm3, tmm5) tiles; unused
// tiles still need a valid shape.
void configure(TileConfig* cfg, size_t rows_top, size_t rows_bottom) {
  std::memset(cfg, 0, sizeof *cfg);
  cfg->palette_id = 1;
  const size_t rows[8] = {rows_top, rows_top, rows_bottom, rows_bottom, rows_top, rows_bottom, 16, 16};
  for (int t = 0; t < 8; ++t) {
    cfg->rows[t] = static_cast<uint8_t>(rows[t]);
    cfg->colsb[t] = 64;
  }
}

#define LOWBIT_TILE_DOT(c, a, b)        \
  do {                                  \
    if constexpr (kASigned) {           \
      LOWBIT_TILE_DPBSSD(c, a, b);      \
    } else {                            \
      LOWBIT_TILE_DPBUSD(c, a, b);      \
    }                                   \
  } while (0)

// One block of up to 32 rows x 2 panels over all of K, into the C tiles.
template <bool kASigned, int kRowTiles, int kColTiles>
void multiply_block(const uint8_t* a, size_t a_stride, size_t k_blocks, const uint8_t* a_tail,
                    const int8_t* b_left, const int8_t* b_right) {
  LOWBIT_TILE_ZERO(0);
  if constexpr (kColTiles == 2) LOWBIT_TILE_ZERO(1);
  if constexpr (kRowTiles == 2) LOWBIT_TILE_ZERO(2);
  if constexpr (kRowTiles == 2 && kColTiles == 2) LOWBIT_TILE_ZERO(3);

  auto step = [&](const uint8_t* a_top, size_t stride, const int8_t* bl, const int8_t* br) {
    LOWBIT_TILE_LOAD(4, a_top, stride);
    LOWBIT_TILE_LOAD(6, bl, 64);
    LOWBIT_TILE_DOT(0, 4, 6);
    if constexpr (kColTiles == 2) {
      LOWBIT_TILE_LOAD(7, br, 64);
      LOWBIT_TILE_DOT(1, 4, 7);
    }
    if constexpr (kRowTiles == 2) {
      LOWBIT_TILE_LOAD(5, a_top + 16 * stride, stride);
      LOWBIT_TILE_DOT(2, 5, 6);
      if constexpr (kColTiles == 2) LOWBIT_TILE_DOT(3, 5, 7);
    }
  };
  for (size_t kb = 0; kb < k_blocks; ++kb) {
    step(a + kb * 64, a_stride, b_left + kb * kTileBytes, b_right + kb * kTileBytes);
  }
  if (a_tail != nullptr) {
    step(a_tail, 64, b_left + k_blocks * kTileBytes, b_right + k_blocks * kTileBytes);
  }
}

// The C tiles to acc[tile][16][16] (tile = 2 * row tile + column tile).
template <int kRowTiles, int kColTiles>
void store_block(int32_t* acc) {
  LOWBIT_TILE_STORE(0, acc, 64);
  if constexpr (kColTiles == 2) LOWBIT_TILE_STORE(1, acc + 256, 64);
  if constexpr (kRowTiles == 2) LOWBIT_TILE_STORE(2, acc + 512, 64);
  if constexpr (kRowTiles == 2 && kColTiles == 2) LOWBIT_TILE_STORE(3, acc + 768, 64);
}

#undef LOWBIT_TILE_DOT

using MultiplyFn = void (*)(const uint8_t*, size_t, size_t, const uint8_t*, const int8_t*, const int8_t*);
using StoreFn = void (*)(int32_t*);

// [a_signed][row tiles - 1][column tiles - 1]
constexpr MultiplyFn kMultiply[2][2][2] = {
    {{multiply_block<false, 1, 1>, multiply_block<false, 1, 2>},
     {multiply_block<false, 2, 1>, multiply_block<false, 2, 2>}},
    {{multiply_block<true, 1, 1>, multiply_block<true, 1, 2>},
     {multiply_block<true, 2, 1>, multiply_block<true, 2, 2>}},
};
// [row tiles - 1][column tiles - 1]
constexpr StoreFn kStore[2][2] = {{store_block<1, 1>, store_block<1, 2>}, {store_block<2, 1>, store_block<2, 2>}};

// A block whose accumulators wait in a stack buffer for the output stage.
struct StoredBlock {
  const int32_t* acc;
  size_t row, col, rows_top, rows_bottom;
  bool pair;
};

}  // namespace

void qu8s8_gemm_32x32_amx(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin,
                          size_t n_end) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const PackedMatrix& b = *args.b;
  const size_t k = b.k;
  const size_t k_blocks = k / 64;
  const size_t k_tail = k % 64;
  const size_t panel_bytes = packed_k(k, kKAlign) * kNr;
  const size_t panel_begin = n_begin / kNr;
  const size_t panel_end = (n_end + kNr - 1) / kNr;
  const auto* a = static_cast<const uint8_t*>(args.a);
  const auto* packed = static_cast<const int8_t*>(b.data.data());
  const bool with_row_sums = OutputStage::needs_row_sums(b, n_begin, n_end);
  const OutputStage out(args, args.a_zero_point, n_end);

  alignas(64) uint8_t a_tail[kMr * 64];
  alignas(64) int32_t acc[2][4 * 256];
  int32_t row_sums[kMr];
  if (k_tail != 0) std::memset(a_tail, 0, sizeof a_tail);

  TileConfig cfg;
  size_t configured_rows = 0;
  for (size_t m0 = m_begin; m0 < m_end; m0 += kMr) {
    const size_t rows = m_end - m0 < kMr ? m_end - m0 : kMr;
    const size_t rows_top = rows < 16 ? rows : 16;
    const size_t rows_bottom = rows > 16 ? rows - 16 : 0;
    if (rows != configured_rows) {  // at most twice per call: full blocks, then the last
      configure(&cfg, rows_top, rows_bottom != 0 ? rows_bottom : rows_top);
      LOWBIT_TILE_LOADCONFIG(&cfg);
      configured_rows = rows;
    }
    const uint8_t* a_block = a + m0 * args.a_stride;
    if (k_tail != 0) {
      for (size_t r = 0; r < rows; ++r) {
        std::memcpy(a_tail + r * 64, a_block + r * args.a_stride + k_blocks * 64, k_tail);
      }
    }
    if (with_row_sums) {
      row_sums_u8(a_block, args.a_stride, rows, k, args.a_signed ? 0x80 : 0, row_sums);
      if (args.a_signed) {  // back from A XOR 0x80 = A + 128 to raw int8 A
        for (size_t r = 0; r < rows; ++r) {
          row_sums[r] = static_cast<int32_t>(static_cast<uint32_t>(row_sums[r]) - 128u * static_cast<uint32_t>(k));
        }
      }
    }
    const int32_t* sums_top = with_row_sums ? row_sums : nullptr;
    const int32_t* sums_bottom = with_row_sums ? row_sums + 16 : nullptr;
    auto output = [&](const StoredBlock& s) {
      out.store(s.acc, s.rows_top, sums_top, s.row, s.col);
      if (s.pair) out.store(s.acc + 256, s.rows_top, sums_top, s.row, s.col + kNr);
      if (s.rows_bottom != 0) {
        out.store(s.acc + 512, s.rows_bottom, sums_bottom, s.row + 16, s.col);
        if (s.pair) out.store(s.acc + 768, s.rows_bottom, sums_bottom, s.row + 16, s.col + kNr);
      }
    };
    const size_t row_tiles = rows_bottom != 0 ? 2 : 1;
    StoredBlock waiting{};
    bool has_waiting = false;
    int buffer = 0;
    for (size_t p = panel_begin; p < panel_end; p += 2) {
      const bool pair = p + 1 < panel_end;
      const int8_t* b_left = packed + p * panel_bytes;
      kMultiply[args.a_signed][row_tiles - 1][pair](a_block, args.a_stride, k_blocks,
                                                    k_tail != 0 ? a_tail : nullptr, b_left, b_left + panel_bytes);
      if (has_waiting) output(waiting);  // overlaps the tile multiplies just issued
      kStore[row_tiles - 1][pair](acc[buffer]);
      waiting = {acc[buffer], m0, p * kNr, rows_top, rows_bottom, pair};
      has_waiting = true;
      buffer ^= 1;
    }
    if (has_waiting) output(waiting);  // row_sums are per row block: finish it here
  }
  LOWBIT_TILE_RELEASE();
}

}  // namespace LOWBIT_AMX_NAMESPACE
}  // namespace lowbit
