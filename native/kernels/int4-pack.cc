// Packs int4 weights into the ISA-independent tile layout of lowbit/int4_gemm.h.
// The packed buffer is still 4-bit: two nibbles per byte, the two k of a pair in
// one byte so a kernel splits one 16-byte load into two k rows with shifts.
#include <algorithm>

#include "lowbit/int4_gemm.h"

namespace lowbit {

namespace {

// Weight (n, k) of the source, -8..7.
int source_weight(const Int4Source& src, size_t n, size_t k, size_t rows_n, size_t cols_k) {
  const size_t index = src.k_major ? k * rows_n + n : n * cols_k + k;
  if (src.values != nullptr) return src.values[index];
  const unsigned byte = src.onnx_packed[index / 2];
  const int nibble = static_cast<int>(index % 2 == 0 ? byte & 0x0F : byte >> 4);
  return nibble >= 8 ? nibble - 16 : nibble;
}

}  // namespace

void pack_int4_matrix(const Int4Source& src, size_t n, size_t k, size_t block, PackedInt4Matrix* out) {
  out->n = n;
  out->k = k;
  out->block = block == 0 ? k : block;
  out->blocks = k == 0 ? 0 : (k + out->block - 1) / out->block;
  out->has_bias = src.bias != nullptr;
  const size_t tiles = out->tiles(), pairs = out->pairs();
  out->weights.resize(std::max<size_t>(1, tiles * pairs * kInt4PairBytes));
  out->scales.resize(std::max<size_t>(1, tiles * out->blocks * kInt4TileN * sizeof(float)));
  out->bias.resize(std::max<size_t>(1, tiles * kInt4TileN * sizeof(float)));
  // resize() zero-fills: padding columns and the odd-K pad are weight 0.
  auto* bytes = static_cast<uint8_t*>(out->weights.data());
  auto* scales = static_cast<float*>(out->scales.data());
  auto* bias = static_cast<float*>(out->bias.data());
  for (size_t col = 0; col < n; ++col) {
    const size_t t = col / kInt4TileN, j = col % kInt4TileN;
    uint8_t* tile = bytes + t * pairs * kInt4PairBytes;
    for (size_t x = 0; x < k; ++x) {
      const unsigned nibble = static_cast<unsigned>(source_weight(src, col, x, n, k)) & 0x0F;
      uint8_t& b = tile[(x / 2) * kInt4PairBytes + j];
      b = x % 2 == 0 ? static_cast<uint8_t>((b & 0xF0) | nibble) : static_cast<uint8_t>((b & 0x0F) | (nibble << 4));
    }
    for (size_t blk = 0; blk < out->blocks; ++blk) {
      const float s = src.k_major ? src.scales[blk * n + col] : src.scales[col * out->blocks + blk];
      scales[(t * out->blocks + blk) * kInt4TileN + j] = s;
    }
    if (src.bias != nullptr) bias[col] = src.bias[col];
  }
}

int int4_packed_weight(const PackedInt4Matrix& p, size_t n, size_t k) {
  const uint8_t b = p.tile_weights(n / kInt4TileN)[(k / 2) * kInt4PairBytes + n % kInt4TileN];
  const int nibble = k % 2 == 0 ? b & 0x0F : b >> 4;
  return nibble >= 8 ? nibble - 16 : nibble;
}

}  // namespace lowbit
