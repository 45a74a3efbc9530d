// int4 weight-only GEMM: fp32 activations times int4 weights, fp32 out.
//
//   y[m][n] = clamp(bias[n] + sum_b scale[n][b] * sum_{k in block b} x[m][k] * w[n][k])
//
// w is symmetric int4 (-8..7), scales are per output channel (one block = all
// of K) or per block of 32, 64 or 128 along K (the last block may be short).
// The weights stay 4-bit in memory: every path unpacks nibbles in registers.
//
// Summation order (the same on every path, so all paths are bit-identical):
//   for each block b:  s = 0; for k in block, in order: s = fma(x[m][k], w[n][k], s)
//                      t = fma(s, scale[n][b], t)          (t starts at 0)
//   y = t + bias[n] (0 without a bias), then x < lo ? lo : (x > hi ? hi : x).
// SIMD paths vectorise across n only; each lane is one output channel doing
// exactly the scalar sequence above.
//
// Packed layout (one for all ISAs; docs/int4.md): columns in tiles of 16,
// zero-padded past N. Tile t holds ceil(K/2) groups of 16 bytes; byte j of group
// g is column 16t+j: low nibble = w[.][2g], high nibble = w[.][2g+1], two's
// complement (the pad of an odd K is 0): one 16-byte load is two k rows of a
// tile, split by shifts or table lookups (docs/int4.md, per ISA). Scales are
// [tile][block][16] floats (0 past N), bias [tiles * 16] floats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"

namespace lowbit {

class ThreadPool;

// Columns per packed tile, for every ISA (AVX-512 lanes; 2 ymm; 4 NEON q registers).
constexpr size_t kInt4TileN = 16;
// Bytes per k pair of one tile: 16 columns x 2 nibbles.
constexpr size_t kInt4PairBytes = kInt4TileN;

struct PackedInt4Matrix {
  size_t n = 0;
  size_t k = 0;
  size_t block = 0;   // K per scale; == k for per-channel scales
  size_t blocks = 0;  // ceil(k / block)
  bool has_bias = false;
  AlignedBuffer weights;  // [tiles][ceil(k/2)][16] bytes
  AlignedBuffer scales;   // [tiles][blocks][16] floats
  AlignedBuffer bias;     // [tiles * 16] floats (zeros without a bias)

  size_t tiles() const { return (n + kInt4TileN - 1) / kInt4TileN; }
  size_t pairs() const { return (k + 1) / 2; }
  const uint8_t* tile_weights(size_t t) const {
    return static_cast<const uint8_t*>(weights.data()) + t * pairs() * kInt4PairBytes;
  }
  const float* tile_scales(size_t t) const {
    return static_cast<const float*>(scales.data()) + t * blocks * kInt4TileN;
  }
  const float* tile_bias(size_t t) const { return static_cast<const float*>(bias.data()) + t * kInt4TileN; }
};

// Where a pack reads weight (n, k) and scale (n, b) from, and in what form.
struct Int4Source {
  // Exactly one of these: int8 values in [-8, 7], or ONNX int4 bytes (two's
  // complement, two per byte, low nibble first, over the row-major element index).
  const int8_t* values = nullptr;
  const uint8_t* onnx_packed = nullptr;
  // false: weights [N, K] and scales [N, blocks]; true: weights [K, N] and scales [blocks, N].
  bool k_major = false;
  const float* scales = nullptr;
  const float* bias = nullptr;  // N values, or null
};

// Packs n x k weights with the given block (0 = per channel). The caller has
// checked sizes, the block (0, 32, 64 or 128) and, for int8 values, the range.
void pack_int4_matrix(const Int4Source& src, size_t n, size_t k, size_t block, PackedInt4Matrix* out);

// The weight (n, k) of a packed matrix, -8..7 (for tests and docs).
int int4_packed_weight(const PackedInt4Matrix& p, size_t n, size_t k);

struct Int4GemmArgs {
  size_t m = 0;
  const float* x = nullptr;  // row i at x + i * x_stride, K floats
  size_t x_stride = 0;
  const PackedInt4Matrix* w = nullptr;
  float* y = nullptr;        // row i at y + i * y_stride, N floats
  size_t y_stride = 0;
  float clamp_min = -std::numeric_limits<float>::infinity();
  float clamp_max = std::numeric_limits<float>::infinity();
};

// The clamp every path applies (NaN passes through, as in f32_activate).
inline float int4_clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The kernels of one ISA.
struct Int4Path {
  const char* name;
  bool (*supported)();
  size_t mr;  // rows that share each unpacked weight vector (the driver splits M in multiples of it)
  // Rows [m0, m1) x tiles [t0, t1).
  void (*gemm)(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1);
};

// The path serving a kernel path (avx2 for avx2/avxvnni, avx512 for
// avx512vnni/amx, neon for neon/neondot), ref when it is not compiled in.
const Int4Path& int4_path_for(Isa isa);
// Every compiled path, ref first.
const std::vector<const Int4Path*>& int4_paths();

// The whole GEMM, split over `pool` (may be null) by tiles of N and rows of M
// when big enough. Each output is computed the same way whatever the split.
void int4_gemm(const Int4Path& path, const Int4GemmArgs& args, ThreadPool* pool);

namespace ref {
// The definition over unpacked int8 weights w [n][k] (values -8..7), scales
// [n][blocks], bias [n] or null; block 0 = per channel.
void int4_gemm_unpacked(size_t m, size_t n, size_t k, const float* x, const int8_t* w, const float* scales,
                        size_t block, const float* bias, float clamp_min, float clamp_max, float* y);
}  // namespace ref

}  // namespace lowbit
