// int4 weight-only GEMM, scalar: the definition over unpacked int8 weights, and
// the ref path over the packed tiles. Both follow the summation order of
// lowbit/int4_gemm.h with std::fma, one output element at a time.
#include <algorithm>
#include <cmath>

#include "lowbit/int4_gemm.h"

namespace lowbit {
namespace ref {

void int4_gemm_unpacked(size_t m, size_t n, size_t k, const float* x, const int8_t* w, const float* scales,
                        size_t block, const float* bias, float clamp_min, float clamp_max, float* y) {
  const size_t bk = block == 0 ? k : block;
  const size_t blocks = k == 0 ? 0 : (k + bk - 1) / bk;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float total = 0.0f;
      for (size_t b = 0; b < blocks; ++b) {
        float sum = 0.0f;
        for (size_t kk = b * bk; kk < k && kk < (b + 1) * bk; ++kk) {
          sum = std::fma(x[i * k + kk], static_cast<float>(w[j * k + kk]), sum);
        }
        total = std::fma(sum, scales[j * blocks + b], total);
      }
      const float v = total + (bias != nullptr ? bias[j] : 0.0f);
      y[i * n + j] = int4_clamp(v, clamp_min, clamp_max);
    }
  }
}

namespace {

void int4_gemm_tiles(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1) {
  const PackedInt4Matrix& w = *args.w;
  for (size_t i = m0; i < m1; ++i) {
    const float* x = args.x + i * args.x_stride;
    for (size_t t = t0; t < t1; ++t) {
      const uint8_t* tile = w.tile_weights(t);
      const float* scales = w.tile_scales(t);
      for (size_t j = 0; j < kInt4TileN && t * kInt4TileN + j < w.n; ++j) {
        float total = 0.0f;
        for (size_t b = 0; b < w.blocks; ++b) {
          float sum = 0.0f;
          const size_t k1 = std::min(w.k, (b + 1) * w.block);
          for (size_t kk = b * w.block; kk < k1; ++kk) {
            const uint8_t byte = tile[(kk / 2) * kInt4PairBytes + j];
            const int nibble = kk % 2 == 0 ? byte & 0x0F : byte >> 4;
            const int q = nibble >= 8 ? nibble - 16 : nibble;
            sum = std::fma(x[kk], static_cast<float>(q), sum);
          }
          total = std::fma(sum, scales[b * kInt4TileN + j], total);
        }
        const float v = total + w.tile_bias(t)[j];
        args.y[i * args.y_stride + t * kInt4TileN + j] = int4_clamp(v, args.clamp_min, args.clamp_max);
      }
    }
  }
}

}  // namespace

extern const Int4Path kInt4Path = {"ref", [] { return true; }, 1, &int4_gemm_tiles};

}  // namespace ref
}  // namespace lowbit
